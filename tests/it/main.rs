//! End-to-end tests: the real `particle` binary on `../shared/debian-mirror` (or `$PARTICLE_MIRROR`)
//! in temporary state directories.

mod common;
mod deliver;
mod docs;
mod http;
mod plumbing;
mod repo;
mod txn;
