//! archid against file(1) on real binaries nobody here wrote: Debian packages of nine
//! architectures, EFI PE images, and thin and universal Mach-O from macOS wheels.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{archbench, json};

fn corpus() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(root.join("scripts/fetch-corpus"))
        .output()
        .expect("running scripts/fetch-corpus");
    assert!(
        out.status.success(),
        "scripts/fetch-corpus failed (needs Debian's archive and PyPI):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("[corpus] corpus ready in "))
        .expect("fetch-corpus names its directory");
    PathBuf::from(line.trim())
}

/// `file -b` for many paths at once, in order.
fn file_b(paths: &[PathBuf]) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in paths.chunks(200) {
        let o = Command::new("file")
            .arg("-b")
            .args(chunk)
            .output()
            .expect("file(1) (scripts/setup installs it)");
        assert!(o.status.success());
        out.extend(String::from_utf8_lossy(&o.stdout).lines().map(str::to_owned));
    }
    assert_eq!(out.len(), paths.len(), "file(1) printed one line per file");
    out
}

/// What file(1) must say for an ELF machine we identified.
fn elf_machine_words(e_machine: u64) -> &'static [&'static str] {
    match e_machine {
        62 => &["x86-64"],
        3 => &["Intel 80386", "Intel i386"],
        183 => &["ARM aarch64"],
        40 => &["ARM"],
        243 => &["RISC-V"],
        21 => &["PowerPC"],
        22 => &["S/390"],
        8 => &["MIPS"],
        258 => &["LoongArch"],
        _ => &["<unmapped>"],
    }
}

fn macho_arch_word(platform: &str) -> &'static str {
    match platform {
        "darwin/amd64" => "x86_64",
        "darwin/arm64" => "arm64",
        _ => "<unmapped>",
    }
}

fn agrees(id: &serde_json::Value, file: &str) -> Result<(), String> {
    let fmt = id["format"].as_str().unwrap_or("");
    let check = |cond: bool, what: &str| {
        if cond {
            Ok(())
        } else {
            Err(format!("{what}: archid {id} vs file(1) {file:?}"))
        }
    };
    match fmt {
        "elf" => {
            let class = if id["bits"] == 64 { "ELF 64-bit" } else { "ELF 32-bit" };
            check(file.starts_with(class), "class")?;
            let endian = if id["endian"] == "little" { "LSB" } else { "MSB" };
            check(file.contains(endian), "endianness")?;
            let words = elf_machine_words(id["elf"]["e_machine"].as_u64().unwrap_or(0));
            check(words.iter().any(|w| file.contains(w)), "machine")
        }
        "pe" => {
            let magic = id["pe"]["magic"].as_str().unwrap_or("");
            check(file.starts_with(&format!("{magic} ")), "PE magic")?;
            let arch = match id["platform"].as_str().unwrap_or("").rsplit('/').next().unwrap_or("")
            {
                "amd64" => "x86-64",
                "arm64" => "Aarch64",
                "386" => "Intel 80386",
                _ => "<unmapped>",
            };
            check(file.to_lowercase().contains(&arch.to_lowercase()), "PE machine")
        }
        "mach-o" => {
            check(
                file.starts_with(if id["bits"] == 64 { "Mach-O 64-bit" } else { "Mach-O" }),
                "Mach-O class",
            )?;
            check(
                file.contains(macho_arch_word(id["platform"].as_str().unwrap_or(""))),
                "Mach-O arch",
            )
        }
        "mach-o-fat" => {
            let members = id["members"].as_array().map(|m| m.len()).unwrap_or(0);
            check(
                file.contains(&format!("universal binary with {members} architectures")),
                "slice count",
            )?;
            for m in id["members"].as_array().into_iter().flatten() {
                check(
                    file.contains(macho_arch_word(m["platform"].as_str().unwrap_or(""))),
                    "slice arch",
                )?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[test]
fn archid_agrees_with_file_on_a_real_multi_arch_corpus() {
    let dir = corpus();
    let out = archbench().args(["identify", "--json", "--all"]).arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = json(&out);
    let files = report["payload"][0]["sections"][0]["files"].as_array().unwrap().clone();
    let compared: Vec<&serde_json::Value> = files
        .iter()
        .filter(|f| {
            matches!(f["identity"]["format"].as_str(), Some("elf" | "pe" | "mach-o" | "mach-o-fat"))
        })
        .collect();
    let errors: Vec<&serde_json::Value> = files.iter().filter(|f| f["error"].is_string()).collect();
    assert!(errors.is_empty(), "archid failed on real binaries: {errors:#?}");
    let paths: Vec<PathBuf> =
        compared.iter().map(|f| dir.join(f["path"].as_str().unwrap())).collect();
    let answers = file_b(&paths);

    let mut per_format: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut per_platform: BTreeMap<String, usize> = BTreeMap::new();
    let mut disagreements = Vec::new();
    for (f, answer) in compared.iter().zip(&answers) {
        let id = &f["identity"];
        let entry = per_format.entry(id["format"].as_str().unwrap().to_owned()).or_default();
        entry.1 += 1;
        match agrees(id, answer) {
            Ok(()) => entry.0 += 1,
            Err(e) => disagreements.push(format!("{}: {e}", f["path"])),
        }
        for p in id["platform"].as_str().into_iter().map(str::to_owned).chain(
            id["members"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m["platform"].as_str().map(str::to_owned)),
        ) {
            *per_platform.entry(p).or_default() += 1;
        }
    }
    let agreed: usize = per_format.values().map(|v| v.0).sum();
    println!("identify agrees with file(1) on {agreed} of {} files", compared.len());
    for (fmt, (ok, n)) in &per_format {
        println!("  {fmt:<11} {ok} of {n}");
    }
    for (p, n) in &per_platform {
        println!("  {p:<16} {n}");
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    for p in [
        "linux/amd64",
        "linux/386",
        "linux/arm64",
        "linux/arm/v7",
        "linux/arm/v5",
        "linux/riscv64",
        "linux/ppc64le",
        "linux/s390x",
        "linux/mips64le",
    ] {
        assert!(
            per_platform.get(p).copied().unwrap_or(0) >= 20,
            "too few {p} binaries in the corpus: {per_platform:?}"
        );
    }
    for fmt in ["pe", "mach-o", "mach-o-fat"] {
        assert!(
            per_format.get(fmt).is_some_and(|v| v.1 > 0),
            "no {fmt} files in the corpus: {per_format:?}"
        );
    }
}
