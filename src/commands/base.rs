//! `archbench base bootstrap`: Debian base images per platform without Docker Hub.

use std::path::PathBuf;

use anyhow::Context;
use archbench_builder::base::{bootstrap, BaseImage, BaseSpec};
use archbench_exec::host::host_facts;
use archbench_oci::{copy, CopyOptions, CopyReport, Destination, ImageRef, ImageSource};
use archbench_platform::Platform;
use archbench_results::Envelope;
use clap::{Args, Subcommand};
use serde::Serialize;

use super::flags::RegistryFlags;
use crate::output::{print_json, Align, Table};

/// Base images for builds, made here rather than pulled.
#[derive(Args)]
pub struct BaseCommand {
    #[command(subcommand)]
    action: BaseAction,
}

#[derive(Subcommand)]
enum BaseAction {
    /// Bootstrap a Debian rootfs per platform with mmdebstrap and write them as one correctly
    /// labelled multi-arch image (cached, so reruns take seconds).
    Bootstrap(BootstrapArgs),
}

#[derive(Args)]
struct BootstrapArgs {
    /// Platforms, comma-separated (buildx spelling).
    #[arg(long, value_delimiter = ',', required = true, value_name = "P,P")]
    platform: Vec<Platform>,
    /// Where to put the index: a registry reference or oci:DIR[:tag].
    #[arg(short = 't', long = "tag", value_name = "REF")]
    target: String,
    /// Extra packages, comma-separated (`gcc,make,libc6-dev`).
    #[arg(long, value_delimiter = ',', value_name = "PKG,...")]
    include: Vec<String>,
    /// Extra packages for one platform, PLATFORM=PKG,PKG (repeatable), e.g. cross compilers
    /// for the build platform: linux/amd64=gcc-aarch64-linux-gnu,libc6-dev-arm64-cross.
    #[arg(long, value_name = "P=PKG,...")]
    extra: Vec<String>,
    /// Debian suite.
    #[arg(long, default_value = "bookworm")]
    suite: String,
    /// Debian archive URL (default: the host's apt source).
    #[arg(long, value_name = "URL")]
    mirror: Option<String>,
    /// Cache directory (default: $XDG_CACHE_HOME/archbench/base or ~/.cache/archbench/base).
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// Print JSON (a results envelope of kind "base").
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    registry: RegistryFlags,
}

#[derive(Serialize)]
struct BaseReport {
    target: String,
    index_digest: archbench_oci::Digest,
    images: Vec<BaseImage>,
    copy: CopyReport,
}

impl BaseCommand {
    pub fn execute(self) -> anyhow::Result<()> {
        let BaseAction::Bootstrap(a) = self.action;
        let mut extra = std::collections::BTreeMap::new();
        for e in &a.extra {
            let (p, pkgs) = e
                .split_once('=')
                .with_context(|| format!("--extra {e:?} is not PLATFORM=PKG,PKG"))?;
            let p: Platform = p.parse().with_context(|| format!("--extra {e:?}"))?;
            extra.insert(
                p.to_string(),
                pkgs.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            );
        }
        let spec = BaseSpec {
            suite: a.suite.clone(),
            include: a.include.clone(),
            extra,
            mirror: a.mirror.clone(),
            cache: a.cache.clone(),
        };
        let json = a.json;
        let (layout, images, idx, tag) = bootstrap(&spec, &a.platform, &mut |m| {
            if !json {
                eprintln!("base: {m}");
            }
        })?;
        let options = a.registry.options()?;
        let src = ImageSource::open(&ImageRef::Layout { dir: layout, tag: Some(tag) })?;
        let dst = Destination::parse(&a.target, &options)
            .with_context(|| format!("opening {}", a.target))?;
        let copy = copy(&src, &dst, &CopyOptions::default())
            .with_context(|| format!("writing {}", a.target))?;
        let report = BaseReport { target: dst.describe(), index_digest: idx.digest, images, copy };
        if json {
            return print_json(
                &Envelope::begin(archbench_results::Kind::Base, host_facts(None), &report).finish(),
            );
        }
        println!("{} -> {}", report.target, report.index_digest);
        let mut table = Table::headless(2, &[Align::Left, Align::Left, Align::Right, Align::Left]);
        for i in &report.images {
            table.row([
                i.platform.clone(),
                i.manifest_digest.short().to_owned(),
                format!("{:.1} MiB", i.layer_bytes as f64 / 1048576.0),
                if i.cached {
                    "cached".to_owned()
                } else {
                    format!("bootstrapped in {:.0} s", i.bootstrap_seconds)
                },
            ]);
        }
        table.print();
        Ok(())
    }
}
