use object::write::Object;
use object::{Architecture, BinaryFormat, Endianness};

use super::*;
use crate::walk::{walk_tar, Limits, TarEvent};

fn obj(format: BinaryFormat, arch: Architecture, endian: Endianness) -> Vec<u8> {
    let mut o = Object::new(format, arch, endian);
    let text = o.section_id(object::write::StandardSection::Text);
    o.append_section_data(text, &[0u8; 16], 4);
    o.write().expect("object writes")
}

/// (architecture, endianness, platform, bits, endian)
const ELF_CASES: &[(Architecture, Endianness, &str, u8, Endian)] = &[
    (Architecture::X86_64, Endianness::Little, "linux/amd64", 64, Endian::Little),
    (Architecture::I386, Endianness::Little, "linux/386", 32, Endian::Little),
    (Architecture::Aarch64, Endianness::Little, "linux/arm64", 64, Endian::Little),
    (Architecture::Arm, Endianness::Little, "linux/arm/v5", 32, Endian::Little),
    (Architecture::Riscv64, Endianness::Little, "linux/riscv64", 64, Endian::Little),
    (Architecture::PowerPc64, Endianness::Little, "linux/ppc64le", 64, Endian::Little),
    (Architecture::PowerPc64, Endianness::Big, "linux/ppc64", 64, Endian::Big),
    (Architecture::S390x, Endianness::Big, "linux/s390x", 64, Endian::Big),
    (Architecture::Mips64, Endianness::Little, "linux/mips64le", 64, Endian::Little),
    (Architecture::Mips64, Endianness::Big, "linux/mips64", 64, Endian::Big),
    (Architecture::LoongArch64, Endianness::Little, "linux/loong64", 64, Endian::Little),
];

#[test]
fn elf_objects_of_every_machine() {
    for (arch, endian, want, bits, want_endian) in ELF_CASES {
        let bytes = obj(BinaryFormat::Elf, *arch, *endian);
        assert_eq!(peek(&bytes), Hint::Elf);
        let id = identify(&bytes).unwrap_or_else(|e| panic!("{arch:?}: {e}"));
        assert_eq!(id.platform.as_ref().unwrap().to_string(), *want, "{arch:?} {endian:?}");
        assert_eq!(id.bits, Some(*bits));
        assert_eq!(id.endian, Some(*want_endian));
        assert_eq!(id.kind, Kind::Relocatable);
        assert!(!id.arch_neutral());
    }
}

#[test]
fn macho_thin_and_universal() {
    let x86 = obj(BinaryFormat::MachO, Architecture::X86_64, Endianness::Little);
    let arm = obj(BinaryFormat::MachO, Architecture::Aarch64, Endianness::Little);
    let thin = identify(&arm).unwrap();
    assert_eq!(thin.format, Format::MachO);
    assert_eq!(thin.platform.unwrap().to_string(), "darwin/arm64");

    // A fat header (big-endian) with two slices aligned to 4 KiB.
    let align = 1u32 << 12;
    let off1 = align;
    let off2 = off1 + (x86.len() as u32).div_ceil(align) * align;
    let mut fat = Vec::new();
    fat.extend_from_slice(&0xcafebabe_u32.to_be_bytes());
    fat.extend_from_slice(&2u32.to_be_bytes());
    for (cpu, sub, off, len) in
        [(0x0100_0007u32, 3u32, off1, x86.len()), (0x0100_000c, 0, off2, arm.len())]
    {
        for v in [cpu, sub, off, len as u32, 12] {
            fat.extend_from_slice(&v.to_be_bytes());
        }
    }
    fat.resize(off1 as usize, 0);
    fat.extend_from_slice(&x86);
    fat.resize(off2 as usize, 0);
    fat.extend_from_slice(&arm);
    assert_eq!(peek(&fat), Hint::MachOFat);
    let id = identify(&fat).unwrap();
    assert_eq!(id.format, Format::MachOFat);
    assert_eq!(id.label(), "universal(darwin/amd64,darwin/arm64)");
    assert_eq!(id.platforms().len(), 2);
}

#[test]
fn wasm_modules_and_wasi_versions() {
    let p1 = wat::parse_str(r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (func (export "_start")))"#).unwrap();
    let id = identify(&p1).unwrap();
    assert_eq!(id.format, Format::WasmModule);
    assert_eq!(id.platform.as_ref().unwrap().to_string(), "wasi/wasm");
    assert_eq!(id.wasm.as_ref().unwrap().wasi.as_deref(), Some("preview1"));
    assert!(id.arch_neutral());
    let bare = wat::parse_str("(module)").unwrap();
    assert_eq!(identify(&bare).unwrap().wasm.unwrap().wasi, None);
    let component =
        wat::parse_str(r#"(component (import "wasi:cli/environment@0.2.0" (instance)))"#).unwrap();
    let c = identify(&component).unwrap();
    assert_eq!(c.format, Format::WasmComponent);
    assert_eq!(c.wasm.unwrap().wasi.as_deref(), Some("preview2"));
}

#[test]
fn scripts_ar_and_non_binaries() {
    let id = identify(b"#!/bin/sh -e\necho hi\n").unwrap();
    assert_eq!(id.interpreter.as_deref(), Some("/bin/sh -e"));
    assert_eq!(id.label(), "script");
    assert!(identify_opt(b"just text").unwrap().is_none());
    // "MZ" text that is not a PE image is not a binary.
    let mut mz = b"MZ is how this note starts".to_vec();
    mz.resize(200, b' ');
    assert!(identify_opt(&mz).unwrap().is_none());

    // A static library with one aarch64 object.
    let member = obj(BinaryFormat::Elf, Architecture::Aarch64, Endianness::Little);
    let mut ar = b"!<arch>\n".to_vec();
    let header =
        format!("{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n", "a.o/", 0, 0, 0, 644, member.len());
    ar.extend_from_slice(header.as_bytes());
    ar.extend_from_slice(&member);
    let id = identify(&ar).unwrap();
    assert_eq!(id.format, Format::Ar);
    assert_eq!(id.platform.unwrap().to_string(), "linux/arm64");
}

/// Truncations, bit flips and absurd header counts give errors or answers, never panics.
#[test]
fn hostile_elf_never_panics() {
    let exe = std::fs::read("/bin/ls")
        .or_else(|_| std::fs::read(std::env::current_exe().unwrap()))
        .unwrap();
    let mut errors = 0;
    let no_panic =
        |r: &Result<Identity>| assert!(!matches!(r, Err(Error::ParserPanic { .. })), "{r:?}");
    for cut in (0..exe.len().min(8192)).step_by(7).chain([exe.len() / 2, exe.len() - 1]) {
        let r = identify(&exe[..cut]);
        no_panic(&r);
        if r.is_err() {
            errors += 1;
        }
    }
    assert!(errors > 0, "truncated ELF files must fail somewhere");
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for round in 0..2400 {
        // Most rounds mutate the head (header parsing); every sixth the whole file, so section
        // headers, notes and attributes at the end get mutated too.
        let len = if round % 6 == 0 { exe.len() } else { exe.len().min(16384) };
        let mut b = exe[..len].to_vec();
        for _ in 0..8 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let i = (seed as usize) % b.len();
            b[i] ^= 1 << (seed >> 60 & 7);
        }
        no_panic(&identify(&b));
    }
    // e_phnum / e_shnum at their maximum with offsets pointing past the end.
    let mut absurd = obj(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    absurd[0x38..0x3a].copy_from_slice(&0xffffu16.to_le_bytes());
    absurd[0x3c..0x3e].copy_from_slice(&0xffffu16.to_le_bytes());
    absurd[0x20..0x28].copy_from_slice(&(u64::MAX - 8).to_le_bytes());
    assert!(identify(&absurd).is_err());
}

fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o755);
        b.append_data(&mut h, path, *data).unwrap();
    }
    b.into_inner().unwrap()
}

#[test]
fn tar_streams_plain_gzip_zstd_with_whiteouts() {
    let arm = obj(BinaryFormat::Elf, Architecture::Aarch64, Endianness::Little);
    let tar = tar_of(&[
        ("usr/bin/app", &arm),
        ("etc/motd", b"hello"),
        ("usr/lib/.wh.old", b""),
        ("opt/.wh..wh..opq", b""),
        ("run.sh", b"#!/bin/sh\n"),
    ]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tar).unwrap();
    let gz = gz.finish().unwrap();
    let zst = zstd::encode_all(&tar[..], 3).unwrap();
    for stream in [&tar, &gz, &zst] {
        let mut events = Vec::new();
        let scanned = walk_tar(&stream[..], Limits::default(), |e| events.push(e)).unwrap();
        assert_eq!(scanned.files, 3, "regular non-whiteout files");
        let files: Vec<String> = events
            .iter()
            .filter_map(|e| if let TarEvent::File(f) = e { Some(f.path.clone()) } else { None })
            .collect();
        assert_eq!(files, ["usr/bin/app", "run.sh"]);
        assert!(events.iter().any(|e| matches!(e, TarEvent::Whiteout(p) if p == "usr/lib/old")));
        assert!(events.iter().any(|e| matches!(e, TarEvent::Opaque(d) if d == "opt")));
    }
}

#[test]
fn gzip_bomb_and_oversized_entries_are_bounded() {
    // 64 MiB of zeros compresses to ~64 KiB; with a 8 MiB stream limit the walk must stop.
    let zeros = vec![0u8; 64 << 20];
    let tar = tar_of(&[("big.bin", &zeros)]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut gz, &tar).unwrap();
    let gz = gz.finish().unwrap();
    assert!(gz.len() < 1 << 20);
    let limits = Limits { max_entry_bytes: 1 << 20, max_stream_bytes: 8 << 20 };
    let err = walk_tar(&gz[..], limits, |_| {}).unwrap_err();
    assert!(format!("{err:#}").contains("<tar stream>"), "{err:#}");
    let chain = std::error::Error::source(&err).map(|s| s.to_string()).unwrap_or_default();
    assert!(chain.contains("exceeds the limit"), "{chain}");

    // A candidate larger than the entry limit is reported, not read into memory.
    let mut elf = obj(BinaryFormat::Elf, Architecture::Aarch64, Endianness::Little);
    elf.resize(2 << 20, 0);
    let tar = tar_of(&[("huge-elf", &elf)]);
    let mut found = Vec::new();
    walk_tar(&tar[..], limits, |e| found.push(e)).unwrap();
    match &found[..] {
        [TarEvent::File(f)] => {
            assert!(f.error.as_deref().unwrap().contains("exceeds the limit"), "{f:?}")
        }
        other => panic!("{other:?}"),
    }
}

mod verify {
    use archbench_oci::{ImageRef, ImageSource, LayerInput, LayoutWriter};
    use archbench_platform::Platform;

    use super::*;
    use crate::image::{outcome, scan, verdict, Outcome};

    fn layout_with(images: &[(&str, &str, Vec<Vec<u8>>)]) -> tempfile::TempDir {
        // (index platform, config platform, layer tars)
        let dir = tempfile::tempdir().unwrap();
        let mut w = LayoutWriter::create(dir.path()).unwrap();
        let mut entries = Vec::new();
        for (declared, config, layers) in images {
            let layers: Vec<LayerInput> = layers.iter().cloned().map(LayerInput::tar).collect();
            let m = w.image(&config.parse().unwrap(), &layers, &["/app"]).unwrap();
            entries.push((m, declared.parse::<Platform>().unwrap()));
        }
        let idx = w.index(&entries, &Default::default()).unwrap();
        w.tag(&idx, "t").unwrap();
        dir
    }

    fn verdicts(dir: &std::path::Path) -> Vec<crate::image::PlatformVerdict> {
        let src = ImageSource::open(&ImageRef::parse(&format!("oci:{}:t", dir.display())).unwrap())
            .unwrap();
        scan(&src, &[], Limits::default()).unwrap().platforms.iter().map(verdict).collect()
    }

    fn elf(arch: Architecture) -> Vec<u8> {
        obj(BinaryFormat::Elf, arch, Endianness::Little)
    }

    #[test]
    fn correct_multi_arch_image_passes() {
        let amd =
            tar_of(&[("bin/app", &elf(Architecture::X86_64)), ("bin/run.sh", b"#!/bin/sh\n")]);
        let arm =
            tar_of(&[("bin/app", &elf(Architecture::Aarch64)), ("bin/run.sh", b"#!/bin/sh\n")]);
        let dir = layout_with(&[
            ("linux/amd64", "linux/amd64", vec![amd]),
            ("linux/arm64", "linux/arm64", vec![arm]),
        ]);
        let v = verdicts(dir.path());
        assert_eq!(v.len(), 2);
        for p in &v {
            assert!(p.ok, "{p:#?}");
            assert_eq!((p.binaries, p.matching, p.neutral), (1, 1, 1));
        }
    }

    #[test]
    fn wrong_arch_binary_and_mislabelled_config_are_caught() {
        // An amd64 binary slipped into the arm64 image.
        let arm = tar_of(&[
            ("bin/app", &elf(Architecture::Aarch64)),
            ("bin/helper", &elf(Architecture::X86_64)),
        ]);
        // An arm64 rootfs whose config says amd64 (what `docker import --platform` does on 20.10).
        let mislabelled = tar_of(&[
            ("bin/app", &elf(Architecture::Aarch64)),
            ("bin/sh", &elf(Architecture::Aarch64)),
        ]);
        let dir = layout_with(&[
            ("linux/arm64", "linux/arm64", vec![arm]),
            ("linux/arm/v7", "linux/amd64", vec![mislabelled]),
        ]);
        let v = verdicts(dir.path());
        assert!(!v[0].ok);
        assert_eq!(v[0].mismatches.len(), 1);
        assert_eq!(v[0].mismatches[0].path, "bin/helper");
        assert_eq!(v[0].mismatches[0].found, "linux/amd64");
        assert!(!v[1].ok);
        assert!(
            v[1].config_problem.as_deref().unwrap().contains("config says linux/amd64"),
            "{:?}",
            v[1]
        );
        assert_eq!(v[1].mismatches.len(), 2, "arm64 binaries in an arm/v7 image");
    }

    #[test]
    fn whiteouts_remove_lower_layer_binaries() {
        let lower = tar_of(&[
            ("opt/x/stray", &elf(Architecture::X86_64)),
            ("bin/app", &elf(Architecture::X86_64)),
        ]);
        let upper = tar_of(&[("opt/.wh.x", b""), ("bin/app", &elf(Architecture::Aarch64))]);
        let dir = layout_with(&[("linux/arm64", "linux/arm64", vec![lower, upper])]);
        let v = verdicts(dir.path());
        assert!(v[0].ok, "{:#?}", v[0]);
        assert_eq!(v[0].binaries, 1);
    }

    fn wasm_module() -> Vec<u8> {
        wat::parse_str(r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (func (export "_start")))"#).unwrap()
    }

    /// Issue 19: a `wasi/wasm` entry passes only with a Wasm module in it and no native code.
    #[test]
    fn a_wasm_entry_must_hold_wasm_and_no_native_code() {
        let good = tar_of(&[("app.wasm", &wasm_module())]);
        let elf_inside = tar_of(&[("app.wasm", &elf(Architecture::X86_64))]);
        let empty = tar_of(&[("run.sh", b"#!/bin/sh\n")]);
        let dir = layout_with(&[
            ("wasi/wasm", "wasi/wasm", vec![good]),
            ("wasi/wasm", "wasi/wasm", vec![elf_inside]),
            ("wasi/wasm", "wasi/wasm", vec![empty]),
        ]);
        let v = verdicts(dir.path());
        assert!(v[0].ok, "{:#?}", v[0]);
        assert_eq!(v[0].neutral, 1);
        assert!(!v[1].ok);
        assert_eq!(v[1].mismatches[0].found, "linux/amd64", "{:#?}", v[1]);
        assert!(v[1].content_problem.as_deref().unwrap().contains("holds no Wasm module"));
        assert!(!v[2].ok);
        assert!(v[2].mismatches.is_empty());
        assert!(v[2].content_problem.as_deref().unwrap().contains("holds no Wasm module"));
    }

    /// The Wasm OCI artifact layout: the layer is the module itself, os `wasip1`; a layer that
    /// claims to be Wasm and is an ELF is caught like any other.
    #[test]
    fn a_wasm_artifact_is_read_as_its_module() {
        for (bytes, ok) in [(wasm_module(), true), (elf(Architecture::Aarch64), false)] {
            let dir = tempfile::tempdir().unwrap();
            let mut w = LayoutWriter::create(dir.path()).unwrap();
            let idx = w.wasm_artifact(&bytes, "wasip1").unwrap();
            w.tag(&idx, "t").unwrap();
            let src = ImageSource::open(
                &ImageRef::parse(&format!("oci:{}:t", dir.path().display())).unwrap(),
            )
            .unwrap();
            let images = src.images().unwrap();
            assert!(images[0].is_wasm_artifact());
            assert_eq!(images[0].declared(), "wasip1/wasm");
            assert_eq!(images[0].declared_platform().unwrap(), &Platform::wasi_wasm());
            let v = verdicts(dir.path());
            assert_eq!(v[0].ok, ok, "{:#?}", v[0]);
            if !ok {
                assert_eq!(v[0].mismatches[0].found, "linux/arm64");
            }
        }
    }

    #[test]
    fn tampered_blob_is_a_digest_error() {
        let arm = tar_of(&[("bin/app", &elf(Architecture::Aarch64))]);
        let dir = layout_with(&[("linux/arm64", "linux/arm64", vec![arm.clone()])]);
        let blob = dir.path().join("blobs/sha256").join(archbench_oci::Digest::of(&arm).hex());
        let mut bytes = std::fs::read(&blob).unwrap();
        let n = bytes.len();
        bytes[n - 2000] ^= 0x20;
        std::fs::write(&blob, bytes).unwrap();
        let v = verdicts(dir.path());
        assert!(!v[0].ok);
        assert!(
            v[0].layer_error.as_deref().unwrap().contains("tampered"),
            "{:?}",
            v[0].layer_error
        );
    }

    /// buildx's default push: an attestation manifest (in-toto layers, `unknown/unknown`) per
    /// image. They are skipped, each named with the platform it describes, and never judged.
    #[test]
    fn attestation_manifests_are_skipped_not_judged() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = LayoutWriter::create(dir.path()).unwrap();
        let mut entries = Vec::new();
        let mut attestations = Vec::new();
        for (p, arch) in
            [("linux/amd64", Architecture::X86_64), ("linux/arm64", Architecture::Aarch64)]
        {
            let p: Platform = p.parse().unwrap();
            let layer = LayerInput::tar(tar_of(&[("bin/app", &elf(arch))]));
            let m = w.image(&p, &[layer], &["/bin/app"]).unwrap();
            let statement: &[u8] = br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#;
            attestations.push(
                w.attestation(&m, &[("https://slsa.dev/provenance/v0.2", statement)]).unwrap(),
            );
            entries.push(archbench_oci::document::with_platform(m.descriptor(), &p));
        }
        entries.extend(attestations.iter().cloned());
        let idx = w.index_of(entries).unwrap();
        w.tag(&idx, "t").unwrap();
        let src = ImageSource::open(
            &ImageRef::parse(&format!("oci:{}:t", dir.path().display())).unwrap(),
        )
        .unwrap();

        let s = scan(&src, &[], Limits::default()).unwrap();
        let v: Vec<_> = s.platforms.iter().map(verdict).collect();
        assert_eq!(
            v.iter().map(|v| v.declared.text()).collect::<Vec<_>>(),
            ["linux/amd64", "linux/arm64"]
        );
        assert_eq!(outcome(&v), Outcome::Verified, "{v:#?}");
        let lines: Vec<String> = s.skipped.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                format!(
                    "attestation manifest for linux/amd64 ({})",
                    &attestations[0].digest().to_string()[..19]
                ),
                format!(
                    "attestation manifest for linux/arm64 ({})",
                    &attestations[1].digest().to_string()[..19]
                ),
            ]
        );
        // One platform asked for: its attestation is skipped, the other's is not mentioned.
        let s = scan(&src, &[Platform::linux_arm64()], Limits::default()).unwrap();
        assert_eq!(s.platforms.len(), 1);
        assert_eq!(s.skipped.len(), 1);
        assert_eq!(
            s.skipped[0].attestation.of_platform.as_ref().map(archbench_platform::Declared::text),
            Some("linux/arm64")
        );
    }

    /// A layer gzipped twice, or cut short, cannot be read: the verdict says so, and it is
    /// incomplete, never a mismatch (the arm64 binary in the lower layer still counts).
    #[test]
    fn an_unreadable_layer_is_incomplete_not_a_mismatch() {
        let gzip = |b: &[u8]| {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut gz, b).unwrap();
            gz.finish().unwrap()
        };
        let lower = tar_of(&[("bin/app", &elf(Architecture::Aarch64))]);
        let upper = tar_of(&[("bin/tool", &elf(Architecture::Aarch64))]);
        let twice = gzip(&gzip(&upper));
        let mut cut = gzip(&upper);
        cut.truncate(cut.len() / 2);
        for (blob, why) in [(twice, "compressed twice"), (cut, "<tar stream>")] {
            let dir = tempfile::tempdir().unwrap();
            let mut w = LayoutWriter::create(dir.path()).unwrap();
            let layers = [
                LayerInput::tar(lower.clone()),
                LayerInput {
                    diff_id: archbench_oci::Digest::of(&upper),
                    blob,
                    media_type: archbench_oci::layout::media::LAYER_TAR_GZIP.into(),
                },
            ];
            let m = w.image(&Platform::linux_arm64(), &layers, &["/bin/app"]).unwrap();
            let idx = w.index(&[(m, Platform::linux_arm64())], &Default::default()).unwrap();
            w.tag(&idx, "t").unwrap();
            let v = verdicts(dir.path());
            let e = v[0].layer_error.as_deref().unwrap();
            assert!(e.starts_with("layer 2 (") && e.contains(why), "{e}");
            assert_eq!((v[0].binaries, v[0].matching), (1, 1), "{:#?}", v[0]);
            assert_eq!(v[0].outcome(), Outcome::Incomplete, "{:#?}", v[0]);
        }
    }
}
