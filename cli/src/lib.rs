//! `particle`: the command line. Parses arguments, calls the engine (which runs transactions)
//! and the libraries, and prints either for people or one JSON document (`--json`). Logic
//! belongs in the libraries; this crate only renders.
//!
//! Two programs share it: `particle` ([`front`]) answers the read-only commands without
//! loading libostree and runs `particle-full` ([`full`]) for the others (docs/architecture.md,
//! "Two programs").

mod args;
mod cmd;
mod deliver;
mod du;
mod error;
mod output;
mod plumbing;
mod progress;
mod publish;
mod txn;
mod variants;

use clap::Parser;
use error::CliError;
use std::process::ExitCode;

/// Rust ignores SIGPIPE, so writing into a closed pipe (`particle txn log | head -1`) is an
/// error, and `println!` panics on it. End quietly instead, with the status a shell gives a
/// process killed by SIGPIPE; every other panic keeps the default report.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

/// `particle`: the read-only commands here, every other in `particle-full`.
pub fn front() -> ExitCode {
    start(|cli, argv| {
        cmd::run_read(cli).unwrap_or_else(|| {
            let full = "particle-full";
            let e = machine::exec_sibling(full, machine::FULL_PROGRAM_INSTALLED, argv);
            Err(engine::Error::from(e).into())
        })
    })
}

/// `particle-full`: every command.
pub fn full() -> ExitCode {
    start(|cli, _| {
        engine::faults::install()
            .map_err(anyhow::Error::from)
            .and_then(|()| cmd::run(cli))
    })
}

/// Parses the command line, runs it with `run` (a plain function, so that `particle` links
/// only what its commands reach) and reports the outcome.
fn start(run: fn(cmd::Cli, &[std::ffi::OsString]) -> anyhow::Result<()>) -> ExitCode {
    quiet_on_broken_pipe();
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let json_requested = argv.iter().any(|a| a == "--json");
    let cli = match cmd::Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return ExitCode::from(
                    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                        2
                    } else {
                        0
                    },
                );
            }
            if json_requested {
                let msg = e.to_string();
                let first = msg
                    .lines()
                    .next()
                    .unwrap_or("bad usage")
                    .trim_start_matches("error: ")
                    .to_owned();
                output::print_json_error("usage", &first, None);
            } else {
                let _ = e.print();
            }
            return ExitCode::from(2);
        }
    };
    init_tracing(cli.global.verbose, cli.global.quiet);
    let json = cli.global.json;
    match run(cli, &argv) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let err = CliError::from(err);
            if err.kind == engine::ErrorKind::Reported {
                return ExitCode::from(err.exit);
            }
            if json {
                output::print_json_error(err.kind.as_str(), &err.message, err.hint.as_deref());
            } else {
                output::print_error(&err.message, err.hint.as_deref());
            }
            ExitCode::from(err.exit)
        }
    }
}

fn init_tracing(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PARTICLE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(output::stderr_colour())
        .with_target(false)
        .with_timer(tracing_subscriber::fmt::time::uptime())
        .try_init();
}
