//! Variants as code: definition files, `variant apply`, `variant rebase`, `compose`.

use crate::error::CliError;
use crate::txn::TxnOpts;
use std::path::Path;

fn not_yet(what: &str) -> anyhow::Error {
    CliError::new(
        "unsupported",
        format!("{what} is not available in this build yet"),
    )
    .into()
}

/// `particle variant apply FILE`.
pub(crate) fn apply(
    _root: &Path,
    _file: &Path,
    _reason: Option<String>,
    _dry_run: bool,
    _json: bool,
    _quiet: bool,
) -> anyhow::Result<()> {
    Err(not_yet("variant apply"))
}

/// `particle variant rebase CHILD`.
pub(crate) fn rebase(_root: &Path, _o: &TxnOpts) -> anyhow::Result<()> {
    Err(not_yet("variant rebase"))
}

/// `particle compose [--dir DIR]`.
pub(crate) fn compose(
    _root: &Path,
    _dir: Option<&Path>,
    _reason: Option<String>,
    _json: bool,
    _quiet: bool,
) -> anyhow::Result<()> {
    Err(not_yet("compose"))
}
