//! How failures reach a person or a script: one line, a stable `kind`, an exit code, a hint.

use engine::ErrorKind;

/// An error with everything the top level needs to report it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct CliError {
    pub(crate) kind: ErrorKind,
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
    pub(crate) exit: u8,
}

impl CliError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
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
    /// A failure the command has already reported in its output (a `--json` document that
    /// says what is wrong): only the exit status is left to give.
    pub(crate) fn reported(exit: u8) -> Self {
        Self {
            kind: ErrorKind::Reported,
            message: String::new(),
            hint: None,
            exit,
        }
    }
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Usage,
            message: message.into(),
            hint: None,
            exit: 2,
        }
    }
}

/// The hint for a full filesystem: nothing was lost, what to do.
pub(crate) const NO_SPACE_HINT: &str =
    "free space on that filesystem and run the command again; nothing was committed, the previous state is in force";

/// Whether `e` is the filesystem running out of space (ENOSPC, EDQUOT, OSTree's free-space
/// reserve): an `io::Error` of that kind, or the text of one (GLib errors carry only a message).
fn is_no_space_one(e: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        if matches!(
            io.kind(),
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
        ) {
            return true;
        }
    }
    // OSTree also refuses a write that would eat into its reserve (`min-free-space-percent`).
    let text = e.to_string();
    text.contains("No space left on device")
        || text.contains("Disk quota exceeded")
        || text.contains("min-free-space")
}

/// Whether `e` or any of its causes is a full filesystem.
pub(crate) fn is_no_space(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(c) = cur {
        if is_no_space_one(c) {
            return true;
        }
        cur = c.source();
    }
    false
}

/// `kind`, or `no_space` with its hint when the cause is a full filesystem.
pub(crate) fn classify(
    kind: ErrorKind,
    message: String,
    e: &(dyn std::error::Error + 'static),
) -> CliError {
    if is_no_space(e) {
        CliError::new(ErrorKind::NoSpace, message).hint(NO_SPACE_HINT)
    } else {
        CliError::new(kind, message)
    }
}

impl From<engine::Error> for CliError {
    /// Same kind, message and hint; exit 2 for bad usage; `no_space` when a full file system is
    /// what failed underneath.
    fn from(e: engine::Error) -> Self {
        if e.kind() != ErrorKind::NoSpace && is_no_space(&e) {
            return CliError::new(ErrorKind::NoSpace, e.message()).hint(NO_SPACE_HINT);
        }
        let mut c = CliError::new(e.kind(), e.message());
        c.hint = e.hint_text().map(str::to_owned);
        if e.kind() == ErrorKind::Usage {
            c.exit = 2;
        }
        c
    }
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        let e = match e.downcast::<CliError>() {
            Ok(c) => return c,
            Err(e) => e,
        };
        let e = match e.downcast::<engine::Error>() {
            Ok(c) => return c.into(),
            Err(e) => e,
        };
        if e.chain().any(is_no_space_one) {
            return CliError::new(ErrorKind::NoSpace, chain_message(&e)).hint(NO_SPACE_HINT);
        }
        let e = match e.downcast::<store::StoreError>() {
            Ok(s) => return store_error(s),
            Err(e) => e,
        };
        // A read-only file system deep in the chain: say so, whatever the operation was.
        if e.chain().any(engine::is_read_only) {
            return CliError::new(ErrorKind::ReadOnly, chain_message(&e))
                .hint(engine::READ_ONLY_HINT);
        }
        CliError::new(ErrorKind::Failed, chain_message(&e))
    }
}

/// The error and its causes, in one line.
fn chain_message(e: &anyhow::Error) -> String {
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
    engine::Error::from(e).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn append_error(source: std::io::Error) -> journal::AppendError {
        journal::AppendError::Io {
            path: "/state/journal/records".into(),
            source,
        }
    }

    #[test]
    fn journal_write_errors_are_classified_by_their_cause() {
        // fdatasync/pwrite failing with EIO: a journal error, not a full disk.
        let eio = append_error(std::io::Error::from_raw_os_error(5));
        let e = classify(ErrorKind::Journal, eio.to_string(), &eio);
        assert_eq!((e.kind, e.exit), (ErrorKind::Journal, 1));
        assert!(
            e.message.contains("/state/journal/records"),
            "{}",
            e.message
        );
        // ENOSPC while preallocating: no_space, with the hint.
        let full = append_error(std::io::Error::from_raw_os_error(28));
        let e = classify(ErrorKind::Journal, full.to_string(), &full);
        assert_eq!(e.kind, ErrorKind::NoSpace);
        assert_eq!(e.hint.as_deref(), Some(NO_SPACE_HINT));
        // OSTree's reserve, known only by its text.
        let ostree = std::io::Error::other(
            "Writing content object: min-free-space-percent '3%' would be exceeded",
        );
        assert!(is_no_space(&ostree));
        assert!(!is_no_space(&std::io::Error::other("permission denied")));
        // Through anyhow, as errors reach main.
        let wrapped = anyhow::Error::new(std::io::Error::from_raw_os_error(28)).context("fetch");
        assert_eq!(CliError::from(wrapped).kind, ErrorKind::NoSpace);
    }
}
