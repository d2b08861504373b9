//! particle's transaction engine, being carved out of the command line (issue #16): what every
//! front end (the `particle` binary, a machine's update service, a build farm) needs to drive
//! transactions. So far it holds the stable error kinds and the state directory (opening,
//! creating, the lock, declared variants, and whether it is a machine's); the transaction
//! protocol and the variants model follow.

mod error;
pub mod machine;
pub mod state;

pub use error::{is_read_only, machine_kind, Error, ErrorKind, Result, READ_ONLY_HINT};
