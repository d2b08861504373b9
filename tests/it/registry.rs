//! `push` to a registry and `key generate --sigstore`: the CNCF distribution registry
//! (`docker-registry`, a Debian package) on 127.0.0.1; the base variant pushed signed to
//! `REGISTRY/particle/base:{latest,TXN_ID}` and unsigned to `REGISTRY/unsigned/base`; the tags
//! and labels read back with skopeo; the signatures read back from the registry by skopeo (as
//! sigstore attachments) and checked with OpenSSL against the right public key (good) and
//! another key's (bad); the private key opened by an independent implementation (OpenSSL's
//! scrypt, libsodium's secretbox). Debian 12's skopeo cannot evaluate a `sigstoreSigned` policy
//! (its sigstore support is patched out), so that check runs only where skopeo can
//! (docs/registry.md); `particle pull` is the verifier there: the signed image accepted with the
//! right key (and written as an OCI layout with the pushed digest), refused with another key,
//! unsigned, under a `reject` default, and after a byte of each stored signature is flipped in
//! the registry's storage; `insecureAcceptAnything` takes the unsigned image.

use crate::common::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `docker-registry` serving plain HTTP on 127.0.0.1, its storage in a temporary directory;
/// killed when dropped.
struct Registry {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Registry {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("storage").display()
            ),
        )
        .expect("write the registry's config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "could not start docker-registry ({e}): install the Debian package \
                     docker-registry (scripts/setup.sh does)"
                )
            });
        let registry = Self { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !registry.answers() {
            assert!(
                Instant::now() < deadline,
                "docker-registry did not answer on 127.0.0.1:{port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        registry
    }

    /// Whether `GET /v2/` gets a 200.
    fn answers(&self) -> bool {
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let mut reply = String::new();
        s.write_all(b"GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .is_ok()
            && s.read_to_string(&mut reply).is_ok()
            && reply.starts_with("HTTP/1.0 200")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// `policy.json` accepting images from `registry` only with a sigstore signature by
/// `public_key`, and a `registries.d` reading sigstore attachments; returns their paths.
fn verifying_config(dir: &Path, registry: &str, public_key: &Path) -> (PathBuf, PathBuf) {
    let policy = dir.join(format!(
        "policy-{}.json",
        public_key.file_stem().expect("name").to_string_lossy()
    ));
    let doc = serde_json::json!({
        "default": [{ "type": "reject" }],
        "transports": {
            "docker": { registry: [{
                "type": "sigstoreSigned",
                "keyPath": public_key,
                "signedIdentity": { "type": "matchRepoDigestOrExact" },
            }]},
        },
    });
    std::fs::write(&policy, doc.to_string()).expect("write policy.json");
    let registries_d = dir.join("registries.d");
    std::fs::create_dir_all(&registries_d).expect("mkdir");
    std::fs::write(
        registries_d.join("attachments.yaml"),
        "default-docker:\n  use-sigstore-attachments: true\n",
    )
    .expect("write registries.d");
    (policy, registries_d)
}

/// The sigstore signatures skopeo reads from the registry for `reference` (copied with the image
/// into a `dir:` image): `(payload, DER signature)` each.
fn signatures(dir: &Path, registries_d: &Path, reference: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    use base64ct::Encoding;
    let accept = dir.join("accept.json");
    std::fs::write(
        &accept,
        r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
    )
    .expect("write");
    let out = tempfile::tempdir_in(dir).expect("tempdir");
    ok(
        "skopeo",
        &[
            "--policy",
            &accept.to_string_lossy(),
            "--registries.d",
            &registries_d.to_string_lossy(),
            "copy",
            "--src-tls-verify=false",
            &format!("docker://{reference}"),
            &format!("dir:{}", out.path().join("image").display()),
        ],
    );
    let mut sigs = Vec::new();
    for i in 1.. {
        let Ok(blob) = std::fs::read(out.path().join(format!("image/signature-{i}"))) else {
            break;
        };
        let chunk = blob
            .strip_prefix(b"\0sigstore-json\n")
            .expect("a sigstore signature");
        let v: serde_json::Value = serde_json::from_slice(chunk).expect("JSON");
        assert_eq!(
            v["mimeType"],
            "application/vnd.dev.cosign.simplesigning.v1+json"
        );
        let b64 = |s: &serde_json::Value| {
            base64ct::Base64::decode_vec(s.as_str().expect("base64 string")).expect("base64")
        };
        sigs.push((
            b64(&v["payload"]),
            b64(&v["annotations"]["dev.cosignproject.cosign/signature"]),
        ));
    }
    sigs
}

/// Whether OpenSSL verifies `signature` of `payload` with `public_key`.
fn openssl_verifies(dir: &Path, public_key: &Path, payload: &[u8], signature: &[u8]) -> bool {
    let (p, s) = (dir.join("payload"), dir.join("signature"));
    std::fs::write(&p, payload).expect("write");
    std::fs::write(&s, signature).expect("write");
    program_output(
        "openssl",
        &[
            "dgst",
            "-sha256",
            "-verify",
            &public_key.to_string_lossy(),
            "-signature",
            &s.to_string_lossy(),
            &p.to_string_lossy(),
        ],
    )
    .status
    .success()
}

#[test]
fn push_signs_and_pull_accepts_only_what_the_policy_accepts() {
    let registry = Registry::start();
    let host = format!("127.0.0.1:{}", registry.port);
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    env.run(&["txn", "install", "hello"]).ok();
    let head = env.run(&["--json", "status"]).ok().json();
    let txn_id = head["txn_id"].as_str().expect("txn_id").to_owned();
    let dir = env.dir.path();

    // Two key pairs: one with a passphrase, one without.
    let passphrase = dir.join("passphrase");
    std::fs::write(&passphrase, "correct horse\nignored\n").expect("write");
    let (signing, other) = (dir.join("signing"), dir.join("other"));
    let generated = env
        .run(&[
            "--json",
            "key",
            "generate",
            "--sigstore",
            &signing.to_string_lossy(),
            "--passphrase-file",
            &passphrase.to_string_lossy(),
        ])
        .ok()
        .json();
    let (key, public) = (dir.join("signing.key"), dir.join("signing.pub"));
    assert_eq!(generated["private_key"], key.to_string_lossy().as_ref());
    assert_eq!(generated["public_key"], public.to_string_lossy().as_ref());
    env.run(&["key", "generate", "--sigstore", &other.to_string_lossy()])
        .ok();
    let other_public = dir.join("other.pub");
    env.run(&[
        "--json",
        "key",
        "generate",
        "--sigstore",
        &signing.to_string_lossy(),
    ])
    .fails("exists");

    // The private key is what go-tuf and containers/image read: opened by OpenSSL's scrypt and
    // libsodium's secretbox, it is the private half of the public key written beside it.
    let opened = ok(
        "/usr/bin/python3",
        &[
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../tests/it/support/cosign_key.py"
            ),
            &key.to_string_lossy(),
            &passphrase.to_string_lossy(),
        ],
    );
    assert_eq!(
        opened,
        std::fs::read_to_string(&public).expect("public key")
    );

    // A wrong passphrase is refused before anything is exported or pushed.
    let wrong = dir.join("wrong");
    std::fs::write(&wrong, "wrong horse\n").expect("write");
    let target = format!("{host}/particle");
    env.run(&[
        "--json",
        "push",
        "--sign-key",
        &key.to_string_lossy(),
        "--passphrase-file",
        &wrong.to_string_lossy(),
        "--tls-verify=false",
        &target,
    ])
    .fails("key");
    // A tag in the target is bad usage (exit 2).
    let tagged = env.run(&[
        "--json",
        "push",
        "--tls-verify=false",
        &format!("{target}:v1"),
    ]);
    assert_eq!(tagged.code, 2, "{tagged:?}");
    assert_eq!(tagged.json()["error"]["kind"], "usage");

    let pushed = env
        .run(&[
            "--json",
            "push",
            "--variant",
            "base",
            "--sign-key",
            &key.to_string_lossy(),
            "--passphrase-file",
            &passphrase.to_string_lossy(),
            "--tls-verify=false",
            &target,
        ])
        .ok()
        .json();
    let repo = format!("{host}/particle/base");
    let (latest, by_txn) = (format!("{repo}:latest"), format!("{repo}:{txn_id}"));
    assert_eq!(
        pushed["references"],
        serde_json::json!([latest, by_txn]),
        "{pushed}"
    );
    assert_eq!(pushed["signed"], true);
    assert_eq!(pushed["txn_id"], txn_id.as_str());
    let digest = pushed["manifest_digest"]
        .as_str()
        .expect("digest")
        .to_owned();
    assert!(digest.starts_with("sha256:"), "{digest}");

    // The same head without a signature, under another name.
    let unsigned = env
        .run(&[
            "--json",
            "push",
            "--tls-verify=false",
            &format!("{host}/unsigned"),
        ])
        .ok()
        .json();
    assert_eq!(unsigned["signed"], false);
    assert_eq!(unsigned["manifest_digest"], digest.as_str(), "same image");

    // Tags: latest, the transaction id, and the signatures' attachment.
    let tags = json(&ok(
        "skopeo",
        &[
            "list-tags",
            "--tls-verify=false",
            &format!("docker://{repo}"),
        ],
    ));
    let tags: Vec<&str> = tags["Tags"]
        .as_array()
        .expect("Tags")
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    let attachment = format!("{}.sig", digest.replace(':', "-"));
    for t in ["latest", txn_id.as_str(), attachment.as_str()] {
        assert!(tags.contains(&t), "no tag {t} in {tags:?}");
    }

    // Labels, as `export oci` writes them, and the digest particle reported.
    let inspect = json(&ok(
        "skopeo",
        &[
            "inspect",
            "--tls-verify=false",
            &format!("docker://{latest}"),
        ],
    ));
    assert_eq!(inspect["Digest"], digest.as_str());
    let labels = &inspect["Labels"];
    assert_eq!(labels["org.particle-os.txn-id"], txn_id.as_str());
    assert_eq!(labels["org.particle-os.variant"], "base");
    assert_eq!(labels["ostree.commit"], head["commit"]);
    assert_eq!(labels["org.osbuild.ostree.ref"], "particle-os/base");
    // No kernel in this variant: nothing tells bootc it could boot it.
    assert!(labels.get("ostree.bootable").is_none() && labels.get("containers.bootc").is_none());
    assert_eq!(pushed["labels"], *labels);

    // Each tag carries a signature naming it and the manifest digest, made by the signing key:
    // OpenSSL verifies it with signing.pub and not with other.pub.
    let (policy, registries_d) = verifying_config(dir, &host, &public);
    for reference in [&latest, &by_txn] {
        let sigs = signatures(dir, &registries_d, reference);
        assert_eq!(sigs.len(), 2, "one signature per tag on the one manifest");
        let (payload, sig) = sigs
            .iter()
            .find(|(p, _)| {
                json(&String::from_utf8_lossy(p))["critical"]["identity"]["docker-reference"]
                    == reference.as_str()
            })
            .unwrap_or_else(|| panic!("no signature names {reference}"));
        let p = json(&String::from_utf8_lossy(payload));
        assert_eq!(
            p["critical"]["image"]["docker-manifest-digest"],
            digest.as_str()
        );
        assert_eq!(p["critical"]["type"], "cosign container image signature");
        assert!(openssl_verifies(dir, &public, payload, sig), "{reference}");
        assert!(!openssl_verifies(dir, &other_public, payload, sig));
    }
    let unsigned_ref = format!("{host}/unsigned/base:latest");
    assert!(signatures(dir, &registries_d, &unsigned_ref).is_empty());

    // skopeo's own policy check. Debian 12's skopeo rejects every sigstoreSigned requirement
    // ("Debian-local change: sigstore disabled"); a skopeo with sigstore support must accept
    // the signed image with signing.pub and reject it with other.pub, and reject the unsigned.
    let pull = |policy: &Path, reference: &str| {
        let out = dir.join(format!("pulled-{}", reference.len()));
        let _ = std::fs::remove_dir_all(&out);
        program_output(
            "skopeo",
            &[
                "--policy",
                &policy.to_string_lossy(),
                "--registries.d",
                &registries_d.to_string_lossy(),
                "copy",
                "--src-tls-verify=false",
                &format!("docker://{reference}"),
                &format!("oci:{}", out.display()),
            ],
        )
    };
    let (other_policy, _) = verifying_config(dir, &host, &other_public);
    let signed = pull(&policy, &latest);
    let stderr = String::from_utf8_lossy(&signed.stderr);
    if stderr.contains("sigstore disabled") {
        eprintln!("note: this skopeo cannot verify sigstore signatures: {stderr}");
    } else {
        assert!(
            signed.status.success(),
            "skopeo refused the signed image: {stderr}"
        );
    }
    assert!(
        !pull(&other_policy, &latest).status.success(),
        "another key"
    );
    assert!(!pull(&policy, &unsigned_ref).status.success(), "unsigned");

    particle_pull_verifies(&env, &registry, &digest, &policy, &other_policy, &txn_id);
}

/// `particle pull` with the policies `verifying_config` wrote: `policy` requires a signature by
/// signing.pub, `other_policy` by other.pub, anything else from the registry is rejected.
fn particle_pull_verifies(
    env: &Env,
    registry: &Registry,
    digest: &str,
    policy: &Path,
    other_policy: &Path,
    txn_id: &str,
) {
    let dir = env.dir.path();
    let host = format!("127.0.0.1:{}", registry.port);
    let (latest, unsigned) = (
        format!("{host}/particle/base:latest"),
        format!("{host}/unsigned/base:latest"),
    );
    let pull = |policy: &Path, args: &[&str]| {
        let policy = policy.to_string_lossy();
        let mut all = vec!["--json", "pull", "--policy", &policy, "--tls-verify=false"];
        all.extend(args);
        env.run(&all)
    };
    // Accepted: the layout holds the manifest that was pushed (skopeo reads it back).
    let dest = dir.join("pulled/base");
    let accepted = pull(policy, &[&latest, &dest.to_string_lossy()])
        .ok()
        .json();
    assert_eq!(accepted["manifest_digest"], digest, "{accepted}");
    assert_eq!(accepted["accepted"], true);
    assert_eq!(accepted["scope"], format!("transports.docker[\"{host}\"]"));
    let met = &accepted["requirements"][0];
    assert_eq!(met["type"], "sigstoreSigned");
    assert_eq!(met["signature"]["docker_reference"], latest.as_str());
    assert_eq!(met["signature"]["manifest_digest"], digest);
    assert_eq!(accepted["signatures"], 2);
    let layout = json(&ok(
        "skopeo",
        &["inspect", &format!("oci:{}:latest", dest.display())],
    ));
    assert_eq!(layout["Digest"], digest);
    assert_eq!(layout["Labels"]["org.particle-os.txn-id"], txn_id);
    // The same image by its transaction tag (the other signature) and by digest (a signature
    // for any tag of the repository), verified only.
    for reference in [
        format!("{host}/particle/base:{txn_id}"),
        format!("{host}/particle/base@{digest}"),
    ] {
        let checked = pull(policy, &["--check", &reference]).ok().json();
        assert_eq!(checked["dir"], serde_json::Value::Null);
        assert_eq!(checked["manifest_digest"], digest);
    }

    // Refused: another key, the unsigned image, a `reject` default; the destination is never
    // created and nothing is left beside it.
    let refused = |policy: &Path, reference: &str, why: &str| {
        let dest = dir.join("refused/base");
        let e = pull(policy, &[reference, &dest.to_string_lossy()])
            .fails("rejected")
            .json();
        let message = e["error"]["message"].as_str().expect("message").to_owned();
        assert!(message.contains(why), "{message}");
        assert!(!dest.exists(), "{} was created", dest.display());
        let left: Vec<_> = std::fs::read_dir(dir.join("refused"))
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "left behind: {left:?}");
    };
    refused(
        other_policy,
        &latest,
        "cryptographic signature verification failed",
    );
    refused(policy, &unsigned, "no signature exists");
    let reject = dir.join("reject.json");
    std::fs::write(&reject, r#"{"default": [{"type": "reject"}]}"#).expect("write");
    refused(
        &reject,
        &latest,
        "requirement 1 (reject) rejects every image",
    );

    // insecureAcceptAnything takes the unsigned image, without reading signatures.
    let anything = dir.join("anything.json");
    let doc = serde_json::json!({
        "default": [{ "type": "reject" }],
        "transports": { "docker": { format!("{host}/unsigned"): [{ "type": "insecureAcceptAnything" }] } },
    });
    std::fs::write(&anything, doc.to_string()).expect("write");
    let taken = pull(
        &anything,
        &[&unsigned, &dir.join("unsigned").to_string_lossy()],
    )
    .ok()
    .json();
    assert_eq!(taken["requirements"][0]["type"], "insecureAcceptAnything");
    assert_eq!(taken["signatures"], serde_json::Value::Null);
    assert_eq!(
        taken["scope"],
        format!("transports.docker[\"{host}/unsigned\"]")
    );

    // A policy particle cannot evaluate, or that does not parse, refuses (bad_policy); an
    // existing destination is refused before anything is read.
    let gpg = dir.join("gpg.json");
    std::fs::write(
        &gpg,
        r#"{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k.gpg"}]}"#,
    )
    .expect("write");
    pull(&gpg, &["--check", &latest]).fails("bad_policy");
    let unknown = dir.join("unknown.json");
    std::fs::write(&unknown, r#"{"default": [{"type": "acceptIfSigned"}]}"#).expect("write");
    pull(&unknown, &["--check", &latest]).fails("bad_policy");
    pull(policy, &[&latest, &dest.to_string_lossy()]).fails("exists");

    // One character of every stored signature changed in the registry's storage (the
    // attachment's manifest, served as it is): no signature verifies any more.
    let tag = format!("{}.sig", digest.replace(':', "-"));
    let v2 = registry.dir.path().join("storage/docker/registry/v2");
    let link = v2.join(format!(
        "repositories/particle/base/_manifests/tags/{tag}/current/link"
    ));
    let stored = std::fs::read_to_string(&link).expect("the attachment's tag");
    let hex = stored.trim().strip_prefix("sha256:").expect("sha256");
    let blob = v2.join(format!("blobs/sha256/{}/{hex}/data", &hex[..2]));
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&blob).expect("read")).expect("JSON");
    for layer in manifest["layers"].as_array_mut().expect("layers") {
        let sig = &mut layer["annotations"]["dev.cosignproject.cosign/signature"];
        let mut chars: Vec<char> = sig.as_str().expect("signature").chars().collect();
        chars[80] = if chars[80] == 'A' { 'B' } else { 'A' };
        *sig = chars.into_iter().collect::<String>().into();
    }
    std::fs::write(&blob, serde_json::to_vec(&manifest).expect("JSON")).expect("write");
    let e = pull(policy, &["--check", &latest]).fails("rejected").json();
    let message = e["error"]["message"].as_str().expect("message");
    assert_eq!(
        message
            .matches("cryptographic signature verification failed")
            .count(),
        2,
        "{message}"
    );
}
