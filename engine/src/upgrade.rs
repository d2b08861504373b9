//! A machine's remotes and `upgrade`: the variant it runs, pulled from a repository `publish`
//! wrote, verified, and staged (deployed offline) as a new `origin` in the machine's journal,
//! with the machine's own packages re-applied on top. See docs/delivery.md, "Updates".
//!
//! A remote is an ostree remote of the sysroot's repository (`gpg-verify` and
//! `gpg-verify-summary` on when it has a keyring, so stock ostree verifies every pull) and an
//! entry of `remotes.json` in the machine's state directory, with its keyring beside it, which
//! particle uses to verify the published index and journal before it reads them.

use crate::publish::PublishedVariant;
use crate::session::{ostree_error, Session};
use crate::state::Machine;
use crate::txn::{Change, Committed, Observer, RunOptions};
use crate::{Error, ErrorKind, Result};
use journal::{NewRecord, Record, Request};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The machine's remotes, in its state directory.
const REMOTES_FILE: &str = "remotes.json";

/// A repository the machine upgrades from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remote {
    pub name: String,
    pub url: String,
    /// The publisher's keyring (in the state directory); `None`: signatures are not checked.
    pub keyring: Option<PathBuf>,
}

/// What a remote offers the machine.
#[derive(Debug, Clone)]
pub struct UpgradeCheck {
    pub remote: Remote,
    /// The published variant (the one the machine runs).
    pub offered: PublishedVariant,
    /// The published transaction's record (from the published journal).
    pub record: Record,
    /// The machine's current origin (the last one in its journal).
    pub current: Option<Record>,
    /// Whether the offer is what the machine already has.
    pub up_to_date: bool,
    /// The package and profile changes from the current origin's state to the offer's.
    pub diff: journal::Diff,
    /// Whether the published index's signature was checked.
    pub signature_checked: bool,
    /// The variant's definitions (its ancestors' and its own) from the published journal, for
    /// the machine's hardware rules; `None` when the offer does not carry them (a bundle).
    pub definitions: Option<Vec<crate::variants::Definition>>,
}

/// What `upgrade` did.
#[derive(Debug)]
pub enum Upgraded {
    /// The commit was pulled (`--download-only`); nothing recorded or deployed.
    Downloaded { check: Box<UpgradeCheck> },
    /// The new origin is recorded and deployed (staged on a running system); `layered` is the
    /// machine's own packages re-applied on it, when it has any.
    Staged {
        check: Box<UpgradeCheck>,
        origin: Box<Record>,
        layered: Option<Box<Committed>>,
        deployment: crate::Deployed,
    },
}

impl UpgradeCheck {
    /// The JSON of what an upgrade offers (docs/cli.md, `upgrade`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "remote": self.remote.name, "url": self.remote.url, "variant": self.offered.variant,
            "txn": self.offered.txn, "txn_id": self.offered.txn_id, "commit": self.offered.commit,
            "current": self.current.as_ref().map(|r| match &r.request {
                Request::Origin { seq, txn, .. } => serde_json::json!({"txn": seq, "txn_id": txn.to_hex(), "commit": r.commit.to_hex()}),
                _ => serde_json::Value::Null,
            }),
            "available": self.is_available(), "older": self.is_older(), "up_to_date": self.up_to_date,
            "signature_checked": self.signature_checked, "changes": crate::history::diff_json(&self.diff),
        })
    }
}

impl Upgraded {
    /// The JSON of what an upgrade did: the offer, and `downloaded`, or the new `origin`, the
    /// machine's own packages `layered` on it, `staged` and `reboot_required`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Upgraded::Downloaded { check } => {
                let mut j = check.to_json();
                j["downloaded"] = true.into();
                j
            }
            Upgraded::Staged {
                check,
                origin,
                layered,
                deployment,
            } => {
                let mut j = check.to_json();
                j["origin"] = serde_json::json!({"txn": origin.seq, "txn_id": origin.id.to_hex()});
                j["layered"] = layered
                    .as_ref()
                    .map(|c| serde_json::json!({"txn": c.record.seq, "commit": c.record.commit.to_hex(), "packages": c.diff.added.iter().map(|p| p.name.clone()).collect::<Vec<_>>()}))
                    .unwrap_or(serde_json::Value::Null);
                j["staged"] = (deployment.first && deployment.staged).into();
                j["reboot_required"] = (deployment.first && !deployment.booted).into();
                j
            }
        }
    }
}

fn remotes_path(s: &Session) -> PathBuf {
    s.state.root.join(REMOTES_FILE)
}

fn ostree(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Result<String> {
    Ok(machine::run_ostree(
        machine::ErrorKind::Ostree,
        &machine::ostree_args(args),
        &[],
    )?)
}

/// Pulls `refspec` (`REF@COMMIT`) from `remote` into the machine's repository, verified by
/// ostree with the remote's keyring, through a static delta from any commit the repository has
/// when the summary lists one.
///
/// A failed pull changes nothing the machine runs. libostree keeps the objects it wrote in the
/// repository's staging directory (`tmp/staging-BOOTID-*`, kept until the next boot), and the
/// next pull skips them and every delta part whose objects are all there: it resumes. The
/// failure is `no_space` when the repository's file system is full (or a write would eat into
/// ostree's `min-free-space-percent` reserve, or a delta does not fit), `fetch` when the server
/// could not be reached or stopped answering, `ostree` otherwise.
fn pull(m: &Machine, remote: &Remote, refspec: &str) -> Result<()> {
    let flag = repo_flag(m);
    let args = machine::ostree_args(&[&flag, &"pull", &remote.name, &refspec]);
    let Err(e) = machine::run_ostree(machine::ErrorKind::Ostree, &args, &[]) else {
        return Ok(());
    };
    // ostree's own words, without the command line (kept in the source).
    let said = e
        .message()
        .split_once("` failed: ")
        .map_or(e.message(), |(_, said)| said)
        .to_owned();
    let what = format!(
        "could not pull {refspec} from {} ({})",
        remote.name, remote.url
    );
    let kept = "nothing was changed, and what was downloaded is kept: the next `particle upgrade` resumes the pull";
    let out = if crate::is_no_space(&e) {
        Error::new(
            ErrorKind::NoSpace,
            format!(
                "{what}: no space left for it on the file system of {}: {said}",
                m.repo().display()
            ),
        )
        .hint(format!(
            "free space there and run the upgrade again; {kept}"
        ))
    } else if said.contains("While fetching") {
        Error::new(ErrorKind::Fetch, format!("{what}: {said}")).hint(format!(
            "the server could not be reached or stopped answering; {kept}"
        ))
    } else {
        Error::new(ErrorKind::Ostree, format!("{what}: {said}"))
            .hint("nothing was changed the machine runs")
    };
    Err(out.with_source(e))
}

fn repo_flag(m: &Machine) -> std::ffi::OsString {
    let mut f = std::ffi::OsString::from("--repo=");
    f.push(m.repo());
    f
}

impl Session {
    fn machine_or_refuse(&self, what: &str) -> Result<Machine> {
        self.state.machine.clone().ok_or_else(|| {
            Error::usage(format!(
                "`{what}` acts on a machine (--sysroot, or the running Particle-OS); this is a build host's state directory"
            ))
        })
    }

    /// The machine's remotes.
    pub fn remotes(&self) -> Result<Vec<Remote>> {
        let path = remotes_path(self);
        match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| {
                Error::new(ErrorKind::MachineState, format!("{}: {e}", path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(crate::state::io_error(&self.state.root, &path, "read", &e)),
        }
    }

    /// `remote add NAME URL [--sign-key FILE]`: adds (or replaces) a remote. `keyring` is the
    /// publisher's public keyring; without one, nothing it serves is signature-checked.
    pub fn remote_add(&self, name: &str, url: &str, keyring: Option<&Path>) -> Result<Remote> {
        let m = self.machine_or_refuse("remote add")?;
        if !store::valid_name(name) {
            return Err(Error::usage(format!(
                "{name:?} is not a valid remote name (letters, digits, + - .)"
            )));
        }
        let url = crate::publish::repo_url(url);
        if !(url.starts_with("file:///")
            || url.starts_with("http://")
            || url.starts_with("https://"))
        {
            return Err(Error::usage(format!(
                "{url:?}: the URL must be file:///..., http://... or https://..."
            )));
        }
        let kept = match keyring {
            Some(k) => {
                let bytes = std::fs::read(k).map_err(|e| {
                    Error::new(
                        ErrorKind::Keyring,
                        format!("could not read the keyring {}: {e}", k.display()),
                    )
                })?;
                let path = self.state.root.join("remotes").join(format!("{name}.gpg"));
                store::write_atomic(&path, &bytes).map_err(|e| {
                    Error::new(
                        ErrorKind::Io,
                        format!("could not write {}: {e}", path.display()),
                    )
                })?;
                Some(path)
            }
            None => None,
        };
        let verify = if kept.is_some() { "true" } else { "false" };
        let mut args: Vec<String> = vec![
            "remote".into(),
            "add".into(),
            "--force".into(),
            format!("--set=gpg-verify={verify}"),
            format!("--set=gpg-verify-summary={verify}"),
        ];
        if let Some(k) = &kept {
            args.push(format!("--gpg-import={}", k.display()));
        }
        args.push(name.to_owned());
        args.push(url.clone());
        let mut all: Vec<&dyn AsRef<std::ffi::OsStr>> = Vec::new();
        let flag = repo_flag(&m);
        all.push(&flag);
        for a in &args {
            all.push(a);
        }
        ostree(&all)?;
        let remote = Remote {
            name: name.to_owned(),
            url,
            keyring: kept,
        };
        let mut list = self.remotes()?;
        list.retain(|r| r.name != name);
        list.push(remote.clone());
        let path = remotes_path(self);
        let text = serde_json::to_vec_pretty(&list)
            .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
        store::write_atomic(&path, &text).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("could not write {}: {e}", path.display()),
            )
        })?;
        Ok(remote)
    }

    fn remote(&self, name: Option<&str>) -> Result<Remote> {
        let list = self.remotes()?;
        match name {
            Some(n) => list.into_iter().find(|r| r.name == n).ok_or_else(|| {
                Error::new(ErrorKind::UnknownRemote, format!("no remote named {n:?}"))
                    .hint("see `particle remote list`; add one with `particle remote add`")
            }),
            None => match list.as_slice() {
                [one] => Ok(one.clone()),
                [] => Err(Error::new(ErrorKind::UnknownRemote, "this machine has no remote")
                    .hint("add the repository the variant is published to: `particle remote add NAME URL --sign-key KEYRING`")),
                _ => Err(Error::usage("this machine has several remotes: name one with --remote")),
            },
        }
    }

    /// What `remote` (the only one when `None`) offers for the variant the machine runs.
    pub fn upgrade_check(&self, remote: Option<&str>, obs: &dyn Observer) -> Result<UpgradeCheck> {
        self.machine_or_refuse("upgrade")?;
        let remote = self.remote(remote)?;
        let variant = self
            .journal
            .last()
            .map(|r| r.variant.clone())
            .ok_or_else(|| Error::new(ErrorKind::MachineState, "the machine's journal is empty"))?;
        let work = tempfile::Builder::new()
            .prefix("particle-upgrade-")
            .tempdir()
            .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
        let fetched =
            crate::publish::fetch_published(&remote.url, remote.keyring.as_deref(), work.path())?;
        if !fetched.signature_checked {
            obs.note(&format!(
                "remote {}: no keyring, so nothing it serves is signature-checked",
                remote.name
            ));
        }
        let published = &fetched.published;
        let offered = published
            .variants
            .iter()
            .find(|v| v.variant == variant)
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotPublished,
                    format!("{} publishes no variant {variant}", remote.url),
                )
            })?;
        // The published journal, checked against the (verified) index, names the offer's state.
        let pj = crate::publish::open_journal(
            &work.path().join("journal"),
            &fetched.journal,
            &published.journal,
            &fetched.journal_uri,
        )?;
        let record = pj
            .history()
            .record(offered.txn)
            .filter(|r| r.id.to_hex() == offered.txn_id && r.commit.to_hex() == offered.commit)
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::JournalCorrupt,
                    format!(
                        "the published journal has no transaction {} ({}) with commit {}",
                        offered.txn, offered.txn_id, offered.commit
                    ),
                )
            })?;
        let current = self
            .journal
            .records()
            .iter()
            .rev()
            .find(|r| matches!(r.request, Request::Origin { .. }))
            .cloned();
        let (up_to_date, from_state) = match &current {
            Some(c) => (c.commit == record.commit, journal::State::clone(&c.state)),
            None => (false, journal::State::default()),
        };
        let diff = journal::diff(&from_state, &record.state);
        let definitions = Some(crate::variants::definitions_at(&pj.history(), &record));
        Ok(UpgradeCheck {
            remote,
            offered,
            record,
            current,
            up_to_date,
            diff,
            signature_checked: fetched.signature_checked,
            definitions,
        })
    }

    /// Pulls what `check` offers into the sysroot's repository (verified by ostree with the
    /// remote's keyring, through a static delta when there is one), then, unless
    /// `download_only`, records it as the machine's new origin, re-applies the machine's own
    /// packages on it, and deploys (stages on a running system). An offer older than the
    /// current origin is refused unless `allow_downgrade`.
    pub fn upgrade(
        &mut self,
        check: UpgradeCheck,
        download_only: bool,
        allow_downgrade: bool,
        obs: &dyn Observer,
    ) -> Result<Upgraded> {
        let m = self.machine_or_refuse("upgrade")?;
        if check.up_to_date {
            // Nothing to pull; an upgrade interrupted after its origin may have left the
            // machine's own packages out.
            let origin = check.current.clone().ok_or_else(|| {
                Error::new(
                    ErrorKind::MachineState,
                    "an up-to-date machine has an origin",
                )
            })?;
            let layered = self.resume_layers(obs)?;
            let head = self
                .journal
                .last()
                .cloned()
                .unwrap_or_else(|| origin.clone());
            return Ok(Upgraded::Staged {
                deployment: crate::txn::deployed(&m, &head),
                check: Box::new(check),
                origin: Box::new(origin),
                layered,
            });
        }
        refuse_downgrade(&check, allow_downgrade)?;
        let commit = check.offered.commit.clone();
        obs.note(&format!(
            "pulling {} from {} ({}, commit {})",
            check.offered.reference,
            check.remote.name,
            check.remote.url,
            &commit[..12]
        ));
        pull(
            &m,
            &check.remote,
            &format!("{}@{commit}", check.offered.reference),
        )?;
        if download_only {
            return Ok(Upgraded::Downloaded {
                check: Box::new(check),
            });
        }
        self.stage_offer(&m, check, obs)
    }

    /// Steps 5-7 of an upgrade, once the offered commit is in the sysroot's repository:
    /// preflight, the new origin, the machine's own packages re-applied, the deployment.
    pub(crate) fn stage_offer(
        &mut self,
        m: &Machine,
        check: UpgradeCheck,
        obs: &dyn Observer,
    ) -> Result<Upgraded> {
        let m = m.clone();
        let commit = check.offered.commit.clone();
        // The machine's own packages: those its transactions installed (and did not remove)
        // that it has now and the new base lacks. Re-solving them needs the pinned sources,
        // and committing them room in the repository: both checked before anything is
        // recorded.
        let head_state = self
            .journal
            .last()
            .map(|h| journal::State::clone(&h.state))
            .unwrap_or_default();
        let layered: Vec<String> = layered_packages(self.journal.records())
            .into_iter()
            .filter(|n| head_state.packages.iter().any(|p| p.name == *n))
            .filter(|n| !check.record.state.packages.iter().any(|p| p.name == *n))
            .collect();
        let mut repo_needed = 0;
        if !layered.is_empty() {
            self.load_pinned()?;
            repo_needed = self.layer_size(&head_state, &check.record.state)?;
        }
        crate::machine::preflight(&m, &commit, repo_needed)?;
        let r = &check.record;
        let origin = self
            .journal
            .append(NewRecord {
                time: crate::machine::now(),
                actor: crate::machine::actor(),
                reason: format!(
                    "upgraded from {}: {} transaction {} ({})",
                    check.remote.url,
                    r.variant,
                    r.seq,
                    r.id.short(12)
                ),
                variant: r.variant.clone(),
                request: Request::Origin {
                    from: check.remote.url.clone(),
                    seq: r.seq,
                    txn: r.id,
                },
                state: journal::State::clone(&r.state),
                commit: r.commit,
                base: None,
            })
            .map_err(|e| {
                Error::classify(
                    ErrorKind::Journal,
                    format!("could not record the origin: {e}"),
                    e,
                )
            })?;
        crate::faults::point("appended");
        if let Some(defs) = &check.definitions {
            crate::variants::write_machine_definitions(&self.state.root, defs)?;
        }
        materializer::set_ref(&m.repo(), &origin.variant, &commit).map_err(ostree_error)?;
        // From here a failure (a full disk while building the machine's packages on the new
        // base, say) leaves the origin recorded: the hint says so and what comes next.
        let recorded = |e: Error| {
            let hint = format!(
                "the new base is recorded as transaction {} but not deployed with this machine's own changes yet; once the cause is fixed, `particle upgrade` deploys it and re-applies this machine's own packages",
                origin.seq
            );
            e.hint(hint)
        };
        let mut committed = None;
        if layered.is_empty() {
            crate::machine::deploy_record(&m, &origin, &|msg| obs.note(msg)).map_err(recorded)?;
        } else {
            obs.note(&format!(
                "re-applying this machine's own packages on the new base: {}",
                layered.join(", ")
            ));
            committed = self
                .reapply_packages(&origin.variant, layered, obs)
                .map_err(recorded)?;
            if committed.is_none() {
                crate::machine::deploy_record(&m, &origin, &|msg| obs.note(msg))
                    .map_err(recorded)?;
            }
        }
        self.reapply_profile(&origin.variant, &head_state.profile, obs)
            .map_err(recorded)?;
        let head = self
            .journal
            .last()
            .cloned()
            .unwrap_or_else(|| origin.clone());
        let deployment = crate::txn::deployed(&m, &head);
        Ok(Upgraded::Staged {
            check: Box::new(check),
            origin: Box::new(origin),
            layered: committed,
            deployment,
        })
    }
}

impl Session {
    /// About what committing the machine's own packages on a new base whose state is `base`
    /// writes to the repository: twice the installed size of the packages the machine has
    /// (`head`) and the base lacks, as the pinned sources give them (the new files and their
    /// staging), and their .debs not in the store yet (`machine::preflight` adds the
    /// initramfs the commit builds again). An estimate: re-solving on the new base may choose
    /// other versions.
    fn layer_size(&self, head: &journal::State, base: &journal::State) -> Result<u64> {
        let pinned = self.pinned.as_ref().expect("loaded").view()?;
        let store = self.store()?;
        let mut bytes = 0;
        for p in &head.packages {
            if base
                .packages
                .iter()
                .any(|b| b.name == p.name && b.arch == p.arch)
            {
                continue;
            }
            let Some(r) = pinned.find(p) else { continue };
            let package = pinned.package(r);
            bytes += 2 * package.installed_size * 1024;
            if store.deb_by_sha256(&p.sha256)?.is_none() {
                bytes += package.size;
            }
        }
        Ok(bytes)
    }
}

/// An offer older than the machine's current origin, unless allowed.
impl Session {
    /// The machine's own packages an interrupted upgrade did not re-apply: when the journal's
    /// last record is an `origin` (nothing built on it yet), those its transactions installed
    /// (and did not remove) that the machine had just before it and the new base lacks.
    pub fn pending_layers(&self) -> Vec<String> {
        pending_layers(&self.journal)
    }

    /// Whether an upgrade interrupted after its origin left out some of the machine's own
    /// profile settings ([`layered_profile`]) that were in force before it.
    pub fn pending_profile(&self) -> bool {
        pending_profile(&self.journal)
    }

    /// The transaction (an `origin`) an upgrade recorded before it was interrupted, if it left
    /// out some of this machine's own packages or settings: deploying it as it is would drop
    /// them, and a transaction built on it would lose them for good; `particle upgrade`
    /// finishes it.
    pub fn interrupted_upgrade(&self) -> Option<u64> {
        interrupted_upgrade(&self.journal)
    }

    /// Re-applies what an upgrade interrupted after recording its origin left out: the
    /// machine's own packages ([`Session::pending_layers`], one install) and then its profile
    /// settings ([`Session::pending_profile`], one transaction per kind), each recorded and
    /// deployed. Returns the last transaction made.
    pub fn resume_layers(&mut self, obs: &dyn Observer) -> Result<Option<Box<Committed>>> {
        let pending = self.pending_layers();
        let Some(variant) = self.journal.last().map(|r| r.variant.clone()) else {
            return Ok(None);
        };
        let Some(before) = profile_before_origin(&self.journal) else {
            return Ok(None);
        };
        let mut last = None;
        if !pending.is_empty() {
            obs.note(&format!(
                "re-applying this machine's own packages, which an interrupted upgrade left out: {}",
                pending.join(", ")
            ));
            last = self.reapply_packages(&variant, pending, obs)?;
        }
        let profile = self.reapply_profile(&variant, &before, obs)?;
        Ok(profile.into_iter().last().map(Box::new).or(last))
    }

    /// Installs the machine's own `packages` again on `variant`'s head (without Recommends, as
    /// they were chosen), recorded and deployed; `None` when nothing had to change.
    fn reapply_packages(
        &mut self,
        variant: &str,
        packages: Vec<String>,
        obs: &dyn Observer,
    ) -> Result<Option<Box<Committed>>> {
        let change = Change::Install {
            packages,
            no_recommends: true,
        };
        self.reapply(
            variant,
            change,
            "re-apply the machine's packages after an upgrade",
            obs,
        )
    }

    /// Plans and runs one of the machine's own changes again after an upgrade, with `reason`.
    fn reapply(
        &mut self,
        variant: &str,
        change: Change,
        reason: &str,
        obs: &dyn Observer,
    ) -> Result<Option<Box<Committed>>> {
        let plan = self.plan_change(variant, change, obs)?;
        if plan.is_unchanged() {
            return Ok(None);
        }
        let options = RunOptions {
            dry_run: false,
            reason: Some(reason.to_owned()),
        };
        match self.run(plan, &options, obs)? {
            crate::Outcome::Committed(c) => Ok(Some(c)),
            _ => Ok(None),
        }
    }
}

impl UpgradeCheck {
    /// Whether the offer is an older transaction than the machine's current origin.
    pub fn is_older(&self) -> bool {
        matches!(&self.current, Some(Record { request: Request::Origin { seq, .. }, .. }) if self.record.seq < *seq)
    }

    /// Whether there is an update: another commit, not older than the current origin.
    pub fn is_available(&self) -> bool {
        !self.up_to_date && !self.is_older()
    }
}

pub(crate) fn refuse_downgrade(check: &UpgradeCheck, allow_downgrade: bool) -> Result<()> {
    if let Some(c) = &check.current {
        if let Request::Origin { seq, .. } = &c.request {
            if check.is_older() && !allow_downgrade {
                return Err(Error::new(
                    ErrorKind::Downgrade,
                    format!(
                        "{} offers transaction {} of {}, older than transaction {seq} the machine runs",
                        check.remote.name, check.record.seq, check.offered.variant
                    ),
                )
                .hint("nothing was changed; `--allow-downgrade` takes it anyway"));
            }
        }
    }
    Ok(())
}

/// A machine's own profile changes (`txn kargs/sysctl/initramfs` on the machine), accumulated
/// over its journal: kernel arguments to append and to delete, and the sysctl and initramfs
/// settings it made (an empty value deletes the key).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileLayer {
    pub kargs_append: Vec<String>,
    pub kargs_delete: Vec<String>,
    pub sysctl: std::collections::BTreeMap<String, String>,
    pub initramfs: std::collections::BTreeMap<String, String>,
}

/// The [`ProfileLayer`] of a machine's records (later changes win).
pub fn layered_profile<'a>(records: impl IntoIterator<Item = &'a Record>) -> ProfileLayer {
    let mut out = ProfileLayer::default();
    for r in records {
        match &r.request {
            Request::Kargs { append, delete } => {
                for a in append {
                    out.kargs_delete.retain(|k| k != a);
                    if !out.kargs_append.contains(a) {
                        out.kargs_append.push(a.clone());
                    }
                }
                for d in delete {
                    out.kargs_append.retain(|k| k != d);
                    if !out.kargs_delete.contains(d) {
                        out.kargs_delete.push(d.clone());
                    }
                }
            }
            Request::Sysctl { set } => out.sysctl.extend(set.clone()),
            Request::Initramfs { set } => out.initramfs.extend(set.clone()),
            _ => {}
        }
    }
    out
}

impl Session {
    /// Re-applies the machine's own profile changes ([`layered_profile`]) that were in force
    /// before the upgrade (`before`: one undone by a rollback stays undone) on the head the
    /// upgrade recorded: one transaction per kind that changes anything (kernel arguments,
    /// sysctl, initramfs), each recorded and deployed like the administrator's own.
    fn reapply_profile(
        &mut self,
        variant: &str,
        before: &journal::Profile,
        obs: &dyn Observer,
    ) -> Result<Vec<Committed>> {
        let now = match self.journal.last() {
            Some(r) => r.state.profile.clone(),
            None => return Ok(Vec::new()),
        };
        let mut done = Vec::new();
        for change in self.profile_changes(before, &now) {
            let reason = "re-apply the machine's profile settings after an upgrade";
            if let Some(c) = self.reapply(variant, change, reason, obs)? {
                obs.note("re-applied this machine's own profile settings on the new base");
                done.push(*c);
            }
        }
        Ok(done)
    }

    fn profile_changes(&self, before: &journal::Profile, now: &journal::Profile) -> Vec<Change> {
        profile_changes(&self.journal, before, now)
    }
}

/// [`Session::pending_layers`] of a machine's journal.
pub fn pending_layers(journal: &journal::Journal) -> Vec<String> {
    let records = journal.records();
    let Some((last, before)) = records.split_last() else {
        return Vec::new();
    };
    if !matches!(last.request, Request::Origin { .. }) {
        return Vec::new();
    }
    let Some(prev) = before.iter().rev().find(|r| r.variant == last.variant) else {
        return Vec::new();
    };
    layered_packages(before)
        .into_iter()
        .filter(|n| prev.state.packages.iter().any(|p| p.name == *n))
        .filter(|n| !last.state.packages.iter().any(|p| p.name == *n))
        .collect()
}

/// The profile the machine had just before its last record, when that record is an `origin`
/// (an upgrade recorded it and nothing is built on it yet).
fn profile_before_origin(journal: &journal::Journal) -> Option<journal::Profile> {
    let (last, before) = journal.records().split_last()?;
    if !matches!(last.request, Request::Origin { .. }) {
        return None;
    }
    let prev = before.iter().rev().find(|r| r.variant == last.variant)?;
    Some(prev.state.profile.clone())
}

/// [`Session::pending_profile`] of a machine's journal.
pub fn pending_profile(journal: &journal::Journal) -> bool {
    let (Some(before), Some(last)) = (profile_before_origin(journal), journal.last()) else {
        return false;
    };
    !profile_changes(journal, &before, &last.state.profile).is_empty()
}

/// [`Session::interrupted_upgrade`] of a machine's journal.
pub fn interrupted_upgrade(journal: &journal::Journal) -> Option<u64> {
    let pending = !pending_layers(journal).is_empty() || pending_profile(journal);
    pending.then(|| journal.last().map(|r| r.seq)).flatten()
}

/// The machine's own profile changes that were in force in `before` and that `now` lacks: one
/// change per kind.
fn profile_changes(
    journal: &journal::Journal,
    before: &journal::Profile,
    now: &journal::Profile,
) -> Vec<Change> {
    let mut layer = layered_profile(journal.records());
    layer.kargs_append.retain(|k| before.kargs.contains(k));
    layer.kargs_delete.retain(|k| !before.kargs.contains(k));
    let in_force = |set: &BTreeMap<String, String>, map: &BTreeMap<String, String>| {
        set.iter()
            .filter(|(k, v)| map.get(*k).map_or(v.is_empty(), |now| now == *v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    layer.sysctl = in_force(&layer.sysctl, &before.sysctl);
    layer.initramfs = in_force(&layer.initramfs, &before.initramfs);
    // What `now` already has needs nothing.
    layer.kargs_append.retain(|k| !now.kargs.contains(k));
    layer.kargs_delete.retain(|k| now.kargs.contains(k));
    let missing = |set: BTreeMap<String, String>, map: &BTreeMap<String, String>| {
        set.into_iter()
            .filter(|(k, v)| map.get(k).map_or(!v.is_empty(), |x| x != v))
            .collect::<BTreeMap<_, _>>()
    };
    layer.sysctl = missing(layer.sysctl, &now.sysctl);
    layer.initramfs = missing(layer.initramfs, &now.initramfs);
    let mut changes = Vec::new();
    if !layer.kargs_append.is_empty() || !layer.kargs_delete.is_empty() {
        changes.push(Change::Kargs {
            append: layer.kargs_append,
            delete: layer.kargs_delete,
        });
    }
    if !layer.sysctl.is_empty() {
        changes.push(Change::Sysctl { set: layer.sysctl });
    }
    if !layer.initramfs.is_empty() {
        changes.push(Change::Initramfs {
            set: layer.initramfs,
        });
    }
    changes
}

/// The packages a machine's own transactions installed and did not remove later, in the order
/// first installed.
pub fn layered_packages<'a>(records: impl IntoIterator<Item = &'a Record>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in records {
        match &r.request {
            Request::Install { packages, .. } => {
                for p in packages {
                    let name = p.name.split(':').next().unwrap_or(&p.name).to_owned();
                    if !out.contains(&name) {
                        out.push(name);
                    }
                }
            }
            Request::Remove { packages } => {
                out.retain(|n| {
                    !packages
                        .iter()
                        .any(|p| p.split(':').next() == Some(n.as_str()))
                });
            }
            _ => {}
        }
    }
    out
}

/// What automatic updates do (`/etc/particle/updates.conf`, `policy = ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Nothing (the default, as rpm-ostree's `AutomaticUpdatePolicy=none`).
    None,
    /// Look and report, change nothing.
    Check,
    /// Pull and stage an update for the next boot.
    Stage,
}

/// The automatic-update settings: the policy and, optionally, the remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateConfig {
    pub policy: Policy,
    pub remote: Option<String>,
    /// The file read (`None` when it does not exist: the defaults).
    pub path: Option<PathBuf>,
}

/// Where a machine's automatic-update settings live, relative to its `/etc`.
pub const UPDATES_CONF: &str = "etc/particle/updates.conf";

/// Parses `updates.conf`: `KEY = VALUE` lines (`policy`, `remote`), `#` comments.
pub fn parse_update_config(text: &str, path: &Path) -> Result<UpdateConfig> {
    let mut config = UpdateConfig {
        policy: Policy::None,
        remote: None,
        path: Some(path.to_owned()),
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |what: String| {
            Error::new(
                ErrorKind::MachineState,
                format!("{} line {}: {what}", path.display(), i + 1),
            )
        };
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| bad(format!("{line:?} is not KEY = VALUE")))?;
        match (k.trim(), v.trim()) {
            ("policy", "none") => config.policy = Policy::None,
            ("policy", "check") => config.policy = Policy::Check,
            ("policy", "stage") => config.policy = Policy::Stage,
            ("policy", other) => {
                return Err(bad(format!("policy {other:?}: one of none, check, stage")))
            }
            ("remote", r) if store::valid_name(r) => config.remote = Some(r.to_owned()),
            (k, _) => return Err(bad(format!("unknown setting {k:?} (policy, remote)"))),
        }
    }
    Ok(config)
}

impl Session {
    /// The machine's automatic-update settings: `/etc/particle/updates.conf` of the running
    /// system, or of the default deployment of an offline sysroot.
    pub fn update_config(&self) -> Result<UpdateConfig> {
        let m = self.machine_or_refuse("upgrade --auto")?;
        let root = if m.booted {
            PathBuf::from("/")
        } else {
            machine::deployments(&m.sysroot)?
                .into_iter()
                .next()
                .map(|d| d.path)
                .unwrap_or_else(|| m.sysroot.clone())
        };
        let path = root.join(UPDATES_CONF);
        match std::fs::read_to_string(&path) {
            Ok(text) => parse_update_config(&text, &path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(UpdateConfig {
                policy: Policy::None,
                remote: None,
                path: None,
            }),
            Err(e) => Err(crate::state::io_error(&self.state.root, &path, "read", &e)),
        }
    }
}

/// What `upgrade --auto` did under the machine's policy.
#[derive(Debug)]
pub enum Auto {
    /// Policy none: nothing looked at.
    Off(UpdateConfig),
    /// Policy check, or stage with nothing available: what the remote offers.
    Checked(UpdateConfig, Box<UpgradeCheck>),
    /// Policy stage with an update: staged.
    Staged(UpdateConfig, Box<Upgraded>),
}

impl Session {
    /// `upgrade --auto` (what particle-upgrade.timer runs): acts on the machine's policy. An
    /// older offer is never taken.
    pub fn auto_upgrade(&mut self, obs: &dyn Observer) -> Result<Auto> {
        let config = self.update_config()?;
        if config.policy == Policy::None {
            return Ok(Auto::Off(config));
        }
        let check = self.upgrade_check(config.remote.as_deref(), obs)?;
        if config.policy == Policy::Check || !check.is_available() {
            return Ok(Auto::Checked(config, Box::new(check)));
        }
        let done = self.upgrade(check, false, false, obs)?;
        Ok(Auto::Staged(config, Box::new(done)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_config_parses_and_refuses_what_it_does_not_know() {
        let p = Path::new("/etc/particle/updates.conf");
        let c = parse_update_config("# daily\npolicy = stage\nremote=origin\n", p).expect("valid");
        assert_eq!(
            (c.policy, c.remote.as_deref()),
            (Policy::Stage, Some("origin"))
        );
        assert_eq!(
            parse_update_config("", p).expect("empty").policy,
            Policy::None
        );
        for bad in ["policy = sometimes", "frequency = daily", "policy"] {
            let e = parse_update_config(bad, p).expect_err(bad);
            assert!(e.message().contains("line 1"), "{}", e.message());
        }
    }

    #[test]
    fn layered_packages_follow_installs_and_removals() {
        let rec = |request: Request| Record {
            seq: 1,
            id: journal::TxnId::GENESIS,
            prev: journal::TxnId::GENESIS,
            time: 0,
            actor: journal::Actor {
                user: "root".into(),
                host: "test".into(),
            },
            reason: String::new(),
            variant: "base".into(),
            request,
            state: journal::State::default().into(),
            commit: journal::CommitId(store::Sha256([0; 32])),
            base: None,
        };
        let install = |names: &[&str]| {
            rec(Request::Install {
                packages: names
                    .iter()
                    .map(|n| journal::PackageSpec {
                        name: (*n).to_owned(),
                        version: None,
                    })
                    .collect(),
                no_recommends: false,
            })
        };
        let remove = |names: &[&str]| {
            rec(Request::Remove {
                packages: names.iter().map(|n| (*n).to_owned()).collect(),
            })
        };
        let records = [
            install(&["jq", "tree:amd64"]),
            install(&["htop", "jq"]),
            remove(&["tree"]),
            rec(Request::Upgrade),
        ];
        assert_eq!(layered_packages(&records), ["jq", "htop"]);
        assert!(layered_packages(&[]).is_empty());
        let kargs = |append: &[&str], delete: &[&str]| {
            let v = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect();
            rec(Request::Kargs {
                append: v(append),
                delete: v(delete),
            })
        };
        let set = |k: &str, v: &str| BTreeMap::from([(k.to_owned(), v.to_owned())]);
        let layer = layered_profile(&[
            kargs(&["quiet", "a=1"], &[]),
            rec(Request::Sysctl {
                set: set("vm.swappiness", "10"),
            }),
            kargs(&["b=2"], &["quiet"]),
            rec(Request::Sysctl {
                set: set("vm.swappiness", "7"),
            }),
            rec(Request::Initramfs {
                set: set("COMPRESS", ""),
            }),
            install(&["jq"]),
        ]);
        assert_eq!(layer.kargs_append, ["a=1", "b=2"]);
        assert_eq!(layer.kargs_delete, ["quiet"]);
        assert_eq!(layer.sysctl, set("vm.swappiness", "7"));
        assert_eq!(layer.initramfs, set("COMPRESS", ""));
        assert_eq!(layered_profile(&[]), ProfileLayer::default());
    }
}
