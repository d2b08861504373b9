//! Image signature policies in containers-policy.json(5)'s format, evaluated for `docker://`
//! images by particle itself (Debian 12's skopeo has its sigstore verification patched out; see
//! docs/registry.md). What is implemented, as containers/image does it:
//!
//! - the file: `default` (required) and `transports`, each transport a map from scopes to
//!   non-empty requirement lists; unknown fields, duplicate keys and unknown requirement types
//!   anywhere make the whole policy invalid;
//! - the scope of a `docker` image: `NAME:TAG` (or `NAME@DIGEST`), then the repository, its
//!   namespaces, the host with its port, `*.`-wildcards of the host's parent domains, the
//!   transport's `""`, and finally `default`: the most specific scope present alone applies;
//! - requirements, all of which must hold: `insecureAcceptAnything`, `reject`, and
//!   `sigstoreSigned` with `keyPath`, `keyPaths`, `keyData` or `keyDatas` (P-256 keys) and a
//!   `signedIdentity` of `matchRepoDigestOrExact` (the default), `matchExact`,
//!   `matchRepository`, `exactReference` or `exactRepository`: at least one signature must
//!   verify with one of the keys, name the image's manifest digest and an accepted identity.
//!
//! What is not: `signedBy` (GPG "simple signing"), `signedBaseLayer`, `sigstoreSigned` with
//! `fulcio`, `pki` or Rekor keys, and `remapIdentity` parse (so a policy using them for other
//! images still works) but refuse the image when they apply ([`Rejection::NotImplemented`]);
//! never accepted silently.
//!
//! Parsing ([`Policy::parse`]) and evaluation ([`evaluate`]) are pure except for reading the
//! key files a `sigstoreSigned` requirement names; [`Policy::load`] reads the file.

use crate::reference::ImageRef;
use crate::sigstore::{self, SignedClaims};
use crate::strict_json::{object, string};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The MIME type of a sigstore signature attachment's layers.
pub const SIGSTORE_MIME_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The layer annotation holding the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";

/// Why a policy could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file could not be read.
    #[error("could not read the signature policy {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid containers-policy.json(5) document.
    #[error("invalid signature policy {}: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
}

/// A parsed policy.
#[derive(Debug, Clone)]
pub struct Policy {
    default: Vec<Requirement>,
    transports: BTreeMap<String, BTreeMap<String, Vec<Requirement>>>,
}

/// One policy requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Requirement {
    InsecureAcceptAnything,
    Reject,
    SigstoreSigned(SigstoreSigned),
    /// A requirement containers/image knows that particle does not evaluate: `kind` names it
    /// (`signedBy`, `sigstoreSigned with fulcio`, ...).
    NotImplemented {
        kind: String,
    },
}

impl Requirement {
    /// The `type` (with what makes it unimplemented, for those).
    pub fn kind(&self) -> &str {
        match self {
            Requirement::InsecureAcceptAnything => "insecureAcceptAnything",
            Requirement::Reject => "reject",
            Requirement::SigstoreSigned(_) => "sigstoreSigned",
            Requirement::NotImplemented { kind } => kind,
        }
    }
}

/// A `sigstoreSigned` requirement with public keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigstoreSigned {
    keys: Keys,
    identity: Identity,
}

/// Where a requirement's public keys are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keys {
    /// `keyPath` / `keyPaths`: PEM files.
    Paths(Vec<PathBuf>),
    /// `keyData` / `keyDatas`: PEM text (base64 in the JSON).
    Data(Vec<Vec<u8>>),
}

/// `signedIdentity`: which identities in a signature are accepted for the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    MatchExact,
    MatchRepoDigestOrExact,
    MatchRepository,
    ExactReference(ImageRef),
    ExactRepository(ImageRef),
}

impl Identity {
    /// The `type` in the policy.
    pub fn kind(&self) -> &'static str {
        match self {
            Identity::MatchExact => "matchExact",
            Identity::MatchRepoDigestOrExact => "matchRepoDigestOrExact",
            Identity::MatchRepository => "matchRepository",
            Identity::ExactReference(_) => "exactReference",
            Identity::ExactRepository(_) => "exactRepository",
        }
    }

    /// Whether a signature naming `signed` is accepted for the image `image`.
    pub fn accepts(&self, image: &ImageRef, signed: &str) -> bool {
        let Ok(signed) = ImageRef::parse(signed) else {
            return false;
        };
        let exact = |wanted: &ImageRef| {
            !wanted.is_name_only() && !signed.is_name_only() && signed == *wanted
        };
        match self {
            Identity::MatchExact => exact(image),
            Identity::MatchRepoDigestOrExact => {
                if signed.is_name_only() {
                    false
                } else if image.tag().is_some() {
                    signed == *image
                } else if image.digest().is_some() {
                    signed.name() == image.name()
                } else {
                    false
                }
            }
            Identity::MatchRepository => signed.name() == image.name(),
            Identity::ExactReference(r) => exact(r),
            Identity::ExactRepository(r) => signed.name() == r.name(),
        }
    }
}

/// Which part of the policy applies to an image.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// `None`: the global `default`; `Some("")`: the transport's default; else the scope key.
    pub scope: Option<&'a str>,
    pub requirements: &'a [Requirement],
}

impl Scope<'_> {
    /// Where in the file: `default` or `transports.docker["SCOPE"]`.
    pub fn label(&self) -> String {
        match self.scope {
            None => "default".to_owned(),
            Some(s) => format!("transports.docker[{s:?}]"),
        }
    }
}

impl Policy {
    /// `path`'s policy (see [`Policy::parse`]).
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let bytes = std::fs::read(path).map_err(|source| PolicyError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&bytes).map_err(|reason| PolicyError::Invalid {
            path: path.to_owned(),
            reason,
        })
    }

    /// A policy document, checked as strictly as containers/image checks it.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let v = crate::strict_json::parse(bytes)?;
        let top = object(&v, "the policy", &["default", "transports"], &["default"])?;
        let default = requirements(&top["default"], "default")?;
        let mut transports = BTreeMap::new();
        if let Some(t) = top.get("transports") {
            let t = t.as_object().ok_or("transports is not a JSON object")?;
            for (transport, scopes) in t {
                let scopes = scopes
                    .as_object()
                    .ok_or_else(|| format!("transports.{transport} is not a JSON object"))?;
                let mut parsed = BTreeMap::new();
                for (scope, reqs) in scopes {
                    let at = format!("transports.{transport}[{scope:?}]");
                    parsed.insert(scope.clone(), requirements(reqs, &at)?);
                }
                transports.insert(transport.clone(), parsed);
            }
        }
        Ok(Self {
            default,
            transports,
        })
    }

    /// The requirements for the `docker://` image `image`: those of its most specific scope
    /// in `transports.docker`, else of that transport's `""`, else `default`.
    pub fn for_docker(&self, image: &ImageRef) -> Scope<'_> {
        if let Some(scopes) = self.transports.get("docker") {
            let candidates = image
                .policy_identity()
                .into_iter()
                .chain(image.policy_namespaces())
                .chain([String::new()]);
            for c in candidates {
                if let Some((key, reqs)) = scopes.get_key_value(&c) {
                    return Scope {
                        scope: Some(key),
                        requirements: reqs,
                    };
                }
            }
        }
        Scope {
            scope: None,
            requirements: &self.default,
        }
    }
}

/// A non-empty list of requirements at `at`.
fn requirements(v: &Value, at: &str) -> Result<Vec<Requirement>, String> {
    let list = v
        .as_array()
        .ok_or_else(|| format!("{at} is not a list of requirements"))?;
    if list.is_empty() {
        return Err(format!("{at}: a list of requirements must not be empty"));
    }
    list.iter()
        .enumerate()
        .map(|(i, r)| requirement(r, &format!("{at}[{i}]")))
        .collect()
}

fn requirement(v: &Value, at: &str) -> Result<Requirement, String> {
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{at} has no \"type\""))?;
    let fields = |allowed: &[&str]| object(v, at, allowed, &["type"]);
    Ok(match kind {
        "insecureAcceptAnything" => {
            fields(&["type"])?;
            Requirement::InsecureAcceptAnything
        }
        "reject" => {
            fields(&["type"])?;
            Requirement::Reject
        }
        "signedBy" => {
            fields(&[
                "type",
                "keyType",
                "keyPath",
                "keyPaths",
                "keyData",
                "signedIdentity",
            ])?;
            Requirement::NotImplemented {
                kind: "signedBy (GPG simple signing)".into(),
            }
        }
        "signedBaseLayer" => {
            fields(&["type", "baseLayerIdentity"])?;
            Requirement::NotImplemented {
                kind: "signedBaseLayer".into(),
            }
        }
        "sigstoreSigned" => sigstore_signed(v, at)?,
        other => return Err(format!("{at}: unknown policy requirement type {other:?}")),
    })
}

fn sigstore_signed(v: &Value, at: &str) -> Result<Requirement, String> {
    const KEYS: [&str; 6] = [
        "keyPath", "keyPaths", "keyData", "keyDatas", "fulcio", "pki",
    ];
    const REKOR: [&str; 4] = [
        "rekorPublicKeyPath",
        "rekorPublicKeyPaths",
        "rekorPublicKeyData",
        "rekorPublicKeyDatas",
    ];
    let allowed: Vec<&str> = ["type", "signedIdentity"]
        .into_iter()
        .chain(KEYS)
        .chain(REKOR)
        .collect();
    let map = object(v, at, &allowed, &["type"])?;
    let present: Vec<&str> = KEYS.into_iter().filter(|k| map.contains_key(*k)).collect();
    if present.len() != 1 {
        return Err(format!(
            "{at}: exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio and pki must be \
             specified (found {})",
            if present.is_empty() {
                "none".to_owned()
            } else {
                present.join(", ")
            }
        ));
    }
    let rekor: Vec<&str> = REKOR.into_iter().filter(|k| map.contains_key(*k)).collect();
    if rekor.len() > 1 {
        return Err(format!(
            "{at}: at most one of {} may be specified",
            REKOR.join(", ")
        ));
    }
    let identity = match map.get("signedIdentity") {
        None => Ok(Identity::MatchRepoDigestOrExact),
        Some(i) => identity(i, &format!("{at}.signedIdentity"))?,
    };
    let not_implemented = |what: &str| {
        Ok(Requirement::NotImplemented {
            kind: format!("sigstoreSigned with {what}"),
        })
    };
    let strings = |key: &str| -> Result<Vec<String>, String> {
        let list = map[key]
            .as_array()
            .ok_or_else(|| format!("{at}.{key} is not a list"))?;
        if list.is_empty() {
            return Err(format!("{at}.{key} contains no entries"));
        }
        list.iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{at}.{key} has an entry that is not a string"))
            })
            .collect()
    };
    let unbase64 = |s: &str, key: &str| {
        use base64ct::Encoding;
        base64ct::Base64::decode_vec(s).map_err(|e| format!("{at}.{key} is not base64: {e}"))
    };
    let keys = match present[0] {
        "keyPath" => {
            let p = string(map, "keyPath", at)?;
            if p.is_empty() {
                return Err(format!("{at}.keyPath is empty"));
            }
            Keys::Paths(vec![PathBuf::from(p)])
        }
        "keyPaths" => Keys::Paths(
            strings("keyPaths")?
                .into_iter()
                .map(PathBuf::from)
                .collect(),
        ),
        "keyData" => Keys::Data(vec![unbase64(string(map, "keyData", at)?, "keyData")?]),
        "keyDatas" => Keys::Data(
            strings("keyDatas")?
                .iter()
                .map(|s| unbase64(s, "keyDatas"))
                .collect::<Result<_, _>>()?,
        ),
        other => return not_implemented(other),
    };
    if let Some(r) = rekor.first() {
        return not_implemented(r);
    }
    match identity {
        Ok(identity) => Ok(Requirement::SigstoreSigned(SigstoreSigned {
            keys,
            identity,
        })),
        Err(what) => not_implemented(&what),
    }
}

/// A `signedIdentity`: `Ok(Err(what))` for one that parses but is not implemented.
fn identity(v: &Value, at: &str) -> Result<Result<Identity, String>, String> {
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{at} has no \"type\""))?;
    let only = |extra: &[&str]| {
        let all: Vec<&str> = ["type"].iter().chain(extra).copied().collect();
        object(v, at, &all, &all)
    };
    let reference = |key: &str| -> Result<ImageRef, String> {
        let s = string(only(&[key])?, key, at)?;
        ImageRef::parse(s).map_err(|e| format!("{at}.{key}: {e}"))
    };
    Ok(Ok(match kind {
        "matchExact" => {
            only(&[])?;
            Identity::MatchExact
        }
        "matchRepoDigestOrExact" => {
            only(&[])?;
            Identity::MatchRepoDigestOrExact
        }
        "matchRepository" => {
            only(&[])?;
            Identity::MatchRepository
        }
        "exactReference" => {
            let r = reference("dockerReference")?;
            if r.is_name_only() {
                return Err(format!(
                    "{at}.dockerReference {r} contains neither a tag nor a digest"
                ));
            }
            Identity::ExactReference(r)
        }
        "exactRepository" => Identity::ExactRepository(reference("dockerRepository")?),
        "remapIdentity" => {
            only(&["prefix", "signedPrefix"])?;
            return Ok(Err("signedIdentity remapIdentity".into()));
        }
        other => return Err(format!("{at}: unknown signedIdentity type {other:?}")),
    }))
}

/// A signature as read from the registry, nothing of it checked yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UntrustedSignature {
    /// The attachment layer's media type ([`SIGSTORE_MIME_TYPE`] for signatures).
    pub mime_type: String,
    /// The layer's content: the signed JSON payload.
    pub payload: Vec<u8>,
    /// The layer's annotations ([`SIGNATURE_ANNOTATION`] holds the signature).
    pub annotations: BTreeMap<String, String>,
}

/// Why an image is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// A requirement does not hold: the message says which and why.
    #[error("{0}")]
    Denied(String),
    /// A requirement that applies is one particle cannot evaluate.
    #[error("requirement {index} is {kind}, which particle does not evaluate")]
    NotImplemented { index: usize, kind: String },
    /// A requirement's public key cannot be read or is not a P-256 key.
    #[error("requirement {index}: {reason}")]
    Key { index: usize, reason: String },
}

/// How one requirement was met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Met {
    /// The requirement's `type`.
    pub kind: String,
    /// For `sigstoreSigned`: the signature that was accepted (its 1-based position among the
    /// image's signatures) and what it claims.
    pub signature: Option<(usize, SignedClaims)>,
}

/// Whether `requirements` (the applicable scope's) accept the image `image`, whose manifest is
/// exactly `manifest`, with its sigstore `signatures` (which only `sigstoreSigned` looks at).
/// All requirements must hold; the first that does not decides the rejection.
pub fn evaluate(
    requirements: &[Requirement],
    image: &ImageRef,
    manifest: &[u8],
    signatures: &[UntrustedSignature],
) -> Result<Vec<Met>, Rejection> {
    if requirements.is_empty() {
        return Err(Rejection::Denied(
            "the list of policy requirements is empty".into(),
        ));
    }
    let mut met = Vec::new();
    for (i, r) in requirements.iter().enumerate() {
        let index = i + 1;
        let signature = match r {
            Requirement::InsecureAcceptAnything => None,
            Requirement::Reject => {
                return Err(Rejection::Denied(format!(
                    "requirement {index} (reject) rejects every image"
                )))
            }
            Requirement::NotImplemented { kind } => {
                return Err(Rejection::NotImplemented {
                    index,
                    kind: kind.clone(),
                })
            }
            Requirement::SigstoreSigned(s) => {
                Some(sigstore_accepts(s, index, image, manifest, signatures)?)
            }
        };
        met.push(Met {
            kind: r.kind().to_owned(),
            signature,
        });
    }
    Ok(met)
}

/// The first of `signatures` that `req` accepts, or why none is.
fn sigstore_accepts(
    req: &SigstoreSigned,
    index: usize,
    image: &ImageRef,
    manifest: &[u8],
    signatures: &[UntrustedSignature],
) -> Result<(usize, SignedClaims), Rejection> {
    let keys = req
        .public_keys()
        .map_err(|reason| Rejection::Key { index, reason })?;
    let mut reasons = Vec::new();
    let mut other_attachments = 0;
    for (i, sig) in signatures.iter().enumerate() {
        if sig.mime_type != SIGSTORE_MIME_TYPE {
            other_attachments += 1;
            continue;
        }
        let n = i + 1;
        let Some(b64) = sig.annotations.get(SIGNATURE_ANNOTATION) else {
            reasons.push(format!(
                "signature {n}: no {SIGNATURE_ANNOTATION} annotation"
            ));
            continue;
        };
        let claims = match sigstore::verify_payload(&keys, &sig.payload, b64) {
            Ok(c) => c,
            Err(e) => {
                reasons.push(format!("signature {n}: {e}"));
                continue;
            }
        };
        if !digest_matches(&claims.manifest_digest, manifest) {
            reasons.push(format!(
                "signature {n}: it signs manifest {}, not this one",
                claims.manifest_digest
            ));
            continue;
        }
        if !req.identity.accepts(image, &claims.reference) {
            reasons.push(format!(
                "signature {n}: its identity {:?} is not accepted for {image} (signedIdentity {})",
                claims.reference,
                req.identity.kind()
            ));
            continue;
        }
        return Ok((n, claims));
    }
    let why = if reasons.is_empty() {
        format!(
            "a signature was required, but no signature exists{}",
            if other_attachments > 0 {
                format!(" ({other_attachments} attachments that are not signatures)")
            } else {
                String::new()
            }
        )
    } else {
        format!("no signature was accepted: {}", reasons.join("; "))
    };
    Err(Rejection::Denied(format!(
        "requirement {index} (sigstoreSigned): {why}"
    )))
}

impl SigstoreSigned {
    /// The requirement's keys, read and parsed.
    fn public_keys(&self) -> Result<Vec<p256::ecdsa::VerifyingKey>, String> {
        match &self.keys {
            Keys::Paths(paths) => paths
                .iter()
                .map(|p| {
                    let pem = std::fs::read(p)
                        .map_err(|e| format!("could not read the key {}: {e}", p.display()))?;
                    sigstore::public_key_from_pem(&pem, &p.display().to_string())
                        .map_err(|e| e.to_string())
                })
                .collect(),
            Keys::Data(data) => data
                .iter()
                .enumerate()
                .map(|(i, pem)| {
                    sigstore::public_key_from_pem(pem, &format!("keyData {}", i + 1))
                        .map_err(|e| e.to_string())
                })
                .collect(),
        }
    }
}

/// Whether `digest` (`sha256:HEX` or `sha512:HEX`) is the digest of `bytes`.
pub fn digest_matches(digest: &str, bytes: &[u8]) -> bool {
    use sha2::Digest;
    match digest.split_once(':') {
        Some(("sha256", hex)) => hex::encode(sha2::Sha256::digest(bytes)) == hex,
        Some(("sha512", hex)) => hex::encode(sha2::Sha512::digest(bytes)) == hex,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(s: &str) -> ImageRef {
        ImageRef::parse(s).expect("reference")
    }

    fn policy(json: &str) -> Policy {
        Policy::parse(json.as_bytes()).unwrap_or_else(|e| panic!("{e}: {json}"))
    }

    #[test]
    fn the_most_specific_scope_applies() {
        let p = policy(
            r#"{"default": [{"type": "reject"}],
                "transports": {"docker": {
                  "h.org:5000": [{"type": "insecureAcceptAnything"}],
                  "h.org:5000/os": [{"type": "reject"}],
                  "h.org:5000/os/base:stable": [{"type": "insecureAcceptAnything"}],
                  "*.example.org": [{"type": "insecureAcceptAnything"}],
                  "": [{"type": "reject"}, {"type": "insecureAcceptAnything"}]
                },
                "docker-daemon": {"": [{"type": "insecureAcceptAnything"}]}}}"#,
        );
        let scope = |s: &str| p.for_docker(&image(s)).scope.map(str::to_owned);
        assert_eq!(
            scope("h.org:5000/os/base:stable").as_deref(),
            Some("h.org:5000/os/base:stable")
        );
        assert_eq!(
            scope("h.org:5000/os/base:latest").as_deref(),
            Some("h.org:5000/os")
        );
        assert_eq!(
            scope("h.org:5000/osx/base:1").as_deref(),
            Some("h.org:5000")
        );
        assert_eq!(scope("h.org:5000/os:1").as_deref(), Some("h.org:5000/os"));
        assert_eq!(scope("r.example.org/a:1").as_deref(), Some("*.example.org"));
        assert_eq!(
            scope("a.b.example.org:443/a:1").as_deref(),
            Some("*.example.org")
        );
        assert_eq!(scope("example.org/a:1").as_deref(), Some(""));
        assert_eq!(
            scope("h.org/a:1").as_deref(),
            Some(""),
            "another port is another host"
        );
        let s = p.for_docker(&image("example.org/a:1"));
        assert_eq!(s.label(), r#"transports.docker[""]"#);
        assert_eq!(s.requirements.len(), 2);
        let only_default = policy(r#"{"default": [{"type": "insecureAcceptAnything"}]}"#);
        let s = only_default.for_docker(&image("h.org/a:1"));
        assert_eq!(s.scope, None);
        assert_eq!(s.label(), "default");
    }

    #[test]
    fn requirements_parse_strictly() {
        let p = policy(
            r#"{"default": [{"type": "reject"}], "transports": {"docker": {"h.org": [
                {"type": "sigstoreSigned", "keyPath": "/k.pub"},
                {"type": "sigstoreSigned", "keyData": "LS0t", "signedIdentity": {"type": "matchExact"}},
                {"type": "sigstoreSigned", "keyPaths": ["/a", "/b"], "signedIdentity": {"type": "matchRepository"}},
                {"type": "sigstoreSigned", "keyDatas": ["LS0t"], "signedIdentity": {"type": "exactReference", "dockerReference": "h.org/a:1"}},
                {"type": "sigstoreSigned", "keyPath": "/k", "signedIdentity": {"type": "exactRepository", "dockerRepository": "h.org/a"}},
                {"type": "sigstoreSigned", "fulcio": {}, "rekorPublicKeyPath": "/r"},
                {"type": "sigstoreSigned", "keyPath": "/k", "signedIdentity": {"type": "remapIdentity", "prefix": "a", "signedPrefix": "b"}},
                {"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k.gpg"}
            ]}}}"#,
        );
        let reqs = p.for_docker(&image("h.org/a:1")).requirements;
        let kinds: Vec<&str> = reqs.iter().map(Requirement::kind).collect();
        assert_eq!(
            kinds,
            [
                "sigstoreSigned",
                "sigstoreSigned",
                "sigstoreSigned",
                "sigstoreSigned",
                "sigstoreSigned",
                "sigstoreSigned with fulcio",
                "sigstoreSigned with signedIdentity remapIdentity",
                "signedBy (GPG simple signing)",
            ]
        );
        assert_eq!(
            reqs[0],
            Requirement::SigstoreSigned(SigstoreSigned {
                keys: Keys::Paths(vec!["/k.pub".into()]),
                identity: Identity::MatchRepoDigestOrExact,
            })
        );
        assert_eq!(
            reqs[1],
            Requirement::SigstoreSigned(SigstoreSigned {
                keys: Keys::Data(vec![b"---".to_vec()]),
                identity: Identity::MatchExact,
            })
        );
        for (bad, why) in [
            (r#"{}"#, "no field \"default\""),
            (r#"{"default": []}"#, "must not be empty"),
            (
                r#"{"default": [{"type": "reject"}], "extra": 1}"#,
                "unknown field \"extra\"",
            ),
            (
                r#"{"default": [{"type": "reject"}], "default": [{"type": "reject"}]}"#,
                "duplicate key",
            ),
            (
                r#"{"default": [{"type": "acceptSomething"}]}"#,
                "unknown policy requirement type",
            ),
            (
                r#"{"default": [{"type": "reject", "keyPath": "/k"}]}"#,
                "unknown field \"keyPath\"",
            ),
            (
                r#"{"default": [{"type": "sigstoreSigned"}]}"#,
                "exactly one of",
            ),
            (
                r#"{"default": [{"type": "sigstoreSigned", "keyPath": "/a", "keyData": "LS0t"}]}"#,
                "exactly one of",
            ),
            (
                r#"{"default": [{"type": "sigstoreSigned", "keyPath": ""}]}"#,
                "is empty",
            ),
            (
                r#"{"default": [{"type": "sigstoreSigned", "keyPaths": []}]}"#,
                "no entries",
            ),
            (
                r#"{"default": [{"type": "sigstoreSigned", "keyData": "!"}]}"#,
                "not base64",
            ),
            (
                r#"{"default": [{"type": "sigstoreSigned", "keyPath": "/k", "keyid": "x"}]}"#,
                "unknown field \"keyid\"",
            ),
            (
                r#"{"default": [{"type": "sigstoreSigned", "keyPath": "/k", "signedIdentity": {"type": "matchAnything"}}]}"#,
                "unknown signedIdentity type",
            ),
            (
                r#"{"default": [{"type": "sigstoreSigned", "keyPath": "/k", "signedIdentity": {"type": "matchExact", "x": 1}}]}"#,
                "unknown field",
            ),
            (
                r#"{"default": [{"type": "sigstoreSigned", "keyPath": "/k", "signedIdentity": {"type": "exactReference", "dockerReference": "h.org/a"}}]}"#,
                "neither a tag nor a digest",
            ),
            (
                r#"{"default": [{"type": "reject"}], "transports": {"docker": {"h.org": {}}}}"#,
                "not a list",
            ),
            (
                r#"{"default": [{"type": "reject"}], "transports": {"docker": {"h.org": [{"type": "reject"}], "h.org": [{"type": "reject"}]}}}"#,
                "duplicate key",
            ),
        ] {
            let e = Policy::parse(bad.as_bytes()).expect_err(bad);
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn identities_match_as_containers_image_matches_them() {
        let tagged = image("h.org/os/base:latest");
        let digest = format!("sha256:{}", "0".repeat(64));
        let by_digest = image(&format!("h.org/os/base@{digest}"));
        use Identity::*;
        let cases: &[(Identity, &ImageRef, &str, bool)] = &[
            (
                MatchRepoDigestOrExact,
                &tagged,
                "h.org/os/base:latest",
                true,
            ),
            (MatchRepoDigestOrExact, &tagged, "h.org/os/base:1", false),
            (MatchRepoDigestOrExact, &tagged, "h.org/os/base", false),
            (MatchRepoDigestOrExact, &by_digest, "h.org/os/base:1", true),
            (
                MatchRepoDigestOrExact,
                &by_digest,
                "h.org/os/other:1",
                false,
            ),
            (MatchExact, &tagged, "h.org/os/base:latest", true),
            (MatchExact, &by_digest, "h.org/os/base:1", false),
            (MatchRepository, &tagged, "h.org/os/base:1", true),
            (MatchRepository, &tagged, "h.org/os/base", true),
            (MatchRepository, &tagged, "h.org/os/other:latest", false),
            (MatchRepository, &tagged, "not a reference", false),
            (
                ExactReference(image("m.org/x:1")),
                &tagged,
                "m.org/x:1",
                true,
            ),
            (
                ExactReference(image("m.org/x:1")),
                &tagged,
                "h.org/os/base:latest",
                false,
            ),
            (
                ExactRepository(image("m.org/x")),
                &tagged,
                "m.org/x:2",
                true,
            ),
            (
                MatchRepoDigestOrExact,
                &image("busybox:1"),
                "docker.io/library/busybox:1",
                true,
            ),
        ];
        for (identity, img, signed, want) in cases {
            assert_eq!(
                identity.accepts(img, signed),
                *want,
                "{identity:?} {img} {signed}"
            );
        }
    }

    #[test]
    fn evaluation_needs_every_requirement_and_one_good_signature() {
        let pair = sigstore::generate(b"").expect("key");
        let der = sigstore::decrypt(&pair.private_pem, b"", "k").expect("open");
        let signer = sigstore::Signer::from_pkcs8(&der, "k").expect("P-256");
        let other = sigstore::generate(b"").expect("key");
        let manifest = br#"{"schemaVersion":2}"#;
        let digest = {
            use sha2::Digest;
            format!("sha256:{}", hex::encode(sha2::Sha256::digest(manifest)))
        };
        let img = image("h.org/os/base:latest");
        let sig = |reference: &str, digest: &str| {
            let s = signer.sign(digest, reference, "test", 1);
            UntrustedSignature {
                mime_type: SIGSTORE_MIME_TYPE.into(),
                payload: s.payload,
                annotations: [(SIGNATURE_ANNOTATION.to_owned(), s.signature)].into(),
            }
        };
        let with_key = |pem: &str| {
            use base64ct::Encoding;
            let data = base64ct::Base64::encode_string(pem.as_bytes());
            policy(&format!(
                r#"{{"default": [{{"type": "sigstoreSigned", "keyData": "{data}"}}]}}"#
            ))
        };
        let good = with_key(&pair.public_pem);
        let reqs = good.for_docker(&img).requirements;
        let right = sig("h.org/os/base:latest", &digest);
        let met = evaluate(reqs, &img, manifest, std::slice::from_ref(&right)).expect("accepted");
        assert_eq!(met[0].signature.as_ref().map(|s| s.0), Some(1));
        // The second signature is the good one: one is enough.
        let wrong_tag = sig("h.org/os/base:1", &digest);
        let met = evaluate(reqs, &img, manifest, &[wrong_tag.clone(), right.clone()]).expect("ok");
        assert_eq!(met[0].signature.as_ref().map(|s| s.0), Some(2));
        let denied = |reqs: &[Requirement], sigs: &[UntrustedSignature]| match evaluate(
            reqs, &img, manifest, sigs,
        ) {
            Err(Rejection::Denied(m)) => m,
            other => panic!("not denied: {other:?}"),
        };
        assert!(denied(reqs, &[]).contains("no signature exists"));
        assert!(denied(reqs, &[wrong_tag]).contains("is not accepted for h.org/os/base:latest"));
        let other_digest = format!("sha256:{}", "1".repeat(64));
        assert!(
            denied(reqs, &[sig("h.org/os/base:latest", &other_digest)]).contains("signs manifest")
        );
        let bad_key = with_key(&other.public_pem);
        let m = denied(
            bad_key.for_docker(&img).requirements,
            std::slice::from_ref(&right),
        );
        assert!(
            m.contains("cryptographic signature verification failed"),
            "{m}"
        );
        let mut no_annotation = right.clone();
        no_annotation.annotations.clear();
        assert!(denied(reqs, &[no_annotation]).contains("no dev.cosignproject.cosign/signature"));
        let mut not_a_signature = right.clone();
        not_a_signature.mime_type = "text/plain".into();
        assert!(denied(reqs, &[not_a_signature]).contains("1 attachments that are not signatures"));
        // All requirements must hold.
        let both =
            policy(r#"{"default": [{"type": "insecureAcceptAnything"}, {"type": "reject"}]}"#);
        assert!(denied(
            both.for_docker(&img).requirements,
            std::slice::from_ref(&right)
        )
        .contains("requirement 2 (reject)"));
        let anything = policy(r#"{"default": [{"type": "insecureAcceptAnything"}]}"#);
        assert!(evaluate(anything.for_docker(&img).requirements, &img, manifest, &[]).is_ok());
        // Unimplemented requirements and unreadable keys refuse.
        let gpg =
            policy(r#"{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k"}]}"#);
        assert!(matches!(
            evaluate(
                gpg.for_docker(&img).requirements,
                &img,
                manifest,
                std::slice::from_ref(&right)
            ),
            Err(Rejection::NotImplemented { index: 1, .. })
        ));
        let missing =
            policy(r#"{"default": [{"type": "sigstoreSigned", "keyPath": "/nonexistent.pub"}]}"#);
        assert!(matches!(
            evaluate(
                missing.for_docker(&img).requirements,
                &img,
                manifest,
                &[right]
            ),
            Err(Rejection::Key { index: 1, .. })
        ));
    }
}
