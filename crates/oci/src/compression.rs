//! Layer compression: which one a blob uses, decided by its magic bytes (never by a media type
//! or a file name, which exporters get wrong), the OCI media type that names it, and a reader
//! that undoes it.

use std::io::{BufRead, BufReader, Read};

use serde::{Deserialize, Serialize};

use crate::layout::media;

/// Compression of a layer stream, by magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Plain tar (or anything that is neither gzip nor zstd).
    None,
    /// gzip (`1f 8b`).
    Gzip,
    /// Zstandard (`28 b5 2f fd`).
    Zstd,
}

impl Compression {
    /// The compression `head` (the first bytes of a stream) starts with.
    pub fn peek(head: &[u8]) -> Self {
        match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            _ => Compression::None,
        }
    }

    /// The OCI media type of a tar layer stored with this compression.
    pub fn layer_media_type(self) -> &'static str {
        match self {
            Compression::None => media::LAYER_TAR,
            Compression::Gzip => media::LAYER_TAR_GZIP,
            Compression::Zstd => media::LAYER_TAR_ZSTD,
        }
    }

    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// `reader` decompressed, with the compression its first bytes show.
pub fn decompress<'a, R: Read + 'a>(
    reader: R,
) -> std::io::Result<(Box<dyn Read + 'a>, Compression)> {
    let mut buf = BufReader::with_capacity(256 * 1024, reader);
    let c = Compression::peek(buf.fill_buf()?);
    let r: Box<dyn Read + 'a> = match c {
        // MultiGzDecoder: `pigz` and some registries write multi-member gzip layers.
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buf)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buf)?),
        Compression::None => Box::new(buf),
    };
    Ok((r, c))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn magic_bytes_decide_and_the_stream_comes_back() {
        let tar = b"plain bytes standing in for a tar".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&tar[..], 3).unwrap();
        for (blob, want, media) in [
            (&tar, Compression::None, "application/vnd.oci.image.layer.v1.tar"),
            (&gz, Compression::Gzip, "application/vnd.oci.image.layer.v1.tar+gzip"),
            (&zst, Compression::Zstd, "application/vnd.oci.image.layer.v1.tar+zstd"),
        ] {
            assert_eq!(Compression::peek(blob), want);
            assert_eq!(want.layer_media_type(), media);
            let (mut r, c) = decompress(&blob[..]).unwrap();
            assert_eq!(c, want);
            let mut back = Vec::new();
            r.read_to_end(&mut back).unwrap();
            assert_eq!(back, tar);
        }
        // Too short to tell, or one magic byte only: not compressed.
        assert_eq!(Compression::peek(&[]), Compression::None);
        assert_eq!(Compression::peek(&[0x1f]), Compression::None);
        assert_eq!(Compression::peek(&[0x28, 0xb5, 0x2f]), Compression::None);
        // A gzip of a gzip is gzip once undone: the caller sees it is still compressed.
        let mut twice = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        twice.write_all(&gz).unwrap();
        let twice = twice.finish().unwrap();
        let (mut r, _) = decompress(&twice[..]).unwrap();
        let mut once = Vec::new();
        r.read_to_end(&mut once).unwrap();
        assert_eq!(Compression::peek(&once), Compression::Gzip);
    }
}
