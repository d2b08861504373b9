//! `publish` and `replay --from` as the command line shows them ([`engine::publish`],
//! [`engine::replay_from`]).

use crate::cmd::Global;
use crate::error::CliError;
use crate::output::print_json;
use crate::progress::Reporter;
use engine::publish::PublishOptions;
use engine::{ErrorKind, Session};
use std::path::Path;

/// `particle publish [--variant V]... --repo DIR [--sign-key FILE]`.
pub(crate) fn publish(
    root: &Path,
    variants: &[String],
    repo: &Path,
    sign_key: Option<&Path>,
    g: &Global,
) -> anyhow::Result<()> {
    let reporter = Reporter::new(!g.json && !g.quiet);
    let session = Session::read(root)?;
    let published = session.publish(
        &PublishOptions {
            variants,
            repo,
            sign_key,
        },
        &reporter,
    )?;
    if g.json {
        let mut j = serde_json::to_value(&published)?;
        j["repo"] = serde_json::json!(repo);
        j["signed"] = sign_key.is_some().into();
        return print_json(&j);
    }
    if !g.quiet {
        for v in &published.variants {
            if variants.is_empty() || variants.contains(&v.variant) {
                eprintln!(
                    "published {} at transaction {} ({}): commit {}{}",
                    v.reference,
                    v.txn,
                    &v.txn_id[..12],
                    v.commit,
                    if v.delta.is_some() {
                        ", with a static delta from the previous one"
                    } else {
                        ""
                    }
                );
            }
        }
        eprintln!(
            "{}: journal of {} records, {}",
            repo.display(),
            published.journal.records,
            if sign_key.is_some() {
                "commits, summary and index signed"
            } else {
                "unsigned"
            }
        );
    }
    Ok(())
}

/// `particle replay --from URL [--into DIR2] [--keyring FILE] --verify`.
pub(crate) fn replay_from(
    url: &str,
    into: Option<&Path>,
    keyring: Option<&Path>,
    verify: bool,
    g: &Global,
) -> anyhow::Result<()> {
    let reporter = Reporter::new(!g.json && !g.quiet);
    let tmp;
    let into = match into {
        Some(d) => d.to_owned(),
        None => {
            tmp = tempfile::Builder::new()
                .prefix("particle-replayed-")
                .tempdir()?;
            tmp.path().join("state")
        }
    };
    let r = engine::replay_from(url, &into, keyring, &reporter)?;
    let first_bad = r.replayed.iter().find(|t| !t.identical());
    if g.json {
        let list: Vec<_> = r
            .replayed
            .iter()
            .map(|t| serde_json::json!({ "seq": t.seq, "variant": t.variant, "recorded": t.recorded, "rebuilt": t.rebuilt, "identical": t.identical() }))
            .collect();
        print_json(&serde_json::json!({
            "from": url, "into": into, "signature_checked": r.signature_checked,
            "published": r.published.variants, "transactions": list,
            "verified": verify && first_bad.is_none(),
        }))?;
    }
    if verify {
        if let Some(bad) = first_bad {
            return Err(CliError::new(
                ErrorKind::NotReproducible,
                format!(
                    "transaction {} rebuilt as {}, but the published journal records {}",
                    bad.seq, bad.rebuilt, bad.recorded
                ),
            )
            .into());
        }
        if !g.json && !g.quiet {
            eprintln!(
                "replay verified: {} commits of {url} rebuilt bit for bit{}",
                r.replayed.len(),
                if r.signature_checked {
                    ", its index signed by the keyring's key"
                } else {
                    ""
                }
            );
        }
    }
    Ok(())
}
