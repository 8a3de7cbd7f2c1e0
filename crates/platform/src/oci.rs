//! The one conversion between [`Platform`] and the platform fields of OCI documents: an index
//! entry's `platform` object and an image config's top-level `os`, `architecture` and
//! `variant`. Every writer and reader in archbench goes through here.

use serde_json::{Map, Value};

use crate::Platform;

impl Platform {
    /// The OCI platform object: `{"architecture": "arm", "os": "linux", "variant": "v7"}`.
    pub fn oci_json(&self) -> Value {
        let mut m = Map::new();
        self.write_oci_fields(&mut m);
        Value::Object(m)
    }

    /// Set `os`, `architecture` and `variant` in an OCI object (an image config, or an index
    /// entry's platform), removing a `variant` this platform does not have.
    pub fn write_oci_fields(&self, obj: &mut Map<String, Value>) {
        obj.insert("architecture".into(), self.arch.to_string().into());
        obj.insert("os".into(), self.os.to_string().into());
        match &self.variant {
            Some(v) => {
                obj.insert("variant".into(), v.clone().into());
            }
            None => {
                obj.remove("variant");
            }
        }
    }
}

/// The platform an OCI object declares, spelled `os/architecture[/variant]` exactly as written
/// (an empty variant counts as none), whether or not it is a platform archbench knows: `verify`
/// reports a wrong label as it was written. `None` when `os` or `architecture` is missing.
pub fn declared(obj: &Value) -> Option<String> {
    let os = obj.get("os")?.as_str()?;
    let arch = obj.get("architecture")?.as_str()?;
    Some(spell(os, arch, obj.get("variant").and_then(Value::as_str)))
}

/// `os/architecture[/variant]`, as OCI fields spell it.
pub fn spell(os: &str, arch: &str, variant: Option<&str>) -> String {
    match variant {
        Some(v) if !v.is_empty() => format!("{os}/{arch}/{v}"),
        _ => format!("{os}/{arch}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_oci_fields() {
        for p in Platform::known() {
            let v = p.oci_json();
            assert_eq!(declared(&v).unwrap().parse::<Platform>().unwrap(), p);
        }
        let mut config = serde_json::json!({"architecture": "amd64", "os": "linux", "variant": "v3", "config": {}});
        Platform::linux_arm64().write_oci_fields(config.as_object_mut().unwrap());
        assert_eq!(
            config,
            serde_json::json!({"architecture": "arm64", "os": "linux", "config": {}})
        );
        assert_eq!(
            declared(&serde_json::json!({"os": "linux", "architecture": "x", "variant": ""}))
                .unwrap(),
            "linux/x"
        );
        assert_eq!(declared(&serde_json::json!({"os": "linux"})), None);
    }
}
