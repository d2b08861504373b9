//! A machine's own state directory: `/var/lib/particle` of an OSTree sysroot's stateroot, kept
//! across deployments (ostree shares a stateroot's `/var` between its deployments). Its
//! repository is the sysroot's `ostree/repo`, not a copy, and its journal starts with an
//! `origin` record that names the variant transaction and commit the machine was deployed from,
//! with that transaction's state, so the machine's own transactions build on the commit it runs.
//! See docs/delivery.md, "A machine's journal".

use crate::ctx::Ctx;
use crate::deliver::machine_err;
use crate::error::CliError;
use crate::txn::TxnOpts;
use engine::ErrorKind;
use journal::{NewRecord, Record, Request};
use std::path::{Path, PathBuf};

use engine::state::{state_dir_of, Machine, MACHINE_FILE};

/// Creates (or continues) the machine state directory of `stateroot` in `sysroot` after
/// `record`'s commit was deployed there: the marker, an empty package store with the build
/// host's sources (their keyrings by the same paths; the machine pins its own snapshots with
/// `repo update`), and a journal whose new record is an `origin` naming `from`, the
/// transaction and its commit. Nothing is appended when the machine's head already is that
/// commit.
pub(crate) fn seed(
    sysroot: &Path,
    stateroot: &str,
    from: &str,
    record: &Record,
    sources: &[store::SourceConfig],
) -> anyhow::Result<PathBuf> {
    let dir = state_dir_of(sysroot, stateroot);
    let state = engine::state::State::create(&dir)?;
    let marker = dir.join(MACHINE_FILE);
    store::write_atomic(&marker, format!("stateroot={stateroot}\n").as_bytes()).map_err(|e| {
        CliError::new(
            ErrorKind::Io,
            format!("could not write {}: {e}", marker.display()),
        )
    })?;
    let _lock = engine::state::lock(&state)?;
    let st = store::Store::create(&state.store_dir())?;
    let known = st.sources()?;
    // The build host's archive of particle's own package stays on the build host.
    for s in sources
        .iter()
        .filter(|s| s.name != crate::own_package::SOURCE)
    {
        if !known.iter().any(|k| k.name == s.name) {
            st.add_source(s)?;
        }
    }
    let (mut journal, _) = journal::Journal::open(&dir.join("journal")).map_err(|e| {
        CliError::new(
            ErrorKind::Journal,
            format!("could not open the journal: {e}"),
        )
    })?;
    if journal.last().is_some_and(|h| h.commit == record.commit) {
        return Ok(dir);
    }
    journal
        .append(NewRecord {
            time: crate::txn::now(),
            actor: crate::txn::actor(),
            reason: format!(
                "deployed from {from}: {} transaction {} ({})",
                record.variant,
                record.seq,
                record.id.short(12)
            ),
            variant: record.variant.clone(),
            request: Request::Origin {
                from: from.to_owned(),
                seq: record.seq,
                txn: record.id,
            },
            state: record.state.clone(),
            commit: record.commit,
            base: None,
        })
        .map_err(|e| {
            CliError::new(
                ErrorKind::Journal,
                format!("could not record the origin: {e}"),
            )
        })?;
    Ok(dir)
}

/// Checks, before a machine transaction is recorded, that its deployment fits in `/boot` and
/// the sysroot (`no_space` otherwise: nothing is recorded or staged).
pub(crate) fn preflight(m: &Machine, commit: &str) -> Result<machine::Preflight, CliError> {
    machine::preflight(&m.sysroot, commit).map_err(machine_err)
}

/// Deploys `record`'s commit into the machine's sysroot with its kernel arguments and the
/// machine's: staged on the running system (ostree finalizes it at shutdown, merging `/etc` as
/// it is then), the new default at once offline.
pub(crate) fn deploy_record(
    m: &Machine,
    record: &Record,
    say: &dyn Fn(&str),
) -> Result<(), CliError> {
    let commit = record.commit.to_hex();
    let grub = machine::grub_mkconfig_program();
    machine::deploy(
        &m.sysroot,
        &machine::DeployRequest {
            repo: &m.repo(),
            commit: &commit,
            variant: &record.variant,
            what: &format!(
                "transaction {} ({}, commit {})",
                record.seq,
                record.id.short(12),
                &commit[..12]
            ),
            stateroot: &m.stateroot,
            kargs: &record.state.profile.kargs,
            host_kargs: None,
            env: &[],
            grub_mkconfig: grub.as_deref(),
            stage: m.booted,
        },
        say,
    )
    .map(drop)
    .map_err(machine_err)
}

/// The machine's journal head against its deployments (refs and deployments are projections
/// of the journal): when the head's commit is not what boots next (a command interrupted
/// between recording and deploying, or a staged deployment that failed to finalize at
/// shutdown), it is deployed (staged) again; a head that is deployed but not first is made
/// the default. Returns what was done, for the recovery note.
pub(crate) fn reconcile(
    m: &Machine,
    journal: &journal::Journal,
    say: &dyn Fn(&str),
) -> Result<Option<String>, CliError> {
    let Some(head) = journal.last() else {
        return Ok(None);
    };
    let commit = head.commit.to_hex();
    let list = machine::deployments(&m.sysroot).map_err(machine_err)?;
    if list.first().is_some_and(|d| d.commit == commit) {
        return Ok(None);
    }
    if let Some(at) = list
        .iter()
        .position(|d| d.commit == commit && !d.staged && d.stateroot == m.stateroot)
    {
        let grub = machine::grub_mkconfig_program();
        machine::set_default(&m.sysroot, at, grub.as_deref()).map_err(machine_err)?;
        return Ok(Some(format!(
            "recovery: made the deployment of transaction {} the default again, as the journal has it",
            head.seq
        )));
    }
    preflight(m, &commit)?;
    deploy_record(m, head, say)?;
    Ok(Some(format!(
        "recovery: transaction {} was recorded but not deployed (an interrupted command, or a finalization that failed at shutdown); {} it now",
        head.seq,
        if m.booted { "staged" } else { "deployed" }
    )))
}

/// What `status` says about a machine whose journal head is not what boots next: a command
/// was interrupted after recording, or the staged deployment failed to finalize at shutdown
/// (ostree leaves `/boot/ostree/finalize-failure.stamp` until `ostree-boot-complete` reports
/// it at the next boot).
pub(crate) fn drift(
    m: &Machine,
    journal: &journal::Journal,
    list: &[machine::DeploymentStatus],
) -> Option<String> {
    let head = journal.last()?;
    let commit = head.commit.to_hex();
    if list.first().is_some_and(|d| d.commit == commit) {
        return None;
    }
    let stamp = m.sysroot.join("boot/ostree/finalize-failure.stamp");
    let why = match std::fs::read_to_string(&stamp) {
        Ok(text) => format!(
            "the staged deployment failed to finalize at shutdown: {}",
            text.trim()
        ),
        Err(_) => "it was recorded but is not what boots next (an interrupted command, or a staged deployment that failed to finalize at shutdown: see `journalctl -b -1 -u ostree-finalize-staged`)".to_owned(),
    };
    Some(format!(
        "transaction {} ({}) is the journal's head, but {why}",
        head.seq,
        head.id.short(12)
    ))
}

/// The variant a machine runs (its journal's head), when `root` is a machine state directory.
pub(crate) fn machine_variant(root: &Path) -> Option<String> {
    if !root.join(MACHINE_FILE).is_file() {
        return None;
    }
    let (journal, _) = journal::Journal::open_read_only(&root.join("journal")).ok()?;
    journal.last().map(|r| r.variant.clone())
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

/// Appends a machine record that returns `o.variant` to `target`'s state and commit (no new
/// commit: the deployment exists), then lets `switch` make the sysroot match.
fn return_to(
    ctx: &mut Ctx,
    o: &TxnOpts,
    target: Record,
    reason: String,
    switch: &dyn Fn(&Machine) -> Result<(), CliError>,
) -> anyhow::Result<()> {
    let m = ctx
        .state
        .machine
        .clone()
        .expect("a machine state directory");
    let (head, old_state) = crate::txn::head_state(ctx, &o.variant);
    let d = journal::diff(&old_state, &target.state);
    if !o.json && !o.quiet {
        eprintln!(
            "returning {} to transaction {} ({}, commit {})",
            o.variant,
            target.seq,
            target.id.short(12),
            &target.commit.to_hex()[..12]
        );
        crate::txn::print_plan(&d, 0);
    }
    if o.dry_run {
        if o.json {
            crate::output::print_json(&serde_json::json!({
                "variant": o.variant, "dry_run": true, "to": target.seq,
                "changes": crate::txn::diff_json(&d),
            }))?;
        }
        return Ok(());
    }
    let record = ctx
        .journal
        .append(NewRecord {
            time: crate::txn::now(),
            actor: crate::txn::actor(),
            reason: o.reason.clone().unwrap_or(reason),
            variant: o.variant.clone(),
            request: Request::Rollback {
                to_seq: target.seq,
                to: target.id,
            },
            state: target.state.clone(),
            commit: target.commit,
            base: head.and_then(|h| h.base),
        })
        .map_err(|e| CliError::new(ErrorKind::Journal, format!("could not append: {e}")))?;
    crate::faults::point("appended");
    materializer::set_ref(&m.repo(), &o.variant, &record.commit.to_hex())
        .map_err(|e| CliError::new(ErrorKind::Ostree, e.to_string()))?;
    switch(&m)?;
    crate::txn::report(ctx, o, &record, &d)
}

/// `txn rollback` on a machine: the rollback deployment (the one `status` marks) becomes the
/// default for the next boot, as `rpm-ostree rollback` does, with no rebuild; recorded as a
/// rollback to the transaction it runs.
pub(crate) fn rollback(root: &Path, o: &TxnOpts) -> anyhow::Result<()> {
    let mut ctx = Ctx::write(root, o.quiet || o.json)?;
    let m = ctx
        .state
        .machine
        .clone()
        .expect("a machine state directory");
    let list = machine::deployments(&m.sysroot).map_err(machine_err)?;
    let Some(at) = list.iter().position(|d| d.rollback) else {
        return Err(CliError::new(
            ErrorKind::NoRollback,
            format!("{} has no rollback deployment", m.sysroot.display()),
        )
        .hint("`particle txn rollback --to TXN` rebuilds any earlier state from the journal")
        .into());
    };
    let commit = list[at].commit.clone();
    let target = record_of(&ctx.journal, &o.variant, &commit)
        .cloned()
        .ok_or_else(|| {
            CliError::new(
                ErrorKind::NoRollback,
                format!(
                    "the rollback deployment (commit {}) was not made by a transaction of {} in this machine's journal",
                    &commit[..12],
                    o.variant
                ),
            )
            .hint("`particle txn rollback --to TXN` rebuilds any earlier state from the journal")
        })?;
    let reason = format!(
        "roll back to the previous deployment (transaction {})",
        target.seq
    );
    return_to(&mut ctx, o, target, reason, &|m| {
        let grub = machine::grub_mkconfig_program();
        machine::set_default(&m.sysroot, at, grub.as_deref())
            .map(drop)
            .map_err(machine_err)
    })
}

/// `txn cancel`: drops the deployment staged for the next boot; recorded as a return to the
/// transaction the machine runs.
pub(crate) fn cancel(root: &Path, o: &TxnOpts) -> anyhow::Result<()> {
    let mut ctx = Ctx::write(root, o.quiet || o.json)?;
    let Some(m) = ctx.state.machine.clone() else {
        return Err(CliError::usage(
            "`txn cancel` drops a staged deployment of a machine; this is a build host's state directory",
        )
        .into());
    };
    let list = machine::deployments(&m.sysroot).map_err(machine_err)?;
    let (Some(staged), Some(booted)) = (
        list.iter().find(|d| d.staged),
        list.iter().find(|d| d.booted),
    ) else {
        return Err(CliError::new(
            ErrorKind::NothingStaged,
            format!("nothing is staged on {}", m.sysroot.display()),
        )
        .hint(if m.booted {
            "`particle status` lists the deployments; `particle txn rollback` makes the previous one the default"
        } else {
            "only a running system stages deployments; offline ones are the default at once (`particle txn rollback` goes back)"
        })
        .into());
    };
    let staged_txn = record_of(&ctx.journal, &o.variant, &staged.commit).map(|r| r.seq);
    let target = record_of(&ctx.journal, &o.variant, &booted.commit)
        .cloned()
        .ok_or_else(|| {
            CliError::new(
                ErrorKind::NoRollback,
                format!(
                    "the booted deployment (commit {}) was not made by a transaction of {} in this machine's journal",
                    &booted.commit[..12],
                    o.variant
                ),
            )
        })?;
    let reason = match staged_txn {
        Some(seq) => format!("cancel the staged transaction {seq}"),
        None => "cancel the staged deployment".to_owned(),
    };
    return_to(&mut ctx, o, target, reason, &|m| {
        machine::drop_staged(&m.sysroot)
            .map(drop)
            .map_err(machine_err)
    })
}
