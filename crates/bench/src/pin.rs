//! Pinning the measured runs to one CPU.
//!
//! On the reference machine (a 2-vCPU KVM guest) the scheduler moves a running workload between
//! the two vCPUs, and each move costs it warm caches. Unpinned, the same native command varies by
//! ±10% from run to run and its median depends on what the parent process does around the spawn;
//! pinned to one CPU it varies by about ±1%, and archbench and hyperfine agree to within 1% (see
//! `benches/fidelity.sh`). The suite therefore pins the thread that runs the samples, and the
//! processes it starts inherit that affinity. Preparation (building, Wasm compilation) stays
//! unpinned, so compile threads keep every CPU.

use rustix::thread::{sched_getaffinity, sched_setaffinity, CpuSet};

use crate::{Error, Result};

/// CPUs this process may run on.
pub fn allowed() -> Vec<usize> {
    match sched_getaffinity(None) {
        Ok(set) => (0..CpuSet::MAX_CPU).filter(|&c| set.is_set(c)).collect(),
        Err(_) => Vec::new(),
    }
}

/// The CPU to pin to by default: the highest one allowed (CPU 0 usually takes the most
/// interrupts and housekeeping), or `None` when the affinity cannot be read.
pub fn default_cpu() -> Option<usize> {
    allowed().last().copied()
}

/// `0-3,6` for humans.
fn ranges(cpus: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let mut j = i;
        while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
            j += 1;
        }
        parts.push(if i == j { cpus[i].to_string() } else { format!("{}-{}", cpus[i], cpus[j]) });
        i = j + 1;
    }
    parts.join(",")
}

/// Check that `cpu` may be used by this process.
pub fn check(cpu: usize) -> Result<usize> {
    let ok = allowed();
    if ok.contains(&cpu) {
        Ok(cpu)
    } else {
        let allowed = if ok.is_empty() { "unknown".to_owned() } else { ranges(&ok) };
        Err(Error::Cpu { cpu, allowed })
    }
}

/// The calling thread pinned to one CPU; the previous affinity comes back on drop.
#[derive(Debug)]
pub struct Pinned {
    previous: CpuSet,
}

impl Pinned {
    /// Pin the calling thread to `cpu`.
    pub fn to(cpu: usize) -> Result<Pinned> {
        let affinity = |action: String| {
            move |e: rustix::io::Errno| Error::Affinity { action, source: e.into() }
        };
        let previous =
            sched_getaffinity(None).map_err(affinity("reading the CPU affinity".into()))?;
        let mut one = CpuSet::new();
        one.set(cpu);
        sched_setaffinity(None, &one).map_err(affinity(format!("pinning to CPU {cpu}")))?;
        Ok(Pinned { previous })
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let _ = sched_setaffinity(None, &self.previous);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_and_restores_and_children_inherit() {
        let before = allowed();
        let cpu = default_cpu().expect("affinity readable");
        {
            let _p = Pinned::to(cpu).unwrap();
            assert_eq!(allowed(), vec![cpu]);
            // A child started now runs on that CPU only.
            let out = std::process::Command::new("sh")
                .args(["-c", "grep Cpus_allowed_list /proc/self/status"])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.trim().ends_with(&format!("\t{cpu}")), "{text}");
        }
        assert_eq!(allowed(), before);
    }

    #[test]
    fn an_unavailable_cpu_is_a_clear_error() {
        let e = check(CpuSet::MAX_CPU - 1).unwrap_err().to_string();
        assert!(e.contains("--no-pin") && e.contains("allowed:"), "{e}");
        assert_eq!(ranges(&[0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
    }
}
