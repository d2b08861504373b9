//! Transactions as the command line shows them: the plan, progress, the outcome. The protocol
//! itself (plan → nothing to do → dry run → fetch → build → record → ref → deploy) is the
//! engine's ([`engine::Session::plan`], [`engine::Session::run`]); this renders it.

use crate::output::{print_json, table};
use crate::progress::Reporter;
use engine::history::diff_json;
use engine::{Change, Committed, Outcome, Plan, RunOptions, Session, VariantStatus};
use journal::Request;
use std::path::Path;

/// Options every mutating transaction shares.
#[derive(Debug, Clone)]
pub(crate) struct TxnOpts {
    pub(crate) variant: String,
    pub(crate) reason: Option<String>,
    pub(crate) dry_run: bool,
    pub(crate) json: bool,
    pub(crate) quiet: bool,
}

impl TxnOpts {
    /// The options of a transaction on `variant` under the global options `g`.
    pub(crate) fn new(
        g: &crate::args::Global,
        variant: String,
        reason: Option<String>,
        dry_run: bool,
    ) -> Self {
        let (json, quiet) = (g.json, g.quiet);
        TxnOpts {
            variant,
            reason,
            dry_run,
            json,
            quiet,
        }
    }

    /// Whether human output goes to stderr (not `--json`, not `-q`).
    pub(crate) fn human(&self) -> bool {
        !self.json && !self.quiet
    }
}

/// Runs one transaction on `o.variant`: opens the state directory under the lock, plans
/// `change`, shows the plan, carries it out and reports the outcome.
pub(crate) fn transact(root: &Path, o: &TxnOpts, change: Change) -> anyhow::Result<()> {
    let reporter = Reporter::new(o.human());
    let mut session = Session::write(root, &reporter)?;
    let unchanged_says = if change.is_profile_change() {
        "nothing to do: the profile already has those settings".to_owned()
    } else {
        format!("nothing to do: {} already has that state", o.variant)
    };
    let plan = session.plan(&o.variant, change, &reporter)?;
    let outcome = run(&mut session, plan, o, &reporter)?;
    finish(o, &outcome, &unchanged_says)
}

/// The one pipeline every transaction command goes through: shows the plan (unless there is
/// nothing to do), runs it, shows the committed record.
pub(crate) fn run(
    session: &mut Session,
    plan: Plan,
    o: &TxnOpts,
    reporter: &Reporter,
) -> anyhow::Result<Outcome> {
    if o.human() {
        show_plan(session, &plan);
    }
    let options = RunOptions {
        dry_run: o.dry_run,
        reason: o.reason.clone(),
    };
    let outcome = session.run(plan, &options, reporter)?;
    if let (Outcome::Committed(c), true) = (&outcome, o.human()) {
        report_human(c);
    }
    Ok(outcome)
}

/// The JSON document of an outcome, or the line saying there was nothing to do.
pub(crate) fn finish(o: &TxnOpts, outcome: &Outcome, unchanged_says: &str) -> anyhow::Result<()> {
    if o.json {
        return print_json(&outcome.to_json());
    }
    if let (Outcome::Unchanged { .. }, false) = (outcome, o.quiet) {
        eprintln!("{unchanged_says}");
    }
    Ok(())
}

/// What the plan is about (the transaction it returns to, the parent it moves onto, the rules
/// that match), then its package and profile changes.
fn show_plan(session: &Session, plan: &Plan) {
    if !plan.matched_rules.is_empty() {
        eprintln!(
            "hardware rules that match: {}",
            plan.matched_rules.join(", ")
        );
    }
    if plan.is_unchanged() {
        return;
    }
    match &plan.request {
        Request::Rollback { to_seq, to } if plan.is_switch() => {
            let commit = session
                .history()
                .record(*to_seq)
                .map(|r| r.commit.to_hex())
                .unwrap_or_default();
            eprintln!(
                "returning {} to transaction {to_seq} ({}, commit {})",
                plan.variant,
                to.short(12),
                &commit[..commit.len().min(12)]
            );
        }
        Request::Rollback { to_seq, to } => eprintln!(
            "rolling {} back to the state of transaction {to_seq} ({})",
            plan.variant,
            to.short(12)
        ),
        Request::Rebase {
            parent, parent_seq, ..
        } => {
            let from = plan.head.as_ref().and_then(|h| h.base.as_ref());
            eprintln!(
                "rebasing {} from {parent}@{} onto {parent}@{parent_seq}",
                plan.variant,
                from.map_or(0, |b| b.seq)
            );
        }
        // A new variant starts with its parent's whole set: the record says what it is.
        Request::VariantCreate { .. } => return,
        _ => {}
    }
    print_plan(&plan.diff, plan.download_bytes);
}

/// `transaction N (ID) committed: KIND REF -> COMMIT`, and where it stands on a machine.
fn report_human(c: &Committed) {
    let r = &c.record;
    eprintln!(
        "transaction {} ({}) committed: {} {} -> {}",
        r.seq,
        r.id.short(12),
        r.kind(),
        materializer::variant_ref(&r.variant),
        r.commit.to_hex()
    );
    match &c.deployment {
        Some(d) if d.first && d.staged => eprintln!(
            "staged for the next boot: reboot to apply it (`particle txn cancel` drops it)"
        ),
        Some(d) if d.first && d.booted => eprintln!("this is the running deployment"),
        Some(d) if d.first => eprintln!(
            "the default deployment of {} from the next boot",
            d.sysroot.display()
        ),
        _ => {}
    }
}

pub(crate) fn print_plan(d: &journal::Diff, download: u64) {
    let mut rows = Vec::new();
    for p in &d.added {
        rows.push(vec!["  install".into(), p.name.clone(), p.version.clone()]);
    }
    for c in &d.changed {
        let verb = match c.direction {
            journal::query::Direction::Upgrade => "  upgrade",
            journal::query::Direction::Downgrade => "  downgrade",
            journal::query::Direction::Rebuild => "  reinstall",
        };
        rows.push(vec![
            verb.into(),
            c.name.clone(),
            format!("{} -> {}", c.from, c.to),
        ]);
    }
    for p in &d.removed {
        rows.push(vec!["  remove".into(), p.name.clone(), p.version.clone()]);
    }
    for ch in &d.profile {
        let mut row = engine::history::profile_row(ch);
        row[0] = "  set".into();
        rows.push(row);
    }
    eprint!("{}", table(&rows));
    let packages = d.added.len() + d.changed.len() + d.removed.len();
    if packages > 0 || d.profile.is_empty() {
        eprintln!(
            "{} to install, {} to change, {} to remove; {} to download",
            d.added.len(),
            d.changed.len(),
            d.removed.len(),
            crate::output::human_bytes(download)
        );
    }
    if !d.profile.is_empty() {
        eprintln!(
            "{} profile setting{} to change",
            d.profile.len(),
            if d.profile.len() == 1 { "" } else { "s" }
        );
    }
}

/// `variant create NAME [--from PARENT[@TXN]]`: without a parent the variant is declared empty
/// (its first transaction starts from nothing); with one, a `variant-create` record gives it the
/// parent's state at TXN and its own commit.
pub(crate) fn variant_create(root: &Path, o: &TxnOpts, from: Option<&str>) -> anyhow::Result<()> {
    let reporter = Reporter::new(o.human());
    let mut session = Session::write(root, &reporter)?;
    let Some(from) = from else {
        session.declare_variant(&o.variant)?;
        if o.json {
            print_json(&serde_json::json!({ "variant": o.variant, "parent": null, "txn": null }))?;
        } else if !o.quiet {
            eprintln!("created empty variant {}", o.variant);
        }
        return Ok(());
    };
    let change = Change::create_variant(&session, from)?;
    let plan = session.plan(&o.variant, change, &reporter)?;
    let outcome = run(&mut session, plan, o, &reporter)?;
    finish(o, &outcome, "")
}

/// `txn log`.
pub(crate) fn log(root: &Path, filter: journal::LogFilter, json: bool) -> anyhow::Result<()> {
    let ctx = Session::read(root)?;
    if json {
        return crate::output::write_out(|out| ctx.write_log_json(&filter, out));
    }
    let entries = ctx.log(&filter)?;
    let mut rows = vec![vec![
        "SEQ".into(),
        "ID".into(),
        "TIME".into(),
        "ACTOR".into(),
        "KIND".into(),
        "CHANGES".into(),
        "REASON".into(),
    ]];
    for e in &entries {
        let mut changes = format!(
            "+{} -{} ~{}",
            e.changes.added.len(),
            e.changes.removed.len(),
            e.changes.changed.len()
        );
        if !e.changes.profile.is_empty() {
            changes.push_str(&format!(" profile:{}", e.changes.profile.len()));
        }
        let mut kind = e.kind.to_owned();
        if let Some(b) = &e.base {
            kind.push_str(&format!(" (on {}@{})", b.variant, b.seq));
        }
        rows.push(vec![
            e.seq.to_string(),
            e.id.short(12),
            store::format_utc(e.time),
            e.actor.to_string(),
            kind,
            changes,
            e.reason.to_owned(),
        ]);
    }
    print!("{}", table(&rows));
    Ok(())
}

/// `txn show TXN`.
pub(crate) fn show(root: &Path, reference: &str, json: bool) -> anyhow::Result<()> {
    let ctx = Session::read(root)?;
    let r = ctx.resolve(reference)?;
    let h = ctx.history();
    let changes = h.changes(r);
    if json {
        let mut j = serde_json::to_value(r)?;
        j["kind"] = serde_json::Value::String(r.kind().into());
        j["changes"] = diff_json(&changes);
        return print_json(&j);
    }
    println!("transaction {} ({})", r.seq, r.id.to_hex());
    println!("  variant:  {}", r.variant);
    println!("  kind:     {}", r.kind());
    println!("  time:     {}", store::format_utc(r.time));
    println!("  actor:    {}", r.actor);
    if !r.reason.is_empty() {
        println!("  reason:   {}", r.reason);
    }
    println!(
        "  request:  {}",
        engine::history::describe_request(&r.request)
    );
    println!("  commit:   {}", r.commit.to_hex());
    println!("  packages: {}", r.state.packages.len());
    for (s, h) in &r.state.indices {
        println!("  index:    {s} InRelease {}", h.short(16));
    }
    if let Some(b) = &r.base {
        println!(
            "  built on: {} transaction {} ({})",
            b.variant,
            b.seq,
            b.txn.short(12)
        );
    }
    if !changes.is_empty() {
        println!("  changes:");
        print_diff_human(&changes);
    }
    Ok(())
}

fn print_diff_human(d: &journal::Diff) {
    let mut rows = Vec::new();
    for p in &d.added {
        rows.push(vec!["+".into(), p.name.clone(), p.version.clone()]);
    }
    for p in &d.removed {
        rows.push(vec!["-".into(), p.name.clone(), p.version.clone()]);
    }
    for c in &d.changed {
        rows.push(vec![
            "~".into(),
            c.name.clone(),
            format!("{} -> {}", c.from, c.to),
        ]);
    }
    rows.extend(d.profile.iter().map(engine::history::profile_row));
    if rows.is_empty() {
        println!("  no changes");
    }
    for row in &mut rows {
        row[0].insert_str(0, "  ");
    }
    print!("{}", table(&rows));
}

/// `txn diff A B`.
pub(crate) fn diff(root: &Path, a: &str, b: &str, json: bool) -> anyhow::Result<()> {
    let ctx = Session::read(root)?;
    let ra = ctx.resolve(a)?;
    let rb = ctx.resolve(b)?;
    let d = journal::diff(&ra.state, &rb.state);
    if json {
        return print_json(&diff_json(&d));
    }
    println!(
        "from transaction {} ({}) to {} ({})",
        ra.seq,
        ra.id.short(12),
        rb.seq,
        rb.id.short(12)
    );
    print_diff_human(&d);
    Ok(())
}

/// `txn verify`: the hash chain, and every recorded commit present and passing fsck.
pub(crate) fn verify(root: &Path, json: bool) -> anyhow::Result<()> {
    let v = Session::read(root)?.verify()?;
    if json {
        print_json(&serde_json::json!({
            "ok": true, "records": v.records, "head": v.head.map(|h| h.to_hex()),
            "pruned_commits": v.pruned.len(),
        }))?;
    } else if v.pruned.is_empty() {
        eprintln!(
            "journal intact: {} records, every commit present and fsck-clean",
            v.records
        );
    } else {
        eprintln!(
            "journal intact: {} records; every kept commit present and fsck-clean, {} commit(s) of earlier transactions pruned (`txn rollback --to` and `replay` rebuild them)",
            v.records,
            v.pruned.len()
        );
    }
    Ok(())
}

/// `status`.
pub(crate) fn status(root: &Path, variant: Option<String>, json: bool) -> anyhow::Result<()> {
    let ctx = Session::read(root)?;
    let all = ctx.variant_status(variant.as_deref())?;
    if json {
        let staging = engine::staging_dir(&ctx.state().root);
        return print_json(&VariantStatus::document(&all, variant.as_deref(), &staging));
    }
    for v in &all {
        let name = &v.name;
        let Some(head) = &v.head else {
            println!("● {name}: no transactions yet ({})", v.reference);
            continue;
        };
        println!("● {name}  {}", v.reference);
        println!(
            "    transaction: {} ({})  {}",
            head.txn,
            head.txn_id.short(12),
            store::format_utc(head.time)
        );
        println!("    commit:      {}", head.commit.to_hex());
        println!("    packages:    {}", head.packages);
        if let Some(p) = &head.parent {
            println!("    parent:      {p}");
        }
        let prof = &head.profile;
        if !prof.kargs.is_empty() {
            println!("    kargs:       {}", prof.kargs.join(" "));
        }
        for (key, m) in [("sysctl", &prof.sysctl), ("initramfs", &prof.initramfs)] {
            if !m.is_empty() {
                let s: Vec<String> = m.iter().map(|(k, v)| format!("{k}={v}")).collect();
                println!("    {key:<12} {}", s.join(" "));
            }
        }
        if !v.ref_matches_journal() {
            println!("    warning:     the ref points at {}, not the journal head's commit; the next transaction repairs it", serde_json::json!(v.ref_commit));
        }
    }
    Ok(())
}

/// `replay --into DIR2 [--verify]`.
pub(crate) fn replay(
    root: &Path,
    variant: Option<String>,
    upto: Option<String>,
    into: &Path,
    check: bool,
    json: bool,
    quiet: bool,
) -> anyhow::Result<()> {
    let ctx = Session::read(root)?;
    let upto = match &upto {
        Some(r) => Some(ctx.resolve(r)?.seq),
        None => None,
    };
    let results = ctx.replay(variant.as_deref(), upto, into, &mut |r| {
        if !quiet && !json {
            eprintln!(
                "transaction {:>4} {:<10} {} {}",
                r.seq,
                r.variant,
                r.rebuilt,
                if r.identical() {
                    "identical"
                } else {
                    "DIFFERS"
                }
            );
        }
    })?;
    let verified = engine::verify_replayed(&results, "the journal");
    if json {
        print_json(
            &serde_json::json!({ "into": into, "transactions": results, "verified": check && verified.is_ok() }),
        )?;
    }
    if check {
        verified?;
        if !json && !quiet {
            eprintln!(
                "replay verified: {} commits rebuilt bit for bit",
                results.len()
            );
        }
    }
    Ok(())
}

/// `txn bisect --good A --bad B --run CMD...`.
pub(crate) fn bisect(
    root: &Path,
    variant: &str,
    good: &str,
    bad: &str,
    cmd: &[String],
    json: bool,
    quiet: bool,
) -> anyhow::Result<()> {
    let ctx = Session::read(root)?;
    let g = ctx.resolve(good)?.seq;
    let b = ctx.resolve(bad)?.seq;
    let result = ctx.bisect_command(variant, g, b, cmd, &mut |seq, code| {
        if !quiet && !json {
            eprintln!(
                "transaction {seq}: {:?} (exit {code})",
                journal::Verdict::from_exit_code(code)
            );
        }
    })?;
    match result {
        engine::history::Bisected::Found {
            first_bad: fb,
            last_good,
            diff: d,
            tested,
        } => {
            if json {
                return print_json(&serde_json::json!({
                    "first_bad": fb.seq, "first_bad_id": fb.id.to_hex(), "last_good": last_good,
                    "tested": tested, "diff": diff_json(&d) }));
            }
            println!(
                "first bad transaction: {} ({}) {} — {}",
                fb.seq,
                fb.id.short(12),
                fb.kind(),
                fb.reason
            );
            println!("changes since the last good one ({last_good}):");
            print_diff_human(&d);
        }
        engine::history::Bisected::Ambiguous {
            candidates,
            last_good,
            tested,
        } => {
            if json {
                return print_json(
                    &serde_json::json!({ "first_bad": null, "candidates": candidates, "last_good": last_good, "tested": tested }),
                );
            }
            let list: Vec<String> = candidates.iter().map(u64::to_string).collect();
            println!(
                "skipped transactions leave it ambiguous: the first bad one is among {}",
                list.join(", ")
            );
        }
    }
    Ok(())
}
