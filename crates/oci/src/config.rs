//! Image configs, written and read through oci-spec's [`ImageConfiguration`]: the configs
//! archbench writes itself (layouts, docker archives, attestations), the container config a
//! run reads (`Entrypoint`, `Cmd`, `Env`), the diff IDs an export checks its layers against,
//! and the one correction of a config's platform label. The platform fields go through
//! [`archbench_platform::oci`], like every other OCI document's.

use archbench_platform::Platform;
use oci_spec::image::{Arch, HistoryBuilder, ImageConfigurationBuilder, Os, RootFsBuilder};

use crate::{Digest, Error, Result};

pub use oci_spec::image::{Config, ImageConfiguration};

/// What any config declares, read leniently: its platform label as written (missing fields
/// read as empty, so `verify` can report the label however wrong) and its layers' diff IDs.
/// Hand-written beside [`ImageConfiguration`] because not every config is an image config: a
/// Wasm artifact's (`application/vnd.wasm.config.v0+json`) has no `rootfs`, which the OCI type
/// requires.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Declared {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    rootfs: Option<DiffIds>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
struct DiffIds {
    #[serde(default)]
    diff_ids: Vec<String>,
}

impl Declared {
    /// `os/architecture[/variant]` as written.
    pub fn platform(&self) -> String {
        archbench_platform::oci::spell(&self.os, &self.architecture, self.variant.as_deref())
    }

    /// The layers' diff IDs, first to last (none when the config has no `rootfs`).
    pub fn diff_ids(&self) -> &[String] {
        self.rootfs.as_ref().map_or(&[], |r| &r.diff_ids)
    }
}

/// Read what a config declares ([`Declared`]); `what` names it in the error.
pub fn declared(bytes: &[u8], what: &str) -> Result<Declared> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::Invalid { what: what.to_owned(), message: e.to_string() })
}

/// A config for `platform` with `layers`' diff IDs (each layer's history says archbench made
/// it) and `container` as its execution parameters.
pub fn new(platform: &Platform, diff_ids: Vec<Digest>, container: Config) -> ImageConfiguration {
    let history = diff_ids
        .iter()
        .map(|_| {
            HistoryBuilder::default().created_by("archbench").build().expect("no required field")
        })
        .collect::<Vec<_>>();
    let mut c = labelled(
        Arch::from(platform.arch.to_string().as_str()),
        Os::from(platform.os.to_string().as_str()),
        diff_ids,
    )
    .config(container)
    .build()
    .expect("every required field is set");
    if !history.is_empty() {
        c.set_history(Some(history));
    }
    c.set_variant(platform.variant.clone());
    c
}

/// A config of platform `unknown/unknown` with no container config, as BuildKit writes for an
/// attestation manifest.
pub fn unknown_platform(diff_ids: Vec<Digest>) -> ImageConfiguration {
    labelled(Arch::Other("unknown".into()), Os::Other("unknown".into()), diff_ids)
        .config(Config::default())
        .build()
        .expect("every required field is set")
}

fn labelled(arch: Arch, os: Os, diff_ids: Vec<Digest>) -> ImageConfigurationBuilder {
    let rootfs = RootFsBuilder::default()
        .typ("layers")
        .diff_ids(diff_ids.into_iter().map(String::from).collect::<Vec<_>>())
        .build()
        .expect("every required field is set");
    ImageConfigurationBuilder::default().architecture(arch).os(os).rootfs(rootfs)
}

/// Execution parameters with only an entrypoint (`[]` when `entrypoint` is empty).
pub fn entrypoint(entrypoint: &[&str]) -> Config {
    let mut c = Config::default();
    c.set_entrypoint(Some(entrypoint.iter().map(|s| (*s).to_owned()).collect()));
    c
}

/// The bytes archbench stores for a config: compact JSON with every object's keys in sorted
/// order. The config's digest names the image, so the same config must give the same bytes in
/// every run; oci-spec holds labels in a `HashMap`, whose order changes from one process to the
/// next, so the value goes through `serde_json::Value` (a sorted map) on the way out.
pub fn to_bytes(config: &ImageConfiguration) -> Vec<u8> {
    let value = serde_json::to_value(config).expect("an image config serialises");
    serde_json::to_vec(&value).expect("a JSON value serialises")
}

/// Read a config; `what` names it in the error (`the linux/arm64 entry's config sha256:…`).
pub fn parse(bytes: &[u8], what: &str) -> Result<ImageConfiguration> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::Invalid { what: what.to_owned(), message: e.to_string() })
}

/// `bytes` (a config) labelled `platform`: `os`, `architecture` and `variant` set, every other
/// field as it was. The config is read as an [`ImageConfiguration`] first, so a broken one is
/// refused; the label is then set in the JSON object itself rather than by writing the typed
/// value back, because Docker's configs carry fields the OCI type does not hold
/// (`container_config`, `docker_version`) and a relabel must not drop them.
pub fn relabel(bytes: &[u8], platform: &Platform, what: &str) -> Result<Vec<u8>> {
    parse(bytes, what)?;
    let mut v: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::Invalid { what: what.to_owned(), message: e.to_string() })?;
    let obj = v.as_object_mut().ok_or_else(|| Error::Invalid {
        what: what.to_owned(),
        message: "not a JSON object".into(),
    })?;
    platform.write_oci_fields(obj);
    Ok(serde_json::to_vec(&v).expect("a JSON value serialises"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_config_reads_back_with_its_platform_and_layers() {
        for p in Platform::known() {
            let c = new(&p, vec![Digest::of(b"layer")], entrypoint(&["/app"]));
            let bytes = to_bytes(&c);
            let back = parse(&bytes, "test").unwrap();
            assert_eq!(back, c);
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(
                archbench_platform::oci::declared(&v).unwrap().parse::<Platform>().unwrap(),
                p
            );
            assert_eq!(v["config"]["Entrypoint"], serde_json::json!(["/app"]));
            assert_eq!(v["history"][0]["created_by"], "archbench");
        }
        let a: serde_json::Value =
            serde_json::from_slice(&to_bytes(&unknown_platform(vec![]))).unwrap();
        assert_eq!(
            (a["os"].as_str(), a["architecture"].as_str()),
            (Some("unknown"), Some("unknown"))
        );
        assert_eq!(a["config"], serde_json::json!({}));
    }

    #[test]
    fn the_same_config_gives_the_same_bytes() {
        let mut c = entrypoint(&[]);
        c.set_labels(Some((0..32).map(|i| (format!("k{i}"), i.to_string())).collect()));
        let a = to_bytes(&new(&Platform::linux_arm64(), vec![], c.clone()));
        let mut c2 = entrypoint(&[]);
        c2.set_labels(Some((0..32).rev().map(|i| (format!("k{i}"), i.to_string())).collect()));
        assert_eq!(a, to_bytes(&new(&Platform::linux_arm64(), vec![], c2)));
        let text = String::from_utf8(a).unwrap();
        assert!(text.find("\"k0\"").unwrap() < text.find("\"k1\"").unwrap(), "{text}");
    }

    #[test]
    fn relabel_keeps_what_the_oci_type_does_not_hold_and_refuses_a_broken_config() {
        let docker = br#"{"architecture":"amd64","os":"linux","variant":"v2","docker_version":"20.10.24","container_config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[]}}"#;
        let out = relabel(docker, &Platform::linux_arm64(), "test").unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(archbench_platform::oci::declared(&v).unwrap(), "linux/arm64");
        assert_eq!(v["docker_version"], "20.10.24");
        assert_eq!(v["container_config"]["Cmd"], serde_json::json!(["sh"]));
        for bad in [&b"[]"[..], b"{\"os\":\"linux\"}", b"{"] {
            let e = relabel(bad, &Platform::linux_arm64(), "the config").unwrap_err();
            assert!(e.to_string().contains("the config"), "{e}");
        }
    }
}
