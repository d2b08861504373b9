//! Pushing an OCI image layout to a container registry with skopeo, each tag in turn, signed
//! with a sigstore key when one is given (the signature stored in the registry as a sigstore
//! attachment, the `sha256-DIGEST.sig` tag cosign uses). See docs/registry.md.
//!
//! skopeo does the transfer, the registry protocol, authentication (its usual auth files, e.g.
//! from `skopeo login`) and the writing of the signature; particle names the references, makes
//! the signatures ([`crate::sigstore::Signer`]), writes skopeo's configuration for this one run
//! (a `policy.json` accepting the image it just wrote, a `registries.d` turning sigstore
//! attachments on) and checks the pushed manifest digest.

use crate::ostree_cmd::{tool_bytes, tool_output};
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
pub(crate) fn path_component(s: &str) -> bool {
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

/// What to verify, and where to copy the image once it is accepted.
#[derive(Debug, Clone)]
pub struct PullRequest<'a> {
    /// `[docker://]REGISTRY/NAME[:TAG|@DIGEST]` (`:latest` when neither is given).
    pub reference: &'a str,
    /// The containers-policy.json(5) file that decides.
    pub policy: &'a Path,
    /// An OCI image layout directory to write (new or empty), or `None` to verify only.
    pub dest: Option<&'a Path>,
    /// `false`: plain HTTP, or a certificate that is not checked.
    pub tls_verify: bool,
}

/// An image the policy accepted.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The normalized reference that was evaluated (`REGISTRY/NAME:TAG` or `...@DIGEST`).
    pub reference: String,
    /// The digest of the manifest verified (and written), `sha256:HEX`.
    pub manifest_digest: String,
    /// Where in the policy the requirements came from ([`crate::policy::Scope::label`]).
    pub scope: String,
    /// How each requirement was met, in order.
    pub met: Vec<crate::policy::Met>,
    /// The sigstore signatures found (`None`: not looked for, no requirement needs them).
    pub signatures: Option<usize>,
    /// The layout written.
    pub dest: Option<std::path::PathBuf>,
}

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// The containers/image default: `$HOME/.config/containers/policy.json` if it exists, else
/// `/etc/containers/policy.json`.
pub fn default_policy_path() -> std::path::PathBuf {
    if let Some(home) = std::env::var_os("HOME") {
        let user = Path::new(&home).join(".config/containers/policy.json");
        if user.exists() {
            return user;
        }
    }
    "/etc/containers/policy.json".into()
}

/// A skopeo command with a configuration of its own for this run: a policy accepting
/// everything (particle is the verifier) and an empty `registries.d` (no lookaside, no
/// attachments: particle reads the signatures itself).
fn skopeo(config: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new("skopeo");
    cmd.arg("--policy")
        .arg(config.join("policy.json"))
        .arg("--registries.d")
        .arg(config.join("registries.d"));
    cmd
}

fn skopeo_config(dir: &Path) -> Result<()> {
    let policy = dir.join("policy.json");
    std::fs::write(
        &policy,
        br#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
    )
    .map_err(|e| Error::io("write", &policy, e))?;
    let d = dir.join("registries.d");
    std::fs::create_dir(&d).map_err(|e| Error::io("create", &d, e))
}

fn run_skopeo(cmd: &mut std::process::Command) -> Result<Vec<u8>> {
    tool_bytes(
        ErrorKind::Pull,
        "skopeo",
        cmd,
        "install skopeo (Debian package skopeo)",
    )
    .map_err(|e| match e.hint_text() {
        Some(_) => e,
        None => e.hint("check the reference and that the registry answers (--tls-verify=false for plain HTTP); authentication is skopeo's (skopeo login)"),
    })
}

fn read_json(path: &Path) -> Result<(Vec<u8>, serde_json::Value)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    let v = serde_json::from_slice(&bytes).map_err(|e| {
        Error::new(
            ErrorKind::Pull,
            format!("{} is not JSON: {e}", path.display()),
        )
    })?;
    Ok((bytes, v))
}

/// The sigstore signatures attached to `digest` in `repository`: the `ALGO-HEX.sig` tag's
/// manifest copied with skopeo into `dir`, each layer a payload with its annotations. No such
/// tag: no signatures. Nothing in them is trusted here; [`crate::policy::evaluate`] checks.
fn signatures(
    config: &Path,
    repository: &str,
    digest: &str,
    tls_verify: bool,
    dir: &Path,
) -> Result<Vec<crate::policy::UntrustedSignature>> {
    let tag = format!("{}.sig", digest.replace(':', "-"));
    let mut cmd = skopeo(config);
    cmd.args(["copy", "--retry-times", "2", "--preserve-digests"])
        .arg(format!("--src-tls-verify={tls_verify}"))
        .arg(format!("docker://{repository}:{tag}"))
        .arg(dir_arg("dir:", dir));
    if let Err(e) = run_skopeo(&mut cmd) {
        let m = e.message().to_ascii_lowercase();
        if m.contains("manifest unknown") || m.contains("not found") {
            return Ok(Vec::new());
        }
        return Err(e);
    }
    let (_, manifest) = read_json(&dir.join("manifest.json"))?;
    let layers = manifest["layers"].as_array().cloned().unwrap_or_default();
    let mut out = Vec::new();
    for layer in &layers {
        let hex = layer["digest"]
            .as_str()
            .and_then(|d| d.split_once(':'))
            .map(|(_, h)| h)
            .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Pull,
                    format!(
                        "the signature attachment {repository}:{tag} has a layer without a digest"
                    ),
                )
            })?;
        let blob = dir.join(hex);
        let payload = std::fs::read(&blob).map_err(|e| Error::io("read", &blob, e))?;
        let annotations = layer["annotations"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        out.push(crate::policy::UntrustedSignature {
            mime_type: layer["mediaType"].as_str().unwrap_or_default().to_owned(),
            payload,
            annotations,
        });
    }
    Ok(out)
}

fn dir_arg(transport: &str, dir: &Path) -> std::ffi::OsString {
    let mut s = std::ffi::OsString::from(transport);
    s.push(dir);
    s
}

/// Decides with the policy whether the image `req.reference` is accepted, and only then, with
/// `req.dest`, copies it (by the digest verified) into a new OCI image layout there. particle
/// is the verifier (Debian 12's skopeo cannot verify sigstore signatures); skopeo only
/// transfers, with a configuration accepting anything. The steps:
///
/// 1. the policy is read and the scope for the reference chosen ([`crate::policy::Policy`]);
/// 2. the manifest, exactly as the registry serves it (`skopeo inspect --raw`); its digest is
///    computed here (and must be the reference's, for one by digest); manifest lists and
///    image indexes are refused;
/// 3. when a `sigstoreSigned` requirement applies, the signature attachment of that digest;
/// 4. [`crate::policy::evaluate`]: kind [`ErrorKind::Rejected`] when the policy does not accept
///    the image, [`ErrorKind::BadPolicy`] when it cannot be evaluated;
/// 5. `skopeo copy --preserve-digests docker://NAME@DIGEST oci:TMP` in a temporary directory
///    beside `dest`, then the layout is checked (one manifest, the verified bytes, every blob
///    of the digest and size its descriptor names) and renamed to `dest`.
///
/// `dest` is not created or changed unless every step succeeded.
pub fn pull(req: &PullRequest<'_>, note: &dyn Fn(&str)) -> Result<Pulled> {
    use crate::policy::{evaluate, Policy, Rejection, Requirement};
    let given = req
        .reference
        .strip_prefix("docker://")
        .unwrap_or(req.reference);
    let image = crate::reference::ImageRef::parse(given)
        .map_err(|e| {
            Error::new(ErrorKind::Usage, e.to_string())
                .hint("e.g. 127.0.0.1:5000/particle/base:latest or registry.example.org/os/base@sha256:...")
        })?
        .with_default_tag();
    if image.tag().is_some() && image.digest().is_some() {
        return Err(Error::new(
            ErrorKind::Usage,
            format!("{image} has both a tag and a digest; give one"),
        ));
    }
    let policy = Policy::load(req.policy)?;
    let scope = policy.for_docker(&image);
    let reference = image.to_string();
    if let Some(dest) = req.dest {
        check_dest(dest)?;
    }
    let tmp = tempfile::tempdir()
        .map_err(|e| Error::io("create a temporary directory in", &std::env::temp_dir(), e))?;
    skopeo_config(tmp.path())?;
    note(&format!("reading the manifest of {reference}"));
    let tls = format!("--tls-verify={}", req.tls_verify);
    let mut cmd = skopeo(tmp.path());
    cmd.args(["inspect", "--retry-times", "2", "--raw", &tls])
        .arg(format!("docker://{reference}"));
    let manifest = run_skopeo(&mut cmd)?;
    let manifest_digest = {
        use sha2::Digest;
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(&manifest)))
    };
    if let Some(d) = image.digest() {
        if !crate::policy::digest_matches(d, &manifest) {
            return Err(Error::new(
                ErrorKind::Pull,
                format!("the registry served a manifest for {reference} whose digest is {manifest_digest}"),
            ));
        }
    }
    let parsed: serde_json::Value = serde_json::from_slice(&manifest).map_err(|e| {
        Error::new(
            ErrorKind::Pull,
            format!("the manifest of {reference} is not JSON: {e}"),
        )
    })?;
    let media_type = parsed["mediaType"].as_str().unwrap_or(OCI_MANIFEST);
    if parsed.get("manifests").is_some()
        || media_type.contains("index")
        || media_type.contains("list")
    {
        return Err(Error::new(
            ErrorKind::Pull,
            format!("{reference} is a manifest list or image index ({media_type}); particle verifies single images"),
        )
        .hint("name one image of the list by its digest"));
    }
    let wants_signatures = scope
        .requirements
        .iter()
        .any(|r| matches!(r, Requirement::SigstoreSigned(_)));
    let sigs = if wants_signatures {
        note(&format!("reading the signatures of {manifest_digest}"));
        Some(signatures(
            tmp.path(),
            image.name(),
            &manifest_digest,
            req.tls_verify,
            &tmp.path().join("signatures"),
        )?)
    } else {
        None
    };
    let met = evaluate(
        scope.requirements,
        &image,
        &manifest,
        sigs.as_deref().unwrap_or_default(),
    )
    .map_err(|r| {
        let at = format!(
            "{reference} ({manifest_digest}) under {} of {}",
            scope.label(),
            req.policy.display()
        );
        match r {
            Rejection::Denied(why) => Error::new(
                ErrorKind::Rejected,
                format!("the signature policy rejects {at}: {why}"),
            )
            .hint("the image must be signed as the policy requires (particle push --sign-key KEY with the key whose public half the policy names)"),
            other => Error::new(
                ErrorKind::BadPolicy,
                format!("the signature policy cannot be evaluated for {at}: {other}"),
            )
            .hint("particle evaluates insecureAcceptAnything, reject and sigstoreSigned with P-256 public keys (docs/registry.md)"),
        }
    })?;
    let dest = match req.dest {
        Some(dest) => {
            if media_type != OCI_MANIFEST {
                return Err(Error::new(
                    ErrorKind::Pull,
                    format!("{reference} has a {media_type} manifest; only OCI image manifests are copied to an OCI layout unchanged"),
                )
                .hint("--check verifies it without copying"));
            }
            note(&format!(
                "copying {}@{manifest_digest} to {}",
                image.name(),
                dest.display()
            ));
            copy_verified(
                tmp.path(),
                &image,
                &manifest,
                &manifest_digest,
                req.tls_verify,
                dest,
            )?;
            Some(dest.to_owned())
        }
        None => None,
    };
    Ok(Pulled {
        reference,
        manifest_digest,
        scope: scope.label(),
        met,
        signatures: sigs.map(|s| s.len()),
        dest,
    })
}

/// `dest` must be new or an empty directory.
fn check_dest(dest: &Path) -> Result<()> {
    if dest.symlink_metadata().is_ok()
        && std::fs::read_dir(dest)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(Error::new(
            ErrorKind::Exists,
            format!("{} exists and is not an empty directory", dest.display()),
        )
        .hint("pull into a new or empty directory"));
    }
    Ok(())
}

/// Copies `NAME@DIGEST` into a layout beside `dest`, checks it against the verified manifest
/// and renames it into place.
fn copy_verified(
    config: &Path,
    image: &crate::reference::ImageRef,
    manifest: &[u8],
    digest: &str,
    tls_verify: bool,
    dest: &Path,
) -> Result<()> {
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    let work = tempfile::Builder::new()
        .prefix(".particle-pull-")
        .tempdir_in(parent)
        .map_err(|e| Error::io("create a temporary directory in", parent, e))?;
    let layout = work.path().join("layout");
    let mut target = dir_arg("oci:", &layout);
    if let Some(tag) = image.tag() {
        target.push(format!(":{tag}"));
    }
    let mut cmd = skopeo(config);
    cmd.args(["copy", "--retry-times", "2", "--preserve-digests"])
        .arg(format!("--src-tls-verify={tls_verify}"))
        .arg(format!("docker://{}", image.at_digest(digest)))
        .arg(target);
    run_skopeo(&mut cmd)?;
    check_layout(&layout, manifest, digest)?;
    if dest.exists() {
        std::fs::remove_dir(dest).map_err(|e| Error::io("replace", dest, e))?;
    }
    std::fs::rename(&layout, dest).map_err(|e| Error::io("rename into", dest, e))?;
    Ok(())
}

/// The layout skopeo wrote holds exactly the verified manifest and blobs that match it.
fn check_layout(layout: &Path, manifest: &[u8], digest: &str) -> Result<()> {
    use crate::policy::digest_matches;
    let bad = |why: String| {
        Error::new(
            ErrorKind::Pull,
            format!(
                "the copy in {} is not the verified image: {why}",
                layout.display()
            ),
        )
    };
    let (_, index) = read_json(&layout.join("index.json"))?;
    let entries = index["manifests"].as_array().cloned().unwrap_or_default();
    if entries.len() != 1 || entries[0]["digest"].as_str() != Some(digest) {
        return Err(bad(format!("index.json does not name exactly {digest}")));
    }
    let blob = |d: &str| {
        let (algo, hex) = d.split_once(':').unwrap_or(("", ""));
        crate::reference::valid_digest(d)
            .map(|()| layout.join("blobs").join(algo).join(hex))
            .map_err(bad)
    };
    let stored = std::fs::read(blob(digest)?).map_err(|e| bad(format!("its manifest: {e}")))?;
    if stored != manifest {
        return Err(bad("its manifest differs from the one verified".into()));
    }
    let parsed: serde_json::Value =
        serde_json::from_slice(manifest).map_err(|e| bad(e.to_string()))?;
    let layers = parsed["layers"].as_array().cloned().unwrap_or_default();
    for descriptor in std::iter::once(&parsed["config"]).chain(&layers) {
        let d = descriptor["digest"]
            .as_str()
            .ok_or_else(|| bad("a descriptor has no digest".into()))?;
        let path = blob(d)?;
        let bytes = std::fs::read(&path).map_err(|e| bad(format!("blob {d}: {e}")))?;
        if !digest_matches(d, &bytes) || descriptor["size"].as_u64() != Some(bytes.len() as u64) {
            return Err(bad(format!("blob {d} does not match its digest and size")));
        }
    }
    Ok(())
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
