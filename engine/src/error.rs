//! What kind of failure an error is: a closed, stable set of names that scripts match on
//! (`--json` prints it as `"kind"`; `docs/cli.md` lists them). The command line maps each kind to
//! an exit status and a hint; the libraries below produce their own error types, which the
//! engine and the command line classify into these.

use std::fmt;

/// A failure with what a front end needs to report it: its kind, one line saying what failed on
/// which file/package/transaction, what to do about it, and the lower error it came from.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    hint: Option<String>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// What engine functions return.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            source: None,
        }
    }

    /// Adds what to do about it.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Keeps the lower error this one came from.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
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

    /// Bad usage (exit 2 on the command line).
    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Usage, message)
    }

    /// `kind` with `message`, or `no_space` with its hint when a full file system is what
    /// failed underneath `e`; `e` is kept as the source.
    pub fn classify(
        kind: ErrorKind,
        message: impl Into<String>,
        e: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        let kind = if is_no_space(&e) {
            ErrorKind::NoSpace
        } else {
            kind
        };
        let out = Error::new(kind, message).with_source(e);
        if kind == ErrorKind::NoSpace {
            out.hint(NO_SPACE_HINT)
        } else {
            out
        }
    }
}

/// The hint for a full filesystem: nothing was lost, what to do.
pub const NO_SPACE_HINT: &str =
    "free space on that filesystem and run the command again; nothing was committed, the previous state is in force";

/// Whether `e` itself is the filesystem running out of space (ENOSPC, EDQUOT, OSTree's
/// free-space reserve): an `io::Error` of that kind, or the text of one (GLib errors carry only
/// a message).
pub fn is_no_space_one(e: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        if matches!(
            io.kind(),
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
        ) {
            return true;
        }
    }
    // OSTree also refuses a write that would eat into its reserve (`min-free-space-percent`),
    // and a static delta bigger than the space left ("Delta requires 194.5 MB free space, but
    // only 55.1 MB available").
    let text = e.to_string();
    text.contains("No space left on device")
        || text.contains("Disk quota exceeded")
        || text.contains("min-free-space")
        || (text.contains("Delta requires") && text.contains("free space, but only"))
}

/// Whether `e` or any of its causes is a full filesystem.
pub fn is_no_space(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(c) = cur {
        if is_no_space_one(c) {
            return true;
        }
        cur = c.source();
    }
    false
}

/// `e` and its causes in one line, each cause once.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// The engine kind of a `machine` kind: the one of the same name.
pub fn machine_kind(k: machine::ErrorKind) -> ErrorKind {
    use machine::ErrorKind as M;
    match k {
        M::Usage => ErrorKind::Usage,
        M::Exists => ErrorKind::Exists,
        M::NoKernel => ErrorKind::NoKernel,
        M::NoInitramfs => ErrorKind::NoInitramfs,
        M::NoBootloader => ErrorKind::NoBootloader,
        M::TooSmall => ErrorKind::TooSmall,
        M::MissingCommit => ErrorKind::MissingCommit,
        M::Ostree => ErrorKind::Ostree,
        M::NoSysroot => ErrorKind::NoSysroot,
        M::Deploy => ErrorKind::Deploy,
        M::Delta => ErrorKind::Delta,
        M::Tool => ErrorKind::Tool,
        M::Io => ErrorKind::Io,
        M::NoSpace => ErrorKind::NoSpace,
        M::MachineState => ErrorKind::MachineState,
        M::Export => ErrorKind::Export,
        M::Push => ErrorKind::Push,
        M::Key => ErrorKind::Key,
        M::Pull => ErrorKind::Pull,
        M::BadPolicy => ErrorKind::BadPolicy,
        M::Rejected => ErrorKind::Rejected,
        _ => ErrorKind::Failed,
    }
}

/// What to do about a read-only state directory.
pub const READ_ONLY_HINT: &str =
    "remount it read-write, or work on a copy with --root (reading commands work on it as it is)";

/// Whether `e` is an I/O error of a read-only file system (redb wraps it in its own error, whose
/// `source` is not set, so its message is checked too).
pub fn is_read_only(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::ReadOnlyFilesystem)
        || e.to_string()
            .contains("Read-only file system (os error 30)")
}

impl From<store::StoreError> for Error {
    /// The store's failures by kind, with what to do about the ones users can fix; a read-only
    /// file system anywhere underneath is `read_only`, whatever the operation was.
    fn from(e: store::StoreError) -> Self {
        use store::StoreError as S;
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(c) = cause {
            if is_read_only(c) {
                return Error::new(ErrorKind::ReadOnly, e.to_string())
                    .hint(READ_ONLY_HINT)
                    .with_source(e);
            }
            cause = c.source();
        }
        let kind = match &e {
            S::NotAStore { .. } => ErrorKind::NotAStateDir,
            S::UnknownSource(_) => ErrorKind::UnknownSource,
            S::DuplicateSource(_) => ErrorKind::DuplicateSource,
            S::Verify { .. } => ErrorKind::Signature,
            S::Release { .. } => ErrorKind::Release,
            S::IndexHash { .. } => ErrorKind::HashMismatch,
            S::Index { .. } => ErrorKind::BadIndex,
            S::Fetch { .. } => ErrorKind::Fetch,
            S::Cas(store::CasError::Corrupt { .. }) => ErrorKind::CorruptObject,
            S::Snapshot(..) => ErrorKind::CorruptObject,
            S::NothingPinned => ErrorKind::NoSnapshot,
            _ => ErrorKind::Store,
        };
        let hint = match &e {
            S::NotAStore { .. } => Some(
                "create one with `particle init`, or point --root at an existing state directory",
            ),
            S::NothingPinned => Some("run `particle repo update` first"),
            S::Verify { .. } => {
                Some("check the source's --keyring; the previous snapshot stays pinned")
            }
            S::IndexHash { .. } | S::Release { .. } => {
                Some("the mirror may be corrupt or mid-sync; the previous snapshot stays pinned")
            }
            S::Cas(store::CasError::Corrupt { .. }) => {
                Some("remove the named object and fetch it again")
            }
            _ => None,
        };
        let mut out = Error::new(kind, e.to_string());
        out.hint = hint.map(str::to_owned);
        out.with_source(e)
    }
}

impl From<machine::Error> for Error {
    /// Same kind, message and hint; the machine error is kept as the source.
    fn from(e: machine::Error) -> Self {
        let mut out = Error::new(machine_kind(e.kind()), e.message());
        out.hint = e.hint_text().map(str::to_owned);
        out.with_source(e)
    }
}

/// The kind of a failure. Its name ([`ErrorKind::as_str`]) is stable: new kinds may be added,
/// none renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `usage`: bad usage: a wrong argument or combination (exit 2).
    Usage,
    /// `reported`: a failure the command's own output already reported (a `--json` status document with a `problem`): only the exit status is left to give.
    Reported,
    /// `failed`: an operation failed for a reason no other kind names.
    Failed,
    /// `internal`: a bug: something particle itself produced does not parse back.
    Internal,
    /// `io`: reading or writing a file failed.
    Io,
    /// `no_space`: a file system (or a machine's `/boot`) is full or too small; nothing was committed.
    NoSpace,
    /// `read_only`: the state directory (or what a command writes) is on a read-only file system.
    ReadOnly,
    /// `permission`: the state directory cannot be written by this user.
    Permission,
    /// `locked`: another particle process holds the state directory.
    Locked,
    /// `not_a_state_dir`: the root is not a particle state directory.
    NotAStateDir,
    /// `exists`: what a command would create already exists.
    Exists,
    /// `no_sources`: no package source is configured.
    NoSources,
    /// `bad_sources`: the sources file does not parse.
    BadSources,
    /// `bad_preferences`: the preferences (apt pins) do not parse, or a pin names a package no source has.
    BadPreferences,
    /// `unknown_source`: no source has that name.
    UnknownSource,
    /// `duplicate_source`: a source with that name exists.
    DuplicateSource,
    /// `keyring`: a source's keyring cannot be read.
    Keyring,
    /// `signature`: a Release file's signature does not verify.
    Signature,
    /// `release`: a Release file is malformed or does not list an index.
    Release,
    /// `hash_mismatch`: an index does not match the hash its Release file gives.
    HashMismatch,
    /// `bad_index`: an index does not parse.
    BadIndex,
    /// `fetch`: downloading a file failed.
    Fetch,
    /// `corrupt_object`: a stored object does not match its hash.
    CorruptObject,
    /// `no_snapshot`: nothing is pinned yet (`repo update` first).
    NoSnapshot,
    /// `store`: the package store failed.
    Store,
    /// `unknown_package`: no source offers that package.
    UnknownPackage,
    /// `not_installed`: the package is not installed.
    NotInstalled,
    /// `unsatisfiable`: the request cannot be satisfied; the message explains why.
    Unsatisfiable,
    /// `missing_deb`: a package's `.deb` is not in the store.
    MissingDeb,
    /// `materialize`: building the tree or its commit failed; nothing was committed.
    Materialize,
    /// `journal`: appending to or reading the journal failed.
    Journal,
    /// `journal_corrupt`: the journal's hash chain or a record does not verify.
    JournalCorrupt,
    /// `query`: a journal query failed.
    Query,
    /// `unknown_txn`: no transaction has that number or id.
    UnknownTxn,
    /// `no_transactions`: the variant has no transactions yet.
    NoTransactions,
    /// `no_reason`: a transaction that needs `--reason` was given none.
    NoReason,
    /// `not_reproducible`: a rebuilt commit differs from the recorded one.
    NotReproducible,
    /// `ref_mismatch`: a ref does not point where the journal says.
    RefMismatch,
    /// `missing_commit`: a recorded commit is not in the repository.
    MissingCommit,
    /// `same_commit`: both commits of a delta are the same.
    SameCommit,
    /// `ostree`: an OSTree operation failed.
    Ostree,
    /// `bisect`: a bisect session is in a state that does not allow the command.
    Bisect,
    /// `bad_status`: a tree's dpkg status does not parse.
    BadStatus,
    /// `bad_profile`: a boot or hardware profile setting is invalid.
    BadProfile,
    /// `unknown_variant`: no variant has that name.
    UnknownVariant,
    /// `variant_exists`: a variant with that name exists.
    VariantExists,
    /// `empty_variant`: the variant has no packages.
    EmptyVariant,
    /// `bad_definition`: a variant definition does not parse or is inconsistent.
    BadDefinition,
    /// `empty_definition`: a variant definition names no packages.
    EmptyDefinition,
    /// `not_a_child`: the variant has no parent to rebase on.
    NotAChild,
    /// `parent_mismatch`: the variant's parent is not the one named.
    ParentMismatch,
    /// `not_in_lineage`: the transaction is not in the variant's lineage.
    NotInLineage,
    /// `rebase_conflict`: a rebase cannot keep the child's own changes.
    RebaseConflict,
    /// `export`: exporting an image failed.
    Export,
    /// `delta`: generating or applying a static delta failed.
    Delta,
    /// `deploy`: deploying into a sysroot failed.
    Deploy,
    /// `no_sysroot`: the directory is not an OSTree sysroot.
    NoSysroot,
    /// `no_kernel`: the commit has no kernel.
    NoKernel,
    /// `no_initramfs`: the commit has no initramfs.
    NoInitramfs,
    /// `no_bootloader`: the commit has no GRUB.
    NoBootloader,
    /// `too_small`: the image size is too small for the tree.
    TooSmall,
    /// `tool`: a host tool failed or is missing; the message has its command line and output.
    Tool,
    /// `machine_state`: a machine's state directory could not be set up.
    MachineState,
    /// `not_deployed`: a machine's journal head is not what boots next.
    NotDeployed,
    /// `nothing_staged`: there is no staged deployment to drop.
    NothingStaged,
    /// `no_rollback`: there is no rollback deployment made by particle.
    NoRollback,
    /// `own_package`: particle's own package archive did not verify.
    OwnPackage,
    /// `unknown_remote`: the machine has no remote of that name (or none at all).
    UnknownRemote,
    /// `downgrade`: what a remote offers is older than what the machine runs.
    Downgrade,
    /// `not_published`: the remote publishes no such variant.
    NotPublished,
    /// `bad_bundle`: an update bundle is malformed, for another variant, or does not continue the machine's chain.
    BadBundle,
    /// `push`: copying an image to a registry failed; the message has skopeo's command line and output.
    Push,
    /// `key`: a signing key could not be made, read or opened with its passphrase.
    Key,
    /// `pull`: reading an image from a registry failed, or what it served is not what was verified; the message has skopeo's command line and output.
    Pull,
    /// `bad_policy`: an image signature policy (containers-policy.json) does not parse, or uses what particle does not evaluate.
    BadPolicy,
    /// `rejected`: the image signature policy does not accept the image (a signature missing, by another key, for another image or reference, or tampered with).
    Rejected,
}

impl ErrorKind {
    /// Every kind, in the order `docs/cli.md` lists them.
    pub const ALL: &'static [ErrorKind] = &[
        ErrorKind::Usage,
        ErrorKind::Reported,
        ErrorKind::Failed,
        ErrorKind::Internal,
        ErrorKind::Io,
        ErrorKind::NoSpace,
        ErrorKind::ReadOnly,
        ErrorKind::Permission,
        ErrorKind::Locked,
        ErrorKind::NotAStateDir,
        ErrorKind::Exists,
        ErrorKind::NoSources,
        ErrorKind::BadSources,
        ErrorKind::BadPreferences,
        ErrorKind::UnknownSource,
        ErrorKind::DuplicateSource,
        ErrorKind::Keyring,
        ErrorKind::Signature,
        ErrorKind::Release,
        ErrorKind::HashMismatch,
        ErrorKind::BadIndex,
        ErrorKind::Fetch,
        ErrorKind::CorruptObject,
        ErrorKind::NoSnapshot,
        ErrorKind::Store,
        ErrorKind::UnknownPackage,
        ErrorKind::NotInstalled,
        ErrorKind::Unsatisfiable,
        ErrorKind::MissingDeb,
        ErrorKind::Materialize,
        ErrorKind::Journal,
        ErrorKind::JournalCorrupt,
        ErrorKind::Query,
        ErrorKind::UnknownTxn,
        ErrorKind::NoTransactions,
        ErrorKind::NoReason,
        ErrorKind::NotReproducible,
        ErrorKind::RefMismatch,
        ErrorKind::MissingCommit,
        ErrorKind::SameCommit,
        ErrorKind::Ostree,
        ErrorKind::Bisect,
        ErrorKind::BadStatus,
        ErrorKind::BadProfile,
        ErrorKind::UnknownVariant,
        ErrorKind::VariantExists,
        ErrorKind::EmptyVariant,
        ErrorKind::BadDefinition,
        ErrorKind::EmptyDefinition,
        ErrorKind::NotAChild,
        ErrorKind::ParentMismatch,
        ErrorKind::NotInLineage,
        ErrorKind::RebaseConflict,
        ErrorKind::Export,
        ErrorKind::Delta,
        ErrorKind::Deploy,
        ErrorKind::NoSysroot,
        ErrorKind::NoKernel,
        ErrorKind::NoInitramfs,
        ErrorKind::NoBootloader,
        ErrorKind::TooSmall,
        ErrorKind::Tool,
        ErrorKind::MachineState,
        ErrorKind::NotDeployed,
        ErrorKind::NothingStaged,
        ErrorKind::NoRollback,
        ErrorKind::OwnPackage,
        ErrorKind::UnknownRemote,
        ErrorKind::Downgrade,
        ErrorKind::NotPublished,
        ErrorKind::BadBundle,
        ErrorKind::Push,
        ErrorKind::Key,
        ErrorKind::Pull,
        ErrorKind::BadPolicy,
        ErrorKind::Rejected,
    ];

    /// The stable name (`snake_case`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Usage => "usage",
            ErrorKind::Reported => "reported",
            ErrorKind::Failed => "failed",
            ErrorKind::Internal => "internal",
            ErrorKind::Io => "io",
            ErrorKind::NoSpace => "no_space",
            ErrorKind::ReadOnly => "read_only",
            ErrorKind::Permission => "permission",
            ErrorKind::Locked => "locked",
            ErrorKind::NotAStateDir => "not_a_state_dir",
            ErrorKind::Exists => "exists",
            ErrorKind::NoSources => "no_sources",
            ErrorKind::BadSources => "bad_sources",
            ErrorKind::BadPreferences => "bad_preferences",
            ErrorKind::UnknownSource => "unknown_source",
            ErrorKind::DuplicateSource => "duplicate_source",
            ErrorKind::Keyring => "keyring",
            ErrorKind::Signature => "signature",
            ErrorKind::Release => "release",
            ErrorKind::HashMismatch => "hash_mismatch",
            ErrorKind::BadIndex => "bad_index",
            ErrorKind::Fetch => "fetch",
            ErrorKind::CorruptObject => "corrupt_object",
            ErrorKind::NoSnapshot => "no_snapshot",
            ErrorKind::Store => "store",
            ErrorKind::UnknownPackage => "unknown_package",
            ErrorKind::NotInstalled => "not_installed",
            ErrorKind::Unsatisfiable => "unsatisfiable",
            ErrorKind::MissingDeb => "missing_deb",
            ErrorKind::Materialize => "materialize",
            ErrorKind::Journal => "journal",
            ErrorKind::JournalCorrupt => "journal_corrupt",
            ErrorKind::Query => "query",
            ErrorKind::UnknownTxn => "unknown_txn",
            ErrorKind::NoTransactions => "no_transactions",
            ErrorKind::NoReason => "no_reason",
            ErrorKind::NotReproducible => "not_reproducible",
            ErrorKind::RefMismatch => "ref_mismatch",
            ErrorKind::MissingCommit => "missing_commit",
            ErrorKind::SameCommit => "same_commit",
            ErrorKind::Ostree => "ostree",
            ErrorKind::Bisect => "bisect",
            ErrorKind::BadStatus => "bad_status",
            ErrorKind::BadProfile => "bad_profile",
            ErrorKind::UnknownVariant => "unknown_variant",
            ErrorKind::VariantExists => "variant_exists",
            ErrorKind::EmptyVariant => "empty_variant",
            ErrorKind::BadDefinition => "bad_definition",
            ErrorKind::EmptyDefinition => "empty_definition",
            ErrorKind::NotAChild => "not_a_child",
            ErrorKind::ParentMismatch => "parent_mismatch",
            ErrorKind::NotInLineage => "not_in_lineage",
            ErrorKind::RebaseConflict => "rebase_conflict",
            ErrorKind::Export => "export",
            ErrorKind::Delta => "delta",
            ErrorKind::Deploy => "deploy",
            ErrorKind::NoSysroot => "no_sysroot",
            ErrorKind::NoKernel => "no_kernel",
            ErrorKind::NoInitramfs => "no_initramfs",
            ErrorKind::NoBootloader => "no_bootloader",
            ErrorKind::TooSmall => "too_small",
            ErrorKind::Tool => "tool",
            ErrorKind::MachineState => "machine_state",
            ErrorKind::NotDeployed => "not_deployed",
            ErrorKind::NothingStaged => "nothing_staged",
            ErrorKind::NoRollback => "no_rollback",
            ErrorKind::OwnPackage => "own_package",
            ErrorKind::UnknownRemote => "unknown_remote",
            ErrorKind::Downgrade => "downgrade",
            ErrorKind::NotPublished => "not_published",
            ErrorKind::BadBundle => "bad_bundle",
            ErrorKind::Push => "push",
            ErrorKind::Key => "key",
            ErrorKind::Pull => "pull",
            ErrorKind::BadPolicy => "bad_policy",
            ErrorKind::Rejected => "rejected",
        }
    }

    /// The kind named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn append_error(source: std::io::Error) -> journal::AppendError {
        journal::AppendError::Io {
            path: "/state/journal/records".into(),
            source,
        }
    }

    #[test]
    fn write_errors_are_classified_by_their_cause() {
        // fdatasync/pwrite failing with EIO: a journal error, not a full disk.
        let eio = append_error(std::io::Error::from_raw_os_error(5));
        let e = Error::classify(ErrorKind::Journal, chain(&eio), eio);
        assert_eq!(e.kind(), ErrorKind::Journal);
        assert!(
            e.message().contains("/state/journal/records"),
            "{}",
            e.message()
        );
        assert!(std::error::Error::source(&e).is_some(), "the cause is kept");
        // ENOSPC while preallocating: no_space, with the hint.
        let full = append_error(std::io::Error::from_raw_os_error(28));
        let e = Error::classify(ErrorKind::Journal, chain(&full), full);
        assert_eq!(e.kind(), ErrorKind::NoSpace);
        assert_eq!(e.hint_text(), Some(NO_SPACE_HINT));
        // OSTree's reserve, known only by its text.
        let ostree = std::io::Error::other(
            "Writing content object: min-free-space-percent '3%' would be exceeded",
        );
        assert!(is_no_space(&ostree));
        // A pull whose static delta does not fit (ostree checks before writing anything).
        let delta =
            std::io::Error::other("Delta requires 194.5 MB free space, but only 55.1 MB available");
        assert!(is_no_space(&delta));
        assert!(!is_no_space(&std::io::Error::other("permission denied")));
    }

    #[test]
    fn names_are_unique_snake_case_and_round_trip() {
        let names: BTreeSet<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), ErrorKind::ALL.len(), "two kinds share a name");
        for k in ErrorKind::ALL {
            let n = k.as_str();
            assert!(
                n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') && !n.starts_with('_'),
                "{n}"
            );
            assert_eq!(ErrorKind::from_name(n), Some(*k));
        }
        assert_eq!(ErrorKind::from_name("no_such_kind"), None);
    }
}
