use super::*;

/// Every spelling the foundation issue lists, with the canonical form it must parse to.
const SPELLINGS: &[(&str, &str)] = &[
    ("linux/amd64", "linux/amd64"),
    ("amd64", "linux/amd64"),
    ("x86_64", "linux/amd64"),
    ("X86_64", "linux/amd64"),
    ("linux/amd64/v3", "linux/amd64/v3"),
    ("linux/amd64/v1", "linux/amd64"),
    ("linux/arm64", "linux/arm64"),
    ("arm64", "linux/arm64"),
    ("aarch64", "linux/arm64"),
    ("linux/arm64/v8", "linux/arm64"),
    ("arm64/v8", "linux/arm64"),
    ("linux/arm/v7", "linux/arm/v7"),
    ("linux/arm", "linux/arm/v7"),
    ("armhf", "linux/arm/v7"),
    ("armv7l", "linux/arm/v7"),
    ("arm/v6", "linux/arm/v6"),
    ("linux/arm/v6", "linux/arm/v6"),
    ("armel", "linux/arm/v5"),
    ("linux/arm/v5", "linux/arm/v5"),
    ("linux/riscv64", "linux/riscv64"),
    ("riscv64", "linux/riscv64"),
    ("linux/ppc64le", "linux/ppc64le"),
    ("ppc64el", "linux/ppc64le"),
    ("linux/s390x", "linux/s390x"),
    ("s390x", "linux/s390x"),
    ("linux/386", "linux/386"),
    ("386", "linux/386"),
    ("i386", "linux/386"),
    ("i686", "linux/386"),
    ("linux/mips64le", "linux/mips64le"),
    ("mips64el", "linux/mips64le"),
    ("loongarch64", "linux/loong64"),
    ("wasi/wasm", "wasi/wasm"),
    ("wasip1/wasm", "wasi/wasm"),
    // The Wasm OCI artifact spelling of a component (issue 19).
    ("wasip2/wasm", "wasi/wasm"),
    ("wasm", "wasi/wasm"),
    ("windows/amd64", "windows/amd64"),
    ("darwin/arm64", "darwin/arm64"),
    ("  linux/arm64  ", "linux/arm64"),
    ("aarch64-unknown-linux-musl", "linux/arm64"),
    ("armv7-unknown-linux-gnueabihf", "linux/arm/v7"),
    ("riscv64gc-unknown-linux-gnu", "linux/riscv64"),
    ("wasm32-wasip1", "wasi/wasm"),
];

#[test]
fn every_spelling_parses_to_its_canonical_form() {
    for (input, want) in SPELLINGS {
        let p: Platform = input.parse().unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(p.to_string(), *want, "input {input:?}");
    }
}

#[test]
fn canonical_forms_round_trip() {
    for p in Platform::known() {
        let again: Platform = p.to_string().parse().unwrap();
        assert_eq!(again, p);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, format!("\"{p}\""));
        let back: Platform = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
    }
}

/// (platform, first rust target, debian arch, qemu arch, binfmt entry)
type Mapping =
    (&'static str, &'static str, Option<&'static str>, Option<&'static str>, Option<&'static str>);

const MAPPINGS: &[Mapping] = &[
    ("linux/amd64", "x86_64-unknown-linux-gnu", Some("amd64"), Some("x86_64"), Some("qemu-x86_64")),
    (
        "linux/arm64",
        "aarch64-unknown-linux-gnu",
        Some("arm64"),
        Some("aarch64"),
        Some("qemu-aarch64"),
    ),
    ("linux/arm/v7", "armv7-unknown-linux-gnueabihf", Some("armhf"), Some("arm"), Some("qemu-arm")),
    ("linux/arm/v6", "arm-unknown-linux-gnueabihf", Some("armel"), Some("arm"), Some("qemu-arm")),
    ("linux/arm/v5", "armv5te-unknown-linux-gnueabi", Some("armel"), Some("arm"), Some("qemu-arm")),
    ("linux/386", "i686-unknown-linux-gnu", Some("i386"), Some("i386"), Some("qemu-i386")),
    (
        "linux/riscv64",
        "riscv64gc-unknown-linux-gnu",
        Some("riscv64"),
        Some("riscv64"),
        Some("qemu-riscv64"),
    ),
    (
        "linux/ppc64le",
        "powerpc64le-unknown-linux-gnu",
        Some("ppc64el"),
        Some("ppc64le"),
        Some("qemu-ppc64le"),
    ),
    ("linux/s390x", "s390x-unknown-linux-gnu", Some("s390x"), Some("s390x"), Some("qemu-s390x")),
    ("wasi/wasm", "wasm32-wasip1", None, None, None),
    // ISA levels share their port's mappings.
    (
        "linux/amd64/v3",
        "x86_64-unknown-linux-gnu",
        Some("amd64"),
        Some("x86_64"),
        Some("qemu-x86_64"),
    ),
];

#[test]
fn mappings_to_rust_debian_and_qemu() {
    for (plat, rust, debian, qemu, binfmt) in MAPPINGS {
        let p: Platform = plat.parse().unwrap();
        assert_eq!(p.rust_targets().first().copied(), Some(*rust), "{plat}");
        assert_eq!(p.debian_arch(), *debian, "{plat}");
        assert_eq!(p.qemu_arch(), *qemu, "{plat}");
        assert_eq!(p.binfmt_entry().as_deref(), *binfmt, "{plat}");
    }
    let arm64 = Platform::linux_arm64();
    assert_eq!(arm64.qemu_binaries(), vec!["qemu-aarch64-static", "qemu-aarch64"]);
    assert_eq!(arm64.static_build().unwrap().triple, "aarch64-unknown-linux-musl");
    assert_eq!(Platform::wasi_wasm().static_build().unwrap().triple, "wasm32-wasip1");
    let armv7 = Platform::linux_arm_v7().static_build().unwrap();
    assert_eq!((armv7.triple, armv7.crt_static), ("armv7-unknown-linux-gnueabihf", true));
    assert!(Platform::linux_riscv64().static_build().unwrap().crt_static);
    assert!(Platform::from_str("linux/s390x").unwrap().static_build().is_none());
}

#[test]
fn errors_name_the_input_and_the_fix() {
    let e = "sparc".parse::<Platform>().unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("\"sparc\""), "{msg}");
    assert!(msg.contains("linux/arm64") && msg.contains("armhf"), "{msg}");

    let e = "linux/arm/v9".parse::<Platform>().unwrap_err();
    assert!(matches!(e, Error::BadVariant { .. }), "{e}");
    assert!(e.to_string().contains("v5, v6, v7, v8"), "{e}");

    let e = "linux/riscv64/v2".parse::<Platform>().unwrap_err();
    assert!(e.to_string().contains("no variant"), "{e}");

    assert!(matches!("".parse::<Platform>(), Err(Error::Empty)));
    assert!("plan9/amd64/v1".parse::<Platform>().is_err());
    assert!("linux/amd64/v3/extra".parse::<Platform>().is_err());
    assert!(matches!("armhf/v6".parse::<Platform>(), Err(Error::BadVariant { .. })));
}

#[test]
fn lists_parse_in_order_without_duplicates() {
    let ps = Platform::parse_list("linux/amd64, arm64,linux/arm64/v8,armhf").unwrap();
    let names: Vec<String> = ps.iter().map(|p| p.to_string()).collect();
    assert_eq!(names, ["linux/amd64", "linux/arm64", "linux/arm/v7"]);
    assert!(matches!(Platform::parse_list("linux/amd64,,arm64"), Err(Error::Empty)));
}

#[test]
fn host_is_detected_and_native() {
    let host = Platform::host();
    assert!(!matches!(host.arch, Arch::Unknown(_)), "{host}");
    assert!(host.runs_natively_on(&host));
    if host == Platform::linux_amd64() {
        assert!("linux/386".parse::<Platform>().unwrap().runs_natively_on(&host));
        assert!(!Platform::linux_arm64().runs_natively_on(&host));
    }
}

/// scripts/setup installs the Rust targets and cross linkers of the platform table, no more
/// and no fewer (issue 13, item 5: the list used to live in four places).
#[test]
fn scripts_setup_installs_the_targets_and_linkers_of_the_table() {
    let setup = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/setup"),
    )
    .unwrap();
    let start = setup.find("RUST_TARGETS=(").expect("RUST_TARGETS=( in scripts/setup") + 14;
    let end = start + setup[start..].find(')').unwrap();
    let mut script: Vec<&str> = setup[start..end].split_whitespace().collect();
    let mut table: Vec<&str> = crate::StaticBuild::all().map(|b| b.triple).collect();
    script.sort();
    table.sort();
    assert_eq!(script, table, "scripts/setup RUST_TARGETS against the platform table");
    for (_, package) in crate::StaticBuild::all().filter_map(|b| b.linker) {
        assert!(setup.contains(package), "scripts/setup installs {package}");
    }
}
