//! What an image says its platform is.

use std::fmt;

use crate::Platform;

/// A platform as an index entry or image config declares it: the text exactly as written
/// (`linux/arm64/v8`, `linux/amd64`, `unknown/unknown`), and the [`Platform`] it names when it
/// names one archbench knows.
///
/// Decision: parsed once, where the document is read, instead of wherever a caller needs the
/// platform. The text is kept beside the parsed value because reports show what the image
/// says — `verify` must print a wrong or unusual label as written, not as archbench would
/// normalise it (`linux/arm64/v8` parses as `linux/arm64`). It serializes as the text, so files
/// that held the string read the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    text: String,
    platform: crate::Result<Platform>,
}

impl Declared {
    /// Read `text`, parsing it when it is a platform archbench knows.
    pub fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        let platform = text.parse();
        Self { text, platform }
    }

    /// The text as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The platform it names, when it is one archbench knows.
    pub fn platform(&self) -> Option<&Platform> {
        self.platform.as_ref().ok()
    }

    /// Whether it names `p`.
    pub fn is(&self, p: &Platform) -> bool {
        self.platform() == Some(p)
    }

    /// The platform it names, or the parser's reason why it names none (which lists the
    /// spellings archbench accepts).
    pub fn known(&self) -> crate::Result<&Platform> {
        self.platform.as_ref().map_err(Clone::clone)
    }
}

/// Nothing declared: empty text, no platform.
impl Default for Declared {
    fn default() -> Self {
        Self::new(String::new())
    }
}

impl From<&Platform> for Declared {
    fn from(p: &Platform) -> Self {
        Self { text: p.to_string(), platform: Ok(p.clone()) }
    }
}

// `pad`, so that `{:<16}` in a table lines declared platforms up as it does `Platform`s.
impl fmt::Display for Declared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.text)
    }
}

impl PartialEq<str> for Declared {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for Declared {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl serde::Serialize for Declared {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Declared {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(Self::new(String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_kept_and_the_platform_parsed_once() {
        let d = Declared::new("linux/arm64/v8");
        assert_eq!(d.text(), "linux/arm64/v8");
        assert!(d.is(&Platform::linux_arm64()));
        assert_eq!(d.to_string(), "linux/arm64/v8");
        assert_eq!(format!("[{d:<16}]"), "[linux/arm64/v8  ]");
        let odd = Declared::new("unknown/unknown");
        assert_eq!(odd.platform(), None);
        let why = odd.known().unwrap_err().to_string();
        assert!(
            why.contains("unknown platform \"unknown/unknown\"") && why.contains("accepted"),
            "{why}"
        );
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, "\"linux/arm64/v8\"");
        assert_eq!(serde_json::from_str::<Declared>(&json).unwrap(), d);
        assert_eq!(Declared::from(&Platform::linux_amd64()), "linux/amd64");
    }
}
