//! sha256 digests, and a reader that verifies one as it streams.

use std::io::Read;

use sha2::{Digest as _, Sha256};

use crate::{Error, Result};

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
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

#[cfg(test)]
mod tests {
    use super::*;

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
