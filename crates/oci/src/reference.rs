//! Registry references as the Docker CLI writes them: `nginx` is
//! `docker.io/library/nginx:latest`, `localhost:5000/app:v1`, `ghcr.io/o/r@sha256:…`.

use std::fmt;

use crate::Digest;
use crate::{Error, Result};

/// The registry Docker means when a reference names none.
pub const DEFAULT_REGISTRY: &str = "docker.io";

/// A reference to an image in a registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Registry host, with port when given (`docker.io`, `127.0.0.1:5000`).
    pub registry: String,
    /// Repository path (`library/nginx`).
    pub repository: String,
    /// Tag, if written (or `latest` when neither tag nor digest was).
    pub tag: Option<String>,
    /// The digest after `@`, if written.
    pub digest: Option<Digest>,
}

fn bad(input: &str, why: &str) -> Error {
    Error::BadReference(format!(
        "{input:?} is not an image reference: {why} (write [REGISTRY[:PORT]/]REPOSITORY[:TAG][@sha256:DIGEST])"
    ))
}

fn valid_component(c: &str) -> bool {
    // Lowercase alphanumerics separated by `.`, `_`, `__` or runs of `-`, as the distribution
    // grammar says; checked loosely but never letting `/`, `:` or `..` through.
    !c.is_empty()
        && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && c.as_bytes()[0].is_ascii_alphanumeric()
        && c.as_bytes()[c.len() - 1].is_ascii_alphanumeric()
        && !c.contains("..")
}

fn valid_tag(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && (t.as_bytes()[0].is_ascii_alphanumeric() || t.starts_with('_'))
        && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

impl Reference {
    /// Parse a reference, filling in Docker's defaults.
    pub fn parse(input: &str) -> Result<Self> {
        let s = input.strip_prefix("docker://").unwrap_or(input);
        if s.is_empty() {
            return Err(bad(input, "it is empty"));
        }
        if s.len() > 512 {
            return Err(bad(input, "it is longer than 512 characters"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => {
                let d = Digest::parse(d)
                    .map_err(|_| bad(input, "the part after @ is not sha256:<64 hex>"))?;
                (r, Some(d))
            }
            None => (s, None),
        };
        // The tag follows the last ':' after the last '/' (a ':' before it is a port).
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let t = &rest[last_slash + i + 1..];
                if !valid_tag(t) {
                    return Err(bad(
                        input,
                        &format!("tag {t:?} may use only [A-Za-z0-9_.-], at most 128"),
                    ));
                }
                (&rest[..last_slash + i], Some(t.to_owned()))
            }
            None => (rest, None),
        };
        let (registry, repo) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), rest.to_owned())
            }
            _ => (DEFAULT_REGISTRY.to_owned(), name.to_owned()),
        };
        if registry.chars().any(|c| c.is_whitespace() || c == '/') || registry.ends_with(':') {
            return Err(bad(input, "the registry host is malformed"));
        }
        // The port follows the last ':' (an IPv6 literal such as [::1] has colons of its own).
        if let Some((_, port)) = registry.rsplit_once(':').filter(|(h, _)| !h.ends_with(':')) {
            if !port.ends_with(']') && port.parse::<u16>().map_or(true, |p| p == 0) {
                return Err(bad(input, &format!("port {port:?} is not a number from 1 to 65535")));
            }
        }
        let repository = if registry == DEFAULT_REGISTRY && !repo.contains('/') {
            format!("library/{repo}")
        } else {
            repo
        };
        if repository.split('/').any(|c| !valid_component(c)) {
            return Err(bad(
                input,
                "repository components must be lowercase letters, digits and . _ - separators",
            ));
        }
        // Docker's limit on the full name. With it, a parsed reference always prints (with the
        // defaults filled in) within the 512-character input limit, so it parses again; the
        // fuzzer found inputs near 512 characters that did not.
        if registry.len() + 1 + repository.len() > 255 {
            return Err(bad(input, "the name (registry/repository) is longer than 255 characters"));
        }
        let tag = if tag.is_none() && digest.is_none() { Some("latest".to_owned()) } else { tag };
        Ok(Self { registry, repository, tag, digest })
    }

    /// What to ask the registry for: the digest when given, else the tag.
    pub fn target(&self) -> &str {
        self.digest.as_ref().map(Digest::as_str).or(self.tag.as_deref()).unwrap_or("latest")
    }

    /// The host the API lives on (`docker.io` is served by `registry-1.docker.io`).
    pub fn api_host(&self) -> &str {
        if self.registry == DEFAULT_REGISTRY {
            "registry-1.docker.io"
        } else {
            &self.registry
        }
    }

    /// The same repository at a digest.
    pub fn with_digest(&self, digest: &Digest) -> Self {
        Self { tag: None, digest: Some(digest.clone()), ..self.clone() }
    }
}

/// Whether `host` (with or without a port) is a loopback address, where plain HTTP is allowed
/// without `--insecure` (Docker treats 127.0.0.0/8 the same way).
pub fn is_loopback(host: &str) -> bool {
    let h = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    h == "localhost" || h.parse::<std::net::IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_defaults_and_forms() {
        let d = format!("sha256:{}", "a".repeat(64));
        let cases: &[(&str, &str, &str, Option<&str>, bool)] = &[
            ("nginx", "docker.io", "library/nginx", Some("latest"), false),
            ("nginx:1.27", "docker.io", "library/nginx", Some("1.27"), false),
            ("user/app", "docker.io", "user/app", Some("latest"), false),
            ("localhost:5000/app", "localhost:5000", "app", Some("latest"), false),
            ("127.0.0.1:5000/a/b:v1", "127.0.0.1:5000", "a/b", Some("v1"), false),
            ("ghcr.io/o/r:t", "ghcr.io", "o/r", Some("t"), false),
            ("localhost/app", "localhost", "app", Some("latest"), false),
            ("docker://quay.io/x/y:z", "quay.io", "x/y", Some("z"), false),
        ];
        for (input, reg, repo, tag, _) in cases {
            let r = Reference::parse(input).unwrap();
            assert_eq!(
                (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
                (*reg, *repo, *tag),
                "{input}"
            );
        }
        let r = Reference::parse(&format!("127.0.0.1:5000/app@{d}")).unwrap();
        assert_eq!(r.digest.as_ref().map(Digest::as_str), Some(d.as_str()));
        assert_eq!(r.tag, None);
        assert_eq!(r.target(), d);
        let r = Reference::parse(&format!("app:v2@{d}")).unwrap();
        assert_eq!(r.tag.as_deref(), Some("v2"));
        assert_eq!(r.to_string(), format!("docker.io/library/app:v2@{d}"));
        assert_eq!(Reference::parse("nginx").unwrap().api_host(), "registry-1.docker.io");
    }

    #[test]
    fn bad_references_say_why() {
        for input in
            ["", "Upper/case", "app:", "app@sha256:12", "a/../b", "app:t@g", "x/-y", "h:/a"]
        {
            let e = Reference::parse(input).unwrap_err().to_string();
            assert!(e.contains("not an image reference"), "{input}: {e}");
        }
        for input in ["127.0.0.1:99999/a", "localhost:0/a", "localhost:http/a"] {
            let e = Reference::parse(input).unwrap_err().to_string();
            assert!(e.contains("is not a number from 1 to 65535"), "{input}: {e}");
        }
        // Found by the fuzzer: a name near the input limit parsed, and its printed form did not.
        let long = format!("{}:t", "b".repeat(250));
        let e = Reference::parse(&long).unwrap_err().to_string();
        assert!(e.contains("longer than 255 characters"), "{e}");
        for good in ["127.0.0.1:65535/a", "[::1]:5000/a", "localhost:5000/a:t"] {
            assert!(Reference::parse(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for h in ["localhost", "localhost:5000", "127.0.0.1:1", "127.8.0.1", "[::1]:5000"] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["example.com", "10.0.0.1:5000", "registry-1.docker.io"] {
            assert!(!is_loopback(h), "{h}");
        }
    }
}
