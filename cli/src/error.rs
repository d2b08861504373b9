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

use engine::{is_no_space, is_no_space_one, NO_SPACE_HINT};

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
    engine::chain(e.as_ref())
}

fn store_error(e: store::StoreError) -> CliError {
    engine::Error::from(e).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_reach_the_top_with_their_kind() {
        // Through anyhow, as errors reach main.
        let wrapped = anyhow::Error::new(std::io::Error::from_raw_os_error(28)).context("fetch");
        assert_eq!(CliError::from(wrapped).kind, ErrorKind::NoSpace);
        let usage = anyhow::Error::new(engine::Error::usage("bad"));
        let e = CliError::from(usage);
        assert_eq!((e.kind, e.exit), (ErrorKind::Usage, 2));
        let ro = anyhow::Error::new(std::io::Error::from_raw_os_error(30)).context("write");
        assert_eq!(CliError::from(ro).kind, ErrorKind::ReadOnly);
    }
}
