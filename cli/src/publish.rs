//! `publish` and `replay --from` as the command line shows them ([`engine::publish`],
//! [`engine::replay_from`]).

use crate::args::Global;
use crate::error::CliError;
use crate::output::print_json;
use crate::progress::Reporter;
use engine::publish::PublishOptions;
use engine::Session;
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

/// What `replay --from` is asked to do.
pub(crate) enum Replay {
    /// Check everything and find every package, build nothing.
    DryRun,
    Build {
        verify: bool,
    },
}

/// `particle replay --from URL [--into DIR2] [--keyring FILE] --verify|--dry-run`.
pub(crate) fn replay_from(
    url: &str,
    into: Option<&Path>,
    keyring: Option<&Path>,
    what: Replay,
    g: &Global,
) -> anyhow::Result<()> {
    let reporter = Reporter::new(!g.json && !g.quiet);
    let dry_run = matches!(what, Replay::DryRun);
    let r = engine::replay_from(url, into, keyring, dry_run, &reporter)?;
    if dry_run {
        if g.json {
            return print_json(&serde_json::json!({
                "from": url, "signature_checked": r.signature_checked, "dry_run": true,
                "published": r.published.variants, "journal": r.published.journal,
                "fetch": r.fetch,
            }));
        }
        if !g.quiet {
            for v in &r.published.variants {
                eprintln!(
                    "{} at transaction {} ({}): commit {}",
                    v.reference,
                    v.txn,
                    &v.txn_id[..12],
                    v.commit
                );
            }
            eprintln!(
                "would rebuild {} transactions of {url}{}, fetching {} of {} recorded packages ({} bytes)",
                r.published.journal.records,
                if r.signature_checked {
                    " (its index signed by the keyring's key)"
                } else {
                    ""
                },
                r.fetch.fetched,
                r.fetch.packages,
                r.fetch.bytes
            );
        }
        return Ok(());
    }
    let verify = matches!(what, Replay::Build { verify: true });
    let verified = engine::verify_replayed(&r.replayed, "the published journal");
    if g.json {
        print_json(&serde_json::json!({
            "from": url, "into": r.into, "signature_checked": r.signature_checked,
            "published": r.published.variants, "transactions": r.replayed,
            "verified": verify && verified.is_ok(),
        }))?;
    }
    if verify {
        verified?;
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

/// `particle remote add NAME URL [--sign-key FILE]`.
pub(crate) fn remote_add(
    root: &Path,
    name: &str,
    url: &str,
    keyring: Option<&Path>,
    g: &Global,
) -> anyhow::Result<()> {
    let reporter = Reporter::new(!g.json && !g.quiet);
    let session = Session::write(root, &reporter)?;
    let r = session.remote_add(name, url, keyring)?;
    if g.json {
        return print_json(&serde_json::to_value(&r)?);
    }
    if !g.quiet {
        eprintln!(
            "added remote {} ({}){}",
            r.name,
            r.url,
            if r.keyring.is_some() {
                ", signatures required"
            } else {
                "; no keyring: nothing it serves is signature-checked"
            }
        );
    }
    Ok(())
}

/// `particle remote list`.
pub(crate) fn remote_list(root: &Path, g: &Global) -> anyhow::Result<()> {
    let list = Session::read(root)?.remotes()?;
    if g.json {
        return print_json(&serde_json::json!({ "remotes": list }));
    }
    let mut rows = vec![vec!["NAME".into(), "URL".into(), "SIGNED".into()]];
    for r in &list {
        rows.push(vec![
            r.name.clone(),
            r.url.clone(),
            if r.keyring.is_some() {
                "required"
            } else {
                "not checked"
            }
            .into(),
        ]);
    }
    print!("{}", crate::output::table(&rows));
    Ok(())
}

/// `particle upgrade [--check] [--preview] [--download-only]`: `--check` exits 77 when there is
/// nothing new (rpm-ostree's convention).
pub(crate) fn upgrade(root: &Path, o: &crate::args::UpgradeArgs, g: &Global) -> anyhow::Result<()> {
    if let Some(bundle) = &o.bundle {
        return upgrade_bundle(root, bundle, o.keyring.as_deref(), o.allow_downgrade, g);
    }
    let reporter = Reporter::new(!g.json && !g.quiet);
    let mut session = Session::write(root, &reporter)?;
    if o.auto {
        use engine::upgrade::Auto;
        let (config, said) = match session.auto_upgrade(&reporter)? {
            Auto::Off(config) if g.json => {
                return print_json(&serde_json::json!({ "policy": "none", "config": config.path }))
            }
            Auto::Off(config) => (config, "automatic updates are off".to_owned()),
            Auto::Checked(_, check) if g.json => return print_json(&check.to_json()),
            Auto::Checked(config, check) => (
                config,
                match check.is_available() {
                    true => format!(
                        "update available from {}: transaction {}",
                        check.remote.name, check.offered.txn
                    ),
                    false => format!("no update from {}", check.remote.name),
                },
            ),
            Auto::Staged(_, done) => return render_upgraded(&done, g),
        };
        // A timer's run succeeds whether or not there is news: the log says which.
        if !g.quiet {
            let from = config
                .path
                .as_ref()
                .map_or("no /etc/particle/updates.conf".into(), |p| {
                    p.display().to_string()
                });
            eprintln!("{said} (policy {:?} from {from})", config.policy);
        }
        return Ok(());
    }
    let check = session.upgrade_check(o.remote.as_deref(), &reporter)?;
    let pending = !session.pending_layers().is_empty() || session.pending_profile();
    if check.up_to_date && !o.check && !o.preview && pending {
        // An upgrade interrupted after its origin left the machine's own layers out.
        let done = session.upgrade(check, false, false, &reporter)?;
        return render_upgraded(&done, g);
    }
    if o.check || o.preview || check.up_to_date {
        if g.json {
            print_json(&check.to_json())?;
        } else if !g.quiet {
            if check.up_to_date {
                eprintln!(
                    "no update: {} offers transaction {} of {}, which this machine runs",
                    check.remote.name, check.offered.txn, check.offered.variant
                );
            } else if check.is_older() {
                eprintln!(
                    "no update: {} offers transaction {} of {}, older than what this machine runs (`--allow-downgrade` takes it)",
                    check.remote.name, check.offered.txn, check.offered.variant
                );
            } else {
                eprintln!(
                    "update available from {}: {} transaction {} ({}), commit {}",
                    check.remote.name,
                    check.offered.variant,
                    check.offered.txn,
                    &check.offered.txn_id[..12],
                    &check.offered.commit[..12]
                );
                if o.preview {
                    crate::txn::print_plan(&check.diff, 0);
                }
            }
        }
        return match (o.check, check.is_available()) {
            (true, false) => Err(CliError::reported(77).into()),
            _ => Ok(()),
        };
    }
    let done = session.upgrade(check, o.download_only, o.allow_downgrade, &reporter)?;
    render_upgraded(&done, g)
}

/// What an upgrade (from a remote or a bundle) did.
fn render_upgraded(done: &engine::upgrade::Upgraded, g: &Global) -> anyhow::Result<()> {
    match done {
        engine::upgrade::Upgraded::Downloaded { check } => {
            if g.json {
                return print_json(&done.to_json());
            }
            if !g.quiet {
                eprintln!(
                    "downloaded commit {} into the sysroot's repository; `particle upgrade` stages it",
                    check.offered.commit
                );
            }
        }
        engine::upgrade::Upgraded::Staged {
            check,
            origin,
            layered,
            deployment,
        } => {
            if g.json {
                return print_json(&done.to_json());
            }
            if !g.quiet {
                eprintln!(
                    "transaction {} ({}): origin {} transaction {} from {}",
                    origin.seq,
                    origin.id.short(12),
                    check.offered.variant,
                    check.offered.txn,
                    check.remote.name
                );
                if let Some(c) = &layered {
                    eprintln!(
                        "transaction {} ({}): this machine's packages on the new base",
                        c.record.seq,
                        c.record.id.short(12)
                    );
                }
                eprintln!(
                    "{}",
                    if deployment.staged {
                        "staged for the next boot: reboot to apply it (`particle txn cancel` drops it)"
                    } else {
                        "the default deployment from the next boot"
                    }
                );
            }
        }
    }
    Ok(())
}

/// `particle bundle FROM TO FILE [--sign-key KEY]`.
pub(crate) fn bundle(
    root: &Path,
    from: &str,
    to: &str,
    file: &Path,
    sign_key: Option<&Path>,
    g: &Global,
) -> anyhow::Result<()> {
    let reporter = Reporter::new(!g.json && !g.quiet);
    // The delta is generated in the repository first (deltas/): the lock, as for `delta`.
    let session = Session::write(root, &reporter)?;
    let (from, to) = (session.resolve(from)?.seq, session.resolve(to)?.seq);
    let index = session.bundle(from, to, file, sign_key, &reporter)?;
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    if g.json {
        let mut j = serde_json::to_value(&index)?;
        j["file"] = serde_json::json!(file);
        j["bytes"] = bytes.into();
        j["signed"] = sign_key.is_some().into();
        return print_json(&j);
    }
    if !g.quiet {
        eprintln!(
            "wrote {} ({}): {} transaction {} -> {}{}",
            file.display(),
            crate::output::human_bytes(bytes),
            index.variant,
            index.from.txn,
            index.to.txn,
            if sign_key.is_some() { ", signed" } else { "" }
        );
    }
    Ok(())
}

/// `particle upgrade --bundle FILE [--keyring FILE]`.
fn upgrade_bundle(
    root: &Path,
    file: &Path,
    keyring: Option<&Path>,
    allow_downgrade: bool,
    g: &Global,
) -> anyhow::Result<()> {
    let reporter = Reporter::new(!g.json && !g.quiet);
    let mut session = Session::write(root, &reporter)?;
    let done = session.upgrade_bundle(file, keyring, allow_downgrade, &reporter)?;
    render_upgraded(&done, g)
}
