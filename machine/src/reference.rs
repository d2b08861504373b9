//! Docker image references (`HOST[:PORT]/PATH[:TAG][@DIGEST]`) as containers/image reads them
//! for `docker://` images and for the identities in signatures: the distribution spec's grammar,
//! normalized the way `reference.ParseNormalizedNamed` does (`busybox` is
//! `docker.io/library/busybox`), and the policy scopes an image falls under
//! ([`ImageRef::policy_identity`], [`ImageRef::policy_namespaces`]). Pure: no I/O.

use std::fmt;

/// Why a string is not an image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an image reference: {reason}")]
pub struct RefError {
    /// What was parsed.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A normalized, named image reference: a repository and optionally a tag and/or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    name: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageRef {
    /// `s` normalized as `reference.ParseNormalizedNamed` does: a first component without `.`
    /// or `:` that is not `localhost` (or has capitals) is not a host, and `docker.io` is
    /// prepended (with `library/` for a one-component name); `index.docker.io` is `docker.io`.
    pub fn parse(s: &str) -> Result<Self, RefError> {
        let bad = |reason: &str| RefError {
            input: s.to_owned(),
            reason: reason.to_owned(),
        };
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(
                "a 64-digit hexadecimal string is an image id, not a name",
            ));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (s, None),
        };
        let (domain, remainder) = match rest.split_once('/') {
            Some((first, remainder))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.to_lowercase() != first =>
            {
                (first, remainder.to_owned())
            }
            _ => ("docker.io", rest.to_owned()),
        };
        let domain = if domain == "index.docker.io" {
            "docker.io"
        } else {
            domain
        };
        let (path, tag) = match remainder.rsplit_once(':') {
            Some((p, t)) => (p.to_owned(), Some(t.to_owned())),
            None => (remainder, None),
        };
        let path = if domain == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        if !valid_domain(domain) {
            return Err(bad(&format!(
                "{domain:?} is not a registry host with an optional port"
            )));
        }
        if path.to_lowercase() != path {
            return Err(bad("the repository name must be lowercase"));
        }
        if let Some(c) = path
            .split('/')
            .find(|c| !crate::registry::path_component(c))
        {
            return Err(bad(&format!(
                "{c:?} is not a repository path component (lowercase letters and digits, \
                 separated by ., _, __ or dashes)"
            )));
        }
        let name = format!("{domain}/{path}");
        if name.len() > 255 {
            return Err(bad("the repository name is longer than 255 characters"));
        }
        if let Some(t) = &tag {
            if !crate::registry::valid_tag(t) {
                return Err(bad(&format!("{t:?} is not a tag")));
            }
        }
        if let Some(d) = digest {
            valid_digest(d).map_err(|why| bad(&why))?;
        }
        Ok(Self {
            name,
            tag,
            digest: digest.map(str::to_owned),
        })
    }

    /// `HOST[:PORT]/PATH`, the repository.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// `ALGORITHM:HEX`.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// Neither a tag nor a digest.
    pub fn is_name_only(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }

    /// `latest` as the tag of a name-only reference (what skopeo does with `docker://NAME`).
    pub fn with_default_tag(mut self) -> Self {
        if self.is_name_only() {
            self.tag = Some("latest".to_owned());
        }
        self
    }

    /// The same repository at `digest`, without a tag.
    pub fn at_digest(&self, digest: &str) -> Self {
        Self {
            name: self.name.clone(),
            tag: None,
            digest: Some(digest.to_owned()),
        }
    }

    /// The most specific policy scope: `NAME:TAG` or `NAME@DIGEST` (containers/image's
    /// `PolicyConfigurationIdentity`); `None` for a name-only reference or one with both.
    pub fn policy_identity(&self) -> Option<String> {
        match (&self.tag, &self.digest) {
            (Some(t), None) => Some(format!("{}:{t}", self.name)),
            (None, Some(d)) => Some(format!("{}@{d}", self.name)),
            _ => None,
        }
    }

    /// The scopes after [`Self::policy_identity`], most specific first: the repository, each
    /// enclosing namespace up to the host (with its port), then the host's parent domains as
    /// wildcards (`*.example.org`, `*.org`; the port dropped).
    pub fn policy_namespaces(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut name = self.name.as_str();
        loop {
            out.push(name.to_owned());
            match name.rfind('/') {
                Some(i) => name = &name[..i],
                None => break,
            }
        }
        // `name` is now the host; IPv6 literals are in brackets, so the first `:` after them is
        // the port's (containers/image cuts at the first `:`, which is the same for host names).
        let mut host = match name.find(':') {
            Some(i) => &name[..i],
            None => name,
        };
        while let Some(i) = host.find('.') {
            host = &host[i + 1..];
            out.push(format!("*.{host}"));
        }
        out
    }
}

impl fmt::Display for ImageRef {
    /// `NAME[:TAG][@DIGEST]`, the normalized form signatures are compared in.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// A host name (`[A-Za-z0-9]` labels with inner dashes, separated by dots) or a bracketed IPv6
/// address, with an optional `:PORT`.
fn valid_domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let Some((inside, after)) = rest.split_once(']') else {
            return false;
        };
        if inside.is_empty() || !inside.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        match after {
            "" => return true,
            a => match a.strip_prefix(':') {
                Some(p) => ("[v6]", p),
                None => return false,
            },
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (h, p),
            None => (d, "0"),
        }
    };
    let label = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
    };
    (host == "[v6]" || host.split('.').all(label))
        && !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
}

/// `sha256:` and 64 or `sha512:` and 128 lowercase hexadecimal digits: the algorithms
/// containers/image computes.
pub(crate) fn valid_digest(d: &str) -> Result<(), String> {
    let (algorithm, hex) = d
        .split_once(':')
        .ok_or_else(|| format!("the digest {d:?} has no ALGORITHM:"))?;
    let len = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => return Err(format!("unsupported digest algorithm {algorithm:?}")),
    };
    if hex.len() != len
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(format!(
            "the digest {d:?} is not {len} lowercase hexadecimal digits"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:2e19b9fc4105e6868c09a827bf246da9e268489df9357044ae68fc3408813aa0";

    #[test]
    fn references_are_normalized() {
        let r = |s: &str| ImageRef::parse(s).expect(s).to_string();
        assert_eq!(r("busybox"), "docker.io/library/busybox");
        assert_eq!(r("busybox:1"), "docker.io/library/busybox:1");
        assert_eq!(r("index.docker.io/a/b"), "docker.io/a/b");
        assert_eq!(r("localhost/a"), "localhost/a");
        assert_eq!(
            r("127.0.0.1:5000/p/base:latest"),
            "127.0.0.1:5000/p/base:latest"
        );
        assert_eq!(
            r(&format!("127.0.0.1:5000/p/base@{D}")),
            format!("127.0.0.1:5000/p/base@{D}")
        );
        assert_eq!(r(&format!("h.org/p:t@{D}")), format!("h.org/p:t@{D}"));
        assert_eq!(r("[::1]:5000/p"), "[::1]:5000/p");
        let only = ImageRef::parse("h.org/p").expect("name");
        assert!(only.is_name_only());
        assert_eq!(
            only.clone().with_default_tag().to_string(),
            "h.org/p:latest"
        );
        assert_eq!(only.policy_identity(), None);
        for bad in [
            "",
            "h.org/P",
            "h.org/p:",
            "h.org/p:.x",
            "h.org/p@sha256:00",
            "h.org/p@md5:0123456789abcdef0123456789abcdef",
            "h.org:x/p",
            "-h.org/p",
            "h.org//p",
            "h.org/p/",
            &"a".repeat(64),
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn scopes_run_from_the_image_to_the_host_and_its_domains() {
        let r = ImageRef::parse("registry.example.org:5000/os/debian/base:latest").expect("ref");
        assert_eq!(
            r.policy_identity().as_deref(),
            Some("registry.example.org:5000/os/debian/base:latest")
        );
        assert_eq!(
            r.policy_namespaces(),
            [
                "registry.example.org:5000/os/debian/base",
                "registry.example.org:5000/os/debian",
                "registry.example.org:5000/os",
                "registry.example.org:5000",
                "*.example.org",
                "*.org",
            ]
        );
        let by_digest = ImageRef::parse(&format!("127.0.0.1/p@{D}")).expect("ref");
        assert_eq!(
            by_digest.policy_identity(),
            Some(format!("127.0.0.1/p@{D}"))
        );
        assert_eq!(
            by_digest.policy_namespaces(),
            ["127.0.0.1/p", "127.0.0.1", "*.0.0.1", "*.0.1", "*.1"]
        );
    }
}
