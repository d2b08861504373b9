//! particle's transaction engine: what every front end (the `particle` binary, a machine's
//! update service, a build farm) needs to drive transactions, with no printing of its own.
//!
//! - [`Session`]: a state directory opened for reading, or locked for a transaction (which
//!   recovers what an interrupted one left: staging trees, refs behind the journal, a machine's
//!   deployment behind its head);
//! - [`Change`] → [`Plan`] → [`Outcome`]: every transaction kind (install, remove, upgrade,
//!   rollback, a new variant, profile and hardware changes, a variant definition applied,
//!   rebase, a machine's rollback and cancel) is planned by [`Session::plan`] and carried out by
//!   [`Session::run`]; progress goes to an [`Observer`];
//! - [`variants`]: definitions, reconciliation, rebase, compose order and hardware rules;
//!   [`hardware`]: detection;
//! - [`Error`] with a stable [`ErrorKind`].

pub mod bundle;
pub mod deliver;
mod error;
pub mod faults;
pub mod gc;
pub mod gpg;
pub mod hardware;
pub mod history;
pub mod lint;
pub mod machine;
pub mod own_package;
mod pinned;
pub mod plumbing;
pub mod policy;
pub mod publish;
mod replay;
mod session;
pub mod sources;
pub mod state;
mod status;
mod txn;
pub mod upgrade;
pub mod variants;
mod why;

pub use error::{
    chain, is_no_space, is_no_space_one, is_read_only, machine_kind, Error, ErrorKind, Result,
    NO_SPACE_HINT, READ_ONLY_HINT,
};
pub use replay::{replay_from, verify_replayed, RemoteReplay, Replayed};
pub use session::{read_store, staging_dir, Session};
pub use status::{VariantHead, VariantStatus, VariantSummary};
pub use txn::{
    build_input, parse_assignments, parse_spec, Change, Committed, Deployed, Header, Observer,
    Outcome, Plan, RunOptions, Silent,
};
pub use why::Why;
