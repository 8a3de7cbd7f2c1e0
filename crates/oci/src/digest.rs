//! sha256 digests, and a reader that verifies one as it streams.

use std::io::Read;

use sha2::{Digest as _, Sha256};

use crate::{Error, Result};

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// The first 12 hex digits of a digest with its algorithm (`sha256:0123456789ab`), as
/// messages and tables print one.
pub fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Split `sha256:<64 hex>` into its hex part, refusing anything else (a digest becomes a file
/// name under `blobs/`, so `../` or odd algorithms must never get through).
pub fn sha256_hex(digest: &str) -> Result<&str> {
    let hex = digest.strip_prefix("sha256:").ok_or_else(|| {
        Error::BadReference(format!(
            "digest {digest:?} is not sha256:<hex>; only sha256 is supported"
        ))
    })?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(Error::BadReference(format!(
            "digest {digest:?} is not 64 lowercase hex digits"
        )));
    }
    Ok(hex)
}

/// Wraps a reader; at end of stream, fails with [`Error::Digest`] (as an `io::Error` of kind
/// `InvalidData`) when the bytes read do not hash to `expected`.
pub struct VerifyingReader<R> {
    inner: R,
    hasher: Sha256,
    expected: String,
    done: bool,
}

impl<R: Read> VerifyingReader<R> {
    /// Verify `inner` against `expected` (`sha256:<hex>`).
    pub fn new(inner: R, expected: &str) -> Self {
        Self { inner, hasher: Sha256::new(), expected: expected.to_owned(), done: false }
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.hasher.update(&buf[..n]);
        } else if !buf.is_empty() && !self.done {
            self.done = true;
            let actual = format!("sha256:{}", hex(&self.hasher.clone().finalize()));
            if actual != self.expected {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    Error::Digest { expected: self.expected.clone(), actual },
                ));
            }
        }
        Ok(n)
    }
}

/// Wraps a blob stream and holds it to the size its descriptor declares: it reads at most one
/// byte past `size` from `inner`, so a source that sends more (an endless chunked body, a
/// symlink to /dev/zero) fails at once instead of filling a disk, and a stream that ends short
/// fails too. Either way the error is `InvalidData` with [`Error::Size`] inside.
pub struct SizedReader<R> {
    inner: std::io::Take<R>,
    size: u64,
    read: u64,
    what: String,
}

impl<R: Read> SizedReader<R> {
    /// Hold `inner` (the blob `what`, for messages) to exactly `size` bytes.
    pub fn new(inner: R, size: u64, what: &str) -> Self {
        Self { inner: inner.take(size.saturating_add(1)), size, read: 0, what: what.to_owned() }
    }
}

impl<R: Read> Read for SizedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        let wrong = (self.read > self.size) || (n == 0 && !buf.is_empty() && self.read < self.size);
        if wrong {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                Error::Size { what: self.what.clone(), declared: self.size, read: self.read },
            ));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sized_reader_stops_past_the_declared_size_and_refuses_short_streams() {
        let mut out = Vec::new();
        SizedReader::new(&b"abcd"[..], 4, "b").read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abcd");
        // An endless source: at most size + 1 bytes are read before the error.
        let mut endless = SizedReader::new(std::io::repeat(7), 1000, "blob x");
        let mut sink = Vec::new();
        let e = endless.read_to_end(&mut sink).unwrap_err();
        assert!(sink.len() <= 1001, "{}", sink.len());
        assert!(e.to_string().contains("blob x is longer than the 1000 bytes"), "{e}");
        let e = SizedReader::new(&b"ab"[..], 4, "blob y").read_to_end(&mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("blob y ended after 2 of the 4 bytes"), "{e}");
    }

    #[test]
    fn verifying_reader_accepts_good_and_rejects_tampered() {
        let data = b"layer bytes".to_vec();
        let d = sha256_digest(&data);
        let mut out = Vec::new();
        VerifyingReader::new(&data[..], &d).read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
        let mut bad = data.clone();
        bad[0] ^= 1;
        let err = VerifyingReader::new(&bad[..], &d).read_to_end(&mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("tampered"), "{err}");
    }

    #[test]
    fn digests_are_checked_before_becoming_paths() {
        assert!(sha256_hex("sha256:../../etc/passwd").is_err());
        assert!(sha256_hex("md5:abc").is_err());
        assert!(sha256_hex(&format!("sha256:{}", "A".repeat(64))).is_err());
        assert!(sha256_hex(&sha256_digest(b"x")).is_ok());
    }
}
