//! The pricing catalog: `fixtures/pricing.toml`, or the user's file in the same format.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The catalog shipped with archbench.
pub const BUILTIN: &str = include_str!("../../../fixtures/pricing.toml");

/// One price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// `instance`, `runner` or `claim`.
    pub kind: String,
    /// What it is.
    pub description: String,
    /// USD per unit (for a claim: the claimed fraction).
    pub price: f64,
    /// `hour`, `minute`, or `fraction` for claims.
    pub unit: String,
    /// `amd64` or `arm64`.
    pub arch: String,
    /// `aws`, `github`, …
    pub provider: String,
    /// Region, or `global`.
    pub region: String,
    /// Where the figure comes from.
    pub source: String,
    /// When it was read (`YYYY-MM`).
    pub date: String,
}

/// All prices by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// Entries by id.
    pub entries: BTreeMap<String, Entry>,
}

impl Catalog {
    /// The built-in catalog.
    pub fn builtin() -> Self {
        Self::parse(BUILTIN, "built-in pricing.toml").expect("the built-in catalog parses")
    }

    /// Read a catalog file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| Error::Io { path: path.to_owned(), source })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parse and check a catalog.
    pub fn parse(text: &str, name: &str) -> Result<Self> {
        let c: Catalog = toml::from_str(text)
            .map_err(|e| Error::Pricing { path: name.into(), message: e.to_string() })?;
        for (id, e) in &c.entries {
            let ok_unit = match e.kind.as_str() {
                "instance" => e.unit == "hour",
                "runner" => e.unit == "minute",
                "claim" => e.unit == "fraction",
                _ => false,
            };
            if !ok_unit {
                return Err(Error::Pricing {
                    path: name.into(),
                    message: format!("entry {id}: kind {:?} with unit {:?}; use instance/hour, runner/minute or claim/fraction", e.kind, e.unit),
                });
            }
            if !(e.price.is_finite() && e.price >= 0.0) {
                return Err(Error::Pricing {
                    path: name.into(),
                    message: format!("entry {id}: price {} is not a non-negative number", e.price),
                });
            }
            if e.arch != "amd64" && e.arch != "arm64" {
                return Err(Error::Pricing {
                    path: name.into(),
                    message: format!("entry {id}: arch {:?}; use amd64 or arm64", e.arch),
                });
            }
        }
        Ok(c)
    }

    /// An entry by id, of the kind expected.
    pub fn get(&self, id: &str, kind: &str) -> Result<&Entry> {
        match self.entries.get(id) {
            Some(e) if e.kind == kind => Ok(e),
            Some(e) => {
                Err(Error::Input(format!("pricing entry {id} is a {}, not a {kind}", e.kind)))
            }
            None => Err(Error::Input(format!(
                "no pricing entry {id}; {kind} entries: {}",
                self.entries
                    .iter()
                    .filter(|(_, e)| e.kind == kind)
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses_and_bad_files_are_explained() {
        let c = Catalog::builtin();
        assert_eq!(c.get("c7g-large", "instance").unwrap().arch, "arm64");
        assert!(c.get("c7g-large", "runner").unwrap_err().to_string().contains("is a instance"));
        assert!(c
            .get("nope", "runner")
            .unwrap_err()
            .to_string()
            .contains("github-linux-2core-x64"));
        let bad = "[entries.x]\nkind='runner'\ndescription='d'\nprice=1.0\nunit='hour'\narch='amd64'\nprovider='p'\nregion='r'\nsource='s'\ndate='d'\n";
        assert!(Catalog::parse(bad, "f").unwrap_err().to_string().contains("runner/minute"));
        assert!(Catalog::parse("[entries.x]\nprice = 'free'\n", "f").is_err());
    }
}
