//! A real registry (Debian's `docker-registry`) on a free loopback port, with its storage in a
//! directory the caller owns: `report` runs one for the build's base images, and the tests run
//! them with TLS, htpasswd or token auth added to the configuration.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Why a registry did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// Choosing a port or writing its configuration or log failed.
    #[error("{action}")]
    Io {
        /// What we were doing.
        action: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The program could not be started.
    #[error("starting docker-registry; install it with apt-get install docker-registry (scripts/setup does)")]
    Spawn(#[source] std::io::Error),
    /// It exited: `after` says when, `log` what it said.
    #[error("docker-registry exited with {status}{after}: {log}")]
    Exited {
        /// Its exit status.
        status: ExitStatus,
        /// Empty, or a note on when (another process answered on its port first).
        after: String,
        /// Its log.
        log: String,
    },
    /// It did not listen in time.
    #[error("docker-registry did not listen on 127.0.0.1:{port} within 20 s: {log}")]
    Silent {
        /// The port it was given.
        port: u16,
        /// Its log.
        log: String,
    },
}

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
    pub fn start(dir: &Path, extra: &str) -> Result<Self, RegistryError> {
        // A free port can be taken by another process between our choosing it and the registry
        // binding it (tests start registries in parallel). Then our registry exits and the port
        // answers for someone else: [`LocalRegistry::restart`] sees the exit, and we choose again.
        let mut attempt = 1;
        loop {
            match Self::start_once(dir, extra) {
                Err(RegistryError::Exited { .. }) if attempt < 5 => attempt += 1,
                done => return done,
            }
        }
    }

    fn start_once(dir: &Path, extra: &str) -> Result<Self, RegistryError> {
        let io = |action: String| move |source| RegistryError::Io { action, source };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(io("finding a free loopback port".into()))?
            .port();
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{extra}",
            dir.join("data").display()
        );
        std::fs::write(dir.join("config.yml"), config)
            .map_err(io(format!("writing {}", dir.join("config.yml").display())))?;
        let mut r = LocalRegistry { dir: dir.to_owned(), port, child: None };
        r.restart()?;
        Ok(r)
    }

    /// (Re)start the process and wait until it answers; its log goes to `registry.log`.
    pub fn restart(&mut self) -> Result<(), RegistryError> {
        self.stop();
        let log = std::fs::File::create(self.dir.join("registry.log")).map_err(|source| {
            RegistryError::Io { action: "creating the registry log".into(), source }
        })?;
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(self.dir.join("config.yml"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(RegistryError::Spawn)?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Err(RegistryError::Exited {
                    status,
                    after: String::new(),
                    log: self.log(),
                });
            }
            if Instant::now() >= deadline {
                return Err(RegistryError::Silent { port: self.port, log: self.log() });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // The port answers; make sure it is this registry and not another that took the port
        // first (then ours has exited, failing to bind).
        std::thread::sleep(Duration::from_millis(150));
        if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
            return Err(RegistryError::Exited {
                status,
                after: format!(
                    " after 127.0.0.1:{} answered (another process has the port)",
                    self.port
                ),
                log: self.log(),
            });
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
