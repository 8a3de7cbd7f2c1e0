//! `ssh://[user@]host[:port][/remote/socket]`: an engine reached through the system's `ssh`.
//!
//! Design. archbench starts one `ssh -N -L LOCAL.sock:REMOTE.sock` per connection and talks to
//! the engine through the forwarded socket, so bollard sees an ordinary `unix://` engine.
//! This is hand-rolled on purpose, in about a hundred lines, instead of bollard 0.21's `ssh`
//! feature, for three reasons found by running it:
//! - bollard hands the URL's authority (`user@host:port`) to `ssh` as one host name, so a port
//!   in the URL cannot work (its connector parses ports only for a `ssh://` prefix that it has
//!   already stripped);
//! - it runs `docker system dial-stdio` on the worker, so the worker needs a Docker CLI as well
//!   as the engine, and that CLI is whichever `docker` comes first on the remote PATH;
//! - it starts a new ssh master per HTTP connection.
//!
//! A forwarded socket needs only sshd on the worker (its `AllowStreamLocalForwarding`, on by
//! default) and a single ssh process for the life of the [`crate::Engine`].
//!
//! Everything about authentication stays with OpenSSH: keys, agent, `~/.ssh/config`, known
//! hosts. `BatchMode=yes` makes ssh fail instead of prompting, and its message is passed on with
//! a fix. `ARCHBENCH_SSH_CONFIG=FILE` names an ssh_config to use instead of `~/.ssh/config`
//! (ssh's `-F`), which is how a CI job or a test brings its own key and known-hosts file.

use std::io::Read;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why an `ssh://` engine could not be reached.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL is not `ssh://[user@]host[:port][/socket]`.
    #[error("{url:?}: {why}")]
    Address {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// The private directory for the forward, or ssh's log in it, could not be made.
    #[error("{action} {}", .path.display())]
    Io {
        /// What we were doing.
        action: &'static str,
        /// The directory or file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `ssh` could not be started.
    #[error("starting ssh (install the OpenSSH client; Debian: openssh-client)")]
    Spawn(#[source] std::io::Error),
    /// ssh ran, but no forward came up: what happened, in ssh's words, and the usual fix.
    #[error("{}", explain(.what, .ssh_said))]
    Tunnel {
        /// `ssh exited (exit status: 255)`, `no forward within 30s`.
        what: String,
        /// The last lines ssh wrote to stderr.
        ssh_said: String,
    },
}

/// Where an `ssh://` engine lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    /// Login name, when the URL gives one (else ssh's config or the local user).
    pub user: Option<String>,
    /// Host name or address, as ssh resolves it (a `Host` alias from ssh_config works).
    pub host: String,
    /// Port, when the URL gives one.
    pub port: Option<u16>,
    /// The engine's socket on the worker.
    pub socket: String,
}

impl SshTarget {
    /// Parse `ssh://[user@]host[:port][/path/to/docker.sock]`.
    pub fn parse(url: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::Address { url: url.to_owned(), why: why.to_owned() };
        let rest = url.strip_prefix("ssh://").ok_or_else(|| bad("not an ssh:// address"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u.to_owned()), h),
            None => (None, authority),
        };
        // `[::1]:2222`, `[::1]`, `host:2222`, `host`.
        let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
            let (h, after) = inner
                .split_once(']')
                .ok_or_else(|| bad("an IPv6 address needs its closing `]`"))?;
            (h, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        let port = port
            .map(|p| p.parse::<u16>().map_err(|_| bad(&format!("port {p:?} is not a number"))))
            .transpose()?;
        if host.is_empty() || user.as_deref() == Some("") {
            return Err(bad("expected ssh://[user@]host[:port][/socket]"));
        }
        Ok(Self {
            user,
            host: host.to_owned(),
            port,
            socket: if path.is_empty() { "/var/run/docker.sock".into() } else { path.into() },
        })
    }
}

/// A running `ssh -N -L` forward; killed, and its socket removed, when dropped.
pub struct SshTunnel {
    child: Child,
    dir: PathBuf,
}

impl SshTunnel {
    /// Start ssh and wait until the local end of the forward exists (authentication done), or
    /// until ssh gives up, or `limit` passes.
    pub fn open(target: &SshTarget, limit: Duration) -> Result<Self, Error> {
        let dir = private_dir()?;
        let local = dir.join("docker.sock");
        let log = dir.join("ssh.log");
        let stderr = std::fs::File::create(&log).map_err(|source| {
            let _ = std::fs::remove_dir_all(&dir);
            Error::Io { action: "creating ssh's log", path: log.clone(), source }
        })?;
        let mut cmd = Command::new("ssh");
        if let Some(cfg) = std::env::var_os("ARCHBENCH_SSH_CONFIG") {
            cmd.arg("-F").arg(cfg);
        }
        cmd.args(["-N", "-T", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes"])
            .args(["-o", "ServerAliveInterval=15"])
            .arg("-o")
            .arg(format!("ConnectTimeout={}", limit.as_secs().max(1)))
            .arg("-L")
            .arg(format!("{}:{}", local.display(), target.socket));
        if let Some(p) = target.port {
            cmd.arg("-p").arg(p.to_string());
        }
        if let Some(u) = &target.user {
            cmd.arg("-l").arg(u);
        }
        cmd.arg("--").arg(&target.host);
        let child =
            cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(stderr).spawn().map_err(|e| {
                let _ = std::fs::remove_dir_all(&dir);
                Error::Spawn(e)
            })?;
        let mut tunnel = Self { child, dir };
        let deadline = Instant::now() + limit;
        loop {
            if local.exists() {
                return Ok(tunnel);
            }
            if let Ok(Some(status)) = tunnel.child.try_wait() {
                return Err(tunnel.failed(format!("ssh exited ({status})")));
            }
            if Instant::now() > deadline {
                return Err(tunnel.failed(format!("no forward within {limit:?}")));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The local end, as a `unix://` engine address.
    pub fn local_url(&self) -> String {
        format!("unix://{}", self.dir.join("docker.sock").display())
    }

    /// What ssh has written to stderr so far (its last lines).
    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(self.dir.join("ssh.log")) {
            let _ = f.read_to_string(&mut s);
        }
        let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(5)..].join("; ")
    }

    /// Something failed through the forward: `what`, with what ssh said and the usual fix.
    pub fn failed(&self, what: String) -> Error {
        Error::Tunnel { what, ssh_said: self.log() }
    }
}

impl Drop for SshTunnel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The message, ssh's own words, and the fix for the failures seen in practice.
pub(crate) fn explain(message: &str, ssh_said: &str) -> String {
    let fix = if ssh_said.contains("Host key verification failed") {
        "the worker's host key is not in known_hosts: connect once with `ssh` to check and \
         accept it, or add it with ssh-keyscan after checking its fingerprint"
    } else if ssh_said.contains("Permission denied") {
        "ssh could not log in without a prompt: load the key into ssh-agent, or name it with \
         IdentityFile in ~/.ssh/config (or in the file ARCHBENCH_SSH_CONFIG names)"
    } else if ssh_said.contains("open failed") || ssh_said.contains("forwarding") {
        "the worker refused to forward its engine socket: check that dockerd runs there, that \
         the socket path is right (ssh://host/path/to/docker.sock), that the login may use it \
         (docker group), and that sshd allows AllowStreamLocalForwarding"
    } else if ssh_said.contains("Could not resolve") || ssh_said.contains("Connection refused") {
        "check the host name and port, and that sshd runs on the worker"
    } else {
        "try `ssh HOST true` by hand with the same user and port"
    };
    if ssh_said.is_empty() {
        format!("{message}; {fix}")
    } else {
        format!("{message}; ssh said: {ssh_said}; {fix}")
    }
}

/// A fresh directory only we can enter, for the forwarded socket and ssh's log.
fn private_dir() -> Result<PathBuf, Error> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let base = std::env::temp_dir();
    for _ in 0..100 {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = base.join(format!("archbench-ssh-{}-{n}-{nanos:x}", std::process::id()));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(Error::Io { action: "creating", path: dir, source }),
        }
    }
    Err(Error::Io {
        action: "finding a free directory name under",
        path: base,
        source: std::io::ErrorKind::AlreadyExists.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = SshTarget::parse("ssh://ci@graviton.example:2222").unwrap();
        assert_eq!(t.user.as_deref(), Some("ci"));
        assert_eq!((t.host.as_str(), t.port), ("graviton.example", Some(2222)));
        assert_eq!(t.socket, "/var/run/docker.sock");
        let t = SshTarget::parse("ssh://worker/run/user/1000/docker.sock").unwrap();
        assert_eq!((t.user, t.host.as_str(), t.port), (None, "worker", None));
        assert_eq!(t.socket, "/run/user/1000/docker.sock");
        let t = SshTarget::parse("ssh://root@[::1]:22").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", Some(22)));
        for bad in ["ssh://", "ssh://@host", "ssh://host:ssh", "ssh://[::1", "tcp://host"] {
            assert!(SshTarget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn failures_get_their_fix() {
        let e = explain("ssh exited (exit status: 255)", "Host key verification failed.");
        assert!(e.contains("ssh said: Host key verification failed.") && e.contains("known_hosts"));
        let e = explain("x", "root@127.0.0.1: Permission denied (publickey).");
        assert!(e.contains("ssh-agent"), "{e}");
        let e = explain("x", "channel 2: open failed: connect failed: No such file or directory");
        assert!(e.contains("AllowStreamLocalForwarding"), "{e}");
    }

    #[test]
    fn a_missing_host_fails_fast_with_ssh_words() {
        // No network needed: ssh rejects the name before connecting. Needs the ssh client, which
        // scripts/setup installs (openssh-server brings openssh-client).
        let t = SshTarget::parse("ssh://archbench-no-such-host.invalid").unwrap();
        let e = SshTunnel::open(&t, Duration::from_secs(10)).err().expect("no such host");
        assert!(matches!(e, Error::Tunnel { .. }), "{e:?}");
        let e = e.to_string();
        assert!(e.contains("ssh exited") && e.contains("Could not resolve"), "{e}");
    }
}
