//! Integration tests of the journal: fold properties, tamper detection, crash recovery with a
//! fault-injecting backend, a `kill -9` loop around real appends, the v1 fixture, the lock.

mod crash;
mod fixture;
mod fold;
mod kill9;
mod lazy;
mod queries;
mod support;
mod tamper;
