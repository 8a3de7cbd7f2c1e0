//! A real registry (Debian's docker-registry) on a free loopback port, with storage in a temp
//! dir; optional htpasswd auth and TLS with a generated CA. Stopped when dropped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use archbench_exec::registry::LocalRegistry;
use archbench_oci::layout::{media, LayerInput, LayoutWriter, Written};
use archbench_platform::Platform;

/// The registry process (archbench's own launcher, [`LocalRegistry`]) and the directory with
/// its storage, certificates and htpasswd; `inner` is declared first so the process stops
/// before the directory goes.
pub struct TestRegistry {
    inner: LocalRegistry,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

pub struct RegistrySpec {
    pub htpasswd: Option<(&'static str, &'static str)>,
    pub tls: bool,
}

fn need(program: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false);
    assert!(found, "{program} is missing: install {package} (scripts/setup does)");
}

/// A certificate authority for one test, `ca.crt` and `ca.key` in `dir` (openssl).
pub fn test_ca(dir: &Path) {
    need("openssl", "openssl");
    run_ok(Command::new("openssl").current_dir(dir).args([
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=archbench test CA",
    ]));
}

/// `NAME.crt` and `NAME.key` in `dir` for common name `cn`, signed by the CA of [`test_ca`],
/// with the x509v3 extension lines `ext` (subjectAltName, extendedKeyUsage).
pub fn issue_cert(dir: &Path, name: &str, cn: &str, ext: &str) {
    std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
    let (key, csr, crt) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.crt"));
    run_ok(Command::new("openssl").current_dir(dir).args([
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &key,
        "-out",
        &csr,
        "-subj",
        &format!("/CN={cn}"),
    ]));
    run_ok(Command::new("openssl").current_dir(dir).args([
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        &crt,
        "-days",
        "2",
        "-extfile",
        &format!("{name}.ext"),
    ]));
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl TestRegistry {
    pub fn start(spec: RegistrySpec) -> Self {
        Self::start_with(spec, "")
    }

    /// Like [`Self::start`], with `extra` YAML appended to the registry's config (an `auth:` or
    /// `middleware:` section).
    pub fn start_with(spec: RegistrySpec, extra: &str) -> Self {
        need("docker-registry", "docker-registry");
        let dir = tempfile::tempdir().unwrap();
        let mut config = String::new();
        if spec.tls {
            need("openssl", "openssl");
            let d = dir.path();
            test_ca(d);
            issue_cert(d, "server", "127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
            std::fs::create_dir(d.join("trust")).unwrap();
            std::fs::copy(d.join("ca.crt"), d.join("trust/ca.crt")).unwrap();
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                d.join("server.crt").display(),
                d.join("server.key").display()
            ));
        }
        if let Some((user, pass)) = spec.htpasswd {
            need("htpasswd", "apache2-utils");
            let line = run_ok(Command::new("htpasswd").args(["-Bbn", user, pass]));
            std::fs::write(dir.path().join("htpasswd"), line).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: archbench-test\n    path: {}\n",
                dir.path().join("htpasswd").display()
            ));
        }
        config.push_str(extra);
        let inner = LocalRegistry::start(dir.path(), &config)
            .unwrap_or_else(|e| panic!("{:#}", anyhow::Error::from(e)));
        TestRegistry { port: inner.port(), inner, dir }
    }

    /// (Re)start the process and wait until it answers.
    pub fn restart(&mut self) {
        self.inner.restart().unwrap_or_else(|e| panic!("{:#}", anyhow::Error::from(e)));
    }

    pub fn stop(&mut self) {
        self.inner.stop();
    }

    pub fn log(&self) -> String {
        self.inner.log()
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// A directory holding only the CA certificate (for `skopeo --cert-dir`).
    pub fn trust_dir(&self) -> PathBuf {
        self.dir.path().join("trust")
    }

    /// The file a blob's bytes live in, in the registry's storage.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.dir
            .path()
            .join(format!("data/docker/registry/v2/blobs/sha256/{}/{hex}/data", &hex[..2]))
    }
}

const ARCHINFO_C: &str = r#"#include <stdio.h>
#include <sys/utsname.h>
int main(void) { struct utsname u; if (uname(&u) != 0) return 1; printf("%s\n", u.machine); return 0; }
"#;

/// A static binary that prints `uname -m`, cross-compiled with Debian's gcc for `platform`.
pub fn archinfo_binary(platform: &Platform, work: &Path) -> Vec<u8> {
    let gcc = match platform.to_string().as_str() {
        "linux/amd64" => "x86_64-linux-gnu-gcc",
        "linux/arm64" => "aarch64-linux-gnu-gcc",
        "linux/arm/v7" => "arm-linux-gnueabihf-gcc",
        "linux/riscv64" => "riscv64-linux-gnu-gcc",
        other => panic!("no cross compiler listed for {other}"),
    };
    need(gcc, &format!("the gcc for {platform} (scripts/setup installs it)"));
    let src = work.join("archinfo.c");
    std::fs::write(&src, ARCHINFO_C).unwrap();
    let out = work.join(format!("archinfo-{}", platform.to_string().replace('/', "-")));
    run_ok(Command::new(gcc).args(["-static", "-Os", "-s", "-o"]).arg(&out).arg(&src));
    std::fs::read(out).unwrap()
}

pub fn gzip_layer(entries: &[(&str, u32, &[u8])]) -> LayerInput {
    let tar = crate::support::tar_of(entries);
    let diff_id = archbench_oci::Digest::of(&tar);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    LayerInput { blob: gz.finish().unwrap(), media_type: media::LAYER_TAR_GZIP.into(), diff_id }
}

/// An OCI layout tagged `tag` holding an index of `platforms`, each image FROM-scratch style:
/// one shared layer (a text file) and one layer with `/archinfo` for that platform.
pub fn archinfo_layout(
    dir: &Path,
    tag: &str,
    platforms: &[Platform],
    padding: usize,
) -> (Written, Vec<(Written, Platform)>) {
    let work = tempfile::tempdir().unwrap();
    let mut w = LayoutWriter::create(dir).unwrap();
    let note = format!("archbench test image\n{}", "x".repeat(padding));
    let mut manifests = Vec::new();
    for p in platforms {
        let bin = archinfo_binary(p, work.path());
        let shared = gzip_layer(&[("etc/archinfo.txt", 0o644, note.as_bytes())]);
        let own = gzip_layer(&[("archinfo", 0o755, &bin)]);
        let m = w.image(p, &[shared, own], &["/archinfo"]).unwrap();
        manifests.push((m, p.clone()));
    }
    let idx = w.index(&manifests, &Default::default()).unwrap();
    w.tag(&idx, tag).unwrap();
    (idx, manifests)
}

/// A test HTTP server written in Python (hostile registries, a token server, a blob host): run
/// with Debian's /usr/bin/python3, where python3-jwt is installed (a pyenv shim may come first
/// on PATH), given `args`; it prints its port(s) on one line. Killed on drop.
pub struct PyServer {
    child: Child,
    /// The ports it printed, in order.
    pub ports: Vec<u16>,
}

impl PyServer {
    pub fn start(script: &str, args: &[&Path]) -> Self {
        use std::io::BufRead;
        let mut child = Command::new("/usr/bin/python3")
            .arg("-c")
            .arg(script)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("/usr/bin/python3 is missing: install python3 (scripts/setup does)");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let ports: Vec<u16> = line.split_whitespace().filter_map(|p| p.parse().ok()).collect();
        assert!(
            !ports.is_empty(),
            "the test server did not start (scripts/setup installs python3-jwt and python3-cryptography): {line:?}"
        );
        PyServer { child, ports }
    }

    /// Its first port.
    pub fn port(&self) -> u16 {
        self.ports[0]
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
