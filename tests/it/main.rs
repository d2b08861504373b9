//! End-to-end tests: the real `particle` binary on `../shared/debian-mirror` (or `$PARTICLE_MIRROR`)
//! in temporary state directories.

mod boot;
mod common;
mod compat;
mod crash;
mod deliver;
mod docs;
mod errors;
mod http;
mod machine;
mod multiarch;
mod plumbing;
mod policy;
mod powercut;
mod publish;
mod registry;
mod repo;
mod snapshots;
mod storage;
mod tamper;
mod txn;
mod variants;
