//! OpenPGP signatures for what particle publishes: detached signatures made with `gpg` from a
//! secret key file, verified with `gpgv` against a keyring, each in a throwaway home directory
//! so that nothing on the host (its keys, its trust database) takes part. libostree signs
//! commits and summaries itself, in the same home directory ([`Signer::homedir`]).

use crate::{Error, ErrorKind, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A secret key imported into a private GnuPG home for one publish.
#[derive(Debug)]
pub struct Signer {
    home: tempfile::TempDir,
    fingerprint: String,
}

fn tool(what: &str, e: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Tool,
        format!("could not run {what}: {e} (install the gnupg and gpgv packages)"),
    )
}

fn failed(what: &str, out: &std::process::Output) -> Error {
    Error::new(
        ErrorKind::Tool,
        format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
    )
}

impl Signer {
    /// Imports the secret key in `path` (armored or binary, without a passphrase).
    pub fn from_key_file(path: &Path) -> Result<Signer> {
        let home = tempfile::Builder::new()
            .prefix("particle-gpg-")
            .tempdir()
            .map_err(|e| Error::new(ErrorKind::Io, format!("could not make a GnuPG home: {e}")))?;
        let mut s = Signer {
            home,
            fingerprint: String::new(),
        };
        let out = s
            .gpg()
            .arg("--import")
            .arg(path)
            .output()
            .map_err(|e| tool("gpg", e))?;
        if !out.status.success() {
            return Err(Error::new(
                ErrorKind::Keyring,
                format!(
                    "could not import the signing key {}: {}",
                    path.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            ));
        }
        let out = s
            .gpg()
            .args(["--with-colons", "--list-secret-keys"])
            .output()
            .map_err(|e| tool("gpg", e))?;
        let text = String::from_utf8_lossy(&out.stdout);
        // The first `fpr` line after the first `sec` line: the primary key's fingerprint.
        let fingerprint = text
            .lines()
            .skip_while(|l| !l.starts_with("sec:"))
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .filter(|f| !f.is_empty())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Keyring,
                    format!("{} holds no secret key to sign with", path.display()),
                )
                .hint("export one with `gpg --export-secret-keys KEYID > FILE` (without a passphrase)")
            })?
            .to_owned();
        s.fingerprint = fingerprint;
        Ok(s)
    }

    fn gpg(&self) -> Command {
        let mut c = Command::new("gpg");
        c.arg("--homedir").arg(self.home.path()).args([
            "--batch",
            "--quiet",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ]);
        c
    }

    /// The signing key's fingerprint (what `ostree --gpg-sign` takes).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The GnuPG home holding the key (what `ostree --gpg-homedir` takes).
    pub fn homedir(&self) -> &Path {
        self.home.path()
    }

    /// Writes `file.sig`, a detached binary signature of `file`.
    pub fn sign_detached(&self, file: &Path) -> Result<PathBuf> {
        let mut sig = file.as_os_str().to_owned();
        sig.push(".sig");
        let sig = PathBuf::from(sig);
        let out = self
            .gpg()
            .args([
                "--yes",
                "--local-user",
                &self.fingerprint,
                "--detach-sign",
                "--output",
            ])
            .arg(&sig)
            .arg(file)
            .output()
            .map_err(|e| tool("gpg", e))?;
        if !out.status.success() {
            return Err(failed("gpg --detach-sign", &out));
        }
        Ok(sig)
    }

    /// The public key, as a binary keyring that `gpgv` and `ostree --gpg-import` read.
    pub fn public_keyring(&self) -> Result<Vec<u8>> {
        let out = self
            .gpg()
            .args(["--export", &self.fingerprint])
            .output()
            .map_err(|e| tool("gpg", e))?;
        if !out.status.success() || out.stdout.is_empty() {
            return Err(failed("gpg --export", &out));
        }
        Ok(out.stdout)
    }
}

/// Checks that `sig` is a good signature of `data` by a key of `keyring` (a binary OpenPGP
/// keyring, as `gpg --export` writes it); else `signature`, naming what did not verify.
pub fn verify_detached(keyring: &Path, data: &Path, sig: &Path) -> Result<()> {
    let home = tempfile::Builder::new()
        .prefix("particle-gpgv-")
        .tempdir()
        .map_err(|e| Error::new(ErrorKind::Io, format!("could not make a GnuPG home: {e}")))?;
    let out = Command::new("gpgv")
        .arg("--homedir")
        .arg(home.path())
        .arg("--keyring")
        .arg(keyring)
        .arg(sig)
        .arg(data)
        .output()
        .map_err(|e| tool("gpgv", e))?;
    if !out.status.success() {
        return Err(Error::new(
            ErrorKind::Signature,
            format!(
                "{} has no good signature by a key of {}: {}",
                data.display(),
                keyring.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        )
        .hint("nothing was used; check that the keyring is the publisher's"));
    }
    Ok(())
}
