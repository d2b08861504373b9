//! `particle` hands the commands it does not answer itself to `particle-full` (see the crate
//! documentation): the same arguments, the same `argv[0]`, environment and descriptors, in the
//! same process (`exec`), so exit statuses and signals are the full program's own.

use crate::error::CliError;
use engine::ErrorKind;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;

/// The full program's name in a build tree (beside `particle`).
const FULL: &str = "particle-full";

/// Replaces this process with `particle-full ARGS…`; returns only when that fails.
pub(crate) fn run_full(argv: &[OsString]) -> anyhow::Result<()> {
    let program =
        machine::sibling_program(FULL, machine::FULL_PROGRAM_INSTALLED).ok_or_else(|| {
            CliError::new(
                ErrorKind::Tool,
                format!(
                    "{FULL} was not found beside particle nor at {}",
                    machine::FULL_PROGRAM_INSTALLED
                ),
            )
            .hint("build the whole workspace (`cargo build`), or install particle's package")
        })?;
    let mut command = std::process::Command::new(&program);
    command.args(argv.iter().skip(1));
    if let Some(arg0) = argv.first() {
        command.arg0(arg0);
    }
    let e = command.exec();
    Err(CliError::new(
        ErrorKind::Tool,
        format!("could not run {}: {e}", program.display()),
    )
    .into())
}
