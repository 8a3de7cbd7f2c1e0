//! The digests file of a build pushed by digest: which manifest each platform got in which
//! repository, so that a later job can assemble the index (Docker's "distribute the build
//! across runners" recipe: each runner pushes its platform by digest, a final job merges).

use std::path::Path;

use archbench_platform::Platform;
use serde::{Deserialize, Serialize};

use crate::{Digest, Error, Result};

/// One platform's manifest, pushed without a tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedManifest {
    /// Its platform.
    pub platform: Platform,
    /// The manifest's digest.
    pub digest: Digest,
}

/// The file `build --push-by-digest` writes and `image create --digests` reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digests {
    /// Always `archbench-digests`, so that another JSON file is not taken for one.
    pub kind: String,
    /// `registry/repository` the manifests were pushed to.
    pub repository: String,
    /// The manifests.
    pub manifests: Vec<PushedManifest>,
}

/// The value of [`Digests::kind`].
pub const KIND: &str = "archbench-digests";

impl Digests {
    /// A digests file for `repository`.
    pub fn new(repository: &str, manifests: Vec<PushedManifest>) -> Self {
        Digests { kind: KIND.into(), repository: repository.into(), manifests }
    }

    /// Read one, checking its kind and (as each [`Digest`] is read) every digest's form.
    pub fn read(path: &Path) -> Result<Self> {
        let what = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            action: "reading",
            path: path.to_owned(),
            source,
        })?;
        let d: Digests = serde_json::from_slice(&bytes).map_err(|e| Error::Invalid {
            what: what.clone(),
            message: format!(
                "not a digests file written by `archbench build --push-by-digest` ({e})"
            ),
        })?;
        if d.kind != KIND {
            return Err(Error::Invalid {
                what,
                message: format!("kind {:?}, not {KIND:?}", d.kind),
            });
        }
        Ok(d)
    }

    /// Each manifest as a pinned reference, `registry/repository@sha256:…`.
    pub fn references(&self) -> Vec<(String, Platform)> {
        self.manifests
            .iter()
            .map(|m| (format!("{}@{}", self.repository, m.digest), m.platform.clone()))
            .collect()
    }
}
