//! The transaction protocol: a [`Change`] to a variant becomes a [`Plan`] (what changes, what it
//! downloads), which [`Session::run`] returns as it is for a dry run, or fetches, builds,
//! preflights (on a machine), records, moves the ref and deploys (on a machine). Either all of
//! that happens or nothing visible does (see docs/architecture.md). Every transaction kind goes
//! through it; front ends only render the plan and the [`Outcome`], and learn of progress
//! through an [`Observer`].

use crate::pinned::{Pinned, PinnedView};
use crate::session::{ostree_error, Session};
use crate::state::Machine;
use crate::variants::Definition;
use crate::{faults, Error, ErrorKind, Result};
use journal::{CommitId, NewRecord, PackageEntry, Provenance, Record, Request, State, Value};
use std::collections::BTreeMap;

/// What a front end hears while a transaction runs. Every method has a default that ignores it.
/// Called from the threads that fetch and build, so implementations are `Sync`.
pub trait Observer: Sync {
    /// A line worth telling the person: recovery, a deployment staged, a source set up.
    fn note(&self, _message: &str) {}
    /// Fetching begins: the state has `packages`, of which `to_fetch` (`bytes` in all) are not
    /// stored yet.
    fn fetch_started(&self, _packages: usize, _to_fetch: usize, _bytes: u64) {}
    /// `done` of `total` packages are stored; one of `size` bytes just was.
    fn fetched(&self, _done: usize, _total: usize, _size: u64) {}
    /// Fetching ended (`ok`: every `.deb` is stored and verified).
    fn fetch_finished(&self, _ok: bool) {}
    /// The build of a tree of `packages` begins.
    fn build_started(&self, _packages: usize) {}
    /// The build reached a step of one of its phases.
    fn building(&self, _progress: materializer::Progress) {}
    /// The build ended (`ok`: committed to the repository).
    fn build_finished(&self, _ok: bool) {}
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {}

/// What a transaction asks of a variant.
#[derive(Debug, Clone)]
pub enum Change {
    /// Install packages (`NAME`, `NAME=VERSION`, `NAME:ARCH`).
    Install {
        packages: Vec<String>,
        no_recommends: bool,
    },
    /// Remove packages.
    Remove { packages: Vec<String> },
    /// Upgrade everything to the pinned sources' candidates.
    Upgrade,
    /// Return to the state of an earlier transaction (`None`: the one before the head), rebuilt
    /// (or reused when its commit is still there).
    Rollback { to: Option<u64> },
    /// On a machine: make the rollback deployment the default, no rebuild.
    RollbackDeployment,
    /// On a machine: drop the deployment staged for the next boot.
    Cancel,
    /// A new variant starting from `parent`'s state at transaction `at` (its head if `None`).
    CreateVariant { parent: String, at: Option<u64> },
    /// Kernel arguments appended and deleted.
    Kargs {
        append: Vec<String>,
        delete: Vec<String>,
    },
    /// initramfs-tools settings (`KEY` → value; an empty value deletes the key).
    Initramfs { set: BTreeMap<String, String> },
    /// sysctl settings (an empty value deletes the key).
    Sysctl { set: BTreeMap<String, String> },
    /// A hardware profile, recorded with its source, and the variant's hardware rules applied.
    Hardware { profile: Value, source: String },
    /// A variant definition applied (the variant is `definition.name`). With `follow_parent`
    /// (as in `compose`), a child whose parent moved is rebased onto the parent's head in the
    /// same record.
    Apply {
        definition: Box<Definition>,
        file: String,
        follow_parent: bool,
    },
    /// A child rebuilt on its parent's head with its own changes.
    Rebase,
}

impl Change {
    /// Whether it changes profile settings (kernel arguments, initramfs, sysctl, the hardware
    /// profile) rather than packages or the variant's history.
    pub fn is_profile_change(&self) -> bool {
        matches!(
            self,
            Change::Kargs { .. }
                | Change::Initramfs { .. }
                | Change::Sysctl { .. }
                | Change::Hardware { .. }
        )
    }

    /// `txn rollback [--to TXN]` on the state directory at `root`: to the state of TXN (a
    /// reference [`Session::resolve`] takes); without one, on a machine its rollback deployment
    /// ([`Change::RollbackDeployment`]), elsewhere the state before the head.
    pub fn rollback(root: &std::path::Path, to: Option<&str>) -> Result<Change> {
        Ok(match to {
            None if crate::machine::machine_variant(root).is_some() => Change::RollbackDeployment,
            None => Change::Rollback { to: None },
            Some(r) => Change::Rollback {
                to: Some(Session::read(root)?.resolve(r)?.seq),
            },
        })
    }

    /// `variant create --from PARENT[@TXN]`: a new variant from PARENT's state at TXN (a
    /// reference `session` resolves), or at PARENT's head.
    pub fn create_variant(session: &Session, from: &str) -> Result<Change> {
        let (parent, at) = match from.split_once('@') {
            Some((p, t)) => (p, Some(session.resolve(t)?.seq)),
            None => (from, None),
        };
        Ok(Change::CreateVariant {
            parent: parent.to_owned(),
            at,
        })
    }
}

/// How a planned transaction reaches its commit.
#[derive(Debug, Clone)]
pub(crate) enum Build {
    /// Materialize the target state; fetch the `.deb`s it lacks first when `fetch` is set, except
    /// those of `fetch_base`.
    Materialize {
        fetch: bool,
        fetch_base: Option<State>,
    },
    /// On a machine: the commit is deployed already; only the deployments change.
    Switch(Switch),
}

/// What a machine's record without a build does to the deployments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Switch {
    /// The deployment at this index becomes the default.
    Default(usize),
    /// The staged deployment goes.
    DropStaged,
}

/// What a transaction would do: shown to the person, returned by a dry run, then committed.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The variant that changes.
    pub variant: String,
    /// The request the record will carry.
    pub request: Request,
    /// The variant's head before the transaction.
    pub head: Option<Record>,
    /// The state the change is measured from (the head's, or the parent's for a new variant).
    pub from: State,
    /// The state the transaction records.
    pub target: State,
    /// The provenance the new record carries (the parent transaction it is built on).
    pub base: Option<Provenance>,
    /// `from` → `target`.
    pub diff: journal::Diff,
    /// Bytes of `.deb`s to download.
    pub download_bytes: u64,
    /// For rollbacks and machine returns: the transaction whose state comes back.
    pub to: Option<u64>,
    /// The hardware rules that match the recorded profile (`txn hardware`), as `VARIANT: RULE`.
    pub matched_rules: Vec<String>,
    /// The reason recorded when the person gives none.
    pub default_reason: Option<String>,
    unchanged: bool,
    pub(crate) build: Build,
    /// Kernel arguments and sysctl keys of the target profile that do nothing, against the
    /// head's kernel ([`crate::lint`]; filled for a dry run).
    pub warnings: Vec<crate::lint::Finding>,
}

impl Plan {
    /// Whether there is nothing to do: the variant already has that state (nothing is recorded).
    pub fn is_unchanged(&self) -> bool {
        self.unchanged
    }

    /// Whether committing it changes the deployments of a machine without a build (machine
    /// rollback and cancel).
    pub fn is_switch(&self) -> bool {
        matches!(self.build, Build::Switch(_))
    }

    /// A plan from `from` to `target` on `head` (whose provenance it keeps), changed by
    /// `request` and reached by `build`; nothing to download, no rollback target, no matched
    /// rules, no default reason: callers set what differs.
    fn new(
        variant: &str,
        request: Request,
        head: Option<Record>,
        from: State,
        target: State,
        build: Build,
    ) -> Plan {
        Plan {
            variant: variant.to_owned(),
            request,
            base: head.as_ref().and_then(|h| h.base.clone()),
            head,
            diff: journal::diff(&from, &target),
            from,
            target,
            download_bytes: 0,
            to: None,
            matched_rules: Vec::new(),
            default_reason: None,
            unchanged: false,
            build,
            warnings: Vec::new(),
        }
    }

    /// Materialize without fetching.
    const NO_FETCH: Build = Build::Materialize {
        fetch: false,
        fetch_base: None,
    };

    pub(crate) fn unchanged(variant: &str, head: Option<Record>) -> Plan {
        let state = head
            .as_ref()
            .map(|h| journal::State::clone(&h.state))
            .unwrap_or_default();
        Plan {
            unchanged: true,
            ..Plan::new(
                variant,
                Request::Upgrade,
                head,
                state.clone(),
                state,
                Plan::NO_FETCH,
            )
        }
    }
}

/// What a committed transaction did.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The new record (its commit is what the variant's ref points at now).
    pub record: Record,
    /// What changed.
    pub diff: journal::Diff,
    /// On a machine: where the record's commit is deployed.
    pub deployment: Option<Deployed>,
    /// How long each phase took.
    pub timings: Vec<(&'static str, std::time::Duration)>,
    /// Kernel arguments and sysctl keys of the new profile that do nothing ([`crate::lint`]).
    pub warnings: Vec<crate::lint::Finding>,
}

/// Where a machine transaction's commit went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    pub sysroot: std::path::PathBuf,
    /// The first deployment is the record's commit (the default from the next boot).
    pub first: bool,
    /// Staged for the next boot (finalized at shutdown).
    pub staged: bool,
    /// The running deployment.
    pub booted: bool,
}

/// How a planned transaction ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Nothing to do; `txn` is the variant's head.
    Unchanged { variant: String, txn: Option<u64> },
    /// A dry run: the plan, not carried out.
    DryRun(Box<Plan>),
    /// Recorded (and on a machine deployed).
    Committed(Box<Committed>),
}

impl Outcome {
    /// One shape for every transaction outcome (docs/cli.md, "Transaction outcomes"):
    /// `variant`, `committed`, `dry_run`, `txn` and `changes` always; a dry run adds
    /// `download_bytes` (and `to` for a rollback); a committed one adds the record (`txn_id`,
    /// `commit`, `ref`, `kind`, `packages`, `base`), the changes again at the top level (as the
    /// first versions printed them) and, on a machine, `sysroot`, `staged`, `reboot_required`.
    /// Nothing to do keeps `"changed": false`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let base_json = |b: &Option<journal::Provenance>| {
            b.as_ref()
                .map(|b| json!({"variant": b.variant, "seq": b.seq, "txn": b.txn.to_hex()}))
        };
        match self {
            Outcome::Unchanged { variant, txn } => json!({
                "variant": variant, "committed": false, "dry_run": false, "changed": false, "txn": txn,
                "changes": crate::history::diff_json(&journal::Diff::default()),
            }),
            Outcome::DryRun(plan) => {
                let mut j = json!({
                    "variant": plan.variant, "committed": false, "dry_run": true,
                    "txn": plan.head.as_ref().map(|h| h.seq),
                    "download_bytes": plan.download_bytes, "changes": crate::history::diff_json(&plan.diff), "warnings": plan.warnings,
                });
                if let Some(to) = plan.to {
                    j["to"] = to.into();
                }
                j
            }
            Outcome::Committed(c) => {
                let r = &c.record;
                let mut j = json!({
                    "variant": r.variant, "committed": true, "dry_run": false, "txn": r.seq,
                    "txn_id": r.id.to_hex(), "commit": r.commit.to_hex(),
                    "ref": materializer::variant_ref(&r.variant), "kind": r.kind(),
                    "packages": r.state.packages.len(), "base": base_json(&r.base),
                    "changes": crate::history::diff_json(&c.diff), "warnings": c.warnings,
                });
                if let (serde_json::Value::Object(m), serde_json::Value::Object(d)) =
                    (&mut j, crate::history::diff_json(&c.diff))
                {
                    m.extend(d);
                }
                if let Some(d) = &c.deployment {
                    j["sysroot"] = json!(d.sysroot);
                    j["staged"] = (d.first && d.staged).into();
                    j["reboot_required"] = (d.first && !d.booted).into();
                }
                j
            }
        }
    }
}

/// How [`Session::run`] carries out a plan.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Stop after planning.
    pub dry_run: bool,
    /// Why (recorded with the transaction).
    pub reason: Option<String>,
}

/// `KEY=VALUE` settings (for [`Change::Initramfs`] and [`Change::Sysctl`]; an empty value
/// deletes the key), keys and values trimmed; `usage` for an item without `=` or with a bad key.
pub fn parse_assignments(items: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for i in items {
        let (k, v) = i
            .split_once('=')
            .ok_or_else(|| Error::usage(format!("{i:?} is not KEY=VALUE")))?;
        let k = k.trim();
        if k.is_empty() || k.contains(char::is_whitespace) {
            return Err(Error::usage(format!("{i:?}: bad key")));
        }
        out.insert(k.to_owned(), v.trim().to_owned());
    }
    Ok(out)
}

/// `{name}` or `{name}={version}`, optionally `{name}:{arch}`, checked.
pub fn parse_spec(s: &str) -> Result<journal::PackageSpec> {
    let (name, version) = match s.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (s, None),
    };
    let bare = name.split_once(':').map_or(name, |(n, _)| n);
    if !store::valid_name(bare) {
        return Err(
            Error::usage(format!("{s:?} is not a package name (PKG or PKG=VERSION)"))
                .hint("for example: hello or hello=2.10-3"),
        );
    }
    if let Some(v) = version {
        store::Version::parse(v).map_err(|e| {
            Error::usage(format!("{s:?}: {e}")).hint("for example: hello or hello=2.10-3")
        })?;
    }
    Ok(journal::PackageSpec {
        name: name.to_owned(),
        version: version.map(str::to_owned),
    })
}

/// A journal query's failure by kind.
pub(crate) fn query_err(e: journal::QueryError) -> Error {
    let kind = match &e {
        journal::QueryError::UnknownVariant { .. } => ErrorKind::UnknownVariant,
        journal::QueryError::UnknownSeq { .. } => ErrorKind::UnknownTxn,
        _ => ErrorKind::Query,
    };
    Error::new(kind, e.to_string())
}

/// `KEY=` (empty value) deletes the key.
fn set_map(map: &mut BTreeMap<String, String>, set: &BTreeMap<String, String>) {
    for (k, v) in set {
        if v.is_empty() {
            map.remove(k);
        } else {
            map.insert(k.clone(), v.clone());
        }
    }
}

/// Whether `state` has exactly `p` (same name, architecture, version and `.deb`).
fn has_package(state: &State, p: &PackageEntry) -> bool {
    state
        .packages
        .binary_search_by(|q| q.key().cmp(&p.key()))
        .is_ok_and(|i| state.packages[i] == *p)
}

/// `old` changed by `request` as the solver resolves it over the pinned universe: the new
/// package set (and the pinned indices it came from), the profile unchanged.
pub(crate) fn solve_state(
    pinned: &PinnedView<'_>,
    old: &State,
    request: &solver::Request,
) -> Result<State> {
    let installed: Vec<solver::Installed> = old
        .packages
        .iter()
        .map(|p| solver::Installed {
            name: p.name.clone(),
            version: p.version.clone(),
            arch: p.arch.clone(),
        })
        .collect();
    let t = std::time::Instant::now();
    let solution = pinned
        .solver()
        .solve(request, &installed)
        .map_err(|e| {
            Error::new(ErrorKind::Unsatisfiable, e.to_string())
                .hint("nothing was changed; check names and versions against the pinned sources (`particle repo list`)")
                .with_source(e)
        })?;
    tracing::info!(
        "solved in {:?}: {} packages",
        t.elapsed(),
        solution.packages.len()
    );
    let mut packages: Vec<PackageEntry> =
        solution.packages.into_iter().map(|c| c.package).collect();
    packages.sort();
    Ok(State {
        indices: pinned.indices.clone(),
        packages,
        profile: old.profile.clone(),
    })
}

/// What identifies the record a build is for: it will have `seq` and chain onto `prev`.
#[derive(Debug, Clone)]
pub struct Header<'a> {
    pub variant: &'a str,
    /// What the variant's definition says it is ([`crate::variants::description_at`]).
    pub description: Option<String>,
    pub parent_variant: Option<String>,
    pub seq: u64,
    pub prev: journal::TxnId,
    pub time: i64,
    pub parent_commit: Option<CommitId>,
    /// The commit the build starts from ([`journal::History::build_base`]).
    pub base_commit: Option<CommitId>,
    /// Foreign architectures the variant declares ([`crate::variants::architectures_at`]).
    pub architectures: Vec<String>,
}

impl<'a> Header<'a> {
    /// The header of a recorded transaction, as a replay rebuilds it.
    pub fn of_record(h: &journal::History<'_>, r: &'a Record) -> Header<'a> {
        Header {
            variant: &r.variant,
            description: crate::variants::description_at(h, &r.variant, r.seq, &r.request),
            parent_variant: r.base.as_ref().map(|b| b.variant.clone()),
            seq: r.seq,
            prev: r.prev,
            time: r.time,
            parent_commit: h
                .predecessor(r)
                .filter(|p| p.variant == r.variant)
                .map(|p| p.commit),
            base_commit: h
                .build_base(&r.variant, r.seq, &r.request, r.base.as_ref())
                .map(|b| b.commit),
            architectures: crate::variants::architectures_at(
                h,
                &r.variant,
                r.seq,
                &r.request,
                r.base.as_ref(),
            ),
        }
    }
}

/// The BuildInput for the record described by `h`, whose state is `state`. `base` is the
/// state of the commit the build starts from: its packages need no `.deb` in the store (the
/// build reads only what changed), which is what lets a machine change one package without
/// downloading its whole set.
pub fn build_input(
    st: &store::Store,
    h: Header<'_>,
    state: &State,
    base: Option<&State>,
) -> Result<materializer::BuildInput> {
    let mut packages = Vec::with_capacity(state.packages.len());
    for p in &state.packages {
        let found = st.deb_by_sha256(&p.sha256)?;
        if found.is_none() && base.is_some_and(|b| has_package(b, p)) {
            packages.push(materializer::PackageInput {
                package: p.clone(),
                deb_path: None,
            });
            continue;
        }
        let id = found.ok_or_else(|| {
            Error::new(
                ErrorKind::MissingDeb,
                format!(
                    "{} {} ({}) is not in the store",
                    p.name,
                    p.version,
                    p.sha256.short(16)
                ),
            )
            .hint("run the transaction again after `particle repo update`, or restore the store")
        })?;
        let deb_path = st
            .objects()
            .locate(&id)
            .ok_or_else(|| Error::new(ErrorKind::MissingDeb, format!("object {id} is missing")))?;
        packages.push(materializer::PackageInput {
            package: p.clone(),
            deb_path: Some(deb_path),
        });
    }
    Ok(materializer::BuildInput {
        variant: h.variant.to_owned(),
        description: h.description,
        parent_variant: h.parent_variant,
        seq: h.seq,
        journal_head: h.prev,
        time: h.time.max(0) as u64,
        packages,
        profile: materializer::Profile {
            kargs: state.profile.kargs.clone(),
            initramfs: state.profile.initramfs.clone(),
            sysctl: state.profile.sysctl.clone(),
        },
        inrelease: state
            .indices
            .iter()
            .map(|(k, v)| (k.clone(), v.to_hex()))
            .collect(),
        parent_commit: h.parent_commit,
        base_commit: h.base_commit,
        architectures: h.architectures,
    })
}

/// The most recent record of `variant` whose commit is `commit`: the transaction a deployment
/// runs.
fn record_of<'a>(journal: &'a journal::Journal, variant: &str, commit: &str) -> Option<&'a Record> {
    journal
        .records()
        .iter()
        .rev()
        .find(|r| r.variant == variant && r.commit.to_hex() == commit)
}

impl Session {
    /// The head record of `variant` and its state (empty before its first transaction).
    pub fn head_state(&self, variant: &str) -> (Option<Record>, State) {
        match self.journal.history().head(variant) {
            Some(r) => (Some(r.clone()), journal::State::clone(&r.state)),
            None => (None, State::default()),
        }
    }

    /// The head record and state of a variant that must already have a transaction (profile and
    /// hardware events change an existing state).
    pub fn existing_head(&self, variant: &str) -> Result<(Record, State)> {
        match self.head_state(variant) {
            (Some(head), state) => Ok((head, state)),
            (None, _) => Err(Error::new(
                ErrorKind::EmptyVariant,
                format!("variant {variant} has no transaction yet"),
            )
            .hint("install packages first: `particle txn install`")),
        }
    }

    /// The pinned universe, loaded once per session.
    pub(crate) fn load_pinned(&mut self) -> Result<()> {
        if self.pinned.is_none() {
            self.pinned = Some(Pinned::load(self.store()?, &self.state.root)?);
        }
        Ok(())
    }

    /// Declares `variant` without a parent: it starts empty (its first transaction starts from
    /// nothing). Nothing is recorded.
    pub fn declare_variant(&self, variant: &str) -> Result<()> {
        if !journal::query::valid_variant_name(variant) {
            return Err(Error::usage(format!(
                "{variant:?} is not a valid variant name"
            )));
        }
        self.refuse_existing(variant)?;
        crate::state::declare_variant(&self.state, variant)
    }

    fn refuse_existing(&self, variant: &str) -> Result<()> {
        let exists = self.journal.history().head(variant).is_some()
            || crate::state::variants(&self.state)?
                .iter()
                .any(|v| v == variant);
        if exists {
            return Err(Error::new(
                ErrorKind::VariantExists,
                format!("variant {variant:?} already exists"),
            ));
        }
        Ok(())
    }

    /// Plans `change` on `variant` (for [`Change::Apply`], the definition's name). Nothing is
    /// written, except that particle's own package is set up as a source when the change asks
    /// for it (see [`crate::own_package`]).
    ///
    /// On a machine whose upgrade was interrupted after it recorded the new base
    /// ([`Session::interrupted_upgrade`]), only a rollback or a cancel is planned: anything else
    /// would build on the new base without the machine's own packages and settings, and lose
    /// them; `particle upgrade` finishes the upgrade first.
    pub fn plan(&mut self, variant: &str, change: Change, obs: &dyn Observer) -> Result<Plan> {
        let undoes = matches!(
            change,
            Change::Rollback { .. } | Change::RollbackDeployment | Change::Cancel
        );
        if let (Some(seq), false) = (self.interrupted_upgrade(), undoes) {
            // The record before the new base: what the machine still runs.
            let runs = self
                .journal
                .records()
                .prefix(seq as usize - 1)
                .last()
                .map(|r| r.seq);
            let back = runs.map_or(String::new(), |n| {
                format!(" (or `particle txn rollback --to {n}` to stay on what this machine runs)")
            });
            return Err(Error::new(
                ErrorKind::MachineState,
                format!(
                    "an upgrade was interrupted after recording the new base (transaction {seq}) and before re-applying this machine's own packages and settings on it"
                ),
            )
            .hint(format!("run `particle upgrade` to finish it{back}")));
        }
        self.plan_change(variant, change, obs)
    }

    /// [`Session::plan`] without the check for an interrupted upgrade (which the upgrade itself
    /// uses to finish one).
    pub(crate) fn plan_change(
        &mut self,
        variant: &str,
        change: Change,
        obs: &dyn Observer,
    ) -> Result<Plan> {
        match change {
            Change::Install {
                mut packages,
                no_recommends,
            } => {
                if packages.iter().any(|p| p.contains('/')) {
                    self.load_pinned()?;
                    let p = self.pinned.as_ref().expect("loaded");
                    packages = crate::policy::release_specs(&p.view()?, &p.files, packages)?;
                }
                let specs = packages
                    .iter()
                    .map(|p| parse_spec(p))
                    .collect::<Result<Vec<_>>>()?;
                let request = solver::Request {
                    install: packages,
                    no_recommends,
                    ..Default::default()
                };
                self.plan_packages(
                    variant,
                    request,
                    Request::Install {
                        packages: specs,
                        no_recommends,
                    },
                    obs,
                )
            }
            Change::Remove { packages } => {
                for p in &packages {
                    parse_spec(p)?;
                }
                let request = solver::Request {
                    remove: packages.clone(),
                    ..Default::default()
                };
                self.plan_packages(variant, request, Request::Remove { packages }, obs)
            }
            Change::Upgrade => {
                let request = solver::Request {
                    upgrade: true,
                    ..Default::default()
                };
                self.plan_packages(variant, request, Request::Upgrade, obs)
            }
            Change::Rollback { to } => self.plan_rollback(variant, to),
            Change::RollbackDeployment => self.plan_rollback_deployment(variant),
            Change::Cancel => self.plan_cancel(variant),
            Change::CreateVariant { parent, at } => self.plan_create(variant, &parent, at),
            Change::Kargs { append, delete } => {
                let request = Request::Kargs { append, delete };
                self.plan_profile(variant, request)
            }
            Change::Initramfs { set } => self.plan_profile(variant, Request::Initramfs { set }),
            Change::Sysctl { set } => self.plan_profile(variant, Request::Sysctl { set }),
            Change::Hardware { profile, source } => self.plan_hardware(variant, profile, source),
            Change::Apply {
                definition,
                file,
                follow_parent,
            } => {
                self.offer_own_package(std::slice::from_ref(&*definition), obs)?;
                self.plan_apply(&definition, &file, follow_parent)
            }
            Change::Rebase => self.plan_rebase(variant),
        }
    }

    fn plan_packages(
        &mut self,
        variant: &str,
        request: solver::Request,
        journal_request: Request,
        obs: &dyn Observer,
    ) -> Result<Plan> {
        self.check_variant_known(variant)?;
        if crate::own_package::wanted(request.install.iter().map(String::as_str)) {
            self.ensure_own_package(false, obs)?;
        }
        let (head, old_state) = self.head_state(variant);
        self.load_pinned()?;
        let kept = {
            let pinned = self.pinned.as_ref().expect("loaded").view()?;
            self.installed_only(&pinned, &old_state, head.as_ref())?
        };
        let keeping = if kept.is_empty() {
            None
        } else {
            Some(Pinned::load_keeping(self.store()?, &self.state.root, kept)?)
        };
        let loaded = keeping
            .as_ref()
            .unwrap_or_else(|| self.pinned.as_ref().expect("loaded"));
        let archs = crate::variants::declared_architectures(&self.journal.history(), variant, None);
        let pinned = loaded.view()?.with_architectures(archs.as_deref());
        let new_state = solve_state(&pinned, &old_state, &request)?;
        let download_bytes = self.download_size(&pinned, &new_state, Some(&old_state));
        let build = Build::Materialize {
            fetch: true,
            fetch_base: Some(old_state.clone()),
        };
        let exists = head.is_some();
        let plan = Plan::new(variant, journal_request, head, old_state, new_state, build);
        let d = &plan.diff;
        let unchanged =
            d.added.is_empty() && d.removed.is_empty() && d.changed.is_empty() && exists;
        Ok(Plan {
            download_bytes,
            unchanged,
            ..plan
        })
    }

    /// The packages of `state` that no pinned index offers, as the dpkg database in `head`'s
    /// commit describes them (with the state's SHA256), for [`Pinned::load_keeping`].
    fn installed_only(
        &self,
        pinned: &PinnedView<'_>,
        state: &State,
        head: Option<&Record>,
    ) -> Result<Vec<store::Package>> {
        let missing: Vec<&PackageEntry> = state
            .packages
            .iter()
            .filter(|p| pinned.find(p).is_none())
            .collect();
        let Some(head) = head.filter(|_| !missing.is_empty()) else {
            return Ok(Vec::new());
        };
        let commit = head.commit.to_hex();
        let status =
            machine::read_commit_file(&self.repo(), &commit, "usr/lib/sysimage/dpkg/status")?;
        let text = String::from_utf8_lossy(&status);
        let mut out = Vec::new();
        for para in store::paragraphs(&text) {
            let Ok(para) = para else { continue };
            let Ok(mut p) = store::package_from_paragraph(&para) else {
                continue;
            };
            if let Some(e) = missing
                .iter()
                .find(|e| e.name == p.name && e.version == p.version && e.arch == p.arch)
            {
                p.sha256 = e.sha256;
                out.push(p);
            }
        }
        tracing::info!(
            "{} installed package(s) no pinned index offers are kept: {}",
            out.len(),
            out.iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(out)
    }

    /// Bytes to download for `state`: what the store lacks, except what `base` (the state the
    /// build starts from) has.
    pub(crate) fn download_size(
        &self,
        pinned: &PinnedView<'_>,
        state: &State,
        base: Option<&State>,
    ) -> u64 {
        let store = self.store().ok();
        state
            .packages
            .iter()
            .filter(|p| !base.is_some_and(|b| has_package(b, p)))
            .filter(|p| store.is_none_or(|st| st.deb_by_sha256(&p.sha256).ok().flatten().is_none()))
            .filter_map(|p| pinned.find(p))
            .map(|r| pinned.record(r).size)
            .sum()
    }

    fn plan_rollback(&mut self, variant: &str, to: Option<u64>) -> Result<Plan> {
        let target = self
            .journal
            .history()
            .rollback_target(variant, to)
            .map_err(query_err)?
            .clone();
        let (head, old_state) = self.head_state(variant);
        // Pruned (by ostree with its deployment on a machine, or by `gc`): rebuilt on the
        // head's commit, with the .debs of what differs.
        let fetch =
            !materializer::commit_exists(&self.repo(), &target.commit.to_hex()).unwrap_or(false);
        let request = Request::Rollback {
            to_seq: target.seq,
            to: target.id,
        };
        let build = Build::Materialize {
            fetch,
            fetch_base: Some(old_state.clone()),
        };
        Ok(Plan {
            to: Some(target.seq),
            ..Plan::new(
                variant,
                request,
                head,
                old_state,
                State::clone(&target.state),
                build,
            )
        })
    }

    fn the_machine(&self, what: &str) -> Result<Machine> {
        self.state.machine.clone().ok_or_else(|| {
            Error::usage(format!(
                "`{what}` acts on a machine's deployments; this is a build host's state directory"
            ))
        })
    }

    /// A machine record that returns `variant` to `target`'s state and commit (no new commit:
    /// the deployment exists), with `switch` making the sysroot match.
    fn plan_return(&self, variant: &str, target: Record, reason: String, switch: Switch) -> Plan {
        let (head, old_state) = self.head_state(variant);
        let request = Request::Rollback {
            to_seq: target.seq,
            to: target.id,
        };
        Plan {
            to: Some(target.seq),
            default_reason: Some(reason),
            ..Plan::new(
                variant,
                request,
                head,
                old_state,
                State::clone(&target.state),
                Build::Switch(switch),
            )
        }
    }

    /// `txn rollback` on a machine: the rollback deployment (the one `status` marks) becomes the
    /// default for the next boot, as `rpm-ostree rollback` does, with no rebuild; recorded as a
    /// rollback to the transaction it runs.
    fn plan_rollback_deployment(&self, variant: &str) -> Result<Plan> {
        let m = self.the_machine("txn rollback")?;
        let list = machine::deployments(&m.sysroot)?;
        let Some(at) = list.iter().position(|d| d.rollback) else {
            return Err(Error::new(
                ErrorKind::NoRollback,
                format!("{} has no rollback deployment", m.sysroot.display()),
            )
            .hint("`particle txn rollback --to TXN` rebuilds any earlier state from the journal"));
        };
        let commit = &list[at].commit;
        let target = record_of(&self.journal, variant, commit)
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NoRollback,
                    format!(
                        "the rollback deployment (commit {}) was not made by a transaction of {variant} in this machine's journal",
                        &commit[..12],
                    ),
                )
                .hint("`particle txn rollback --to TXN` rebuilds any earlier state from the journal")
            })?;
        let reason = format!(
            "roll back to the previous deployment (transaction {})",
            target.seq
        );
        Ok(self.plan_return(variant, target, reason, Switch::Default(at)))
    }

    /// `txn cancel`: drops the deployment staged for the next boot; recorded as a return to the
    /// transaction the machine runs.
    fn plan_cancel(&self, variant: &str) -> Result<Plan> {
        let Some(m) = self.state.machine.clone() else {
            return Err(Error::usage(
                "`txn cancel` drops a staged deployment of a machine; this is a build host's state directory",
            ));
        };
        let list = machine::deployments(&m.sysroot)?;
        let (Some(staged), Some(booted)) = (
            list.iter().find(|d| d.staged),
            list.iter().find(|d| d.booted),
        ) else {
            return Err(Error::new(
                ErrorKind::NothingStaged,
                format!("nothing is staged on {}", m.sysroot.display()),
            )
            .hint(if m.booted {
                "`particle status` lists the deployments; `particle txn rollback` makes the previous one the default"
            } else {
                "only a running system stages deployments; offline ones are the default at once (`particle txn rollback` goes back)"
            }));
        };
        let staged_txn = record_of(&self.journal, variant, &staged.commit).map(|r| r.seq);
        let target = record_of(&self.journal, variant, &booted.commit)
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NoRollback,
                    format!(
                        "the booted deployment (commit {}) was not made by a transaction of {variant} in this machine's journal",
                        &booted.commit[..12],
                    ),
                )
            })?;
        let reason = match staged_txn {
            Some(seq) => format!("cancel the staged transaction {seq}"),
            None => "cancel the staged deployment".to_owned(),
        };
        Ok(self.plan_return(variant, target, reason, Switch::DropStaged))
    }

    /// `variant create NAME --from PARENT[@TXN]`: a `variant-create` record gives the variant
    /// the parent's state at TXN and its own commit, and the journal records the provenance.
    fn plan_create(&self, variant: &str, parent: &str, at: Option<u64>) -> Result<Plan> {
        if !journal::query::valid_variant_name(variant) {
            return Err(Error::usage(format!(
                "{variant:?} is not a valid variant name"
            )));
        }
        self.refuse_existing(variant)?;
        let h = self.journal.history();
        let head = h.head(parent).ok_or_else(|| {
            Error::new(
                ErrorKind::UnknownVariant,
                format!("variant {parent:?} has no transactions to start from"),
            )
        })?;
        let seq = at.unwrap_or(head.seq);
        if !h.in_lineage(parent, seq) {
            return Err(Error::new(
                ErrorKind::NotInLineage,
                format!("transaction {seq} is not in the history of {parent}"),
            ));
        }
        let parent_rec = h.state_at(parent, seq).map_err(query_err)?.clone();
        let seq = at.unwrap_or(parent_rec.seq);
        let txn = h.record(seq).map(|r| r.id).unwrap_or(parent_rec.id);
        let request = Request::VariantCreate {
            parent: parent.to_owned(),
            parent_seq: seq,
            parent_txn: txn,
        };
        let (from, target) = (State::default(), State::clone(&parent_rec.state));
        Ok(Plan {
            base: Some(Provenance {
                variant: parent.to_owned(),
                seq,
                txn,
            }),
            ..Plan::new(variant, request, None, from, target, Plan::NO_FETCH)
        })
    }

    /// `txn kargs/initramfs/sysctl`: a profile change, committed like a package change; nothing
    /// to do when it changes nothing.
    fn plan_profile(&self, variant: &str, request: Request) -> Result<Plan> {
        let (head, old_state) = self.existing_head(variant)?;
        let mut state = old_state.clone();
        match &request {
            Request::Kargs { append, delete } => {
                state.profile.kargs.retain(|k| !delete.contains(k));
                for a in append {
                    if !state.profile.kargs.contains(a) {
                        state.profile.kargs.push(a.clone());
                    }
                }
            }
            Request::Initramfs { set } => set_map(&mut state.profile.initramfs, set),
            Request::Sysctl { set } => set_map(&mut state.profile.sysctl, set),
            other => {
                return Err(Error::new(
                    ErrorKind::Internal,
                    format!("{} is not a profile request", other.kind()),
                ))
            }
        }
        let plan = Plan::new(
            variant,
            request,
            Some(head),
            old_state,
            state,
            Plan::NO_FETCH,
        );
        Ok(Plan {
            unchanged: plan.diff.is_empty(),
            ..plan
        })
    }

    /// A plan to record `target` as one `request` record on `base`: nothing to do when the
    /// state and the base are unchanged and `force` is false (`force`: the record itself carries
    /// news, such as a changed definition). Every `.deb` the store lacks is fetched.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn plan_target(
        &self,
        pinned: &PinnedView<'_>,
        variant: &str,
        from: &State,
        head: Option<&Record>,
        request: Request,
        target: State,
        base: Option<Provenance>,
        force: bool,
    ) -> Plan {
        let same_base = head.map(|h| h.base.clone()) == Some(base.clone());
        // A machine builds on its head's commit: what that state has needs no .deb (the
        // machine's store never had particle's own package, for one).
        let build = Build::Materialize {
            fetch: true,
            fetch_base: self.state.machine.as_ref().map(|_| from.clone()),
        };
        let plan = Plan::new(variant, request, head.cloned(), from.clone(), target, build);
        let unchanged = plan.diff.is_empty() && same_base && !force;
        let download_bytes = if unchanged {
            0
        } else {
            self.download_size(pinned, &plan.target, None)
        };
        Plan {
            base,
            download_bytes,
            unchanged,
            ..plan
        }
    }

    /// Carries out `plan`: nothing when there is nothing to do, only the plan for a dry run,
    /// else [`Session::commit`].
    pub fn run(&mut self, plan: Plan, options: &RunOptions, obs: &dyn Observer) -> Result<Outcome> {
        if plan.unchanged {
            return Ok(Outcome::Unchanged {
                txn: plan.head.as_ref().map(|h| h.seq),
                variant: plan.variant,
            });
        }
        let changes_profile =
            plan.head.as_ref().map(|h| &h.state.profile) != Some(&plan.target.profile);
        if options.dry_run {
            let mut plan = plan;
            if changes_profile {
                let head = plan.head.as_ref().map(|h| h.commit.to_hex());
                plan.warnings = self.lint(head.as_deref(), &plan.target.profile, obs);
            }
            return Ok(Outcome::DryRun(Box::new(plan)));
        }
        let profile = plan.target.profile.clone();
        let mut committed = self.commit(plan, options.reason.clone(), obs)?;
        if changes_profile {
            let commit = committed.record.commit.to_hex();
            committed.warnings = self.lint(Some(&commit), &profile, obs);
        }
        Ok(Outcome::Committed(Box::new(committed)))
    }

    /// [`crate::lint`] of `profile` against the kernel of `commit`, each finding also noted.
    /// A kernel that cannot be read is linted as no kernel (the rules that need none still
    /// apply).
    fn lint(
        &self,
        commit: Option<&str>,
        profile: &journal::Profile,
        obs: &dyn Observer,
    ) -> Vec<crate::lint::Finding> {
        let modules = crate::lint::modules_named(&profile.kargs);
        let kernel = commit
            .and_then(|c| machine::kernel_facts(&self.repo(), c, &modules).ok())
            .flatten();
        let running = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        let mut found = crate::lint::kargs(kernel.as_ref(), &profile.kargs);
        found.extend(crate::lint::initramfs(kernel.as_ref(), &profile.initramfs));
        found.extend(crate::lint::sysctl(
            &profile.sysctl,
            std::path::Path::new("/proc/sys"),
            running.trim(),
        ));
        for f in &found {
            obs.note(&format!("warning: {f}"));
        }
        found
    }

    /// Fetches what `plan` needs, builds its commit, preflights it on a machine, appends the
    /// record, moves the ref and deploys it on a machine. A failure before the append leaves
    /// the state as it was; after it, the next session's recovery finishes the job.
    pub fn commit(
        &mut self,
        plan: Plan,
        reason: Option<String>,
        obs: &dyn Observer,
    ) -> Result<Committed> {
        let reason = reason.or(plan.default_reason.clone()).unwrap_or_default();
        match plan.build.clone() {
            Build::Switch(switch) => self.commit_switch(plan, reason, switch),
            Build::Materialize { fetch, fetch_base } => {
                let mut timings = Vec::new();
                if fetch {
                    let t = std::time::Instant::now();
                    self.fetch_state(&plan.target, fetch_base.as_ref(), obs)?;
                    timings.push(("fetch", t.elapsed()));
                }
                let mut done = self.commit_state(plan, reason, obs)?;
                timings.append(&mut done.timings);
                done.timings = timings;
                Ok(done)
            }
        }
    }

    /// Fetches and verifies every .deb of `state` that the store does not have yet, before
    /// anything is built, except those of `base` (the state the build starts from: its commit
    /// has them unpacked already). A package neither stored nor in a pinned index is an error
    /// naming it.
    fn fetch_state(
        &mut self,
        state: &State,
        base: Option<&State>,
        obs: &dyn Observer,
    ) -> Result<()> {
        self.load_pinned()?;
        let pinned = self.pinned.as_ref().expect("loaded").view()?;
        let st = self.store()?;
        let mut wanted = Vec::new();
        let mut download = 0;
        for p in &state.packages {
            if base.is_some_and(|b| has_package(b, p)) || st.deb_by_sha256(&p.sha256)?.is_some() {
                continue;
            }
            let r = pinned.find(p).ok_or_else(|| {
                Error::new(
                    ErrorKind::MissingDeb,
                    format!(
                        "{} {} is neither in the store nor in any pinned index",
                        p.name, p.version
                    ),
                )
                .hint("run `particle repo update`, or install another version")
            })?;
            download += pinned.record(r).size;
            wanted.push((pinned.package(r), pinned.origin(r)));
        }
        let wanted: Vec<(&store::Package, &store::PackageOrigin)> =
            wanted.iter().map(|(p, o)| (p.as_ref(), *o)).collect();
        obs.fetch_started(state.packages.len(), wanted.len(), download);
        let fetched = st.fetch_debs(&wanted, 4, &|done, total, size| {
            faults::point("fetch");
            obs.fetched(done, total, size)
        });
        obs.fetch_finished(fetched.is_ok());
        fetched?;
        Ok(())
    }

    /// `store fetch`: fetches and verifies the `.deb` of each spec (the newest pinned version for
    /// the native architecture or `all`, or the one named), returning each package with its
    /// object id.
    pub fn fetch_packages(
        &mut self,
        specs: &[String],
        obs: &dyn Observer,
    ) -> Result<Vec<(store::Package, store::Blake3)>> {
        self.load_pinned()?;
        let pinned = self.pinned.as_ref().expect("loaded").view()?;
        let st = self.store()?;
        let mut list = Vec::new();
        for spec in specs {
            let s = parse_spec(spec)?;
            let best = pinned
                .named(&s.name)
                .into_iter()
                .filter(|&r| {
                    let p = pinned.record(r);
                    (p.arch == store::native_architecture() || p.arch == "all")
                        && s.version.as_deref().is_none_or(|v| p.version == v)
                })
                .max_by(|&a, &b| {
                    store::compare_versions(pinned.record(a).version, pinned.record(b).version)
                })
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::UnknownPackage,
                        format!("no pinned index has {spec}"),
                    )
                })?;
            list.push((pinned.package(best), pinned.origin(best)));
        }
        let list: Vec<(&store::Package, &store::PackageOrigin)> =
            list.iter().map(|(p, o)| (p.as_ref(), *o)).collect();
        let missing: Vec<u64> = list
            .iter()
            .filter(|(p, _)| st.deb_by_sha256(&p.sha256).ok().flatten().is_none())
            .map(|(p, _)| p.size)
            .collect();
        obs.fetch_started(list.len(), missing.len(), missing.iter().sum());
        let ids = st.fetch_debs(&list, 4, &|done, total, size| {
            obs.fetched(done, total, size)
        });
        obs.fetch_finished(ids.is_ok());
        Ok(list.iter().map(|(p, _)| (*p).clone()).zip(ids?).collect())
    }

    /// Materializes `plan.target`, appends the record, moves the ref, cleans staging, deploys
    /// on a machine.
    fn commit_state(
        &mut self,
        plan: Plan,
        reason: String,
        obs: &dyn Observer,
    ) -> Result<Committed> {
        let Plan {
            variant,
            request,
            head,
            target: state,
            base,
            diff,
            ..
        } = plan;
        let mut timings = Vec::new();
        let last = self.journal.last();
        let seq = last.map_or(1, |r| r.seq + 1);
        let prev = last.map_or(journal::TxnId::GENESIS, |r| r.id);
        let time = crate::machine::now();
        let parent_commit = head.as_ref().map(|h| h.commit);
        let parent_variant = base.as_ref().map(|b| b.variant.clone());
        let history = self.journal.history();
        let mut build_base = history.build_base(&variant, seq, &request, base.as_ref());
        if let Some(b) = build_base {
            // ostree prunes the commits of deployments it removed on a machine, and `gc` those
            // of old transactions: the build then starts from the head's commit, which the
            // build turns into the same tree (replay --verify checks that).
            let repo = self.repo();
            if !materializer::commit_exists(&repo, &b.commit.to_hex()).unwrap_or(false) {
                build_base = head.as_ref().filter(|h| {
                    materializer::commit_exists(&repo, &h.commit.to_hex()).unwrap_or(false)
                });
            }
        }
        let base_state = build_base.map(|r| journal::State::clone(&r.state));
        let base_commit = build_base.map(|r| r.commit);
        let description = crate::variants::description_at(&history, &variant, seq, &request);
        // A machine's journal has no definitions: it keeps the variant's (deploy, upgrade).
        let architectures = match &self.state.machine {
            Some(_) => crate::variants::machine_architectures(&self.state.root)?,
            None => {
                crate::variants::architectures_at(&history, &variant, seq, &request, base.as_ref())
            }
        };
        let header = Header {
            variant: &variant,
            description,
            parent_variant,
            seq,
            prev,
            time,
            parent_commit,
            base_commit,
            architectures,
        };
        let input = build_input(self.store()?, header, &state, base_state.as_ref())?;
        let work = self.staging().join(format!("txn-{seq}"));
        obs.build_started(input.packages.len());
        let t = std::time::Instant::now();
        let options = materializer::Options {
            // On a machine the base is usually deployed: the build's overlay stands on it.
            base_checkout: match (&self.state.machine, &input.base_commit) {
                (Some(m), Some(base)) => crate::state::deployment_of(m, &base.to_hex()),
                _ => None,
            },
            ..materializer::Options::default()
        };
        let built =
            materializer::materialize_with_progress(&self.repo(), &work, &input, &options, &|p| {
                obs.building(p)
            });
        obs.build_finished(built.is_ok());
        let built = built.map_err(|e| {
            let _ = std::fs::remove_dir_all(&work);
            let message = crate::error::chain(&e);
            let err = Error::classify(ErrorKind::Materialize, message, e);
            if err.hint_text().is_some() {
                err
            } else {
                err.hint("nothing was committed; the previous state is in force")
            }
        })?;
        faults::point("materialized");
        timings.push(("build", t.elapsed()));
        tracing::info!("materialized {} in {:?}", built.commit, t.elapsed());
        for (phase, d) in &built.timings {
            tracing::debug!("  materializer {phase}: {d:.2?}");
        }
        let commit = built.commit;
        if let Some(m) = &self.state.machine {
            // Refused here, nothing is recorded: a full /boot would otherwise fail at shutdown.
            crate::machine::preflight(m, &commit.to_hex(), 0).inspect_err(|_| {
                let _ = std::fs::remove_dir_all(&work);
            })?;
        }
        let t = std::time::Instant::now();
        let record = self
            .journal
            .append(NewRecord {
                time,
                actor: crate::machine::actor(),
                reason,
                variant: variant.clone(),
                request,
                state,
                commit,
                base,
            })
            .map_err(|e| {
                let _ = std::fs::remove_dir_all(&work);
                let message = crate::error::chain(&e);
                let err = Error::classify(ErrorKind::Journal, message, e);
                let space = if err.kind() == ErrorKind::NoSpace {
                    "free space on the filesystem holding the journal and run the command again; "
                } else {
                    ""
                };
                err.hint(format!(
                    "{space}the next command reads back what the journal holds and moves the ref to match"
                ))
            })?;
        faults::point("appended");
        timings.push(("record", t.elapsed()));
        tracing::info!(
            "appended transaction {} to the journal in {:?}",
            record.seq,
            t.elapsed()
        );
        let t = std::time::Instant::now();
        materializer::set_ref(&self.repo(), &variant, &commit.to_hex()).map_err(ostree_error)?;
        faults::point("ref-moved");
        tracing::info!(
            "moved {} to {} in {:?}",
            materializer::variant_ref(&variant),
            commit,
            t.elapsed()
        );
        // Keep the maintainer-script log beside the journal, then drop the staging tree.
        let logs = self.state.root.join("logs");
        let _ = std::fs::create_dir_all(&logs);
        let _ = std::fs::copy(&built.log, logs.join(format!("txn-{}.log", record.seq)));
        let _ = std::fs::remove_dir_all(&work);
        let mut deployment = None;
        if let Some(m) = &self.state.machine {
            // Recorded: from here a failure is repaired by the next command's recovery, which
            // deploys the journal's head.
            let t = std::time::Instant::now();
            crate::machine::deploy_record(m, &record, &|msg| obs.note(msg))?;
            tracing::info!("deployed transaction {} in {:.2?}", record.seq, t.elapsed());
            timings.push(("deploy", t.elapsed()));
            faults::point("deployed");
            deployment = Some(deployed(m, &record));
        }
        Ok(Committed {
            record,
            diff,
            deployment,
            timings,
            warnings: Vec::new(),
        })
    }

    /// Appends a machine record that returns to an existing deployment's state and commit,
    /// then lets `switch` make the sysroot match.
    fn commit_switch(&mut self, plan: Plan, reason: String, switch: Switch) -> Result<Committed> {
        let m = self.the_machine("txn rollback")?;
        let Request::Rollback { to_seq, .. } = plan.request else {
            return Err(Error::new(
                ErrorKind::Internal,
                "a deployment switch records a rollback",
            ));
        };
        let commit = self
            .journal
            .history()
            .record(to_seq)
            .map(|r| r.commit)
            .ok_or_else(|| Error::new(ErrorKind::Internal, format!("no record {to_seq}")))?;
        let record = self
            .journal
            .append(NewRecord {
                time: crate::machine::now(),
                actor: crate::machine::actor(),
                reason,
                variant: plan.variant.clone(),
                request: plan.request,
                state: plan.target,
                commit,
                base: plan.head.and_then(|h| h.base),
            })
            .map_err(|e| {
                Error::new(ErrorKind::Journal, format!("could not append: {e}")).with_source(e)
            })?;
        faults::point("appended");
        materializer::set_ref(&m.repo(), &plan.variant, &record.commit.to_hex())
            .map_err(ostree_error)?;
        match switch {
            Switch::Default(at) => {
                let grub = machine::grub_mkconfig_program();
                machine::set_default(&m.sysroot, at, grub.as_deref())?;
            }
            Switch::DropStaged => {
                machine::drop_staged(&m.sysroot)?;
            }
        }
        Ok(Committed {
            deployment: Some(deployed(&m, &record)),
            record,
            diff: plan.diff,
            timings: Vec::new(),
            warnings: Vec::new(),
        })
    }
}

/// Where `record`'s commit stands among `m`'s deployments.
pub(crate) fn deployed(m: &Machine, record: &Record) -> Deployed {
    let list = machine::deployments(&m.sysroot).unwrap_or_default();
    let first = list.first().filter(|d| d.commit == record.commit.to_hex());
    Deployed {
        sysroot: m.sysroot.clone(),
        first: first.is_some(),
        staged: first.is_some_and(|d| d.staged),
        booted: first.is_some_and(|d| d.booted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_are_key_value_pairs() {
        let items = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let set = parse_assignments(&items(&[" vm.swappiness = 10", "COMPRESS=", "a=b=c"]))
            .expect("valid");
        let want = [("COMPRESS", ""), ("a", "b=c"), ("vm.swappiness", "10")];
        let want: BTreeMap<String, String> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(set, want);
        for bad in ["novalue", "=x", "two words=x"] {
            let e = parse_assignments(&items(&[bad])).expect_err(bad);
            assert_eq!(e.kind(), ErrorKind::Usage, "{bad}");
        }
    }

    #[test]
    fn only_profile_settings_are_profile_changes() {
        assert!(Change::Kargs {
            append: vec!["quiet".into()],
            delete: vec![],
        }
        .is_profile_change());
        assert!(Change::Sysctl {
            set: BTreeMap::new()
        }
        .is_profile_change());
        assert!(!Change::Upgrade.is_profile_change());
        assert!(!Change::Rollback { to: None }.is_profile_change());
    }
}
