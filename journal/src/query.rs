//! Pure queries over records: state at a transaction, lineage, log, diff, package history,
//! rollback targets, TXN references, and the semantic rules a new record must satisfy.
//!
//! Nothing here does I/O: everything reads [`Records`] (a journal's, as
//! [`crate::Journal::records`] gives, each built when first used, or a slice).
//! Every record holds its variant's full resulting state, so "the state at TXN" is one record,
//! and a child variant inherits through its `variant-create` record (whose state is the parent's
//! at the creation point) and, before it, the parent's lineage.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use store::Sha256;

use crate::model::{
    Actor, CommitId, NewRecord, PackageEntry, Provenance, Record, Request, State, TxnId, Value,
};
pub use crate::table::Records;

/// An index over a slice of records (sorted by seq, as the journal keeps them).
#[derive(Debug, Clone)]
pub struct History<'a> {
    records: Records<'a>,
    /// Positions in `records` of each variant's own records, in seq order.
    by_variant: Cow<'a, VariantIndex>,
}

/// Positions of each variant's own records; the journal keeps one up to date as it appends, so
/// queries during an append cost no re-indexing.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct VariantIndex {
    /// Each variant's own positions, in order of first appearance.
    own: Vec<(String, Vec<usize>)>,
    /// Where each variant is in `own`.
    by_name: HashMap<String, usize>,
    /// The entry of `own` the last push went to (runs of one variant skip the lookup).
    last: usize,
    /// For each position pushed: its variant's entry in `own` and its index there.
    rank: Vec<(u32, u32)>,
}

impl VariantIndex {
    pub(crate) fn build(records: Records<'_>) -> VariantIndex {
        let mut ix = VariantIndex::default();
        for (i, r) in records.iter().enumerate() {
            ix.push(&r.variant, i);
        }
        ix
    }

    pub(crate) fn push(&mut self, variant: &str, position: usize) {
        if let Some((name, own)) = self.own.get_mut(self.last) {
            if name == variant {
                own.push(position);
                self.ranked(position);
                return;
            }
        }
        self.last = match self.by_name.get(variant) {
            Some(&k) => k,
            None => {
                self.by_name.insert(variant.to_string(), self.own.len());
                self.own.push((variant.to_string(), Vec::new()));
                self.own.len() - 1
            }
        };
        self.own[self.last].1.push(position);
        self.ranked(position);
    }

    /// Pushes `n` positions in a row from `first` (after every position pushed so far), all of
    /// `variant`: what `n` calls of [`Self::push`] do, in bulk.
    pub(crate) fn push_run(&mut self, variant: &str, first: usize, n: usize) {
        if n == 0 {
            return;
        }
        self.push(variant, first);
        let own = &mut self.own[self.last].1;
        let index = own.len();
        own.extend(first + 1..first + n);
        self.rank.resize(first + n, (u32::MAX, 0));
        let entry = u32::try_from(self.last).ok();
        for (k, rank) in self.rank[first + 1..first + n].iter_mut().enumerate() {
            // As `ranked`: past u32, not ranked.
            if let (Some(v), Ok(i)) = (entry, u32::try_from(index + k)) {
                *rank = (v, i);
            }
        }
    }

    /// Notes where `position` (the last pushed) is in its variant's positions.
    fn ranked(&mut self, position: usize) {
        if self.rank.len() <= position {
            self.rank.resize(position + 1, (u32::MAX, 0));
        }
        let index = self.own[self.last].1.len() - 1;
        // Positions and variants past u32 are not ranked (then looked up by search).
        if let (Ok(v), Ok(i)) = (u32::try_from(self.last), u32::try_from(index)) {
            self.rank[position] = (v, i);
        }
    }

    /// The position of the record of the same variant just before the one at `position`, if
    /// that was pushed here; `Some(None)` if it is its variant's first.
    fn before(&self, position: usize) -> Option<Option<usize>> {
        let &(v, i) = self.rank.get(position)?;
        let own = &self.own.get(v as usize)?.1;
        match i.checked_sub(1) {
            None => Some(None),
            Some(k) => own.get(k as usize).map(|&p| Some(p)),
        }
    }

    fn get(&self, variant: &str) -> Option<&[usize]> {
        self.by_name.get(variant).map(|&k| self.own[k].1.as_slice())
    }

    fn len(&self) -> usize {
        self.own.len()
    }
}

/// A query that cannot be answered.
/// Why a record breaks the journal's rules ([`History::check`]): the record is refused (on
/// append) or reported (by verify). The messages are what users see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    #[error("variant name {0:?} is not valid (letters, digits, '-', '_', '.')")]
    VariantName(String),
    #[error("package set is not sorted by (name, arch) without duplicates at {name}:{arch}")]
    Unsorted { name: String, arch: String },
    #[error("parent transaction {0} is not before this one")]
    ParentNotBefore(u64),
    #[error("parent transaction {0} does not exist")]
    ParentMissing(u64),
    #[error("parent transaction {seq} has id {found}, not {expected}")]
    ParentId {
        seq: u64,
        found: TxnId,
        expected: TxnId,
    },
    #[error("transaction {seq} is not in the history of parent {parent:?}")]
    NotInParentHistory { seq: u64, parent: String },
    #[error("parent {parent:?} has no state at {seq}")]
    ParentHasNoState { parent: String, seq: u64 },
    #[error("base must be {}@{} ({}), found {found:?}", expected.variant, expected.seq, expected.txn)]
    Base {
        expected: Box<Provenance>,
        found: Option<Box<Provenance>>,
    },
    #[error("variant {0:?} already exists")]
    VariantExists(String),
    #[error("a variant cannot be created from itself")]
    FromItself,
    #[error("a new variant's state must equal its parent {parent:?}'s state at {seq}")]
    NewVariantState { parent: String, seq: u64 },
    #[error("variant {0:?} does not exist")]
    NoVariant(String),
    #[error("variant {variant:?} is not a child of {parent:?}")]
    NotAChild { variant: String, parent: String },
    #[error(
        "variant {variant:?} is a child of {parent:?}: an apply must name its parent transaction"
    )]
    ApplyWithoutParent {
        variant: String,
        parent: Option<String>,
    },
    #[error("an origin record has no base")]
    OriginWithBase,
    #[error("base changed from {from:?} to {to:?} without a rebase")]
    BaseChanged {
        from: Option<Box<Provenance>>,
        to: Option<Box<Provenance>>,
    },
    #[error("the first record of a root variant has no base")]
    RootWithBase,
    #[error("rollback target {0} is not before this transaction")]
    RollbackNotBefore(u64),
    #[error("rollback target {0} does not exist")]
    RollbackMissing(u64),
    #[error("rollback target {seq} has id {found}, not {expected}")]
    RollbackId {
        seq: u64,
        found: TxnId,
        expected: TxnId,
    },
    #[error("rollback target {seq} is not in the history of {variant:?}")]
    RollbackNotInHistory { seq: u64, variant: String },
    #[error("a rollback's state must equal the state at {0}")]
    RollbackState(u64),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("no variant named {variant:?} in the journal")]
    UnknownVariant { variant: String },
    #[error("variant {variant:?} did not exist yet at transaction {seq}")]
    NotYet { variant: String, seq: u64 },
    #[error("no transaction with sequence number {seq}")]
    UnknownSeq { seq: u64 },
    #[error("transaction {seq} is not in the history of variant {variant:?}")]
    NotInLineage { variant: String, seq: u64 },
    #[error(
        "variant {variant:?} has no transaction before its head to roll back to; pass --to TXN"
    )]
    NothingBefore { variant: String },
    #[error("variant {variant:?} had no transaction at or before that time")]
    NothingAsOf { variant: String },
    #[error("--good {good} must come before --bad {bad} in the history of {variant:?}")]
    BadRange {
        variant: String,
        good: u64,
        bad: u64,
    },
}

/// A TXN reference that names no single transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("{reference:?} is not a transaction reference: use a sequence number or at least 8 hex digits of an id")]
    Invalid { reference: String },
    #[error("no transaction matches {reference:?}")]
    NotFound { reference: String },
    #[error("{reference:?} matches several transactions ({}); use more digits", .candidates.iter().map(|(s, id)| format!("{s} = {}", id.short(12))).collect::<Vec<_>>().join(", "))]
    Ambiguous {
        reference: String,
        candidates: Vec<(u64, TxnId)>,
    },
}

/// Which way a package's version moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    Upgrade,
    Downgrade,
    /// Same version, different `.deb` (a rebuild or a different archive).
    Rebuild,
}

impl Direction {
    /// Which way version `from` moves to `to` (Debian version order).
    pub fn of(from: &str, to: &str) -> Direction {
        Direction::of_bytes(from.as_bytes(), to.as_bytes())
    }

    /// [`Direction::of`] versions given as bytes.
    pub fn of_bytes(from: &[u8], to: &[u8]) -> Direction {
        match store::compare_version_bytes(from, to) {
            Ordering::Less => Direction::Upgrade,
            Ordering::Greater => Direction::Downgrade,
            Ordering::Equal => Direction::Rebuild,
        }
    }
}

/// A package present on both sides with a different version or `.deb`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Changed {
    pub name: String,
    pub arch: String,
    pub from: String,
    pub to: String,
    pub direction: Direction,
    pub from_sha256: Sha256,
    pub to_sha256: Sha256,
}

/// One profile difference. `field` tags it in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "field", rename_all = "kebab-case")]
pub enum ProfileChange {
    /// The kernel argument list changed (full lists, plus what was added and removed).
    Kargs {
        from: Vec<String>,
        to: Vec<String>,
        added: Vec<String>,
        removed: Vec<String>,
    },
    Initramfs {
        key: String,
        from: Option<String>,
        to: Option<String>,
    },
    Sysctl {
        key: String,
        from: Option<String>,
        to: Option<String>,
    },
    Hardware {
        from: Value,
        to: Value,
    },
}

/// A pinned index snapshot that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexChange {
    pub source: String,
    pub from: Option<Sha256>,
    pub to: Option<Sha256>,
}

/// The difference between two states; [`Diff::apply`] to the first gives the second.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Diff {
    pub added: Vec<PackageEntry>,
    pub removed: Vec<PackageEntry>,
    pub changed: Vec<Changed>,
    pub profile: Vec<ProfileChange>,
    pub indices: Vec<IndexChange>,
}

impl Diff {
    /// Whether the two states were equal.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.profile.is_empty()
            && self.indices.is_empty()
    }

    /// Whether `name` is added, removed or changed.
    pub fn touches(&self, name: &str) -> bool {
        self.added.iter().any(|p| p.name == name)
            || self.removed.iter().any(|p| p.name == name)
            || self.changed.iter().any(|c| c.name == name)
    }

    /// Applies this diff to `from`.
    pub fn apply(&self, from: &State) -> State {
        apply_all(Some(from), std::iter::once(self))
    }

    /// Applies this diff to `state` where it is: packages by binary search in the sorted set.
    pub fn apply_in_place(&self, state: &mut State) {
        let pkgs = &mut state.packages;
        let find = |pkgs: &Vec<PackageEntry>, name: &str, arch: &str| {
            pkgs.binary_search_by(|p| p.key().cmp(&(name, arch)))
        };
        for p in &self.removed {
            if let Ok(i) = find(pkgs, &p.name, &p.arch) {
                pkgs.remove(i);
            }
        }
        let added = self.added.iter().cloned();
        let changed = self.changed.iter().map(|c| PackageEntry {
            name: c.name.clone(),
            version: c.to.clone(),
            arch: c.arch.clone(),
            sha256: c.to_sha256,
        });
        for p in added.chain(changed) {
            match find(pkgs, &p.name, &p.arch) {
                Ok(i) => pkgs[i] = p,
                Err(i) => pkgs.insert(i, p),
            }
        }
        let rest = Diff {
            profile: self.profile.clone(),
            indices: self.indices.clone(),
            ..Diff::default()
        };
        if !rest.profile.is_empty() || !rest.indices.is_empty() {
            let packages = std::mem::take(&mut state.packages);
            *state = State {
                packages,
                ..apply_all(Some(state), std::iter::once(&rest))
            };
        }
    }

    /// Applies this diff to `from` only if it was made from `from`: every package it removes
    /// or changes is there at the version and `.deb` it names, none it adds is, and every profile
    /// and index value it changes had the value it names. Says what does not match.
    pub fn apply_exactly(&self, from: &State) -> Result<State, String> {
        let has = |name: &str, arch: &str, version: &str, sha: &Sha256| {
            from.packages
                .binary_search_by(|p| p.key().cmp(&(name, arch)))
                .is_ok_and(|i| {
                    from.packages[i].version == version && from.packages[i].sha256 == *sha
                })
        };
        let present = |name: &str, arch: &str| {
            from.packages
                .binary_search_by(|p| p.key().cmp(&(name, arch)))
                .is_ok()
        };
        if let Some(p) = self
            .removed
            .iter()
            .find(|p| !has(&p.name, &p.arch, &p.version, &p.sha256))
        {
            return Err(format!(
                "removes {}:{} {}, which the state it was made from does not have",
                p.name, p.arch, p.version
            ));
        }
        if let Some(c) = self
            .changed
            .iter()
            .find(|c| !has(&c.name, &c.arch, &c.from, &c.from_sha256))
        {
            return Err(format!(
                "changes {}:{} from {}, which the state it was made from does not have",
                c.name, c.arch, c.from
            ));
        }
        if let Some(p) = self.added.iter().find(|p| present(&p.name, &p.arch)) {
            return Err(format!(
                "adds {}:{}, which the state it was made from already has",
                p.name, p.arch
            ));
        }
        let f = &from.profile;
        for ch in &self.profile {
            let ok = match ch {
                ProfileChange::Kargs { from: k, .. } => *k == f.kargs,
                ProfileChange::Initramfs { key, from: v, .. } => f.initramfs.get(key) == v.as_ref(),
                ProfileChange::Sysctl { key, from: v, .. } => f.sysctl.get(key) == v.as_ref(),
                ProfileChange::Hardware { from: v, .. } => *v == f.hardware,
            };
            if !ok {
                return Err(format!(
                    "changes a profile value the state it was made from does not have ({ch:?})"
                ));
            }
        }
        if let Some(ch) = self
            .indices
            .iter()
            .find(|ch| from.indices.get(&ch.source) != ch.from.as_ref())
        {
            return Err(format!("changes the index of source {} from a value the state it was made from does not have", ch.source));
        }
        Ok(self.apply(from))
    }
}

/// `base` (the empty state for `None`) with `diffs` applied in order, leniently (as
/// [`Diff::apply`]): the state of a chain of records.
pub(crate) fn apply_all<'d>(base: Option<&State>, diffs: impl Iterator<Item = &'d Diff>) -> State {
    let mut state = base.cloned().unwrap_or_default();
    let mut pkgs: BTreeMap<(String, String), PackageEntry> = std::mem::take(&mut state.packages)
        .into_iter()
        .map(|p| ((p.name.clone(), p.arch.clone()), p))
        .collect();
    let profile = &mut state.profile;
    for d in diffs {
        for p in &d.removed {
            pkgs.remove(&(p.name.clone(), p.arch.clone()));
        }
        for p in &d.added {
            pkgs.insert((p.name.clone(), p.arch.clone()), p.clone());
        }
        for c in &d.changed {
            pkgs.insert(
                (c.name.clone(), c.arch.clone()),
                PackageEntry {
                    name: c.name.clone(),
                    version: c.to.clone(),
                    arch: c.arch.clone(),
                    sha256: c.to_sha256,
                },
            );
        }
        for ch in &d.profile {
            match ch {
                ProfileChange::Kargs { to, .. } => profile.kargs = to.clone(),
                ProfileChange::Initramfs { key, to, .. } => {
                    set_or_remove(&mut profile.initramfs, key, to)
                }
                ProfileChange::Sysctl { key, to, .. } => {
                    set_or_remove(&mut profile.sysctl, key, to)
                }
                ProfileChange::Hardware { to, .. } => profile.hardware = to.clone(),
            }
        }
        for ch in &d.indices {
            match ch.to {
                Some(sha) => state.indices.insert(ch.source.clone(), sha),
                None => state.indices.remove(&ch.source),
            };
        }
    }
    state.packages = pkgs.into_values().collect();
    state
}

fn set_or_remove(m: &mut BTreeMap<String, String>, key: &str, to: &Option<String>) {
    match to {
        Some(v) => m.insert(key.to_string(), v.clone()),
        None => m.remove(key),
    };
}

fn map_diff(
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
    mut make: impl FnMut(String, Option<String>, Option<String>) -> ProfileChange,
    out: &mut Vec<ProfileChange>,
) {
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for k in keys {
        let (x, y) = (a.get(k), b.get(k));
        if x != y {
            out.push(make(k.clone(), x.cloned(), y.cloned()));
        }
    }
}

/// The multiset difference `a - b`, in `a`'s order.
pub(crate) fn list_minus(a: &[String], b: &[String]) -> Vec<String> {
    let mut rest: Vec<&String> = b.iter().collect();
    let mut out = Vec::new();
    for x in a {
        match rest.iter().position(|y| *y == x) {
            Some(i) => {
                rest.swap_remove(i);
            }
            None => out.push(x.clone()),
        }
    }
    out
}

/// What changed from state `a` to state `b` (packages by (name, arch), then the profile).
pub fn diff(a: &State, b: &State) -> Diff {
    let mut d = Diff::default();
    let (mut i, mut j) = (0, 0);
    let (pa, pb) = (&a.packages, &b.packages);
    while i < pa.len() || j < pb.len() {
        let ord = match (pa.get(i), pb.get(j)) {
            (Some(x), Some(y)) => x.key().cmp(&y.key()),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        match ord {
            Ordering::Less => {
                d.removed.push(pa[i].clone());
                i += 1;
            }
            Ordering::Greater => {
                d.added.push(pb[j].clone());
                j += 1;
            }
            Ordering::Equal => {
                let (x, y) = (&pa[i], &pb[j]);
                if x.version != y.version || x.sha256 != y.sha256 {
                    let direction = match store::compare_versions(&x.version, &y.version) {
                        Ordering::Less => Direction::Upgrade,
                        Ordering::Greater => Direction::Downgrade,
                        // Versions that compare equal but are spelled differently count as a rebuild.
                        Ordering::Equal => Direction::Rebuild,
                    };
                    d.changed.push(Changed {
                        name: x.name.clone(),
                        arch: x.arch.clone(),
                        from: x.version.clone(),
                        to: y.version.clone(),
                        direction,
                        from_sha256: x.sha256,
                        to_sha256: y.sha256,
                    });
                }
                i += 1;
                j += 1;
            }
        }
    }
    let (fa, fb) = (&a.profile, &b.profile);
    if fa.kargs != fb.kargs {
        d.profile.push(ProfileChange::Kargs {
            from: fa.kargs.clone(),
            to: fb.kargs.clone(),
            added: list_minus(&fb.kargs, &fa.kargs),
            removed: list_minus(&fa.kargs, &fb.kargs),
        });
    }
    map_diff(
        &fa.initramfs,
        &fb.initramfs,
        |key, from, to| ProfileChange::Initramfs { key, from, to },
        &mut d.profile,
    );
    map_diff(
        &fa.sysctl,
        &fb.sysctl,
        |key, from, to| ProfileChange::Sysctl { key, from, to },
        &mut d.profile,
    );
    if fa.hardware != fb.hardware {
        d.profile.push(ProfileChange::Hardware {
            from: fa.hardware.clone(),
            to: fb.hardware.clone(),
        });
    }
    let sources: std::collections::BTreeSet<&String> =
        a.indices.keys().chain(b.indices.keys()).collect();
    for s in sources {
        let (x, y) = (a.indices.get(s), b.indices.get(s));
        if x != y {
            d.indices.push(IndexChange {
                source: s.clone(),
                from: x.copied(),
                to: y.copied(),
            });
        }
    }
    d
}

/// Filters for [`History::log`]; `None` means no filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    /// Only this variant's lineage (its ancestors' transactions before it was created, then its own).
    pub variant: Option<String>,
    /// Only transactions that added, removed or changed this package name.
    pub package: Option<String>,
    /// Only transactions at or after this time (unix seconds).
    pub since: Option<i64>,
    /// Only transactions at or before this time (unix seconds).
    pub until: Option<i64>,
    /// Only the last this many of the transactions the other filters select (the work and the
    /// output are proportional to this, not to the history).
    pub last: Option<usize>,
}

impl LogFilter {
    /// Whether a transaction at `time` is inside the `since` and `until` bounds.
    pub fn takes(&self, time: i64) -> bool {
        self.since.is_none_or(|s| time >= s) && self.until.is_none_or(|u| time <= u)
    }
}

/// One line of `txn log`: the record's summary and what it changed from its predecessor
/// (borrowed from the record where it stores it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry<'a> {
    pub seq: u64,
    pub id: TxnId,
    pub time: i64,
    pub actor: &'a Actor,
    pub reason: &'a str,
    pub kind: &'static str,
    pub variant: &'a str,
    pub commit: CommitId,
    pub request: &'a Request,
    pub base: Option<&'a Provenance>,
    #[serde(flatten)]
    pub changes: Cow<'a, Diff>,
}

/// The history as a document: every entry of `txn log`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TxnLog<'a> {
    pub variant: String,
    pub transactions: Vec<LogEntry<'a>>,
}

/// `txn show TXN`: the whole record and what it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TxnShow<'a> {
    #[serde(flatten)]
    pub record: &'a Record,
    pub kind: &'static str,
    pub changes: Diff,
}

/// Whether a transaction brought a package version in or took it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackageEventKind {
    Introduced,
    Removed,
}

/// A transaction that introduced or removed `name=version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageEvent {
    pub seq: u64,
    pub id: TxnId,
    pub variant: String,
    pub event: PackageEventKind,
    pub name: String,
    pub arch: String,
    pub version: String,
}

/// Every package in the state of any of `records` (a journal's records up to some point), each
/// `.deb` once, in the order they first appear, without building the states: the whole states
/// stored and what each stored change brings in cover every state, since each state is a whole
/// one with changes applied.
pub fn recorded_packages<'a>(records: impl IntoIterator<Item = &'a Record>) -> Vec<PackageEntry> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for r in records {
        let (whole, diff) = match r.state.change() {
            None => (Some(&*r.state), None),
            Some(c) => (c.checkpoint.then(|| &*r.state), Some(c.diff.get())),
        };
        let changed = diff.into_iter().flat_map(|d| {
            let to = d.changed.iter().map(|c| PackageEntry {
                name: c.name.clone(),
                version: c.to.clone(),
                arch: c.arch.clone(),
                sha256: c.to_sha256,
            });
            d.added.iter().cloned().chain(to)
        });
        let stored = whole.into_iter().flat_map(|s| s.packages.iter().cloned());
        for p in stored.chain(changed) {
            if seen.insert(p.sha256) {
                out.push(p);
            }
        }
    }
    out
}

/// How a variant name must look: the name goes into an OSTree ref (`particle-os/NAME`).
pub fn valid_variant_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && !name.starts_with('.')
        && !name.starts_with('-')
}

static EMPTY_STATE: std::sync::OnceLock<State> = std::sync::OnceLock::new();

impl<'a> History<'a> {
    /// Indexes `records` (which must be sorted by seq, as the journal keeps them). O(n).
    pub fn new(records: impl Into<Records<'a>>) -> History<'a> {
        let records = records.into();
        History {
            records,
            by_variant: Cow::Owned(VariantIndex::build(records)),
        }
    }

    /// A history over `records` with an index the caller keeps in step with them.
    pub(crate) fn with_index(records: Records<'a>, index: &'a VariantIndex) -> History<'a> {
        History {
            records,
            by_variant: Cow::Borrowed(index),
        }
    }

    /// All records, oldest first.
    pub fn records(&self) -> Records<'a> {
        self.records
    }

    /// The record with sequence number `seq`.
    pub fn record(&self, seq: u64) -> Option<&'a Record> {
        self.position(seq).map(|i| self.records.at(i))
    }

    /// The position in [`Self::records`] of the record with sequence number `seq`.
    pub fn position(&self, seq: u64) -> Option<usize> {
        let i = usize::try_from(seq.checked_sub(1)?).ok()?;
        let n = self.records.len();
        if i < n && self.records.seq(i) == seq {
            return Some(i);
        }
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.records.seq(mid) < seq {
                true => lo = mid + 1,
                false => hi = mid,
            }
        }
        (lo < n && self.records.seq(lo) == seq).then_some(lo)
    }

    /// Variant names, in order of first appearance.
    pub fn variants(&self) -> Vec<&'a str> {
        // In order of first appearance already; names borrowed from the records.
        self.by_variant
            .own
            .iter()
            .map(|(_, ix)| self.records.at(ix[0]).variant.as_str())
            .collect()
    }

    fn own(&self, variant: &str) -> &[usize] {
        self.by_variant.get(variant).unwrap_or_default()
    }

    /// The variant's latest record.
    pub fn head(&self, variant: &str) -> Option<&'a Record> {
        self.own(variant).last().map(|&i| self.records.at(i))
    }

    /// The variant's own latest record with seq <= `seq`.
    fn own_at(&self, variant: &str, seq: u64) -> Option<&'a Record> {
        let own = self.own(variant);
        let n = own.partition_point(|&i| self.records.seq(i) <= seq);
        n.checked_sub(1).map(|k| self.records.at(own[k]))
    }

    /// The record whose state is `variant`'s state at transaction `seq`.
    pub fn state_at(&self, variant: &str, seq: u64) -> Result<&'a Record, QueryError> {
        if self.own(variant).is_empty() {
            return Err(QueryError::UnknownVariant {
                variant: variant.to_string(),
            });
        }
        self.own_at(variant, seq).ok_or_else(|| QueryError::NotYet {
            variant: variant.to_string(),
            seq,
        })
    }

    /// Where `variant` was created from (its first record's base: a `variant-create`, or an
    /// `apply` that created a child), if it is a child.
    fn creation(&self, variant: &str) -> Option<(&'a str, u64)> {
        let first = self.records.at(*self.own(variant).first()?);
        first
            .base
            .as_ref()
            .filter(|b| b.seq < first.seq)
            .map(|b| (b.variant.as_str(), b.seq))
    }

    /// The records that make up `variant`'s history up to `upto` (inclusive): its ancestors'
    /// records before it was created, then its own, oldest first.
    pub fn lineage(&self, variant: &str, upto: Option<u64>) -> Result<Vec<&'a Record>, QueryError> {
        let positions = self.lineage_positions(variant, upto)?;
        Ok(positions.into_iter().map(|i| self.records.at(i)).collect())
    }

    /// [`Self::lineage`] as positions in [`Self::records`], building no record but each
    /// variant's first.
    pub fn lineage_positions(
        &self,
        variant: &str,
        upto: Option<u64>,
    ) -> Result<Vec<usize>, QueryError> {
        if self.own(variant).is_empty() {
            return Err(QueryError::UnknownVariant {
                variant: variant.to_string(),
            });
        }
        let mut segments: Vec<&[usize]> = Vec::new();
        let (mut v, mut limit) = (variant, upto.unwrap_or(u64::MAX));
        // Each step goes to a strictly smaller seq, so this ends; the bound guards bad input.
        for _ in 0..=self.by_variant.len() {
            let own = self.own(v);
            let n = own.partition_point(|&i| self.records.seq(i) <= limit);
            segments.push(&own[..n]);
            match self.creation(v) {
                Some((parent, at)) if self.by_variant.get(parent).is_some() => {
                    v = parent;
                    limit = at.min(limit);
                }
                _ => break,
            }
        }
        Ok(segments.into_iter().rev().flatten().copied().collect())
    }

    /// Whether transaction `seq` is part of `variant`'s history.
    pub fn in_lineage(&self, variant: &str, seq: u64) -> bool {
        let mut v = variant;
        for _ in 0..=self.by_variant.len() {
            if self.own_at(v, seq).is_some_and(|r| r.seq == seq) {
                return true;
            }
            match self.creation(v) {
                Some((parent, at)) if seq <= at => v = parent,
                _ => return false,
            }
        }
        false
    }

    /// The record whose state `r` changed from: the previous record of its variant, or for a
    /// `variant-create` the parent's state at the creation point; `None` for a root's first.
    pub fn predecessor(&self, r: &Record) -> Option<&'a Record> {
        self.predecessor_of(&r.variant, r.seq, r.base.as_ref())
    }

    /// [`Self::predecessor`] of a record of `variant` with sequence `seq` and provenance `base`,
    /// which need not be in the journal yet.
    pub fn predecessor_of(
        &self,
        variant: &str,
        seq: u64,
        base: Option<&Provenance>,
    ) -> Option<&'a Record> {
        if let Some(prev) = self.own_at(variant, seq.checked_sub(1)?) {
            return Some(prev);
        }
        // A variant's first record: a child starts from its parent's state at its base.
        let b = base?;
        self.own_at(&b.variant, b.seq).filter(|p| p.seq < seq)
    }

    /// The record whose commit the build of a record (`variant`, `seq`, `request`, `base`) starts
    /// from, decided by the journal alone so that a replay builds on the same commit: the
    /// record rolled back to for a rollback (its tree already holds the target state), the
    /// predecessor otherwise; `None` (build from nothing) for a root variant's first record.
    pub fn build_base(
        &self,
        variant: &str,
        seq: u64,
        request: &Request,
        base: Option<&Provenance>,
    ) -> Option<&'a Record> {
        if let Request::Rollback { to_seq, .. } = request {
            if let Some(target) = self.record(*to_seq).filter(|t| t.seq < seq) {
                return Some(target);
            }
        }
        self.predecessor_of(variant, seq, base)
    }

    /// What `r` changed from its predecessor (from the empty state for a root's first record).
    pub fn changes(&self, r: &Record) -> Diff {
        self.changes_of(r).into_owned()
    }

    /// [`Self::changes`], borrowed from the record when it stores it (format 2), so neither
    /// state is built.
    pub(crate) fn changes_of<'r>(&self, r: &'r Record) -> Cow<'r, Diff> {
        let pred = self.predecessor(r);
        if let Some(c) = r.state.change() {
            if c.from_seq == pred.map_or(0, |p| p.seq) {
                return Cow::Borrowed(c.diff.get());
            }
        }
        let empty = EMPTY_STATE.get_or_init(State::default);
        Cow::Owned(diff(pred.map_or(empty, |p| &p.state), &r.state))
    }

    /// Calls `f` with every record of `variant`'s lineage ([`Self::lineage`]) and the state after
    /// it, oldest first: a replay of the history. Each state is made from the one before by
    /// applying the record's stored change to it in place, so the walk costs one change per
    /// record and keeps one state.
    pub fn fold_states(
        &self,
        variant: &str,
        mut f: impl FnMut(&'a Record, &State),
    ) -> Result<(), QueryError> {
        let mut current: Option<(u64, State)> = None;
        for r in self.lineage(variant, None)? {
            match (r.state.change(), &mut current) {
                (Some(c), Some((seq, state))) if c.from_seq == *seq => {
                    c.diff.get().apply_in_place(state);
                    *seq = r.seq;
                }
                _ => current = Some((r.seq, r.state.get_or_build().into_owned())),
            }
            if let Some((_, state)) = &current {
                f(r, state);
            }
        }
        Ok(())
    }

    /// `txn show`.
    pub fn show(&self, r: &'a Record) -> TxnShow<'a> {
        TxnShow {
            record: r,
            kind: r.kind(),
            changes: self.changes(r),
        }
    }

    /// `txn log`, oldest first. With [`LogFilter::last`], the selection is walked from its end
    /// and stops once it has that many.
    pub fn log(&self, filter: &LogFilter) -> Result<Vec<LogEntry<'a>>, QueryError> {
        let selected: Vec<usize> = match &filter.variant {
            Some(v) => self.lineage_positions(v, None)?,
            None => (0..self.records.len()).collect(),
        };
        let want = filter.last.unwrap_or(usize::MAX);
        let entry = |i: usize| {
            let r = self.records.at(i);
            if !filter.takes(r.time) {
                return None;
            }
            let changes = self.changes_of(r);
            if filter.package.as_ref().is_some_and(|p| !changes.touches(p)) {
                return None;
            }
            Some(self.entry(r, changes))
        };
        if filter.last.is_none() {
            return Ok(selected.into_iter().filter_map(entry).collect());
        }
        let mut out: Vec<LogEntry<'a>> = selected
            .into_iter()
            .rev()
            .filter_map(entry)
            .take(want)
            .collect();
        out.reverse();
        Ok(out)
    }

    /// The log entry of `r`, whose change from its predecessor is `changes`.
    pub(crate) fn entry(&self, r: &'a Record, changes: Cow<'a, Diff>) -> LogEntry<'a> {
        LogEntry {
            seq: r.seq,
            id: r.id,
            time: r.time,
            actor: &r.actor,
            reason: &r.reason,
            kind: r.kind(),
            variant: &r.variant,
            commit: r.commit,
            request: &r.request,
            base: r.base.as_ref(),
            changes,
        }
    }

    /// The seq of `variant`'s own record just before the one at `position`; `None` if that is
    /// the variant's first.
    pub(crate) fn own_before(&self, variant: &str, position: usize) -> Option<u64> {
        if let Some(before) = self.by_variant.before(position) {
            return before.map(|p| self.records.seq(p));
        }
        let own = self.own(variant);
        let k = own.partition_point(|&i| i < position);
        k.checked_sub(1).map(|k| self.records.seq(own[k]))
    }

    /// The transactions that introduced or removed package `name` (at `version`, if given),
    /// optionally only in `variant`'s own records.
    pub fn package_events(
        &self,
        name: &str,
        version: Option<&str>,
        variant: Option<&str>,
    ) -> Vec<PackageEvent> {
        let mut out = Vec::new();
        for r in self.records {
            if variant.is_some_and(|v| v != r.variant) {
                continue;
            }
            let d = self.changes_of(r);
            let mut push = |event, p_arch: &str, p_version: &str| {
                if version.is_none_or(|v| v == p_version) {
                    out.push(PackageEvent {
                        seq: r.seq,
                        id: r.id,
                        variant: r.variant.clone(),
                        event,
                        name: name.to_string(),
                        arch: p_arch.to_string(),
                        version: p_version.to_string(),
                    });
                }
            };
            for p in d.removed.iter().filter(|p| p.name == name) {
                push(PackageEventKind::Removed, &p.arch, &p.version);
            }
            for c in d
                .changed
                .iter()
                .filter(|c| c.name == name && c.from != c.to)
            {
                push(PackageEventKind::Removed, &c.arch, &c.from);
                push(PackageEventKind::Introduced, &c.arch, &c.to);
            }
            for p in d.added.iter().filter(|p| p.name == name) {
                push(PackageEventKind::Introduced, &p.arch, &p.version);
            }
        }
        out
    }

    /// The record whose state was `variant`'s at time `time` (the last one at or before it).
    pub fn state_as_of(&self, variant: &str, time: i64) -> Result<&'a Record, QueryError> {
        self.lineage(variant, None)?
            .into_iter()
            .rev()
            .find(|r| r.time <= time)
            .ok_or_else(|| QueryError::NothingAsOf {
                variant: variant.to_string(),
            })
    }

    /// The record `txn rollback [--to SEQ]` restores: `to` if given (it must be in the variant's
    /// history), else the state before the head.
    pub fn rollback_target(
        &self,
        variant: &str,
        to: Option<u64>,
    ) -> Result<&'a Record, QueryError> {
        match to {
            Some(seq) => {
                let r = self.record(seq).ok_or(QueryError::UnknownSeq { seq })?;
                if self.own(variant).is_empty() {
                    return Err(QueryError::UnknownVariant {
                        variant: variant.to_string(),
                    });
                }
                if !self.in_lineage(variant, seq) {
                    return Err(QueryError::NotInLineage {
                        variant: variant.to_string(),
                        seq,
                    });
                }
                Ok(r)
            }
            None => {
                let l = self.lineage(variant, None)?;
                l.len()
                    .checked_sub(2)
                    .map(|i| l[i])
                    .ok_or_else(|| QueryError::NothingBefore {
                        variant: variant.to_string(),
                    })
            }
        }
    }

    /// The transactions `txn bisect --good G --bad B` searches, `G` first and `B` last: the
    /// variant's history between them.
    pub fn bisect_range(&self, variant: &str, good: u64, bad: u64) -> Result<Vec<u64>, QueryError> {
        for seq in [good, bad] {
            if !self.in_lineage(variant, seq) {
                return Err(QueryError::NotInLineage {
                    variant: variant.to_string(),
                    seq,
                });
            }
        }
        if good >= bad {
            return Err(QueryError::BadRange {
                variant: variant.to_string(),
                good,
                bad,
            });
        }
        Ok(self
            .lineage(variant, Some(bad))?
            .into_iter()
            .map(|r| r.seq)
            .filter(|&s| s >= good)
            .collect())
    }

    /// Resolves a TXN reference: a sequence number, or a prefix of at least 8 hex digits of an
    /// id. A string that could be both (8+ decimal digits) must match exactly one transaction.
    pub fn resolve(&self, reference: &str) -> Result<&'a Record, ResolveError> {
        let s = reference.trim();
        let invalid = || ResolveError::Invalid {
            reference: reference.to_string(),
        };
        if s.is_empty() {
            return Err(invalid());
        }
        let decimal = s.bytes().all(|b| b.is_ascii_digit());
        let hex = s.len() >= 8 && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !decimal && !hex {
            return Err(invalid());
        }
        let mut found: Vec<&'a Record> = Vec::new();
        if decimal {
            if let Some(r) = s.parse::<u64>().ok().and_then(|n| self.record(n)) {
                found.push(r);
            }
        }
        if hex {
            let lower = s.to_ascii_lowercase();
            let by_id: Vec<&'a Record> = (0..self.records.len())
                .filter(|&i| self.records.id(i).to_hex().starts_with(&lower))
                .map(|i| self.records.at(i))
                .filter(|r| !found.iter().any(|f| f.seq == r.seq))
                .collect();
            found.extend(by_id);
        }
        match found.len() {
            0 => Err(ResolveError::NotFound {
                reference: reference.to_string(),
            }),
            1 => Ok(found[0]),
            _ => Err(ResolveError::Ambiguous {
                reference: reference.to_string(),
                candidates: found.iter().map(|r| (r.seq, r.id)).collect(),
            }),
        }
    }

    /// The rules record number `seq` (appended after every record with a smaller seq) must
    /// satisfy; records at or after `seq` in this history are ignored. Returns what is wrong.
    pub fn check(&self, seq: u64, r: &NewRecord) -> Result<(), CheckError> {
        self.check_parts(seq, &r.variant, &r.request, &r.state, r.base.as_ref())
    }

    /// [`History::check`] on an existing record whose state is `state` (as `verify` does, with
    /// the state it built), without copying it.
    pub fn check_record(&self, r: &Record, state: &State) -> Result<(), CheckError> {
        self.check_parts(r.seq, &r.variant, &r.request, state, r.base.as_ref())
    }

    fn check_parts(
        &self,
        seq: u64,
        variant: &str,
        request: &Request,
        state: &State,
        base: Option<&Provenance>,
    ) -> Result<(), CheckError> {
        let before = seq.saturating_sub(1);
        if !valid_variant_name(variant) {
            return Err(CheckError::VariantName(variant.to_owned()));
        }
        if let Some(w) = state.packages.windows(2).find(|w| w[0].key() >= w[1].key()) {
            return Err(CheckError::Unsorted {
                name: w[1].name.clone(),
                arch: w[1].arch.clone(),
            });
        }
        let prev_own = self.own_at(variant, before);
        let parent_state =
            |parent: &str, parent_seq: u64, parent_txn: &TxnId| -> Result<&'a Record, CheckError> {
                if parent_seq >= seq {
                    return Err(CheckError::ParentNotBefore(parent_seq));
                }
                let at = self
                    .record(parent_seq)
                    .ok_or(CheckError::ParentMissing(parent_seq))?;
                if at.id != *parent_txn {
                    return Err(CheckError::ParentId {
                        seq: parent_seq,
                        found: at.id,
                        expected: *parent_txn,
                    });
                }
                if !self.in_lineage(parent, parent_seq) {
                    return Err(CheckError::NotInParentHistory {
                        seq: parent_seq,
                        parent: parent.to_owned(),
                    });
                }
                self.own_at(parent, parent_seq)
                    .or_else(|| {
                        self.lineage(parent, Some(parent_seq))
                            .ok()
                            .and_then(|l| l.last().copied())
                    })
                    .ok_or_else(|| CheckError::ParentHasNoState {
                        parent: parent.to_owned(),
                        seq: parent_seq,
                    })
            };
        let expect_base = |p: &str, s: u64, t: &TxnId| -> Result<(), CheckError> {
            let want = Provenance {
                variant: p.to_string(),
                seq: s,
                txn: *t,
            };
            if base != Some(&want) {
                return Err(CheckError::Base {
                    expected: Box::new(want),
                    found: base.cloned().map(Box::new),
                });
            }
            Ok(())
        };
        match request {
            Request::VariantCreate {
                parent,
                parent_seq,
                parent_txn,
            } => {
                if prev_own.is_some() {
                    return Err(CheckError::VariantExists(variant.to_owned()));
                }
                if *parent == variant {
                    return Err(CheckError::FromItself);
                }
                let p = parent_state(parent, *parent_seq, parent_txn)?;
                if *p.state != *state {
                    return Err(CheckError::NewVariantState {
                        parent: parent.clone(),
                        seq: *parent_seq,
                    });
                }
                expect_base(parent, *parent_seq, parent_txn)
            }
            Request::Rebase {
                parent,
                parent_seq,
                parent_txn,
            } => {
                let prev = prev_own.ok_or_else(|| CheckError::NoVariant(variant.to_owned()))?;
                match &prev.base {
                    Some(b) if b.variant == *parent => {}
                    _ => {
                        return Err(CheckError::NotAChild {
                            variant: variant.to_owned(),
                            parent: parent.clone(),
                        })
                    }
                }
                parent_state(parent, *parent_seq, parent_txn)?;
                expect_base(parent, *parent_seq, parent_txn)
            }
            Request::Apply { .. } => {
                let Some(b) = base else {
                    return match prev_own {
                        Some(prev) if prev.base.is_some() => Err(CheckError::ApplyWithoutParent {
                            variant: variant.to_owned(),
                            parent: prev.base.as_ref().map(|b| b.variant.clone()),
                        }),
                        _ => Ok(()),
                    };
                };
                if let Some(prev) = prev_own {
                    match &prev.base {
                        Some(pb) if pb.variant == b.variant => {}
                        _ => {
                            return Err(CheckError::NotAChild {
                                variant: variant.to_owned(),
                                parent: b.variant.clone(),
                            })
                        }
                    }
                } else if b.variant == variant {
                    return Err(CheckError::FromItself);
                }
                parent_state(&b.variant, b.seq, &b.txn)?;
                Ok(())
            }
            Request::Origin { .. } => {
                // A machine's state replaced by a deployment from elsewhere: the first record
                // of its journal, and every later deploy onto it.
                if base.is_some() {
                    return Err(CheckError::OriginWithBase);
                }
                Ok(())
            }
            other => {
                if let Some(prev) = prev_own {
                    if base != prev.base.as_ref() {
                        return Err(CheckError::BaseChanged {
                            from: prev.base.clone().map(Box::new),
                            to: base.cloned().map(Box::new),
                        });
                    }
                } else if base.is_some() {
                    return Err(CheckError::RootWithBase);
                }
                if let Request::Rollback { to_seq, to } = other {
                    if *to_seq >= seq {
                        return Err(CheckError::RollbackNotBefore(*to_seq));
                    }
                    let t = self
                        .record(*to_seq)
                        .ok_or(CheckError::RollbackMissing(*to_seq))?;
                    if t.id != *to {
                        return Err(CheckError::RollbackId {
                            seq: *to_seq,
                            found: t.id,
                            expected: *to,
                        });
                    }
                    if prev_own.is_none() || !self.in_lineage(variant, *to_seq) {
                        return Err(CheckError::RollbackNotInHistory {
                            seq: *to_seq,
                            variant: variant.to_owned(),
                        });
                    }
                    if *t.state != *state {
                        return Err(CheckError::RollbackState(*to_seq));
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs pushed in bulk index as one push at a time does.
    #[test]
    fn a_run_pushed_in_bulk_is_indexed_as_one_by_one() {
        let runs = [
            ("base", 3),
            ("bosom", 1),
            ("base", 0),
            ("base", 2),
            ("apex", 4),
            ("bosom", 2),
        ];
        let (mut bulk, mut one) = (VariantIndex::default(), VariantIndex::default());
        let mut position = 0;
        for (variant, n) in runs {
            bulk.push_run(variant, position, n);
            for p in position..position + n {
                one.push(variant, p);
            }
            position += n;
        }
        assert_eq!(bulk, one);
        assert_eq!(bulk.before(4), Some(Some(2)));
        assert_eq!(bulk.before(10), Some(Some(3)));
        assert_eq!(bulk.before(6), Some(None));
    }

    fn entry(name: &str, version: &str, arch: &str) -> PackageEntry {
        PackageEntry {
            name: name.into(),
            version: version.into(),
            arch: arch.into(),
            sha256: Sha256::of(format!("{name}{version}{arch}").as_bytes()),
        }
    }

    #[test]
    fn diff_classifies_and_applies() {
        let mut a = State {
            packages: vec![
                entry("a", "1.0", "amd64"),
                entry("b", "2:1.0", "amd64"),
                entry("c", "1", "amd64"),
            ],
            ..State::default()
        };
        a.profile.kargs = vec!["quiet".into(), "ro".into()];
        a.profile.sysctl.insert("x".into(), "1".into());
        let mut b = a.clone();
        b.packages = vec![
            entry("a", "1.0~rc1", "amd64"),
            entry("b", "2:1.1", "amd64"),
            entry("b", "2:1.1", "i386"),
            PackageEntry {
                sha256: Sha256::of(b"rebuilt"),
                ..entry("c", "1", "amd64")
            },
        ];
        b.profile.kargs = vec!["ro".into(), "splash".into()];
        b.profile.sysctl.clear();
        b.profile.hardware = Value::Bool(true);
        let d = diff(&a, &b);
        let dirs: Vec<(&str, Direction)> = d
            .changed
            .iter()
            .map(|c| (c.name.as_str(), c.direction))
            .collect();
        assert_eq!(
            dirs,
            [
                ("a", Direction::Downgrade),
                ("b", Direction::Upgrade),
                ("c", Direction::Rebuild)
            ]
        );
        assert_eq!(d.added, [entry("b", "2:1.1", "i386")]);
        assert!(d.removed.is_empty());
        assert_eq!(
            d.profile[0],
            ProfileChange::Kargs {
                from: a.profile.kargs.clone(),
                to: b.profile.kargs.clone(),
                added: vec!["splash".into()],
                removed: vec!["quiet".into()],
            }
        );
        assert_eq!(
            d.profile[1],
            ProfileChange::Sysctl {
                key: "x".into(),
                from: Some("1".into()),
                to: None
            }
        );
        assert_eq!(d.apply(&a), b);
        assert!(diff(&b, &b).is_empty());
        assert_eq!(diff(&b, &a).apply(&b), a);
    }

    #[test]
    fn variant_names_are_ref_safe() {
        for ok in ["base", "desktop-2", "a.b_c"] {
            assert!(valid_variant_name(ok), "{ok}");
        }
        for bad in ["", "-x", ".x", "a/b", "a b", "a@1", &"x".repeat(129)] {
            assert!(!valid_variant_name(bad), "{bad}");
        }
    }
}
