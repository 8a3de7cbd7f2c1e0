//! A raw connection to the engine, upgraded from HTTP/1.1 to HTTP/2 for BuildKit's `/session`
//! and `/grpc` endpoints.
//!
//! bollard can hijack these endpoints but keeps that private, with a fixed set of session
//! services (no file sync of a local directory). The upgrade itself is one request and one
//! status line, so it is written here: a POST with `Upgrade: h2c`, read up to the blank line
//! that ends the engine's `101 Switching Protocols`, and the socket is then plain HTTP/2.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// Where the engine listens, for the endpoints bollard does not expose. TLS engines are not
/// dialled here (see [`Dial::from_address`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dial {
    /// `unix:///var/run/docker.sock` (and an ssh forward's private socket).
    Unix(PathBuf),
    /// `tcp://HOST:PORT` without TLS.
    Tcp(String),
}

impl Dial {
    /// The address bollard was given, when archbench can dial it itself: a Unix socket, or TCP
    /// without TLS. A TLS engine keeps the HTTP build endpoint (no file sync there).
    pub fn from_address(address: &str, tls: bool) -> Option<Dial> {
        if let Some(path) = address.strip_prefix("unix://") {
            return Some(Dial::Unix(PathBuf::from(path)));
        }
        let rest = address.strip_prefix("tcp://").or_else(|| address.strip_prefix("http://"))?;
        (!tls).then(|| Dial::Tcp(rest.trim_end_matches('/').to_owned()))
    }

    async fn connect(&self) -> io::Result<Conn> {
        Ok(match self {
            Dial::Unix(path) => Conn(Box::pin(tokio::net::UnixStream::connect(path).await?)),
            Dial::Tcp(addr) => {
                let s = tokio::net::TcpStream::connect(addr).await?;
                s.set_nodelay(true)?;
                Conn(Box::pin(s))
            }
        })
    }

    /// Open `path` (`/session` or `/grpc`) with `headers` and return the upgraded socket.
    pub async fn upgrade(&self, path: &str, headers: &[(&str, String)]) -> io::Result<Conn> {
        let mut conn = self.connect().await?;
        let mut req = format!(
            "POST {path} HTTP/1.1\r\nHost: docker\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nContent-Length: 0\r\n"
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        conn.write_all(req.as_bytes()).await?;
        let head = read_head(&mut conn).await?;
        let status = head.lines().next().unwrap_or_default();
        if status.split_whitespace().nth(1) != Some("101") {
            return Err(io::Error::other(format!(
                "the engine refused the upgrade of {path}: {status:?}"
            )));
        }
        Ok(conn)
    }
}

/// Read the response head byte by byte: what follows the blank line is HTTP/2 and must stay in
/// the socket. Heads are a few hundred bytes; more than 16 KiB is not an engine.
async fn read_head(conn: &mut Conn) -> io::Result<String> {
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return Err(io::Error::other("the engine's answer to the upgrade has no end"));
        }
        if conn.read(&mut byte).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the engine closed the connection during the upgrade",
            ));
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// Any byte stream tonic can run HTTP/2 over.
pub trait Io: AsyncRead + AsyncWrite + Send {}
impl<T: AsyncRead + AsyncWrite + Send> Io for T {}

/// An upgraded connection (Unix or TCP), one type for tonic's client and server.
pub struct Conn(Pin<Box<dyn Io>>);

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.0.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.as_mut().poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.as_mut().poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.as_mut().poll_shutdown(cx)
    }
}

impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_dialled_here() {
        assert_eq!(
            Dial::from_address("unix:///run/archbench/modern.sock", false),
            Some(Dial::Unix("/run/archbench/modern.sock".into()))
        );
        assert_eq!(
            Dial::from_address("tcp://127.0.0.1:2375", false),
            Some(Dial::Tcp("127.0.0.1:2375".into()))
        );
        assert_eq!(Dial::from_address("tcp://127.0.0.1:2376", true), None);
        assert_eq!(Dial::from_address("npipe:////./pipe/docker_engine", false), None);
    }

    #[test]
    fn an_upgrade_refused_says_what_the_engine_answered() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("e.sock");
        let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let server = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).unwrap();
            s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").unwrap();
        });
        let err =
            rt.block_on(Dial::Unix(sock).upgrade("/grpc", &[])).err().expect("a 404 is no upgrade");
        server.join().unwrap();
        assert!(err.to_string().contains("refused the upgrade of /grpc"), "{err}");
        assert!(err.to_string().contains("404 Not Found"), "{err}");
    }
}
