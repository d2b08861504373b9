//! How failures reach a person or a script: one line, a stable `kind`, an exit code, a hint.

/// An error with everything the top level needs to report it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct CliError {
    pub(crate) kind: &'static str,
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
    pub(crate) exit: u8,
}

impl CliError {
    pub(crate) fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            hint: None,
            exit: 1,
        }
    }
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            kind: "usage",
            message: message.into(),
            hint: None,
            exit: 2,
        }
    }
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        let e = match e.downcast::<CliError>() {
            Ok(c) => return c,
            Err(e) => e,
        };
        let e = match e.downcast::<store::StoreError>() {
            Ok(s) => return store_error(s),
            Err(e) => e,
        };
        // A read-only file system deep in the chain: say so, whatever the operation was.
        if e.chain().any(is_read_only) {
            return CliError::new("read_only", chain_line(&e)).hint(crate::state::READ_ONLY_HINT);
        }
        CliError::new("failed", chain_line(&e))
    }
}

/// Whether `e` is an I/O error of a read-only file system (redb wraps it in its own error, whose
/// `source` is not set, so its message is checked too).
fn is_read_only(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::ReadOnlyFilesystem)
        || e.to_string()
            .contains("Read-only file system (os error 30)")
}

/// The error and its causes, in one line.
fn chain_line(e: &anyhow::Error) -> String {
    let mut message = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !message.contains(&c) {
            message.push_str(": ");
            message.push_str(&c);
        }
    }
    message
}

fn store_error(e: store::StoreError) -> CliError {
    use store::StoreError as S;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(c) = cause {
        if is_read_only(c) {
            return CliError::new("read_only", e.to_string()).hint(crate::state::READ_ONLY_HINT);
        }
        cause = c.source();
    }
    let kind = match &e {
        S::NotAStore { .. } => "not_a_state_dir",
        S::UnknownSource(_) => "unknown_source",
        S::DuplicateSource(_) => "duplicate_source",
        S::Verify { .. } => "signature",
        S::Release { .. } => "release",
        S::IndexHash { .. } => "hash_mismatch",
        S::Index { .. } => "bad_index",
        S::Fetch { .. } => "fetch",
        S::Cas(store::CasError::Corrupt { .. }) => "corrupt_object",
        S::Snapshot(..) => "corrupt_object",
        S::NothingPinned => "no_snapshot",
        _ => "store",
    };
    let hint = match &e {
        S::NotAStore { .. } => {
            Some("create one with `particle init`, or point --root at an existing state directory")
        }
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
    let mut err = CliError::new(kind, e.to_string());
    err.hint = hint.map(str::to_owned);
    err
}
