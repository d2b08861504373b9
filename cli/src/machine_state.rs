//! `txn rollback` and `txn cancel` on a machine (deployments reordered or dropped, recorded in
//! the machine's journal). The machine's state directory and the rest of its protocol live in
//! `engine::state` and `engine::machine`; these two move there with the transaction protocol.

use crate::ctx::Ctx;
use crate::deliver::machine_err;
use crate::error::CliError;
use crate::txn::TxnOpts;
use engine::ErrorKind;
use journal::{NewRecord, Record, Request};
use std::path::Path;

use engine::state::Machine;

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
