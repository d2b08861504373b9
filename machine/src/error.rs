//! One error type for the crate, with a stable kind that the command line prints and maps to
//! exit codes.

use std::fmt;

/// What went wrong, stable across releases (the `kind` of particle's JSON errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A malformed argument (a stateroot with a slash, a size that does not parse).
    Usage,
    /// The output exists already.
    Exists,
    /// The commit has no kernel.
    NoKernel,
    /// The commit has a kernel but no initramfs.
    NoInitramfs,
    /// The commit lacks the boot loader files the chosen firmware needs.
    NoBootloader,
    /// The disk is too small for the tree.
    TooSmall,
    /// The commit is not in the repository.
    MissingCommit,
    /// libostree failed to read a repository or sysroot.
    Ostree,
    /// The directory is not an OSTree sysroot.
    NoSysroot,
    /// `ostree admin ...` failed while deploying.
    Deploy,
    /// `ostree static-delta ...` failed.
    Delta,
    /// A host tool the operation needs failed or is missing (`mkfs.ext4`, `grub-mkimage`, ...).
    Tool,
    /// A file system operation failed.
    Io,
    /// Not enough free space for the new deployment (`/boot` or the sysroot), found before
    /// anything was changed.
    NoSpace,
    /// The machine's own state (its journal and store in `/var/lib/particle`) could not be
    /// set up.
    MachineState,
    /// Exporting a commit as an image (`oci::export`) failed.
    Export,
    /// Copying an image to a registry (`skopeo copy`) failed.
    Push,
    /// A signing key could not be made, read or opened with its passphrase.
    Key,
    /// Reading an image from a registry (`skopeo inspect`/`copy`) failed, or what it served is
    /// not what was verified.
    Pull,
    /// An image signature policy (containers-policy.json) does not parse, or uses what particle
    /// does not evaluate.
    BadPolicy,
    /// The image signature policy does not accept the image.
    Rejected,
}

impl ErrorKind {
    /// The stable name (`no_kernel`, `too_small`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Usage => "usage",
            ErrorKind::Exists => "exists",
            ErrorKind::NoKernel => "no_kernel",
            ErrorKind::NoInitramfs => "no_initramfs",
            ErrorKind::NoBootloader => "no_bootloader",
            ErrorKind::TooSmall => "too_small",
            ErrorKind::MissingCommit => "missing_commit",
            ErrorKind::Ostree => "ostree",
            ErrorKind::NoSysroot => "no_sysroot",
            ErrorKind::Deploy => "deploy",
            ErrorKind::Delta => "delta",
            ErrorKind::Tool => "tool",
            ErrorKind::Io => "io",
            ErrorKind::NoSpace => "no_space",
            ErrorKind::MachineState => "machine_state",
            ErrorKind::Export => "export",
            ErrorKind::Push => "push",
            ErrorKind::Key => "key",
            ErrorKind::Pull => "pull",
            ErrorKind::BadPolicy => "bad_policy",
            ErrorKind::Rejected => "rejected",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with its kind, a message for people, and optionally what to do about it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    hint: Option<String>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            source: None,
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn io(action: impl fmt::Display, path: &std::path::Path, e: std::io::Error) -> Self {
        Error {
            kind: ErrorKind::Io,
            message: format!("could not {action} {}: {e}", path.display()),
            hint: None,
            source: Some(Box::new(e)),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn hint_text(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl From<crate::oci::OciError> for Error {
    /// Kind [`ErrorKind::Export`], the same message, the [`crate::oci::OciError`] as the source.
    fn from(e: crate::oci::OciError) -> Self {
        Error {
            kind: ErrorKind::Export,
            message: e.to_string(),
            hint: None,
            source: Some(Box::new(e)),
        }
    }
}

impl From<crate::sigstore::KeyError> for Error {
    /// Kind [`ErrorKind::Key`] ([`ErrorKind::Exists`] for a key file that exists), the same
    /// message, the [`crate::sigstore::KeyError`] as the source.
    fn from(e: crate::sigstore::KeyError) -> Self {
        use crate::sigstore::KeyError as K;
        let (kind, hint) = match &e {
            K::Exists { .. } => (ErrorKind::Exists, Some("choose another PREFIX, or remove the old key pair")),
            K::Decrypt { .. } => (ErrorKind::Key, Some("give the passphrase the key was generated with (--passphrase-file: its first line)")),
            K::Malformed { .. } => (ErrorKind::Key, Some("create a key with `particle key generate --sigstore PREFIX` (or cosign)")),
            _ => (ErrorKind::Key, None),
        };
        Error {
            kind,
            message: e.to_string(),
            hint: hint.map(str::to_owned),
            source: Some(Box::new(e)),
        }
    }
}

impl From<crate::policy::PolicyError> for Error {
    /// Kind [`ErrorKind::BadPolicy`], the same message, the policy error as the source.
    fn from(e: crate::policy::PolicyError) -> Self {
        Error {
            kind: ErrorKind::BadPolicy,
            message: e.to_string(),
            hint: Some(
                "give a containers-policy.json(5) file with --policy (docs/registry.md)".to_owned(),
            ),
            source: Some(Box::new(e)),
        }
    }
}
