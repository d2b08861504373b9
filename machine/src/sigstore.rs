//! Sigstore signing keys and signatures in the forms cosign and containers/image use: the private
//! key a P-256 key as PKCS#8 DER, sealed with NaCl secretbox under a key derived from a passphrase
//! with scrypt, the sealed box as JSON in a PEM block labelled `ENCRYPTED COSIGN PRIVATE KEY`; the
//! public key a PKIX `PUBLIC KEY` PEM block (what `policy.json`'s `sigstoreSigned` names); a
//! signature an ECDSA-SHA256 signature (ASN.1 DER, base64) of a "simple signing" JSON payload
//! naming the image's manifest digest and reference. skopeo cannot create keys, and Debian 12's
//! skopeo cannot sign or verify with them either (a Debian patch disables sigstore), so particle
//! does both here and lets skopeo carry the signature to the registry. See docs/registry.md.
//!
//! The key format, as upstream skopeo 1.9 (containers/image 5.22, its vendored go-tuf
//! `encrypted` package) reads it, and so what [`generate`] writes:
//! - the PEM label `ENCRYPTED COSIGN PRIVATE KEY` exactly (`ENCRYPTED SIGSTORE PRIVATE KEY`,
//!   which newer cosign writes, is accepted only from containers/image 5.25 on);
//! - the JSON `{"kdf": {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1}, "salt": B64},
//!   "cipher": {"name": "nacl/secretbox", "nonce": B64}, "ciphertext": B64}`, standard base64
//!   with padding, a 32-byte salt and a 24-byte nonce; scrypt's parameters must be exactly
//!   those (newer readers also take N = 65536 and 131072, which [`decrypt`] accepts too);
//! - the ciphertext is NaCl's `secretbox.Seal`: the 16-byte Poly1305 tag, then the
//!   XSalsa20-encrypted plaintext;
//! - the passphrase is the first line of the passphrase file, without its `\n`
//!   ([`read_passphrase_file`] reads it the way skopeo's `--sign-passphrase-file` does).
//!
//! The payload is what containers/image's `UntrustedSigstorePayload` marshals (keys sorted):
//! `{"critical": {"identity": {"docker-reference": REF}, "image": {"docker-manifest-digest":
//! DIGEST}, "type": "cosign container image signature"}, "optional": {"creator", "timestamp"}}`.
//!
//! The pure functions ([`generate`], [`decrypt`], [`Signer`]) take and return bytes;
//! [`write_key_pair`], [`open_private_key`] and [`read_passphrase_file`] are the file edges.

use crypto_secretbox::aead::{Aead, KeyInit};
use p256::elliptic_curve::zeroize::Zeroizing;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The PEM label of the private key that skopeo 1.9 accepts.
pub const PRIVATE_KEY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// The label newer cosign writes; read, never written.
const SIGSTORE_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";

/// scrypt's parameters as `(log2 N, r, p)`: the first is what skopeo 1.9 requires and what is
/// written; the others are what newer readers accept.
const SCRYPT_PARAMS: [(u8, u32, u32); 3] = [(15, 8, 1), (16, 8, 1), (17, 8, 1)];
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;

/// Why a key could not be made, read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Reading or writing a key or passphrase file failed.
    #[error("could not {action} {path}: {source}")]
    Io {
        /// `read`, `write`, ...
        action: &'static str,
        /// The file.
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A key file to be written exists already.
    #[error("{} exists", path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The file is not an encrypted sigstore private key.
    #[error("{what} is not an encrypted sigstore private key: {reason}")]
    Malformed {
        /// The file (or `the key`).
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// The box did not open: a wrong passphrase, or a damaged file.
    #[error("could not decrypt {what}: wrong passphrase, or the file is damaged")]
    Decrypt {
        /// The file (or `the key`).
        what: String,
    },
    /// The operating system gave no random bytes.
    #[error("the operating system's random number generator failed: {0}")]
    Random(getrandom::Error),
}

/// A new key pair as PEM text.
#[derive(Clone)]
pub struct KeyPair {
    /// `ENCRYPTED COSIGN PRIVATE KEY`: the sealed PKCS#8 key.
    pub private_pem: Zeroizing<String>,
    /// `PUBLIC KEY`: the PKIX public key, what `policy.json`'s `keyPath` names.
    pub public_pem: String,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("public_pem", &self.public_pem)
            .finish_non_exhaustive()
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Sealed {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Kdf {
    name: String,
    params: KdfParams,
    salt: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct KdfParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

fn random<const N: usize>() -> Result<[u8; N], KeyError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(KeyError::Random)?;
    Ok(b)
}

fn b64(bytes: &[u8]) -> String {
    use base64ct::Encoding;
    base64ct::Base64::encode_string(bytes)
}

/// The secretbox key for `passphrase`, `salt` and `(log2 N, r, p)`.
fn box_key(passphrase: &[u8], salt: &[u8], (log_n, r, p): (u8, u32, u32)) -> Zeroizing<[u8; 32]> {
    let params = scrypt::Params::new(log_n, r, p, 32).expect("the listed scrypt parameters");
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(passphrase, salt, &params, key.as_mut()).expect("a 32-byte output is valid");
    key
}

/// Seals `plaintext` as go-tuf's `encrypted.Encrypt` does (scrypt N = 32768).
fn seal(plaintext: &[u8], passphrase: &[u8], salt: &[u8], nonce: &[u8; NONCE_LEN]) -> String {
    let (log_n, r, p) = SCRYPT_PARAMS[0];
    let key = box_key(passphrase, salt, (log_n, r, p));
    let ciphertext = crypto_secretbox::XSalsa20Poly1305::new(key.as_ref().into())
        .encrypt(nonce.into(), plaintext)
        .expect("secretbox encryption of a small buffer cannot fail");
    let sealed = Sealed {
        kdf: Kdf {
            name: "scrypt".into(),
            params: KdfParams {
                n: 1 << log_n,
                r,
                p,
            },
            salt: b64(salt),
        },
        cipher: Cipher {
            name: "nacl/secretbox".into(),
            nonce: b64(nonce),
        },
        ciphertext: b64(&ciphertext),
    };
    serde_json::to_string(&sealed).expect("plain structs serialize")
}

/// A new P-256 key pair, the private key sealed under `passphrase` (which may be empty).
pub fn generate(passphrase: &[u8]) -> Result<KeyPair, KeyError> {
    // A uniformly random scalar: 32 random bytes, drawn again in the (2^-32) case that they are
    // zero or not below the group order.
    let secret = loop {
        let bytes = Zeroizing::new(random::<32>()?);
        if let Ok(k) = p256::SecretKey::from_slice(bytes.as_ref()) {
            break k;
        }
    };
    let der = secret
        .to_pkcs8_der()
        .expect("a P-256 key encodes as PKCS#8");
    let json = Zeroizing::new(seal(
        der.as_bytes(),
        passphrase,
        &random::<SALT_LEN>()?,
        &random::<NONCE_LEN>()?,
    ));
    let private_pem =
        pem_rfc7468::encode_string(PRIVATE_KEY_LABEL, LineEnding::LF, json.as_bytes())
            .expect("PEM encoding of a short JSON document");
    let public_pem = secret
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("a P-256 public key encodes as PKIX");
    Ok(KeyPair {
        private_pem: Zeroizing::new(private_pem),
        public_pem,
    })
}

/// The PKCS#8 DER of the private key in `pem` (named `what` in errors), opened with
/// `passphrase`. Any key type is returned (skopeo also signs with RSA and Ed25519 keys).
pub fn decrypt(pem: &str, passphrase: &[u8], what: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let malformed = |reason: String| KeyError::Malformed {
        what: what.to_owned(),
        reason,
    };
    let (label, body) =
        pem_rfc7468::decode_vec(pem.trim().as_bytes()).map_err(|e| malformed(e.to_string()))?;
    let body = Zeroizing::new(body);
    if label != PRIVATE_KEY_LABEL && label != SIGSTORE_LABEL {
        return Err(malformed(format!(
            "its PEM label is {label:?}, not {PRIVATE_KEY_LABEL:?}"
        )));
    }
    let sealed: Sealed =
        serde_json::from_slice(&body).map_err(|e| malformed(format!("its JSON: {e}")))?;
    if sealed.kdf.name != "scrypt" || sealed.cipher.name != "nacl/secretbox" {
        return Err(malformed(format!(
            "it is sealed with {} and {}, not scrypt and nacl/secretbox",
            sealed.kdf.name, sealed.cipher.name
        )));
    }
    let k = &sealed.kdf.params;
    let params = SCRYPT_PARAMS
        .iter()
        .copied()
        .find(|&(log_n, r, p)| k.n == 1 << log_n && k.r == r && k.p == p)
        .ok_or_else(|| {
            malformed(format!(
                "unsupported scrypt parameters N={} r={} p={}",
                k.n, k.r, k.p
            ))
        })?;
    let unb64 = |field: &str, s: &str| {
        use base64ct::Encoding;
        base64ct::Base64::decode_vec(s).map_err(|e| malformed(format!("its {field}: {e}")))
    };
    let salt = unb64("salt", &sealed.kdf.salt)?;
    let nonce: [u8; NONCE_LEN] = unb64("nonce", &sealed.cipher.nonce)?
        .try_into()
        .map_err(|_| malformed(format!("its nonce is not {NONCE_LEN} bytes")))?;
    let ciphertext = unb64("ciphertext", &sealed.ciphertext)?;
    let key = box_key(passphrase, &salt, params);
    crypto_secretbox::XSalsa20Poly1305::new(key.as_ref().into())
        .decrypt((&nonce).into(), ciphertext.as_slice())
        .map(Zeroizing::new)
        .map_err(|_| KeyError::Decrypt {
            what: what.to_owned(),
        })
}

/// The public key (PEM) of a P-256 PKCS#8 private key.
pub fn public_key_of(der: &[u8]) -> Result<String, KeyError> {
    let secret = p256::SecretKey::from_pkcs8_der(der).map_err(|e| KeyError::Malformed {
        what: "the key".into(),
        reason: format!("not a P-256 PKCS#8 key: {e}"),
    })?;
    Ok(secret
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("a P-256 public key encodes as PKIX"))
}

/// The passphrase in `path` as skopeo reads `--sign-passphrase-file`: the first line, without
/// its `\n`.
pub fn read_passphrase_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|source| KeyError::Io {
        action: "read",
        path: path.to_owned(),
        source,
    })?);
    let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    Ok(Zeroizing::new(line.to_vec()))
}

/// The signer of the private key in `path`, opened with `passphrase`.
pub fn open_private_key(path: &Path, passphrase: &[u8]) -> Result<Signer, KeyError> {
    let pem = Zeroizing::new(
        std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            action: "read",
            path: path.to_owned(),
            source,
        })?,
    );
    let what = path.display().to_string();
    Signer::from_pkcs8(&decrypt(&pem, passphrase, &what)?, &what)
}

/// A P-256 private key that signs image manifests.
pub struct Signer {
    key: p256::ecdsa::SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").finish_non_exhaustive()
    }
}

/// A signature of one manifest for one reference.
#[derive(Debug, Clone)]
pub struct Signature {
    /// The JSON payload that was signed.
    pub payload: Vec<u8>,
    /// The ECDSA-SHA256 signature of `payload`, ASN.1 DER in standard base64 (the value of the
    /// `dev.cosignproject.cosign/signature` annotation).
    pub signature: String,
}

impl Signer {
    /// The key in a decrypted PKCS#8 document (named `what` in errors). Only P-256 keys sign
    /// here (cosign's and particle's default); RSA and Ed25519 keys are refused.
    pub fn from_pkcs8(der: &[u8], what: &str) -> Result<Self, KeyError> {
        let key =
            p256::ecdsa::SigningKey::from_pkcs8_der(der).map_err(|e| KeyError::Malformed {
                what: what.to_owned(),
                reason: format!("particle signs with P-256 keys only ({e})"),
            })?;
        Ok(Self { key })
    }

    /// The public key as PEM (`PUBLIC KEY`).
    pub fn public_pem(&self) -> String {
        self.key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("a P-256 public key encodes as PKIX")
    }

    /// Signs `manifest_digest` (`sha256:HEX`) as the image `reference` (`HOST/PATH:TAG`), with
    /// `creator` and `timestamp` (unix seconds) in the payload's optional part.
    pub fn sign(
        &self,
        manifest_digest: &str,
        reference: &str,
        creator: &str,
        timestamp: i64,
    ) -> Signature {
        use p256::ecdsa::signature::Signer as _;
        let payload = serde_json::to_vec(&serde_json::json!({
            "critical": {
                "identity": { "docker-reference": reference },
                "image": { "docker-manifest-digest": manifest_digest },
                "type": "cosign container image signature",
            },
            "optional": { "creator": creator, "timestamp": timestamp },
        }))
        .expect("a JSON value serializes");
        let sig: p256::ecdsa::Signature = self.key.sign(&payload);
        Signature {
            signature: b64(sig.to_der().as_bytes()),
            payload,
        }
    }
}

/// The files [`write_key_pair`] wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyFiles {
    /// `PREFIX.key`, mode 0600.
    pub private_key: PathBuf,
    /// `PREFIX.pub`.
    pub public_key: PathBuf,
}

/// Generates a key pair and writes `PREFIX.key` (mode 0600) and `PREFIX.pub`, neither of which
/// may exist. Each is written to a temporary file, synced and renamed into place.
pub fn write_key_pair(prefix: &Path, passphrase: &[u8]) -> Result<KeyFiles, KeyError> {
    let with = |ext: &str| {
        let mut p = prefix.as_os_str().to_owned();
        p.push(ext);
        PathBuf::from(p)
    };
    let files = KeyFiles {
        private_key: with(".key"),
        public_key: with(".pub"),
    };
    for p in [&files.private_key, &files.public_key] {
        if p.symlink_metadata().is_ok() {
            return Err(KeyError::Exists { path: p.clone() });
        }
    }
    let pair = generate(passphrase)?;
    write_new(&files.private_key, pair.private_pem.as_bytes(), 0o600)?;
    write_new(&files.public_key, pair.public_pem.as_bytes(), 0o644)?;
    Ok(files)
}

/// Writes `bytes` to `path` through a temporary file beside it with `mode`, refusing to replace
/// a file that appeared meanwhile.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let io = |action: &'static str| {
        move |source| KeyError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".particle-key-")
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(io("create a temporary file for"))?;
    tmp.write_all(bytes).map_err(io("write"))?;
    tmp.as_file().sync_all().map_err(io("sync"))?;
    tmp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == io::ErrorKind::AlreadyExists {
            KeyError::Exists {
                path: path.to_owned(),
            }
        } else {
            KeyError::Io {
                action: "write",
                path: path.to_owned(),
                source: e.error,
            }
        }
    })?;
    Ok(())
}

/// A public key that sigstore signatures are verified with (`policy.json`'s `keyPath`,
/// `keyData`): a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) block holding a P-256 key. Other key
/// types (RSA, Ed25519, other curves), which containers/image also accepts, are refused.
pub fn public_key_from_pem(pem: &[u8], what: &str) -> Result<p256::ecdsa::VerifyingKey, KeyError> {
    use p256::pkcs8::DecodePublicKey;
    let malformed = |reason: String| KeyError::Malformed {
        what: what.to_owned(),
        reason,
    };
    let text = std::str::from_utf8(pem).map_err(|_| malformed("it is not PEM text".into()))?;
    p256::ecdsa::VerifyingKey::from_public_key_pem(text.trim()).map_err(|e| {
        malformed(format!(
            "not a PEM PUBLIC KEY block with a P-256 ECDSA key, the only kind particle verifies ({e})"
        ))
    })
}

/// What a signature that verified says: the signed manifest digest and image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedClaims {
    /// `critical.image.docker-manifest-digest`.
    pub manifest_digest: String,
    /// `critical.identity.docker-reference`.
    pub reference: String,
}

/// Why a sigstore signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The `dev.cosignproject.cosign/signature` annotation is not base64.
    #[error("the signature is not base64: {0}")]
    Base64(String),
    /// The signature does not verify with any of the keys.
    #[error("cryptographic signature verification failed with {keys} key(s)")]
    Crypto {
        /// How many keys were tried.
        keys: usize,
    },
    /// The payload verified but is not a containers/image sigstore payload.
    #[error("the signed payload is malformed: {0}")]
    Payload(String),
}

/// Verifies `base64_signature` (an ASN.1 DER ECDSA-SHA256 signature, base64) of `payload`
/// with each of `keys` in turn, then parses the payload as containers/image does: exactly
/// `{"critical": {"type": "cosign container image signature", "image":
/// {"docker-manifest-digest"}, "identity": {"docker-reference"}}, "optional": {...}}`, no field
/// unknown, twice or missing in `critical` (any in `optional`), `optional.timestamp` an
/// integer. The claims are returned for the caller to match against the image.
pub fn verify_payload(
    keys: &[p256::ecdsa::VerifyingKey],
    payload: &[u8],
    base64_signature: &str,
) -> Result<SignedClaims, SignatureError> {
    use base64ct::Encoding;
    use p256::ecdsa::signature::Verifier;
    let der = base64ct::Base64::decode_vec(base64_signature)
        .map_err(|e| SignatureError::Base64(e.to_string()))?;
    let verified = p256::ecdsa::Signature::from_der(&der)
        .map(|sig| keys.iter().any(|k| k.verify(payload, &sig).is_ok()))
        .unwrap_or(false);
    if !verified {
        return Err(SignatureError::Crypto { keys: keys.len() });
    }
    parse_payload(payload).map_err(SignatureError::Payload)
}

/// The claims of a sigstore payload (see [`verify_payload`]).
fn parse_payload(payload: &[u8]) -> Result<SignedClaims, String> {
    use crate::strict_json::{object, string};
    let v = crate::strict_json::parse(payload)?;
    let top = object(
        &v,
        "the payload",
        &["critical", "optional"],
        &["critical", "optional"],
    )?;
    if let Some(optional) = top.get("optional").filter(|o| !o.is_null()) {
        let fields = optional
            .as_object()
            .ok_or("optional is not a JSON object")?;
        if let Some(t) = fields.get("timestamp") {
            if t.as_i64().is_none() && t.as_u64().is_none() {
                return Err("optional.timestamp is not an integer".into());
            }
        }
        if let Some(c) = fields.get("creator") {
            c.as_str().ok_or("optional.creator is not a string")?;
        }
    }
    let critical = object(
        &top["critical"],
        "critical",
        &["type", "image", "identity"],
        &["type", "image", "identity"],
    )?;
    let kind = string(critical, "type", "critical")?;
    if kind != "cosign container image signature" {
        return Err(format!("unrecognized signature type {kind:?}"));
    }
    let image = object(
        &critical["image"],
        "critical.image",
        &["docker-manifest-digest"],
        &["docker-manifest-digest"],
    )?;
    let manifest_digest = string(image, "docker-manifest-digest", "critical.image")?;
    crate::reference::valid_digest(manifest_digest)?;
    let identity = object(
        &critical["identity"],
        "critical.identity",
        &["docker-reference"],
        &["docker-reference"],
    )?;
    Ok(SignedClaims {
        manifest_digest: manifest_digest.to_owned(),
        reference: string(identity, "docker-reference", "critical.identity")?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_decrypts_to_its_public_key() {
        let pair = generate(b"correct horse").expect("generate");
        assert!(pair
            .private_pem
            .starts_with("-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n"));
        assert!(pair.public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let der = decrypt(&pair.private_pem, b"correct horse", "the key").expect("decrypt");
        assert_eq!(public_key_of(&der).expect("P-256"), pair.public_pem);
        assert!(matches!(
            decrypt(&pair.private_pem, b"wrong", "the key"),
            Err(KeyError::Decrypt { .. })
        ));
    }

    #[test]
    fn the_sealed_box_is_what_go_tuf_reads() {
        // The JSON inside the PEM block, field by field as go-tuf's `encrypted` package has it.
        let sealed = seal(b"secret", b"pw", &[7; SALT_LEN], &[9; NONCE_LEN]);
        let v: serde_json::Value = serde_json::from_str(&sealed).expect("JSON");
        assert_eq!(v["kdf"]["name"], "scrypt");
        assert_eq!(
            v["kdf"]["params"],
            serde_json::json!({"N": 32768, "r": 8, "p": 1})
        );
        assert_eq!(v["kdf"]["salt"], b64(&[7; SALT_LEN]));
        assert_eq!(v["cipher"]["name"], "nacl/secretbox");
        assert_eq!(v["cipher"]["nonce"], b64(&[9; NONCE_LEN]));
        // secretbox: a 16-byte tag before the 6 encrypted bytes.
        let ct = v["ciphertext"].as_str().expect("ciphertext");
        use base64ct::Encoding;
        assert_eq!(base64ct::Base64::decode_vec(ct).expect("b64").len(), 16 + 6);
        let pem = pem_rfc7468::encode_string(PRIVATE_KEY_LABEL, LineEnding::LF, sealed.as_bytes())
            .expect("pem");
        assert_eq!(&decrypt(&pem, b"pw", "k").expect("open")[..], b"secret");
        // Tampering with the ciphertext is detected.
        let mut bad = base64ct::Base64::decode_vec(ct).expect("b64");
        bad[20] ^= 1;
        let tampered = sealed.replace(ct, &b64(&bad));
        let pem =
            pem_rfc7468::encode_string(PRIVATE_KEY_LABEL, LineEnding::LF, tampered.as_bytes())
                .expect("pem");
        assert!(matches!(
            decrypt(&pem, b"pw", "k"),
            Err(KeyError::Decrypt { .. })
        ));
    }

    #[test]
    fn other_pem_blocks_and_parameters_are_refused() {
        let pem = pem_rfc7468::encode_string("PRIVATE KEY", LineEnding::LF, b"{}").expect("pem");
        let e = decrypt(&pem, b"", "k.key").expect_err("label");
        assert!(e.to_string().contains("PEM label"), "{e}");
        let sealed = seal(b"x", b"", &[1; SALT_LEN], &[2; NONCE_LEN]).replace("32768", "1024");
        let pem = pem_rfc7468::encode_string(PRIVATE_KEY_LABEL, LineEnding::LF, sealed.as_bytes())
            .expect("pem");
        let e = decrypt(&pem, b"", "k.key").expect_err("params");
        assert!(e.to_string().contains("N=1024"), "{e}");
    }

    #[test]
    fn signatures_verify_with_the_public_key() {
        use p256::ecdsa::signature::Verifier;
        use p256::pkcs8::DecodePublicKey;
        let pair = generate(b"").expect("generate");
        let der = decrypt(&pair.private_pem, b"", "k").expect("decrypt");
        let signer = Signer::from_pkcs8(&der, "k").expect("P-256");
        let s = signer.sign(
            "sha256:00ff",
            "127.0.0.1:5000/os/base:latest",
            "particle",
            7,
        );
        assert_eq!(
            String::from_utf8(s.payload.clone()).expect("utf-8"),
            r#"{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/os/base:latest"},"image":{"docker-manifest-digest":"sha256:00ff"},"type":"cosign container image signature"},"optional":{"creator":"particle","timestamp":7}}"#
        );
        use base64ct::Encoding;
        let der_sig = base64ct::Base64::decode_vec(&s.signature).expect("b64");
        let sig = p256::ecdsa::Signature::from_der(&der_sig).expect("DER");
        let public = p256::ecdsa::VerifyingKey::from_public_key_pem(&pair.public_pem).expect("pem");
        public.verify(&s.payload, &sig).expect("verifies");
        let mut other = s.payload.clone();
        other[20] ^= 1;
        assert!(public.verify(&other, &sig).is_err());
    }

    #[test]
    fn signatures_are_verified_and_their_payloads_read_strictly() {
        let pair = generate(b"").expect("generate");
        let other = generate(b"").expect("generate");
        let signer = Signer::from_pkcs8(&decrypt(&pair.private_pem, b"", "k").expect("key"), "k")
            .expect("P-256");
        let key = public_key_from_pem(pair.public_pem.as_bytes(), "k.pub").expect("public");
        let other_key = public_key_from_pem(other.public_pem.as_bytes(), "o.pub").expect("public");
        let digest = format!("sha256:{}", "ab".repeat(32));
        let s = signer.sign(&digest, "h.org/p:latest", "particle", 7);
        let claims = verify_payload(&[other_key, key], &s.payload, &s.signature).expect("verifies");
        assert_eq!(claims.manifest_digest, digest);
        assert_eq!(claims.reference, "h.org/p:latest");
        assert_eq!(
            verify_payload(&[other_key], &s.payload, &s.signature),
            Err(SignatureError::Crypto { keys: 1 })
        );
        // One character of the signature changed (within the DER's s value), or the payload.
        let mut flipped = s.signature.clone().into_bytes();
        flipped[80] = if flipped[80] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).expect("ascii");
        assert!(matches!(
            verify_payload(&[key], &s.payload, &flipped),
            Err(SignatureError::Crypto { .. })
        ));
        let mut payload = s.payload.clone();
        payload[30] ^= 1;
        assert!(verify_payload(&[key], &payload, &s.signature).is_err());
        assert!(matches!(
            verify_payload(&[key], &s.payload, "not base64!"),
            Err(SignatureError::Base64(_))
        ));
        // Payloads that verify but are not what containers/image writes are refused.
        use p256::ecdsa::signature::Signer as _;
        let sign = |p: &str| {
            let sig: p256::ecdsa::Signature = signer.key.sign(p.as_bytes());
            b64(sig.to_der().as_bytes())
        };
        let good = r#"{"critical":{"identity":{"docker-reference":"h.org/p:1"},"image":{"docker-manifest-digest":"DIGEST"},"type":"cosign container image signature"},"optional":null}"#
            .replace("DIGEST", &digest);
        assert!(verify_payload(&[key], good.as_bytes(), &sign(&good)).is_ok());
        for bad in [
            good.replace("cosign container", "atomic container"),
            good.replace(r#""optional":null"#, r#""optional":{"timestamp":1.5}"#),
            good.replace(r#","optional":null"#, ""),
            good.replace(r#""type""#, r#""type":"x","type""#),
            good.replace(r#""image":{"#, r#""image":{"extra":1,"#),
            good.replace(&digest, "sha256:00"),
        ] {
            let e = verify_payload(&[key], bad.as_bytes(), &sign(&bad)).expect_err(&bad);
            assert!(matches!(e, SignatureError::Payload(_)), "{bad}: {e}");
        }
        let rsa_ish =
            pem_rfc7468::encode_string("PUBLIC KEY", LineEnding::LF, b"junk").expect("pem");
        assert!(public_key_from_pem(rsa_ish.as_bytes(), "x.pub").is_err());
    }

    #[test]
    fn the_passphrase_is_the_first_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("pass");
        std::fs::write(&f, "s3cret\nsecond line\n").expect("write");
        assert_eq!(&read_passphrase_file(&f).expect("read")[..], b"s3cret");
        std::fs::write(&f, "").expect("write");
        assert_eq!(&read_passphrase_file(&f).expect("read")[..], b"");
    }

    #[test]
    fn key_files_are_written_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let prefix = dir.path().join("signing");
        let files = write_key_pair(&prefix, b"").expect("write");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files.private_key)
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let signer = open_private_key(&files.private_key, b"").expect("opens");
        let public = std::fs::read_to_string(&files.public_key).expect("public key");
        assert_eq!(signer.public_pem(), public);
        assert!(matches!(
            write_key_pair(&prefix, b""),
            Err(KeyError::Exists { .. })
        ));
    }
}
