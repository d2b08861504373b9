//! solver: complete Debian dependency resolution over a [`store::Universe`], in memory.
//!
//! It owns:
//! - the Debian relation semantics (`index`): Depends/Pre-Depends with alternatives and the five
//!   operators, Provides (versioned Provides satisfy versioned dependencies, unversioned ones never
//!   do), Conflicts/Breaks (never through a package's own Provides), one instance per name,
//!   Multi-Arch `same`/`foreign`/`allowed`/`:any`, `Architecture: all`, arch-qualified relations;
//! - a CDCL SAT engine of its own (`sat`) and the encoding plus apt-like dependency-ordered search
//!   (`problem`): complete (if a solution exists it is found) and deterministic;
//! - requests (`solve`): install, remove (taking reverse dependencies with it, refusing to remove
//!   essential or required packages), upgrade, relative to an installed set and keeping it where
//!   possible; Recommends by an apt-like greedy pass; a reason for every package; the changes;
//! - failure explanations (`explain`): a minimal set of relations, as data ([`Explanation`],
//!   its [`Step`]s) that renders as one sentence;
//! - whole-archive installability (`distcheck`), with the essential set, as dose-distcheck does.
//!
//! It is not:
//! - a loader: it reads no file and does no I/O (callers parse indices with `store`);
//! - a history: it knows nothing of the journal; installed packages are given as a list.
//!
//! Public API:
//! - [`Solver::new`]`(&Universe, &Options) -> Solver`, or
//!   [`Solver::from_table`]`(TableView, &Options) -> Solver` over a store snapshot
//!   read in place (packages are converted to the owned model only when the search reaches them);
//!   [`Solver::solve`]`(&self, &Request, &[Installed]) -> Result<Solution, SolveError>`;
//! - [`Solution`] `{ packages: Vec<Chosen { name, version, arch, reason, parent }>, changes: Vec<Change> }`,
//!   [`Solution::why`]`(&self, name) -> Option<Vec<String>>`;
//! - [`SolveError`]: its `Unsatisfiable` and `Essential` refusals carry an [`Explanation`]
//!   `{ steps: Vec<Step> }` (what depends on, conflicts with, breaks or must keep what;
//!   [`Explanation::packages`] lists the names involved), whose `Display` is the sentence shown;
//! - [`distcheck`]`(&Universe, &Options) -> DistcheckReport { total, broken: Vec<Broken> }`;
//! - [`edsp::solve_edsp`]`(&str) -> String`: apt's External Dependency Solver Protocol.
//!
//! Installed packages must be part of the universe (add the dpkg `status` stanzas with
//! `store::package_from_paragraph`); an installed package the universe does not contain is
//! reported as removed.

mod distcheck;
pub mod edsp;
mod explain;
mod index;
pub mod policy;
mod problem;
mod sat;
mod solve;
mod why;

#[cfg(test)]
mod tests;

pub use distcheck::{distcheck, Broken, DistcheckReport};
pub use explain::{Explanation, PackageVersion, Step};
pub use index::Options;
pub use solve::{
    Change, ChangeKind, Chosen, Installed, Reason, Request, Solution, SolveError, Solver,
};
pub use why::{satisfies, why, WhyChain};
