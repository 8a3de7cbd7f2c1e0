//! Which entry of an index runs on a host, and why: pure, so the report's "which entry runs
//! where" table applies the rule `run` follows to hosts archbench is not on. The reasons an
//! entry cannot run are sentences with their fix (binfmt's problem and fix), shown as they are
//! beside each entry, so they stay text.

use archbench_platform::{Arch, Platform};
use archbench_results::run::RunHow;

/// How `platform` runs on `host`, or why it cannot and the fix. `can_emulate` is binfmt's
/// answer (problem and fix) for platforms the host does not run natively.
pub fn classify(
    platform: &Platform,
    host: &Platform,
    can_emulate: &dyn Fn(&Platform) -> Result<(), String>,
) -> Result<RunHow, String> {
    if platform.arch == Arch::Wasm {
        return Ok(RunHow::Wasm);
    }
    if platform.runs_natively_on(host) {
        return Ok(RunHow::Native);
    }
    can_emulate(platform).map(|_| RunHow::Emulated)
}

/// The entry to run among `entries` (each a declared platform and how it runs here), by the
/// order native, Wasm, emulated; its index and the reason in words. `None` when none runs.
pub fn choose(
    entries: &[(String, Result<RunHow, String>)],
    host: &Platform,
) -> Option<(usize, String)> {
    let best = entries
        .iter()
        .enumerate()
        .filter_map(|(i, (_, h))| h.as_ref().ok().map(|h| (i, *h)))
        .min_by_key(|(_, h)| *h)?;
    let (i, how) = best;
    let declared = &entries[i].0;
    let others: Vec<String> = entries
        .iter()
        .filter_map(|(d, h)| match h {
            Ok(h) if d != declared && *h > how => Some(format!("{d} ({h})")),
            _ => None,
        })
        .collect();
    let rest = if others.is_empty() {
        String::new()
    } else {
        format!("; preferred over {}", others.join(", "))
    };
    let why = match how {
        RunHow::Native => format!("{declared} is this host's own platform ({host}){rest}"),
        RunHow::Wasm => format!(
            "no {host} entry; the Wasm module runs on any host, in process, without emulation{rest}"
        ),
        RunHow::Emulated => {
            format!(
                "no {host} or Wasm entry; {declared} can run here under QEMU through binfmt{rest}"
            )
        }
    };
    Some((i, why))
}

/// The error when nothing in the index runs here: every entry with its reason and fix.
pub fn nothing_runs(
    image: &str,
    host: &Platform,
    entries: &[(String, Result<RunHow, String>)],
) -> String {
    let mut s = format!("no entry of {image} can run on this {host} host:");
    for (d, h) in entries {
        if let Err(why) = h {
            s.push_str(&format!("\n  {d}: {why}"));
        }
    }
    s.push_str(&format!(
        "\nfix: build an entry this host runs into the index (archbench build --platform {host},wasi/wasm ...), or install the emulator named above"
    ));
    s
}
