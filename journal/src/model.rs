//! The record model: what one transaction says, as plain data (serde for JSON output).
//!
//! A [`Record`] is immutable once written. It carries the resulting state of its variant
//! (package set, profile, pinned indices, commit) as a [`RecordState`] (stored whole or as the
//! change from the state before it, and whole on use), so the state at any transaction is that
//! record, and the request says how it came about.
//!
//! The ids ([`TxnId`], [`CommitId`]) and the package entry ([`PackageEntry`]) are the store's,
//! re-exported: the materializer and the engine pass the same types. The encoding of each is in
//! `codec` (`docs/format/journal.md`), not in the types.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use store::Sha256;
pub use store::{CommitId, PackageEntry, TxnId};

use crate::query::Diff;

/// Who made a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Actor {
    pub user: String,
    pub host: String,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.user, self.host)
    }
}

/// A package the user asked for: `name` or `name=version`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PackageSpec {
    pub name: String,
    pub version: Option<String>,
}

/// What the user asked for. The `kind` in JSON is the tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Request {
    /// `txn install PKG[=VERSION]...`
    Install {
        packages: Vec<PackageSpec>,
        no_recommends: bool,
    },
    /// `txn remove PKG...`
    Remove { packages: Vec<String> },
    /// `txn upgrade`
    Upgrade,
    /// `txn rollback --to TXN`: the new state equals the state at `to`.
    Rollback { to_seq: u64, to: TxnId },
    /// `txn kargs --append/--delete`
    Kargs {
        append: Vec<String>,
        delete: Vec<String>,
    },
    /// `txn initramfs --set KEY=VALUE...`
    Initramfs { set: BTreeMap<String, String> },
    /// `txn sysctl --set KEY=VALUE...`
    Sysctl { set: BTreeMap<String, String> },
    /// `txn hardware --detect | --from FILE`; `source` says which ("detect" or the file name).
    Hardware { source: String },
    /// `variant create NAME --from PARENT@TXN`: the state is the parent's at `parent_seq`.
    VariantCreate {
        parent: String,
        parent_seq: u64,
        parent_txn: TxnId,
    },
    /// `variant rebase CHILD`: rebuilt on the parent's state at `parent_seq`.
    Rebase {
        parent: String,
        parent_seq: u64,
        parent_txn: TxnId,
    },
    /// `variant apply FILE` / `compose`: the variant's state reconciled with a definition. The
    /// record's `base` names the parent transaction it was built on (it may create the variant, or
    /// move it onto its parent's newer head, in the same record). `definition` is the definition in
    /// canonical JSON, so later transactions (hardware rules, the next apply) can read it back.
    Apply { file: String, definition: String },
    /// A machine's state set by a deployment from elsewhere (the first record of a machine's
    /// journal in `/var/lib/particle`, and every later deploy onto it): transaction `seq` (id
    /// `txn`) of the variant in the state directory or repository `from`. The record's state and
    /// commit are that transaction's, so the machine's own transactions build on that commit.
    Origin { from: String, seq: u64, txn: TxnId },
}

impl Request {
    /// The short name shown in `txn log` (`install`, `variant-create`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Request::Install { .. } => "install",
            Request::Remove { .. } => "remove",
            Request::Upgrade => "upgrade",
            Request::Rollback { .. } => "rollback",
            Request::Kargs { .. } => "kargs",
            Request::Initramfs { .. } => "initramfs",
            Request::Sysctl { .. } => "sysctl",
            Request::Hardware { .. } => "hardware",
            Request::VariantCreate { .. } => "variant-create",
            Request::Rebase { .. } => "rebase",
            Request::Apply { .. } => "apply",
            Request::Origin { .. } => "origin",
        }
    }
}

/// A structured value (the hardware profile). No floats, so every value has one canonical encoding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
}

/// The profile state of a variant: what besides packages makes its commit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Profile {
    /// Kernel arguments, in order.
    pub kargs: Vec<String>,
    pub initramfs: BTreeMap<String, String>,
    pub sysctl: BTreeMap<String, String>,
    pub hardware: Value,
}

/// Where a child variant's state came from: the parent's transaction it was built on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Provenance {
    pub variant: String,
    pub seq: u64,
    pub txn: TxnId,
}

/// Everything a transaction's resulting state consists of.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct State {
    /// Pinned index snapshots: source name -> SHA-256 of its InRelease.
    pub indices: BTreeMap<String, Sha256>,
    /// The full resolved package set, sorted by (name, arch), one entry per (name, arch).
    pub packages: Vec<PackageEntry>,
    pub profile: Profile,
}

/// What the caller supplies to [`crate::Journal::append`]; the journal adds `seq`, `prev` and `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRecord {
    /// Unix seconds, UTC.
    pub time: i64,
    pub actor: Actor,
    pub reason: String,
    pub variant: String,
    pub request: Request,
    pub state: State,
    /// The OSTree commit this state was materialized into.
    pub commit: CommitId,
    /// For child variants: the parent transaction this state is built on.
    pub base: Option<Provenance>,
}

/// A record's resulting state, as stored: the whole state (body version 1, and every
/// [`CHECKPOINT_EVERY`]-th record of a chain in version 2), or the change from the state it was
/// made from (body version 2). Dereferences to the whole [`State`], built on first use from the
/// nearest whole state before it and kept; cloning shares it.
#[derive(Clone)]
pub struct RecordState(Arc<Node>);

struct Node {
    whole: OnceLock<State>,
    change: Option<Change>,
}

/// How a body version 2 record stores its state.
#[derive(Clone)]
pub(crate) struct Change {
    /// The record the state was made from ([`crate::History::predecessor`]); 0 = the empty state.
    pub(crate) from_seq: u64,
    /// That record's state (`None` for the empty state).
    pub(crate) from: Option<RecordState>,
    /// `from`'s state to this one.
    pub(crate) diff: StoredDiff,
    /// Whether the body also holds the whole state (a checkpoint).
    pub(crate) checkpoint: bool,
    /// Changes to apply from the nearest whole state (0 at a checkpoint or a version 1 record).
    pub(crate) depth: u32,
}

/// A change as stored: read from the journal, only its bytes are kept (checked to be a canonical
/// change when read) and it is decoded on first use, so opening a long journal does not decode
/// every change; made by an append, it is kept decoded.
#[derive(Clone)]
pub(crate) struct StoredDiff {
    diff: OnceLock<Diff>,
    bytes: Option<Box<[u8]>>,
}

impl StoredDiff {
    pub(crate) fn new(diff: Diff) -> StoredDiff {
        StoredDiff {
            diff: OnceLock::from(diff),
            bytes: None,
        }
    }

    /// The encoded change, which [`crate::codec`] has checked.
    pub(crate) fn encoded(bytes: Box<[u8]>) -> StoredDiff {
        StoredDiff {
            diff: OnceLock::new(),
            bytes: Some(bytes),
        }
    }

    pub(crate) fn get(&self) -> &Diff {
        self.diff.get_or_init(|| {
            let bytes = self.bytes.as_deref().unwrap_or_default();
            crate::codec::decode_diff(bytes).expect("a change is checked when it is read")
        })
    }
}

/// A version 2 body holds the whole state when its chain of changes back to the nearest whole
/// state would reach this length: building any state applies fewer changes than this.
pub const CHECKPOINT_EVERY: u32 = 256;

impl RecordState {
    /// A state stored whole (body version 1).
    pub fn whole(state: State) -> RecordState {
        RecordState(Arc::new(Node {
            whole: OnceLock::from(state),
            change: None,
        }))
    }

    /// A state stored as a change; `whole` is the state when the caller has it (an append, a
    /// checkpoint), else it is built on first use.
    pub(crate) fn changed(change: Change, whole: Option<State>) -> RecordState {
        let cell = whole.map_or_else(OnceLock::new, OnceLock::from);
        RecordState(Arc::new(Node {
            whole: cell,
            change: Some(change),
        }))
    }

    /// The change this record stores (body version 2), if any.
    pub(crate) fn change(&self) -> Option<&Change> {
        self.0.change.as_ref()
    }

    /// Changes to apply from the nearest whole state to build this one.
    pub(crate) fn depth(&self) -> u32 {
        self.change().map_or(0, |c| c.depth)
    }

    /// The state if it is already built (stored whole, appended, or used before).
    pub(crate) fn built(&self) -> Option<&State> {
        self.0.whole.get()
    }

    /// The state, built if it was not (and then not kept): for walking a long chain without
    /// keeping every state it passes.
    pub fn get_or_build(&self) -> std::borrow::Cow<'_, State> {
        match self.built() {
            Some(s) => std::borrow::Cow::Borrowed(s),
            None => std::borrow::Cow::Owned(self.build()),
        }
    }

    /// Builds the state: the nearest built state back along the chain, then every change since,
    /// in order, applied to one copy of it.
    fn build(&self) -> State {
        let mut diffs: Vec<&Diff> = Vec::new();
        let mut node = &self.0;
        let base = loop {
            let Some(c) = &node.change else {
                break node.whole.get();
            };
            diffs.push(c.diff.get());
            match &c.from {
                None => break None,
                Some(f) => match f.built() {
                    Some(s) => break Some(s),
                    None => node = &f.0,
                },
            }
        };
        crate::query::apply_all(base, diffs.into_iter().rev())
    }
}

impl std::ops::Deref for RecordState {
    type Target = State;
    fn deref(&self) -> &State {
        self.0.whole.get_or_init(|| self.build())
    }
}

impl From<State> for RecordState {
    fn from(state: State) -> RecordState {
        RecordState::whole(state)
    }
}

impl PartialEq for RecordState {
    fn eq(&self, other: &RecordState) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || **self == **other
    }
}

impl Eq for RecordState {}

impl PartialEq<State> for RecordState {
    fn eq(&self, other: &State) -> bool {
        **self == *other
    }
}

impl PartialEq<RecordState> for State {
    fn eq(&self, other: &RecordState) -> bool {
        *self == **other
    }
}

impl fmt::Debug for RecordState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        State::fmt(self, f)
    }
}

impl Serialize for RecordState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        State::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for RecordState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RecordState, D::Error> {
        State::deserialize(d).map(RecordState::whole)
    }
}

/// One committed transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// 1 for the first record, then +1 per record across all variants.
    pub seq: u64,
    pub id: TxnId,
    /// The previous record's id ([`TxnId::GENESIS`] for the first).
    pub prev: TxnId,
    pub time: i64,
    pub actor: Actor,
    pub reason: String,
    pub variant: String,
    pub request: Request,
    /// The resulting state (dereferences to [`State`]).
    pub state: RecordState,
    pub commit: CommitId,
    pub base: Option<Provenance>,
}

impl Record {
    /// The transaction kind (`install`, `rollback`, ...).
    pub fn kind(&self) -> &'static str {
        self.request.kind()
    }
}
