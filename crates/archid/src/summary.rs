//! Per-platform totals of a scan: how many binaries of each platform, how many bytes, examples.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::walk::Found;

/// How many examples each group keeps.
pub const EXAMPLES: usize = 3;

/// One platform's (or label's) share of a scan.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Group {
    /// Platform or label (`linux/arm64`, `script`, `universal(darwin/amd64,darwin/arm64)`).
    pub label: String,
    /// Files.
    pub count: u64,
    /// Their total size.
    pub bytes: u64,
    /// The first few paths, sorted.
    pub examples: Vec<String>,
}

/// Group identified files by label; unidentifiable candidates are grouped as `error`.
pub fn summarise(found: &[Found]) -> Vec<Group> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for f in found {
        let label = f.identity.as_ref().map(|i| i.label()).unwrap_or_else(|| "error".to_owned());
        let g =
            groups.entry(label.clone()).or_insert_with(|| Group { label, ..Default::default() });
        g.count += 1;
        g.bytes += f.size;
        if g.examples.len() < EXAMPLES {
            g.examples.push(f.path.clone());
        }
    }
    let mut out: Vec<Group> = groups.into_values().collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.label.cmp(&b.label)));
    out
}
