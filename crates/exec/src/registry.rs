//! A real registry (Debian's `docker-registry`) on a free loopback port, with its storage in a
//! directory the caller owns: `report` runs one for the build's base images, and the tests run
//! them with TLS, htpasswd or token auth added to the configuration.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `docker-registry serve` process; stopped on drop.
pub struct LocalRegistry {
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl LocalRegistry {
    /// Configure a registry storing under `dir` on a free loopback port, with `extra` YAML
    /// appended to its configuration (which ends inside the `http:` section, so `extra` may go
    /// on with `  tls:`, or start a top-level `auth:`), and start it.
    pub fn start(dir: &Path, extra: &str) -> Result<Self, String> {
        // A free port can be taken by another process between our choosing it and the registry
        // binding it (tests start registries in parallel). Then our registry exits and the port
        // answers for someone else: [`LocalRegistry::restart`] sees the exit, and we choose again.
        let mut last = String::new();
        for _ in 0..5 {
            match Self::start_once(dir, extra) {
                Ok(r) => return Ok(r),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn start_once(dir: &Path, extra: &str) -> Result<Self, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("finding a free loopback port: {e}"))?
            .port();
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{extra}",
            dir.join("data").display()
        );
        std::fs::write(dir.join("config.yml"), config)
            .map_err(|e| format!("writing {}: {e}", dir.join("config.yml").display()))?;
        let mut r = LocalRegistry { dir: dir.to_owned(), port, child: None };
        r.restart()?;
        Ok(r)
    }

    /// (Re)start the process and wait until it answers; its log goes to `registry.log`.
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        let log = std::fs::File::create(self.dir.join("registry.log"))
            .map_err(|e| format!("creating the registry log: {e}"))?;
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(self.dir.join("config.yml"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| {
                format!("starting docker-registry ({e}); install it with apt-get install docker-registry (scripts/setup does)")
            })?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Err(format!("docker-registry exited with {status}: {}", self.log()));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "docker-registry did not listen on 127.0.0.1:{} within 20 s: {}",
                    self.port,
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // The port answers; make sure it is this registry and not another that took the port
        // first (then ours has exited, failing to bind).
        std::thread::sleep(Duration::from_millis(150));
        if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
            return Err(format!(
                "docker-registry exited with {status} after 127.0.0.1:{} answered (another process has the port): {}",
                self.port,
                self.log()
            ));
        }
        Ok(())
    }

    /// Kill the process (its storage stays).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// What the registry logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("registry.log")).unwrap_or_default()
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        self.stop();
    }
}
