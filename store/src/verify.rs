//! OpenPGP verification of InRelease files with `gpgv`, the verifier apt itself uses.
//!
//! gpgv runs in a throwaway `GNUPGHOME` with only the source's keyring, so nothing on the host
//! widens trust. Its machine-readable status output decides; its verified output must equal the
//! text [`split_clearsigned`] extracted, so only signed bytes are ever parsed.

use crate::release::{split_clearsigned, ClearsignError};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why an InRelease file was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("InRelease is not a valid clearsigned file: {0}")]
    Framing(#[from] ClearsignError),
    #[error("could not read keyring {path}: {source}")]
    Keyring {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not run gpgv (install the gpgv package): {0}")]
    Spawn(#[source] std::io::Error),
    #[error("bad signature on InRelease (key {key}): the file was modified or corrupted")]
    BadSignature { key: String },
    #[error("InRelease is signed by key {keys}, which is not in keyring {keyring}")]
    UnknownKey { keys: String, keyring: PathBuf },
    #[error("InRelease signature by key {key} uses weak digest algorithm {algo}: refused")]
    WeakDigest { key: String, algo: String },
    #[error("InRelease signature by key {key} is {state}")]
    KeyState { key: String, state: &'static str },
    #[error("InRelease has no valid signature (gpgv: {0})")]
    NoValidSignature(String),
    #[error("the text gpgv verified differs from the text particle would parse: refused")]
    TextMismatch,
    #[error("I/O error while verifying: {0}")]
    Io(#[from] std::io::Error),
}

/// A verified InRelease: the signed text and the fingerprints of the keys that signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub text: String,
    pub signers: Vec<String>,
}

/// Verifies `inrelease` against the OpenPGP keyring at `keyring` (binary or armored).
pub fn verify_inrelease(inrelease: &[u8], keyring: &Path) -> Result<Verified, VerifyError> {
    let split = split_clearsigned(inrelease)?;
    let home = tempfile::tempdir()?;
    let keyring_bytes = std::fs::read(keyring).map_err(|source| VerifyError::Keyring {
        path: keyring.to_owned(),
        source,
    })?;
    let keyring_path = if keyring_bytes.starts_with(b"-----BEGIN PGP") {
        let dearmored = home.path().join("keyring.gpg");
        let out = Command::new("gpg")
            .arg("--homedir")
            .arg(home.path())
            .args(["--batch", "--quiet", "--yes", "--dearmor", "--output"])
            .arg(&dearmored)
            .arg(keyring)
            .stderr(Stdio::null())
            .status()
            .map_err(VerifyError::Spawn)?;
        if !out.success() {
            return Err(VerifyError::Keyring {
                path: keyring.to_owned(),
                source: std::io::Error::other("gpg --dearmor could not read the armored keyring"),
            });
        }
        dearmored
    } else {
        std::fs::canonicalize(keyring).map_err(|source| VerifyError::Keyring {
            path: keyring.to_owned(),
            source,
        })?
    };
    let input = home.path().join("InRelease");
    let output = home.path().join("Release");
    std::fs::write(&input, inrelease)?;
    let out = Command::new("gpgv")
        .env("GNUPGHOME", home.path())
        .env("LC_ALL", "C")
        .arg("--homedir")
        .arg(home.path())
        .args(["--status-fd", "1", "--keyring"])
        .arg(&keyring_path)
        .arg("--output")
        .arg(&output)
        .arg(&input)
        .stdin(Stdio::null())
        .output()
        .map_err(VerifyError::Spawn)?;
    let status = String::from_utf8_lossy(&out.stdout);
    let verdict = judge_status(&status, keyring);
    let verified = verdict.and_then(|signers| {
        if !out.status.success() {
            return Err(VerifyError::NoValidSignature(first_line(&out.stderr)));
        }
        Ok(signers)
    })?;
    let text = std::fs::read_to_string(&output)?;
    if normalize(&text) != normalize(&split.text) {
        return Err(VerifyError::TextMismatch);
    }
    Ok(Verified {
        text: split.text,
        signers: verified,
    })
}

fn first_line(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output")
        .to_owned()
}

fn normalize(s: &str) -> &str {
    s.trim_end_matches(['\n', '\r'])
}

/// Decides from gpgv's `--status-fd` lines, as apt does: any BADSIG refuses; otherwise at least
/// one VALIDSIG with a strong digest is required.
fn judge_status(status: &str, keyring: &Path) -> Result<Vec<String>, VerifyError> {
    let mut valid = Vec::new();
    let mut missing = Vec::new();
    let mut weak = None;
    let mut state = None;
    for line in status.lines() {
        let Some(rest) = line.strip_prefix("[GNUPG:] ") else {
            continue;
        };
        let mut f = rest.split_whitespace();
        match f.next() {
            Some("BADSIG") => {
                return Err(VerifyError::BadSignature {
                    key: f.next().unwrap_or("?").to_owned(),
                });
            }
            Some("VALIDSIG") => {
                let fields: Vec<&str> = f.collect();
                let fpr = fields.first().copied().unwrap_or("?").to_owned();
                // VALIDSIG <fpr> <date> <ts> <expire> <ver> <reserved> <pk-algo> <hash-algo> <class> <primary>
                let hash_algo = fields.get(7).copied().unwrap_or("0");
                match hash_algo {
                    "1" | "2" | "3" => weak = Some((fpr, digest_name(hash_algo))),
                    _ => valid.push(fields.get(9).copied().unwrap_or(&fpr).to_owned()),
                }
            }
            Some("NO_PUBKEY") => missing.extend(f.next().map(str::to_owned)),
            Some("EXPKEYSIG") => {
                state = Some((f.next().unwrap_or("?").to_owned(), "made by an expired key"))
            }
            Some("REVKEYSIG") => {
                state = Some((f.next().unwrap_or("?").to_owned(), "made by a revoked key"))
            }
            Some("EXPSIG") => state = Some((f.next().unwrap_or("?").to_owned(), "expired")),
            _ => {}
        }
    }
    if !valid.is_empty() {
        valid.sort();
        valid.dedup();
        return Ok(valid);
    }
    if let Some((key, algo)) = weak {
        return Err(VerifyError::WeakDigest {
            key,
            algo: algo.to_owned(),
        });
    }
    if let Some((key, state)) = state {
        return Err(VerifyError::KeyState { key, state });
    }
    if !missing.is_empty() {
        return Err(VerifyError::UnknownKey {
            keys: missing.join(", "),
            keyring: keyring.to_owned(),
        });
    }
    Err(VerifyError::NoValidSignature("no VALIDSIG status".into()))
}

fn digest_name(id: &str) -> &'static str {
    match id {
        "1" => "MD5",
        "2" => "SHA1",
        "3" => "RIPEMD160",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_rules() {
        let k = Path::new("k.gpg");
        let good =
            "[GNUPG:] GOODSIG AB x\n[GNUPG:] VALIDSIG FPR 2026-07-11 1 0 4 0 1 8 01 PRIMARY\n";
        assert_eq!(
            judge_status(good, k).expect("valid"),
            vec!["PRIMARY".to_owned()]
        );
        let bad = format!("{good}[GNUPG:] BADSIG CD y\n");
        assert!(matches!(
            judge_status(&bad, k),
            Err(VerifyError::BadSignature { .. })
        ));
        let weak = "[GNUPG:] VALIDSIG FPR 2026-07-11 1 0 4 0 1 2 01 PRIMARY\n";
        assert!(matches!(
            judge_status(weak, k),
            Err(VerifyError::WeakDigest { .. })
        ));
        let unknown = "[GNUPG:] ERRSIG AB 1 8 01 1 9\n[GNUPG:] NO_PUBKEY AB\n";
        assert!(matches!(
            judge_status(unknown, k),
            Err(VerifyError::UnknownKey { .. })
        ));
        assert!(matches!(
            judge_status("", k),
            Err(VerifyError::NoValidSignature(_))
        ));
    }
}
