//! Delivery: `deploy` into an OSTree sysroot, `export oci`, static `delta`s between transactions.

use crate::error::CliError;
use std::path::Path;

fn not_yet(what: &str) -> anyhow::Error {
    CliError::new(
        "unsupported",
        format!("{what} is not available in this build yet"),
    )
    .into()
}

/// `particle deploy --sysroot DIR [--variant V] [--stateroot OS]`.
pub(crate) fn deploy(
    _root: &Path,
    _sysroot: &Path,
    _variant: &str,
    _stateroot: &str,
    _json: bool,
    _quiet: bool,
) -> anyhow::Result<()> {
    Err(not_yet("deploy"))
}

/// `particle export oci --variant V DIR`.
pub(crate) fn export_oci(
    _root: &Path,
    _variant: &str,
    _dir: &Path,
    _json: bool,
    _quiet: bool,
) -> anyhow::Result<()> {
    Err(not_yet("export oci"))
}

/// `particle delta TXN_A TXN_B [--output FILE]`.
pub(crate) fn delta(
    _root: &Path,
    _a: &str,
    _b: &str,
    _output: Option<&Path>,
    _json: bool,
    _quiet: bool,
) -> anyhow::Result<()> {
    Err(not_yet("delta"))
}
