//! Pushing an OCI image layout to a container registry with skopeo, each tag in turn, signed
//! with a sigstore key when one is given (the signature stored in the registry as a sigstore
//! attachment, the `sha256-DIGEST.sig` tag cosign uses). See docs/registry.md.
//!
//! skopeo does the transfer, the registry protocol, authentication (its usual auth files, e.g.
//! from `skopeo login`) and the writing of the signature; particle names the references, makes
//! the signatures ([`crate::sigstore::Signer`]), writes skopeo's configuration for this one run
//! (a `policy.json` accepting the image it just wrote, a `registries.d` turning sigstore
//! attachments on) and checks the pushed manifest digest.

use crate::ostree_cmd::tool_output;
use crate::sigstore::Signer;
use crate::{Error, ErrorKind, Result};
use std::path::Path;

/// `REGISTRY/NAME` and the variant as one repository, `REGISTRY/NAME/VARIANT`, checked against
/// the distribution spec's grammar: a registry host (with a port, optionally), then path
/// components of lowercase letters and digits separated by `.`, `_`, `__` or dashes; no tag and
/// no digest (particle chooses the tags). A leading `docker://` is dropped.
pub fn repository(target: &str, variant: &str) -> Result<String> {
    let target = target.strip_prefix("docker://").unwrap_or(target);
    let bad = |why: &str| {
        Error::new(
            ErrorKind::Usage,
            format!("{target:?} is not a registry repository (REGISTRY/NAME): {why}"),
        )
        .hint("e.g. 127.0.0.1:5000/particle or registry.example.org/os; the variant and the tags are added")
    };
    let (host, path) = target
        .split_once('/')
        .ok_or_else(|| bad("it has no /NAME after the registry"))?;
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    if !host_ok {
        return Err(bad("the registry is not a host name with an optional port"));
    }
    if target.contains('@') {
        return Err(bad("it names a digest"));
    }
    if path.contains(':') {
        return Err(bad(
            "it names a tag; the tags are latest and the transaction id",
        ));
    }
    for component in path.split('/').chain([variant]) {
        if !path_component(component) {
            return Err(bad(&format!(
                "{component:?} is not a repository path component (lowercase letters and digits, \
                 separated by ., _, __ or dashes)"
            )));
        }
    }
    Ok(format!("{host}/{path}/{variant}"))
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` (the distribution spec's path component).
fn path_component(s: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = s.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !alnum(first) || !alnum(last) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &s[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-')) {
            return false;
        }
    }
    true
}

/// Whether `tag` is an OCI tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn valid_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"._-".contains(&c))
}

/// What to push.
#[derive(Debug, Clone)]
pub struct PushRequest<'a> {
    /// An OCI image layout with one manifest (what [`crate::oci::export`] writes).
    pub layout: &'a Path,
    /// `REGISTRY/NAME/VARIANT` ([`repository`]).
    pub repository: &'a str,
    /// The tags, each pushed (and signed) in turn.
    pub tags: &'a [String],
    /// The key to sign each reference with, if any.
    pub signer: Option<&'a Signer>,
    /// The signatures' `optional.creator` (`particle VERSION`).
    pub creator: &'a str,
    /// The signatures' `optional.timestamp` (unix seconds).
    pub timestamp: i64,
    /// `false`: plain HTTP, or a certificate that is not checked.
    pub tls_verify: bool,
}

/// What was pushed.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// `REPOSITORY:TAG`, in the order pushed.
    pub references: Vec<String>,
    /// The manifest digest the registry stores (`sha256:HEX`), the layout's, for every tag.
    pub manifest_digest: String,
}

/// The signature blob containers/image's `dir:` transport keeps in `signature-N`: a zero byte,
/// the format name, a newline, and the JSON `{"mimeType", "payload" (base64), "annotations"}`.
fn dir_signature_blob(sig: &crate::sigstore::Signature) -> Vec<u8> {
    use base64ct::Encoding;
    let json = serde_json::json!({
        "mimeType": "application/vnd.dev.cosign.simplesigning.v1+json",
        "payload": base64ct::Base64::encode_string(&sig.payload),
        "annotations": { "dev.cosignproject.cosign/signature": sig.signature },
    });
    let mut blob = b"\0sigstore-json\n".to_vec();
    blob.extend(serde_json::to_vec(&json).expect("a JSON value serializes"));
    blob
}

/// The OCI layout at `layout` as a containers/image `dir:` image in `dir` (blobs hard-linked,
/// or copied across file systems); returns the manifest digest.
fn dir_image(layout: &Path, dir: &Path) -> Result<String> {
    let index_path = layout.join("index.json");
    let index: serde_json::Value = std::fs::read(&index_path)
        .map_err(|e| Error::io("read", &index_path, e))
        .and_then(|b| {
            serde_json::from_slice(&b).map_err(|e| {
                Error::new(
                    ErrorKind::Push,
                    format!("{} does not parse: {e}", index_path.display()),
                )
            })
        })?;
    let digest = index["manifests"][0]["digest"]
        .as_str()
        .and_then(|d| d.strip_prefix("sha256:"))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Push,
                format!("{} names no sha256 manifest", index_path.display()),
            )
        })?
        .to_owned();
    std::fs::create_dir(dir).map_err(|e| Error::io("create", dir, e))?;
    let blobs = layout.join("blobs/sha256");
    for entry in std::fs::read_dir(&blobs).map_err(|e| Error::io("read", &blobs, e))? {
        let entry = entry.map_err(|e| Error::io("read", &blobs, e))?;
        let name = entry.file_name();
        let to = if name.to_str() == Some(digest.as_str()) {
            dir.join("manifest.json")
        } else {
            dir.join(&name)
        };
        std::fs::hard_link(entry.path(), &to)
            .or_else(|_| std::fs::copy(entry.path(), &to).map(drop))
            .map_err(|e| Error::io("write", &to, e))?;
    }
    let version = dir.join("version");
    std::fs::write(&version, "Directory Transport Version: 1.1\n")
        .map_err(|e| Error::io("write", &version, e))?;
    Ok(format!("sha256:{digest}"))
}

/// Copies the layout to `REPOSITORY:TAG` for each tag with `skopeo copy`, signed for that
/// reference when a signer is given; a failure is an error of kind [`ErrorKind::Push`] with the
/// command line and skopeo's message.
///
/// skopeo copies from a containers/image `dir:` image, the one source that carries sigstore
/// signatures made elsewhere: particle signs (Debian 12's skopeo has sigstore signing patched
/// out), skopeo writes each signature as a sigstore attachment (`use-sigstore-attachments` in
/// the `registries.d` written for this run). Each tag is signed on its own: a signature names
/// the reference it was made for, and a `sigstoreSigned` policy with the default
/// `matchRepoDigestOrExact` identity accepts a pull of `:latest` only with a signature naming
/// `:latest`. `--preserve-digests`: the registry gets the layout's manifest byte for byte, so
/// the digest signed is the digest pushed.
pub fn push(req: &PushRequest<'_>, note: &dyn Fn(&str)) -> Result<Pushed> {
    let tmp = tempfile::tempdir()
        .map_err(|e| Error::io("create a temporary directory in", &std::env::temp_dir(), e))?;
    let write = |name: &str, bytes: &[u8]| {
        let p = tmp.path().join(name);
        std::fs::write(&p, bytes).map_err(|e| Error::io("write", &p, e))?;
        Ok::<_, Error>(p)
    };
    // The source is the layout particle has just written; what a registry's images must carry
    // is the puller's policy, not the pusher's.
    let policy = write(
        "policy.json",
        br#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
    )?;
    let registries_d = tmp.path().join("registries.d");
    std::fs::create_dir(&registries_d).map_err(|e| Error::io("create", &registries_d, e))?;
    write(
        "registries.d/particle.yaml",
        b"default-docker:\n  use-sigstore-attachments: true\n",
    )?;
    let image = tmp.path().join("image");
    let manifest_digest = dir_image(req.layout, &image)?;
    let digest_file = tmp.path().join("digest");
    let mut references = Vec::new();
    for tag in req.tags {
        let reference = format!("{}:{tag}", req.repository);
        let signature = image.join("signature-1");
        if let Some(signer) = req.signer {
            let sig = signer.sign(&manifest_digest, &reference, req.creator, req.timestamp);
            std::fs::write(&signature, dir_signature_blob(&sig))
                .map_err(|e| Error::io("write", &signature, e))?;
        }
        let mut cmd = std::process::Command::new("skopeo");
        cmd.arg("--policy")
            .arg(&policy)
            .arg("--registries.d")
            .arg(&registries_d)
            .args(["copy", "--retry-times", "2", "--preserve-digests"])
            .arg(format!("--dest-tls-verify={}", req.tls_verify))
            .arg("--digestfile")
            .arg(&digest_file);
        let mut source = std::ffi::OsString::from("dir:");
        source.push(&image);
        cmd.arg(source).arg(format!("docker://{reference}"));
        note(&format!(
            "pushing {reference}{}",
            if req.signer.is_some() {
                " (signed)"
            } else {
                ""
            }
        ));
        tool_output(
            ErrorKind::Push,
            "skopeo",
            &mut cmd,
            "install skopeo (Debian package skopeo)",
        )?;
        let pushed = std::fs::read_to_string(&digest_file)
            .map_err(|e| Error::io("read skopeo's digest file", &digest_file, e))?;
        if pushed.trim() != manifest_digest {
            return Err(Error::new(
                ErrorKind::Push,
                format!(
                    "{reference} was stored as manifest {}, not {manifest_digest}",
                    pushed.trim()
                ),
            ));
        }
        references.push(reference);
    }
    Ok(Pushed {
        references,
        manifest_digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_follow_the_distribution_grammar() {
        let ok = |t: &str, v: &str| repository(t, v).expect("valid");
        assert_eq!(
            ok("127.0.0.1:5000/particle", "base"),
            "127.0.0.1:5000/particle/base"
        );
        assert_eq!(
            ok("docker://registry.example.org/os/debian", "desk-top"),
            "registry.example.org/os/debian/desk-top"
        );
        assert_eq!(
            ok("localhost:5000/a__b/c.d", "x--y"),
            "localhost:5000/a__b/c.d/x--y"
        );
        for (t, v) in [
            ("127.0.0.1:5000", "base"),
            ("127.0.0.1:5000/particle:v1", "base"),
            ("127.0.0.1:5000/particle@sha256:00", "base"),
            ("127.0.0.1:5000/Particle", "base"),
            ("127.0.0.1:5000/particle", "Base"),
            ("127.0.0.1:5000/particle/", "base"),
            ("127.0.0.1:5000/-particle", "base"),
            ("127.0.0.1:5000/a..b", "base"),
            ("/particle", "base"),
        ] {
            let e = repository(t, v).expect_err(t);
            assert_eq!(e.kind(), ErrorKind::Usage, "{t} {v}");
        }
    }

    #[test]
    fn tags() {
        assert!(valid_tag("latest"));
        assert!(valid_tag(&"a".repeat(64)));
        assert!(valid_tag(&"a".repeat(128)));
        assert!(!valid_tag(&"a".repeat(129)));
        assert!(!valid_tag(".hidden"));
        assert!(!valid_tag("a/b"));
        assert!(!valid_tag(""));
    }
}
