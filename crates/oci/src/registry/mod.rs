//! The registry side: the distribution API (`/v2/`) over HTTP(S).
//!
//! Why a small client of our own on `reqwest` rather than `oci-client`: oci-client's push takes
//! every layer as an in-memory `Vec<u8>` and its image-index support assumes the layers of each
//! platform were pushed through the same call; we need to stream 50 MB layers from a layout or
//! another registry, skip blobs by HEAD, mount across repositories, and order the writes as
//! blobs → manifests → index ourselves, with the same digest checks as the layout reader. The
//! part of the API this takes is small (ping, HEAD/GET blob, POST+PUT upload with mount, GET/PUT
//! manifest, Basic and Bearer auth), and `reqwest` carries TLS and redirects.
//!
//! * [`Registry`] is one host: it picks HTTPS, or plain HTTP only for loopback or `--insecure`,
//!   trusts extra CAs (`--ca-cert`, `/etc/docker/certs.d/<host>/ca.crt`), and answers Basic and
//!   Bearer challenges with credentials from the Docker config ([`auth`]).
//! * [`RegistryStore`] lets [`crate::ImageSource`] read a registry image as it reads a layout.

pub mod auth;
mod client;

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::sync::{Arc, Mutex};

pub use client::{sniff_media_type, Fetched, Put, Registry, RegistryOptions, MANIFEST_ACCEPT};

use crate::reference::Reference;
use crate::store::Store;
use crate::{Digest, Error, Result};

/// A registry image seen as a store: `index.json` names the referenced manifest, and
/// `blobs/sha256/<hex>` is served from the blob or manifest endpoint.
pub struct RegistryStore {
    registry: Arc<Registry>,
    reference: Reference,
    root: Fetched,
    documents: Mutex<HashMap<Digest, Vec<u8>>>,
}

impl RegistryStore {
    /// Connect and fetch the root manifest of `reference`.
    pub fn open(reference: &Reference, options: &RegistryOptions) -> Result<Self> {
        let registry = Arc::new(Registry::connect(reference.api_host(), options)?);
        Self::with(registry, reference)
    }

    /// Fetch the root manifest of `reference` through an existing client.
    pub fn with(registry: Arc<Registry>, reference: &Reference) -> Result<Self> {
        let root = registry.manifest(&reference.repository, reference.target())?;
        let mut documents = HashMap::new();
        documents.insert(root.digest.clone(), root.bytes.clone());
        Ok(Self { registry, reference: reference.clone(), root, documents: Mutex::new(documents) })
    }

    /// The manifest or index the reference names.
    pub fn root(&self) -> &Fetched {
        &self.root
    }

    /// The client.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The reference.
    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    fn index_json(&self) -> Vec<u8> {
        let mut d = serde_json::json!({
            "mediaType": self.root.media_type,
            "digest": self.root.digest,
            "size": self.root.bytes.len(),
        });
        if let Some(t) = &self.reference.tag {
            d["annotations"] = serde_json::json!({ "org.opencontainers.image.ref.name": t });
        }
        serde_json::to_vec(&serde_json::json!({ "schemaVersion": 2, "manifests": [d] }))
            .expect("json")
    }
}

impl Store for RegistryStore {
    fn open(&self, path: &str) -> Result<(Box<dyn Read + Send>, u64)> {
        if path == "index.json" {
            let bytes = self.index_json();
            let n = bytes.len() as u64;
            return Ok((Box::new(Cursor::new(bytes)), n));
        }
        let hex = path
            .strip_prefix("blobs/sha256/")
            .ok_or_else(|| Error::NotFound(format!("{} has no file {path}", self.describe())))?;
        let digest = Digest::parse(&format!("sha256:{hex}"))?;
        if let Some(bytes) = self.documents.lock().expect("documents lock").get(&digest) {
            let n = bytes.len() as u64;
            return Ok((Box::new(Cursor::new(bytes.clone())), n));
        }
        let repo = &self.reference.repository;
        match self.registry.blob(repo, &digest) {
            Ok((resp, len)) => Ok((Box::new(resp), len.unwrap_or(0))),
            // Manifests live behind their own endpoint, not /blobs/.
            Err(Error::NotFound(_)) => {
                let m = self.registry.manifest(repo, digest.as_str())?;
                let n = m.bytes.len() as u64;
                self.documents.lock().expect("documents lock").insert(digest, m.bytes.clone());
                Ok((Box::new(Cursor::new(m.bytes)), n))
            }
            Err(e) => Err(e),
        }
    }

    fn exists(&self, path: &str) -> bool {
        path == "index.json"
    }

    fn describe(&self) -> String {
        format!("docker://{}", self.reference)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
