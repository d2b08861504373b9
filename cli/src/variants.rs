//! `variant apply`, `variant rebase` and `compose` as the command line shows them. The variants
//! model (definitions, reconciliation, rebase, compose order, hardware rules) is
//! [`engine::variants`].

use crate::output::print_json;
use crate::progress::Reporter;
use crate::txn::{finish, run, TxnOpts};
use engine::variants::{self, Definition};
use engine::{Change, Outcome, Session};
use std::path::Path;

/// `particle variant apply FILE`.
pub(crate) fn apply(root: &Path, file: &Path, o: &TxnOpts) -> anyhow::Result<()> {
    let def = Definition::load(file)?;
    let reporter = Reporter::new(o.human());
    let mut session = Session::write(root, &reporter)?;
    let o = TxnOpts {
        variant: def.name.clone(),
        ..o.clone()
    };
    let change = Change::Apply {
        file: variants::file_name(file),
        definition: Box::new(def),
        follow_parent: false,
    };
    let plan = session.plan(&o.variant, change, &reporter)?;
    let outcome = run(&mut session, plan, &o, &reporter)?;
    finish(
        &o,
        &outcome,
        &format!("nothing to do: {} already matches", o.variant),
    )
}

/// `particle variant rebase CHILD`: CHILD rebuilt on its parent's head with its own changes.
pub(crate) fn rebase(root: &Path, o: &TxnOpts) -> anyhow::Result<()> {
    let reporter = Reporter::new(o.human());
    let mut session = Session::write(root, &reporter)?;
    let plan = session.plan(&o.variant, Change::Rebase, &reporter)?;
    let says = match plan.head.as_ref().and_then(|h| h.base.as_ref()) {
        Some(b) => format!(
            "nothing to do: {} is already built on {}'s head ({}@{})",
            o.variant, b.variant, b.variant, b.seq
        ),
        None => format!("nothing to do: {} already matches", o.variant),
    };
    let outcome = run(&mut session, plan, o, &reporter)?;
    finish(o, &outcome, &says)
}

/// `particle compose [--dir DIR]`: every definition, parents first. Each child whose parent
/// moved is rebased onto the parent's new head in the same record that applies its definition.
/// Without DIR, the definitions last applied (from the journal) are composed again.
pub(crate) fn compose(root: &Path, dir: Option<&Path>, o: &TxnOpts) -> anyhow::Result<()> {
    let reporter = Reporter::new(o.human());
    let mut session = Session::write(root, &reporter)?;
    let defs = session.compose_definitions(dir, &reporter)?;
    let mut results = Vec::new();
    for (file, def) in defs {
        let o = TxnOpts {
            variant: def.name.clone(),
            dry_run: false,
            ..o.clone()
        };
        if o.human() {
            eprintln!(
                "== {}{}",
                def.name,
                def.parent
                    .as_ref()
                    .map(|p| format!(" (on {p})"))
                    .unwrap_or_default()
            );
        }
        let change = Change::Apply {
            definition: Box::new(def),
            file,
            follow_parent: true,
        };
        let plan = session.plan(&o.variant, change, &reporter)?;
        let outcome = run(&mut session, plan, &o, &reporter)?;
        if let (Outcome::Unchanged { .. }, true) = (&outcome, o.human()) {
            eprintln!("   unchanged");
        }
        results.push(outcome.to_json());
    }
    if o.json {
        print_json(&serde_json::json!({ "variants": results }))?;
    } else if !o.quiet {
        let committed = results.iter().filter(|r| r["committed"] == true).count();
        eprintln!(
            "composed {} variants: {committed} new commits, {} unchanged",
            results.len(),
            results.len() - committed
        );
    }
    Ok(())
}
