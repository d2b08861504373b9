//! particle's transaction engine, being carved out of the command line (issue #16): what every
//! front end (the `particle` binary, a machine's update service, a build farm) needs to drive
//! transactions. So far it holds the stable error kinds; the state directory, the transaction
//! protocol and the variants model follow.

mod error;

pub use error::ErrorKind;
