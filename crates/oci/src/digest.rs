//! sha256 digests, and a reader that verifies one as it streams.

use std::io::Read;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::{Error, Result};

/// A content digest, `sha256:` and 64 lowercase hex digits: the only form archbench accepts.
///
/// Decision: one type from parse to print. A digest names a file under `blobs/` and a URL path
/// on a registry, so it is checked once, where it enters (a manifest, a digests file, a
/// reference after `@`, a registry's answer), and afterwards cannot be `../` or an odd
/// algorithm. It serializes as the plain string, so every file that held one reads the same.
/// OCI also allows sha512; no builder archbench meets writes it, and refusing it says so rather
/// than half-supporting it. `archbench-results` sits below this crate and records digests as
/// the strings its files hold; they become `Digest`s again where this crate reads them.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest(String);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self::finish(Sha256::new_with_prefix(bytes))
    }

    /// The digest a hasher fed with a blob's bytes has reached.
    pub fn finish(hasher: Sha256) -> Self {
        Self(format!("sha256:{}", hex::encode(hasher.finalize())))
    }

    /// Check `text` is `sha256:<64 lowercase hex>`.
    pub fn parse(text: &str) -> Result<Self> {
        let hex = text.strip_prefix("sha256:").ok_or_else(|| {
            Error::BadReference(format!(
                "digest {text:?} is not sha256:<hex>; only sha256 is supported"
            ))
        })?;
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(Error::BadReference(format!(
                "digest {text:?} is not 64 lowercase hex digits"
            )));
        }
        Ok(Self(text.to_owned()))
    }

    /// `sha256:<hex>`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 64 hex digits.
    pub fn hex(&self) -> &str {
        &self.0["sha256:".len()..]
    }

    /// The first 12 hex digits with the algorithm (`sha256:0123456789ab`), as messages and
    /// tables print one.
    pub fn short(&self) -> &str {
        &self.0[..19]
    }

    /// Where the blob lives in an image layout: `blobs/sha256/<hex>`.
    pub fn blob_path(&self) -> String {
        format!("blobs/sha256/{}", self.hex())
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(&self.0)
    }
}

impl std::fmt::Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::str::FromStr for Digest {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Digest {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl TryFrom<&oci_spec::image::Digest> for Digest {
    type Error = Error;
    fn try_from(d: &oci_spec::image::Digest) -> Result<Self> {
        Self::parse(d.as_ref())
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> String {
        d.0
    }
}

impl From<&Digest> for oci_spec::image::Digest {
    fn from(d: &Digest) -> Self {
        d.0.parse().expect("a sha256 digest is an OCI digest")
    }
}

impl AsRef<str> for Digest {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Digest {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Digest {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// The first 12 hex digits of a digest held as text (`sha256:0123456789ab`), for the digests
/// `archbench-results` records as strings; the whole text when it is shorter.
pub fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

/// Wraps a reader; at end of stream, fails with [`Error::Digest`] (as an `io::Error` of kind
/// `InvalidData`) when the bytes read do not hash to `expected`.
pub struct VerifyingReader<R> {
    inner: R,
    hasher: Sha256,
    expected: Digest,
    done: bool,
}

impl<R: Read> VerifyingReader<R> {
    /// Verify `inner` against `expected`.
    pub fn new(inner: R, expected: &Digest) -> Self {
        Self { inner, hasher: Sha256::new(), expected: expected.clone(), done: false }
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.hasher.update(&buf[..n]);
        } else if !buf.is_empty() && !self.done {
            self.done = true;
            let actual = Digest::finish(self.hasher.clone());
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
        let d = Digest::of(&data);
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
        for bad in
            ["sha256:../../etc/passwd", "md5:abc", "sha256:", &format!("sha256:{}", "A".repeat(64))]
        {
            assert!(Digest::parse(bad).is_err(), "{bad}");
            assert!(serde_json::from_str::<Digest>(&format!("{bad:?}")).is_err(), "{bad}");
        }
        let d = Digest::of(b"x");
        assert_eq!(Digest::parse(d.as_str()).unwrap(), d);
        assert_eq!(d.blob_path(), format!("blobs/sha256/{}", d.hex()));
        assert_eq!(d.short().len(), 19);
        // It is written and read as the plain string.
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("{:?}", d.as_str()));
        assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), d);
    }
}
