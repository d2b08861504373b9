//! Transactions: solve → fetch and verify → materialize → append to the journal → move the ref.
//! Either all of that happens or nothing visible does (see docs/architecture.md).

use crate::ctx::Ctx;
use crate::error::CliError;
use crate::output::{print_json, table};
use crate::pinned::{Pinned, PinnedView};
use engine::ErrorKind;
use journal::{CommitId, NewRecord, PackageEntry, Record, Request, State};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Options every mutating transaction shares.
#[derive(Debug, Clone)]
pub(crate) struct TxnOpts {
    pub(crate) variant: String,
    pub(crate) reason: Option<String>,
    pub(crate) dry_run: bool,
    pub(crate) json: bool,
    pub(crate) quiet: bool,
}

pub(crate) use engine::machine::{actor, now};

pub(crate) fn head_state(ctx: &Ctx, variant: &str) -> (Option<Record>, State) {
    match ctx.journal.history().head(variant) {
        Some(r) => (Some(r.clone()), r.state.clone()),
        None => (None, State::default()),
    }
}

/// Runs a package request (install/remove/upgrade) on a variant.
pub(crate) fn package_txn(
    root: &Path,
    o: &TxnOpts,
    request: solver::Request,
    journal_request: Request,
) -> anyhow::Result<()> {
    let mut ctx = Ctx::write(root, o.quiet || o.json)?;
    check_variant_known(&ctx, &o.variant)?;
    if crate::own_package::wanted(request.install.iter().map(String::as_str)) {
        let quiet = o.quiet || o.json;
        crate::own_package::ensure(&ctx.state, ctx.store()?, false, &|m| {
            if !quiet {
                eprintln!("{m}");
            }
        })?;
    }
    let (head, old_state) = head_state(&ctx, &o.variant);
    let mut loaded = Pinned::load(ctx.store()?)?;
    let kept = installed_only(&ctx, &loaded.view()?, &old_state, head.as_ref())?;
    if !kept.is_empty() {
        loaded = Pinned::load_keeping(ctx.store()?, kept)?;
    }
    let pinned = loaded.view()?;
    let new_state = solve_state(&pinned, &old_state, &request)?;
    let d = journal::diff(&old_state, &new_state);
    let download = download_size(&ctx, &pinned, &new_state, Some(&old_state));
    if d.added.is_empty() && d.removed.is_empty() && d.changed.is_empty() && head.is_some() {
        if o.json {
            print_json(
                &serde_json::json!({ "variant": o.variant, "changed": false, "txn": head.as_ref().map(|h| h.seq) }),
            )?;
        } else {
            eprintln!("nothing to do: {} already has that state", o.variant);
        }
        return Ok(());
    }
    if !o.json && !o.quiet {
        print_plan(&d, download);
    }
    if o.dry_run {
        if o.json {
            print_json(
                &serde_json::json!({ "variant": o.variant, "dry_run": true, "download_bytes": download, "changes": diff_json(&d) }),
            )?;
        }
        return Ok(());
    }
    fetch_state(&ctx, &pinned, &new_state, Some(&old_state), o)?;
    let base = head.as_ref().and_then(|h| h.base.clone());
    let record = commit_state(&mut ctx, o, journal_request, new_state, head.as_ref(), base)?;
    report(&ctx, o, &record, &d)
}

/// The packages of `state` that no pinned index offers, as the dpkg database in `head`'s commit
/// describes them (with the state's SHA256), for [`Pinned::load_keeping`].
fn installed_only(
    ctx: &Ctx,
    pinned: &PinnedView<'_>,
    state: &State,
    head: Option<&Record>,
) -> anyhow::Result<Vec<store::Package>> {
    let missing: Vec<&PackageEntry> = state
        .packages
        .iter()
        .filter(|p| pinned.find(&p.name, &p.version, &p.arch).is_none())
        .collect();
    let Some(head) = head.filter(|_| !missing.is_empty()) else {
        return Ok(Vec::new());
    };
    let commit = head.commit.to_hex();
    let status = machine::read_commit_file(&ctx.repo(), &commit, "usr/lib/sysimage/dpkg/status")
        .map_err(crate::deliver::machine_err)?;
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

/// `old` changed by `request` as the solver resolves it over the pinned universe: the new
/// package set (and the pinned indices it came from), the profile unchanged.
pub(crate) fn solve_state(
    pinned: &PinnedView<'_>,
    old: &State,
    request: &solver::Request,
) -> Result<State, CliError> {
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
            CliError::new(ErrorKind::Unsatisfiable, e.to_string())
                .hint("nothing was changed; check names and versions against the pinned sources (`particle repo list`)")
        })?;
    tracing::info!(
        "solved in {:?}: {} packages",
        t.elapsed(),
        solution.packages.len()
    );
    let mut packages = Vec::with_capacity(solution.packages.len());
    for c in &solution.packages {
        let r = pinned.find(&c.name, &c.version, &c.arch).ok_or_else(|| {
            CliError::new(
                ErrorKind::Internal,
                format!(
                    "solver chose {} {} which no pinned index has",
                    c.name, c.version
                ),
            )
        })?;
        let p = pinned.record(r);
        packages.push(PackageEntry {
            name: p.name.to_owned(),
            version: p.version.to_owned(),
            arch: p.arch.to_owned(),
            sha256: p.sha256,
        });
    }
    packages.sort();
    Ok(State {
        indices: pinned.indices.clone(),
        packages,
        profile: old.profile.clone(),
    })
}

/// What `state` still needs to download: the pinned packages whose .deb is not in the store.
/// Whether `state` has exactly `p` (same name, architecture, version and `.deb`).
fn has_package(state: &State, p: &PackageEntry) -> bool {
    state
        .packages
        .binary_search_by(|q| q.key().cmp(&p.key()))
        .is_ok_and(|i| state.packages[i] == *p)
}

/// Bytes to download for `state`: what the store lacks, except what `base` (the state the
/// build starts from) has.
pub(crate) fn download_size(
    ctx: &Ctx,
    pinned: &PinnedView<'_>,
    state: &State,
    base: Option<&State>,
) -> u64 {
    let store = ctx.store().ok();
    state
        .packages
        .iter()
        .filter(|p| !base.is_some_and(|b| has_package(b, p)))
        .filter(|p| store.is_none_or(|st| st.deb_by_sha256(&p.sha256).ok().flatten().is_none()))
        .filter_map(|p| pinned.find(&p.name, &p.version, &p.arch))
        .map(|r| pinned.record(r).size)
        .sum()
}

/// Fetches and verifies every .deb of `state` that the store does not have yet, before
/// anything is built, except those of `base` (the state the build starts from: its commit has
/// them unpacked already). A package neither stored nor in a pinned index is an error naming it.
pub(crate) fn fetch_state(
    ctx: &Ctx,
    pinned: &PinnedView<'_>,
    state: &State,
    base: Option<&State>,
    o: &TxnOpts,
) -> anyhow::Result<()> {
    let mut wanted = Vec::new();
    let mut download = 0;
    for p in &state.packages {
        if base.is_some_and(|b| has_package(b, p))
            || ctx.store()?.deb_by_sha256(&p.sha256)?.is_some()
        {
            continue;
        }
        let r = pinned.find(&p.name, &p.version, &p.arch).ok_or_else(|| {
            CliError::new(
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
    let fetch = crate::progress::Fetch::start(
        crate::progress::Mode::for_stderr(!o.json && !o.quiet),
        state.packages.len(),
        wanted.len(),
        download,
    );
    let fetched = ctx.store()?.fetch_debs(&wanted, 4, &|done, total, size| {
        crate::faults::point("fetch");
        fetch.update(done, total, size)
    });
    fetch.finish(fetched.is_ok());
    fetched?;
    Ok(())
}

pub(crate) fn check_variant_known(ctx: &Ctx, variant: &str) -> anyhow::Result<()> {
    if ctx.journal.history().head(variant).is_some()
        || engine::state::variants(&ctx.state)?
            .iter()
            .any(|v| v == variant)
    {
        return Ok(());
    }
    Err(CliError::new(
        ErrorKind::UnknownVariant,
        format!("no variant named {variant:?}"),
    )
    .hint("see `particle variant list`; create one with `particle variant create`")
    .into())
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
        let mut row = crate::output::profile_row(ch);
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
            human_bytes(download)
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

pub(crate) fn human_bytes(b: u64) -> String {
    match b {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// What identifies the record a build is for: it will have `seq` and chain onto `prev`.
#[derive(Debug, Clone)]
pub(crate) struct Header<'a> {
    pub(crate) variant: &'a str,
    /// What the variant's definition says it is ([`crate::variants::description_at`]).
    pub(crate) description: Option<String>,
    pub(crate) parent_variant: Option<String>,
    pub(crate) seq: u64,
    pub(crate) prev: journal::TxnId,
    pub(crate) time: i64,
    pub(crate) parent_commit: Option<String>,
    /// The commit the build starts from ([`journal::History::build_base`]).
    pub(crate) base_commit: Option<String>,
}

/// The BuildInput for the record described by `h`, whose state is `state`. `base` is the
/// state of the commit the build starts from: its packages need no `.deb` in the store (the
/// build reads only what changed), which is what lets a machine change one package without
/// downloading its whole set.
pub(crate) fn build_input(
    ctx_store: &store::Store,
    h: Header<'_>,
    state: &State,
    base: Option<&State>,
) -> anyhow::Result<materializer::BuildInput> {
    let mut packages = Vec::with_capacity(state.packages.len());
    for p in &state.packages {
        let found = ctx_store.deb_by_sha256(&p.sha256)?;
        if found.is_none() && base.is_some_and(|b| has_package(b, p)) {
            packages.push(materializer::PackageInput {
                name: p.name.clone(),
                version: p.version.clone(),
                arch: p.arch.clone(),
                deb_path: None,
            });
            continue;
        }
        let id = found.ok_or_else(|| {
            CliError::new(
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
        let deb_path = ctx_store.objects().locate(&id).ok_or_else(|| {
            CliError::new(ErrorKind::MissingDeb, format!("object {id} is missing"))
        })?;
        packages.push(materializer::PackageInput {
            name: p.name.clone(),
            version: p.version.clone(),
            arch: p.arch.clone(),
            deb_path: Some(deb_path),
        });
    }
    Ok(materializer::BuildInput {
        variant: h.variant.to_owned(),
        description: h.description,
        parent_variant: h.parent_variant,
        txn_id: format!("seq-{}", h.seq),
        seq: h.seq,
        journal_head: h.prev.to_hex(),
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
    })
}

/// Materializes `state`, appends the record, moves the ref, cleans staging.
pub(crate) fn commit_state(
    ctx: &mut Ctx,
    o: &TxnOpts,
    request: Request,
    state: State,
    head: Option<&Record>,
    base: Option<journal::Provenance>,
) -> anyhow::Result<Record> {
    let last = ctx.journal.last();
    let seq = last.map_or(1, |r| r.seq + 1);
    let prev = last.map_or(journal::TxnId::GENESIS, |r| r.id);
    let time = now();
    let parent_commit = head.map(|h| h.commit.to_hex());
    let parent_variant = base.as_ref().map(|b| b.variant.clone());
    let history = ctx.journal.history();
    let mut build_base = history.build_base(&o.variant, seq, &request, base.as_ref());
    if let Some(b) = build_base {
        // ostree prunes the commits of deployments it removed on a machine, and `gc` those of
        // old transactions: the build then starts from the head's commit, which the build
        // turns into the same tree (replay --verify checks that).
        let repo = ctx.repo();
        if !materializer::commit_exists(&repo, &b.commit.to_hex()).unwrap_or(false) {
            build_base = head.filter(|h| {
                materializer::commit_exists(&repo, &h.commit.to_hex()).unwrap_or(false)
            });
        }
    }
    let base_state = build_base.map(|r| r.state.clone());
    let base_commit = build_base.map(|r| r.commit.to_hex());
    let description =
        crate::variants::description_at(&ctx.journal.history(), &o.variant, seq, &request);
    let header = Header {
        variant: &o.variant,
        description,
        parent_variant,
        seq,
        prev,
        time,
        parent_commit,
        base_commit,
    };
    let input = build_input(ctx.store()?, header, &state, base_state.as_ref())?;
    let work = ctx.staging().join(format!("txn-{seq}"));
    let progress = crate::progress::Build::new(
        crate::progress::Mode::for_stderr(!o.json && !o.quiet),
        input.packages.len(),
    );
    let t = std::time::Instant::now();
    let options = materializer::Options {
        // On a machine the base is usually deployed: the build's overlay stands on it.
        base_checkout: match (&ctx.state.machine, &input.base_commit) {
            (Some(m), Some(base)) => engine::state::deployment_of(m, base),
            _ => None,
        },
        ..materializer::Options::default()
    };
    let built =
        materializer::materialize_with_progress(&ctx.repo(), &work, &input, &options, &|p| {
            progress.update(p)
        });
    progress.finish(built.is_ok());
    let built = built.map_err(|e| {
        let _ = std::fs::remove_dir_all(&work);
        let err = crate::error::classify(ErrorKind::Materialize, chain(&e), &e);
        let hint = err.hint.clone();
        err.hint(
            hint.unwrap_or_else(|| "nothing was committed; the previous state is in force".into()),
        )
    })?;
    crate::faults::point("materialized");
    tracing::info!("materialized {} in {:?}", built.commit, t.elapsed());
    for (phase, d) in &built.timings {
        tracing::debug!("  materializer {phase}: {d:.2?}");
    }
    let commit = CommitId::from_hex(&built.commit)
        .map_err(|e| CliError::new(ErrorKind::Internal, e.to_string()))?;
    if let Some(m) = &ctx.state.machine {
        // Refused here, nothing is recorded: a full /boot would otherwise fail at shutdown.
        engine::machine::preflight(m, &built.commit).inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&work);
        })?;
    }
    let t = std::time::Instant::now();
    let record = ctx
        .journal
        .append(NewRecord {
            time,
            actor: actor(),
            reason: o.reason.clone().unwrap_or_default(),
            variant: o.variant.clone(),
            request,
            state,
            commit,
            base,
        })
        .map_err(|e| {
            let _ = std::fs::remove_dir_all(&work);
            let err = crate::error::classify(ErrorKind::Journal, chain(&e), &e);
            let space = if err.kind == ErrorKind::NoSpace {
                "free space on the filesystem holding the journal and run the command again; "
            } else {
                ""
            };
            err.hint(format!(
                "{space}the next command reads back what the journal holds and moves the ref to match"
            ))
        })?;
    crate::faults::point("appended");
    tracing::info!(
        "appended transaction {} to the journal in {:?}",
        record.seq,
        t.elapsed()
    );
    let t = std::time::Instant::now();
    materializer::set_ref(&ctx.repo(), &o.variant, &built.commit)
        .map_err(|e| CliError::new(ErrorKind::Ostree, e.to_string()))?;
    crate::faults::point("ref-moved");
    tracing::info!(
        "moved {} to {} in {:?}",
        materializer::variant_ref(&o.variant),
        built.commit,
        t.elapsed()
    );
    // Keep the maintainer-script log beside the journal, then drop the staging tree.
    let logs = ctx.state.root.join("logs");
    let _ = std::fs::create_dir_all(&logs);
    let _ = std::fs::copy(&built.log, logs.join(format!("txn-{}.log", record.seq)));
    let _ = std::fs::remove_dir_all(&work);
    if let Some(m) = &ctx.state.machine {
        // Recorded: from here a failure is repaired by the next command's recovery, which
        // deploys the journal's head.
        let quiet = o.quiet || o.json;
        let t = std::time::Instant::now();
        engine::machine::deploy_record(m, &record, &|msg| {
            if !quiet {
                eprintln!("{msg}");
            }
        })?;
        tracing::info!("deployed transaction {} in {:.2?}", record.seq, t.elapsed());
        crate::faults::point("deployed");
    }
    Ok(record)
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

pub(crate) fn report(ctx: &Ctx, o: &TxnOpts, r: &Record, d: &journal::Diff) -> anyhow::Result<()> {
    let machine = ctx.state.machine.as_ref();
    if o.json {
        let mut j = serde_json::json!({
            "variant": r.variant, "txn": r.seq, "txn_id": r.id.to_hex(), "commit": r.commit.to_hex(),
            "ref": materializer::variant_ref(&r.variant), "kind": r.kind(), "packages": r.state.packages.len(),
        });
        if let (serde_json::Value::Object(m), serde_json::Value::Object(c)) = (&mut j, diff_json(d))
        {
            m.extend(c);
        }
        if let Some(m) = machine {
            let list = machine::deployments(&m.sysroot).unwrap_or_default();
            let first = list.first().filter(|d| d.commit == r.commit.to_hex());
            j["sysroot"] = serde_json::json!(m.sysroot);
            j["staged"] = first.is_some_and(|d| d.staged).into();
            j["reboot_required"] = first.is_some_and(|d| !d.booted).into();
        }
        print_json(&j)?;
    } else if !o.quiet {
        eprintln!(
            "transaction {} ({}) committed: {} {} -> {}",
            r.seq,
            r.id.short(12),
            r.kind(),
            materializer::variant_ref(&r.variant),
            r.commit.to_hex()
        );
        if let Some(m) = machine {
            let list = machine::deployments(&m.sysroot).unwrap_or_default();
            let first = list.first().filter(|d| d.commit == r.commit.to_hex());
            match first {
                Some(d) if d.staged => eprintln!(
                    "staged for the next boot: reboot to apply it (`particle txn cancel` drops it)"
                ),
                Some(d) if d.booted => eprintln!("this is the running deployment"),
                Some(_) => eprintln!(
                    "the default deployment of {} from the next boot",
                    m.sysroot.display()
                ),
                None => {}
            }
        }
    }
    Ok(())
}

/// `{"added": [{"name","version"}], "removed": [...], "changed": [{"name","from","to"}], "profile": [...]}`
pub(crate) fn diff_json(d: &journal::Diff) -> serde_json::Value {
    let entry = |p: &PackageEntry| serde_json::json!({ "name": p.name, "version": p.version, "arch": p.arch });
    serde_json::json!({
        "added": d.added.iter().map(entry).collect::<Vec<_>>(),
        "removed": d.removed.iter().map(entry).collect::<Vec<_>>(),
        "changed": d.changed.iter().map(|c| serde_json::json!({
            "name": c.name, "arch": c.arch, "from": c.from, "to": c.to, "direction": c.direction })).collect::<Vec<_>>(),
        "profile": serde_json::to_value(&d.profile).unwrap_or_default(),
        "indices": serde_json::to_value(&d.indices).unwrap_or_default(),
    })
}

/// `txn rollback`: a new transaction whose state equals TXN's.
pub(crate) fn rollback(root: &Path, o: &TxnOpts, to: Option<&str>) -> anyhow::Result<()> {
    let mut ctx = Ctx::write(root, o.quiet || o.json)?;
    let to_seq = match to {
        Some(r) => Some(resolve(&ctx, r)?.seq),
        None => None,
    };
    let target = ctx
        .journal
        .history()
        .rollback_target(&o.variant, to_seq)
        .map_err(query_err)?
        .clone();
    let (head, old_state) = head_state(&ctx, &o.variant);
    let d = journal::diff(&old_state, &target.state);
    if !o.json && !o.quiet {
        eprintln!(
            "rolling {} back to the state of transaction {} ({})",
            o.variant,
            target.seq,
            target.id.short(12)
        );
        print_plan(&d, 0);
    }
    if o.dry_run {
        if o.json {
            print_json(
                &serde_json::json!({ "variant": o.variant, "dry_run": true, "to": target.seq, "changes": diff_json(&d) }),
            )?;
        }
        return Ok(());
    }
    if !materializer::commit_exists(&ctx.repo(), &target.commit.to_hex()).unwrap_or(false) {
        // Pruned (by ostree with its deployment on a machine, or by `gc`): rebuilt on the
        // head's commit, with the .debs of what differs.
        let loaded = Pinned::load(ctx.store()?)?;
        let pinned = loaded.view()?;
        fetch_state(&ctx, &pinned, &target.state, Some(&old_state), o)?;
    }
    let base = head.as_ref().and_then(|h| h.base.clone());
    let record = commit_state(
        &mut ctx,
        o,
        Request::Rollback {
            to_seq: target.seq,
            to: target.id,
        },
        target.state.clone(),
        head.as_ref(),
        base,
    )?;
    report(&ctx, o, &record, &d)
}

/// `variant create NAME [--from PARENT[@TXN]]`: without a parent the variant is declared empty
/// (its first transaction starts from nothing); with one, a `variant-create` record gives it the
/// parent's state at TXN and its own commit, and the journal records the provenance.
pub(crate) fn variant_create(root: &Path, o: &TxnOpts, from: Option<&str>) -> anyhow::Result<()> {
    if !journal::query::valid_variant_name(&o.variant) {
        return Err(CliError::usage(format!("{:?} is not a valid variant name", o.variant)).into());
    }
    let mut ctx = Ctx::write(root, o.quiet || o.json)?;
    let exists = ctx.journal.history().head(&o.variant).is_some()
        || engine::state::variants(&ctx.state)?.contains(&o.variant);
    if exists {
        return Err(CliError::new(
            ErrorKind::VariantExists,
            format!("variant {:?} already exists", o.variant),
        )
        .into());
    }
    let Some(from) = from else {
        engine::state::declare_variant(&ctx.state, &o.variant)?;
        if o.json {
            print_json(&serde_json::json!({ "variant": o.variant, "parent": null, "txn": null }))?;
        } else if !o.quiet {
            eprintln!("created empty variant {}", o.variant);
        }
        return Ok(());
    };
    let (parent, at) = match from.split_once('@') {
        Some((p, t)) => (p, Some(t)),
        None => (from, None),
    };
    let parent_rec = {
        let h = ctx.journal.history();
        let head = h.head(parent).ok_or_else(|| {
            CliError::new(
                ErrorKind::UnknownVariant,
                format!("variant {parent:?} has no transactions to start from"),
            )
        })?;
        let seq = match at {
            Some(t) => resolve(&ctx, t)?.seq,
            None => head.seq,
        };
        if !h.in_lineage(parent, seq) {
            return Err(CliError::new(
                ErrorKind::NotInLineage,
                format!("transaction {seq} is not in the history of {parent}"),
            )
            .into());
        }
        h.state_at(parent, seq).map_err(query_err)?.clone()
    };
    let seq = match at {
        Some(t) => resolve(&ctx, t)?.seq,
        None => parent_rec.seq,
    };
    let txn = ctx
        .journal
        .history()
        .record(seq)
        .map(|r| r.id)
        .unwrap_or(parent_rec.id);
    let base = journal::Provenance {
        variant: parent.to_owned(),
        seq,
        txn,
    };
    let request = Request::VariantCreate {
        parent: parent.to_owned(),
        parent_seq: seq,
        parent_txn: txn,
    };
    let record = commit_state(
        &mut ctx,
        o,
        request,
        parent_rec.state.clone(),
        None,
        Some(base),
    )?;
    report(
        &ctx,
        o,
        &record,
        &journal::diff(&State::default(), &record.state),
    )
}

/// `txn kargs/initramfs/sysctl`: a profile change, committed like a package change.
pub(crate) fn profile_txn(root: &Path, o: &TxnOpts, request: Request) -> anyhow::Result<()> {
    let change = request.clone();
    profile_change(root, o, request, move |state| match change {
        Request::Kargs { append, delete } => {
            state.profile.kargs.retain(|k| !delete.contains(k));
            for a in append {
                if !state.profile.kargs.contains(&a) {
                    state.profile.kargs.push(a);
                }
            }
        }
        Request::Initramfs { set } => set_map(&mut state.profile.initramfs, &set),
        Request::Sysctl { set } => set_map(&mut state.profile.sysctl, &set),
        _ => unreachable!("profile_txn is only called with profile requests"),
    })
}

/// A profile event: `apply` changes the head's state; nothing is written if that changes nothing.
fn profile_change(
    root: &Path,
    o: &TxnOpts,
    request: Request,
    apply: impl FnOnce(&mut State),
) -> anyhow::Result<()> {
    let mut ctx = Ctx::write(root, o.quiet || o.json)?;
    let (head, old_state) = existing_head(&ctx, &o.variant)?;
    let mut state = old_state.clone();
    apply(&mut state);
    let d = journal::diff(&old_state, &state);
    if d.is_empty() {
        if o.json {
            print_json(
                &serde_json::json!({ "variant": o.variant, "changed": false, "txn": head.seq }),
            )?;
        } else {
            eprintln!("nothing to do: the profile already has those settings");
        }
        return Ok(());
    }
    if !o.json && !o.quiet {
        print_plan(&d, 0);
    }
    let base = head.base.clone();
    let record = commit_state(&mut ctx, o, request, state, Some(&head), base)?;
    report(&ctx, o, &record, &d)
}

/// The head record and state of a variant that must already have a transaction (profile and
/// hardware events change an existing state).
pub(crate) fn existing_head(ctx: &Ctx, variant: &str) -> Result<(Record, State), CliError> {
    match head_state(ctx, variant) {
        (Some(head), state) => Ok((head, state)),
        (None, _) => Err(CliError::new(
            ErrorKind::EmptyVariant,
            format!("variant {variant} has no transaction yet"),
        )
        .hint("install packages first: `particle txn install`")),
    }
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

pub(crate) fn parse_assignments(items: &[String]) -> Result<BTreeMap<String, String>, CliError> {
    let mut out = BTreeMap::new();
    for i in items {
        let (k, v) = i
            .split_once('=')
            .ok_or_else(|| CliError::usage(format!("{i:?} is not KEY=VALUE")))?;
        let k = k.trim();
        if k.is_empty() || k.contains(char::is_whitespace) {
            return Err(CliError::usage(format!("{i:?}: bad key")));
        }
        out.insert(k.to_owned(), v.trim().to_owned());
    }
    Ok(out)
}

pub(crate) fn query_err(e: journal::QueryError) -> CliError {
    let kind = match &e {
        journal::QueryError::UnknownVariant { .. } => ErrorKind::UnknownVariant,
        journal::QueryError::UnknownSeq { .. } => ErrorKind::UnknownTxn,
        _ => ErrorKind::Query,
    };
    CliError::new(kind, e.to_string())
}

pub(crate) fn resolve<'a>(ctx: &'a Ctx, reference: &str) -> anyhow::Result<&'a Record> {
    ctx.journal.history().resolve(reference).map_err(|e| {
        let kind = if matches!(e, journal::ResolveError::Invalid { .. }) {
            ErrorKind::Usage
        } else {
            ErrorKind::UnknownTxn
        };
        let mut err = CliError::new(kind, e.to_string()).hint("see `particle txn log`");
        if kind == ErrorKind::Usage {
            err.exit = 2;
        }
        err.into()
    })
}

/// Spec `name` or `name=version` (optionally `name:arch`).
pub(crate) fn parse_spec(s: &str) -> Result<journal::PackageSpec, CliError> {
    let (name, version) = match s.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (s, None),
    };
    let bare = name.split_once(':').map_or(name, |(n, _)| n);
    if !store::valid_name(bare) {
        return Err(
            CliError::usage(format!("{s:?} is not a package name (PKG or PKG=VERSION)"))
                .hint("for example: hello or hello=2.10-3"),
        );
    }
    if let Some(v) = version {
        store::Version::parse(v).map_err(|e| {
            CliError::usage(format!("{s:?}: {e}")).hint("for example: hello or hello=2.10-3")
        })?;
    }
    Ok(journal::PackageSpec {
        name: name.to_owned(),
        version: version.map(str::to_owned),
    })
}

/// `txn log`.
pub(crate) fn log(
    root: &Path,
    variant: Option<String>,
    package: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
    json: bool,
) -> anyhow::Result<()> {
    let ctx = Ctx::read(root)?;
    let variant = variant.unwrap_or_else(|| "base".into());
    let entries = if ctx.journal.history().head(&variant).is_none() {
        check_variant_known(&ctx, &variant)?;
        Vec::new()
    } else {
        ctx.journal
            .history()
            .log(&journal::LogFilter {
                variant: Some(variant.clone()),
                package,
                since,
                until,
            })
            .map_err(query_err)?
    };
    if json {
        let txns: Vec<_> = entries
            .iter()
            .map(|e| {
                let mut j = serde_json::json!({
                    "seq": e.seq, "id": e.id.to_hex(), "time": e.time, "actor": e.actor.to_string(),
                    "reason": e.reason, "kind": e.kind, "variant": e.variant, "commit": e.commit.to_hex(),
                    "base": e.base.as_ref().map(|b| serde_json::json!({"variant": b.variant, "seq": b.seq, "txn": b.txn.to_hex()})),
                });
                if let (serde_json::Value::Object(m), serde_json::Value::Object(c)) = (&mut j, diff_json(&e.changes)) {
                    m.extend(c);
                }
                j
            })
            .collect();
        return print_json(&serde_json::json!({ "variant": variant, "transactions": txns }));
    }
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
            e.reason.clone(),
        ]);
    }
    print!("{}", table(&rows));
    Ok(())
}

/// `txn show TXN`.
pub(crate) fn show(root: &Path, reference: &str, json: bool) -> anyhow::Result<()> {
    let ctx = Ctx::read(root)?;
    let r = resolve(&ctx, reference)?;
    let h = ctx.journal.history();
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
        crate::output::describe_request(&r.request)
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
    rows.extend(d.profile.iter().map(crate::output::profile_row));
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
    let ctx = Ctx::read(root)?;
    let ra = resolve(&ctx, a)?;
    let rb = resolve(&ctx, b)?;
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
    let ctx = Ctx::read(root)?;
    let repo = ctx.repo();
    // On a machine, ostree prunes the commits of the deployments it removes: only the head's
    // and the deployed ones must be there (any other state is rebuilt from the journal). On a
    // build host, `gc` lists what it removed.
    let gc_pruned = crate::gc::pruned_commits(&ctx.state.root);
    let needed: Option<Vec<String>> = match &ctx.state.machine {
        Some(m) => {
            let mut v: Vec<String> = machine::deployments(&m.sysroot)
                .map_err(crate::deliver::machine_err)?
                .into_iter()
                .map(|d| d.commit)
                .collect();
            v.extend(ctx.journal.last().map(|r| r.commit.to_hex()));
            Some(v)
        }
        None => None,
    };
    let mut pruned = std::collections::BTreeSet::new();
    let mut checked = HashMap::new();
    let result = ctx.journal.verify(|commit| {
        let hex = commit.to_hex();
        if let Some(r) = checked.get(&hex) {
            return Clone::clone(r);
        }
        let r = match materializer::commit_exists(&repo, &hex) {
            Ok(true) => materializer::fsck(&repo, &hex)
                .map(|_| ())
                .map_err(|e| format!("commit {hex} fails fsck: {e}")),
            Ok(false)
                if needed.as_ref().is_some_and(|n| !n.contains(&hex))
                    || gc_pruned.contains(&hex) =>
            {
                pruned.insert(hex.clone());
                Ok(())
            }
            Ok(false) => Err(format!("commit {hex} is missing from the repository")),
            Err(e) => Err(e.to_string()),
        };
        checked.insert(hex, r.clone());
        r
    });
    match result {
        Ok(v) => {
            if json {
                print_json(&serde_json::json!({
                    "ok": true, "records": v.records, "head": v.head.map(|h| h.to_hex()),
                    "pruned_commits": pruned.len(),
                }))?;
            } else if pruned.is_empty() {
                eprintln!(
                    "journal intact: {} records, every commit present and fsck-clean",
                    v.records
                );
            } else {
                eprintln!(
                    "journal intact: {} records; every kept commit present and fsck-clean, {} commit(s) of earlier transactions pruned (`txn rollback --to` and `replay` rebuild them)",
                    v.records,
                    pruned.len()
                );
            }
            Ok(())
        }
        Err(bad) => Err(CliError::new(
            ErrorKind::JournalCorrupt,
            format!("journal verification failed: {bad}"),
        )
        .hint("the journal was damaged or edited; records after the named one cannot be trusted")
        .into()),
    }
}

/// `status`.
pub(crate) fn status(root: &Path, variant: Option<String>, json: bool) -> anyhow::Result<()> {
    let ctx = Ctx::read(root)?;
    let h = ctx.journal.history();
    let mut names = ctx.variant_names()?;
    if let Some(v) = &variant {
        if !names.contains(v) {
            check_variant_known(&ctx, v)?;
        }
        names = vec![v.clone()];
    }
    let repo = ctx.repo();
    let mut all = Vec::new();
    for name in &names {
        let head = h.head(name);
        let ref_commit = materializer::resolve_ref(&repo, name)
            .map_err(|e| CliError::new(ErrorKind::Ostree, e.to_string()))?;
        let commit = head.map(|r| r.commit.to_hex());
        all.push(serde_json::json!({
            "variant": name,
            "txn": head.map(|r| r.seq),
            "txn_id": head.map(|r| r.id.to_hex()),
            "commit": commit,
            "ref": materializer::variant_ref(name),
            "ref_commit": ref_commit,
            "ref_matches_journal": ref_commit == commit,
            "packages": head.map_or(0, |r| r.state.packages.len()),
            "time": head.map(|r| r.time),
            "parent": head.and_then(|r| r.base.as_ref()).map(|b| b.variant.clone()),
            "profile": head.map(|r| serde_json::to_value(&r.state.profile).unwrap_or_default()),
        }));
    }
    if json {
        let staging = crate::ctx::staging_dir(&ctx.state.root);
        let primary = all
            .iter()
            .find(|v| v["variant"] == variant.as_deref().unwrap_or("base"))
            .or(all.first())
            .cloned();
        let mut j = primary.unwrap_or_else(|| serde_json::json!({}));
        j["variants"] = serde_json::Value::Array(all);
        j["staging"] = serde_json::Value::String(staging.display().to_string());
        return print_json(&j);
    }
    for v in &all {
        let name = v["variant"].as_str().unwrap_or("");
        match v["txn"].as_u64() {
            None => println!(
                "● {name}: no transactions yet ({})",
                v["ref"].as_str().unwrap_or("")
            ),
            Some(seq) => {
                println!("● {name}  {}", v["ref"].as_str().unwrap_or(""));
                println!(
                    "    transaction: {seq} ({})  {}",
                    &v["txn_id"].as_str().unwrap_or("")[..12],
                    store::format_utc(v["time"].as_i64().unwrap_or(0))
                );
                println!("    commit:      {}", v["commit"].as_str().unwrap_or(""));
                println!("    packages:    {}", v["packages"]);
                if let Some(p) = v["parent"].as_str() {
                    println!("    parent:      {p}");
                }
                let prof = &v["profile"];
                if let Some(k) = prof["kargs"].as_array().filter(|a| !a.is_empty()) {
                    println!(
                        "    kargs:       {}",
                        k.iter()
                            .filter_map(|x| x.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    );
                }
                for key in ["sysctl", "initramfs"] {
                    if let Some(m) = prof[key].as_object().filter(|m| !m.is_empty()) {
                        let s: Vec<String> = m
                            .iter()
                            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                            .collect();
                        println!("    {key:<12} {}", s.join(" "));
                    }
                }
                if v["ref_matches_journal"] != true {
                    println!("    warning:     the ref points at {}, not the journal head's commit; the next transaction repairs it", v["ref_commit"]);
                }
            }
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
    let ctx = Ctx::read(root)?;
    let h = ctx.journal.history();
    let upto_seq = match &upto {
        Some(r) => resolve(&ctx, r)?.seq,
        None => ctx.journal.last().map_or(0, |r| r.seq),
    };
    let records: Vec<&Record> = match &variant {
        Some(v) => h.lineage(v, Some(upto_seq)).map_err(query_err)?,
        None => h.records().iter().filter(|r| r.seq <= upto_seq).collect(),
    };
    if into.exists()
        && std::fs::read_dir(into)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
    {
        return Err(CliError::new(
            ErrorKind::Exists,
            format!("{} is not empty", into.display()),
        )
        .hint("replay builds into a fresh directory")
        .into());
    }
    let target = engine::state::State::create(into)?;
    std::fs::create_dir_all(into.join("ostree"))?;
    materializer::init_repo(&into.join("ostree/repo"))
        .map_err(|e| CliError::new(ErrorKind::Ostree, e.to_string()))?;
    store::Store::create(&target.store_dir())?;
    let repo2 = into.join("ostree/repo");
    let mut results = Vec::new();
    let mut first_bad: Option<(u64, String, String)> = None;
    for r in &records {
        let parent_commit = h
            .predecessor(r)
            .filter(|p| p.variant == r.variant)
            .map(|p| p.commit.to_hex());
        let header = Header {
            variant: &r.variant,
            description: crate::variants::description_at(&h, &r.variant, r.seq, &r.request),
            parent_variant: r.base.as_ref().map(|b| b.variant.clone()),
            seq: r.seq,
            prev: r.prev,
            time: r.time,
            parent_commit,
            base_commit: h
                .build_base(&r.variant, r.seq, &r.request, r.base.as_ref())
                .map(|b| b.commit.to_hex()),
        };
        let input = build_input(ctx.store()?, header, &r.state, None)?;
        let work = crate::ctx::staging_dir(into).join(format!("txn-{}", r.seq));
        let built = materializer::materialize(&repo2, &work, &input).map_err(|e| {
            CliError::new(
                ErrorKind::Materialize,
                format!("replaying transaction {}: {}", r.seq, chain(&e)),
            )
        })?;
        let _ = std::fs::remove_dir_all(&work);
        let recorded = r.commit.to_hex();
        let same = built.commit == recorded;
        if !quiet && !json {
            eprintln!(
                "transaction {:>4} {:<10} {} {}",
                r.seq,
                r.variant,
                built.commit,
                if same { "identical" } else { "DIFFERS" }
            );
        }
        if !same && first_bad.is_none() {
            first_bad = Some((r.seq, recorded.clone(), built.commit.clone()));
        }
        materializer::set_ref(&repo2, &r.variant, &built.commit)
            .map_err(|e| CliError::new(ErrorKind::Ostree, e.to_string()))?;
        results.push(serde_json::json!({ "seq": r.seq, "variant": r.variant, "recorded": recorded, "rebuilt": built.commit, "identical": same }));
    }
    // The journal itself is copied byte for byte: the new directory is a complete state directory.
    copy_dir(&root.join("journal"), &into.join("journal"))?;
    // Only the (now empty) staging directory itself: `$PARTICLE_STAGING` may be shared.
    let _ = std::fs::remove_dir(crate::ctx::staging_dir(into));
    if json {
        print_json(
            &serde_json::json!({ "into": into, "transactions": results, "verified": check && first_bad.is_none() }),
        )?;
    }
    if check {
        if let Some((seq, want, got)) = first_bad {
            return Err(CliError::new(
                ErrorKind::NotReproducible,
                format!("transaction {seq} rebuilt as {got}, but the journal records {want}"),
            )
            .into());
        }
        if !json && !quiet {
            eprintln!(
                "replay verified: {} commits rebuilt bit for bit",
                results.len()
            );
        }
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let dest = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &dest)?;
        } else if e.file_type()?.is_file() {
            std::fs::copy(e.path(), dest)?;
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
    let ctx = Ctx::read(root)?;
    let h = ctx.journal.history();
    let g = resolve(&ctx, good)?.seq;
    let b = resolve(&ctx, bad)?.seq;
    let range = h.bisect_range(variant, g, b).map_err(query_err)?;
    let mut verdicts = BTreeMap::new();
    verdicts.insert(g, journal::Verdict::Good);
    verdicts.insert(b, journal::Verdict::Bad);
    let mut tested = Vec::new();
    let checkouts = tempfile::Builder::new()
        .prefix("particle-bisect-")
        .tempdir()?;
    loop {
        match journal::bisect_step(&range, &verdicts)
            .map_err(|e| CliError::new(ErrorKind::Bisect, e.to_string()))?
        {
            journal::BisectStep::Test { seq } => {
                let r = h.record(seq).ok_or_else(|| {
                    CliError::new(ErrorKind::Internal, format!("no record {seq}"))
                })?;
                let dir = checkouts.path().join(seq.to_string());
                checkout(&ctx.repo(), &r.commit.to_hex(), &dir)?;
                let status = std::process::Command::new(&cmd[0])
                    .args(&cmd[1..])
                    .env("PARTICLE_CHECKOUT", &dir)
                    .env("PARTICLE_TXN", seq.to_string())
                    .status()
                    .map_err(|e| {
                        CliError::new(ErrorKind::Bisect, format!("could not run {}: {e}", cmd[0]))
                    })?;
                let code = status.code().unwrap_or(128);
                let v = journal::Verdict::from_exit_code(code);
                if !quiet && !json {
                    eprintln!("transaction {seq}: {v:?} (exit {code})");
                }
                tested.push(serde_json::json!({ "seq": seq, "verdict": v, "exit": code }));
                verdicts.insert(seq, v);
                let _ = std::fs::remove_dir_all(&dir);
            }
            journal::BisectStep::Found {
                first_bad,
                last_good,
            } => {
                let fb = h
                    .record(first_bad)
                    .ok_or_else(|| CliError::new(ErrorKind::Internal, "missing record"))?;
                let lg = h
                    .record(last_good)
                    .ok_or_else(|| CliError::new(ErrorKind::Internal, "missing record"))?;
                let d = journal::diff(&lg.state, &fb.state);
                if json {
                    return print_json(&serde_json::json!({
                        "first_bad": first_bad, "first_bad_id": fb.id.to_hex(), "last_good": last_good,
                        "tested": tested, "diff": diff_json(&d) }));
                }
                println!(
                    "first bad transaction: {first_bad} ({}) {} — {}",
                    fb.id.short(12),
                    fb.kind(),
                    fb.reason
                );
                println!("changes since the last good one ({last_good}):");
                print_diff_human(&d);
                return Ok(());
            }
            journal::BisectStep::Ambiguous {
                candidates,
                last_good,
            } => {
                let list: Vec<String> = candidates.iter().map(u64::to_string).collect();
                if json {
                    return print_json(
                        &serde_json::json!({ "first_bad": null, "candidates": candidates, "last_good": last_good, "tested": tested }),
                    );
                }
                println!(
                    "skipped transactions leave it ambiguous: the first bad one is among {}",
                    list.join(", ")
                );
                return Ok(());
            }
        }
    }
}

/// Checks a commit out with owners and modes (as root, a plain `ostree checkout` restores them).
pub(crate) fn checkout(repo: &Path, commit: &str, dir: &PathBuf) -> anyhow::Result<()> {
    let out = std::process::Command::new("ostree")
        .arg(format!("--repo={}", repo.display()))
        .args(["checkout", commit])
        .arg(dir)
        .output()
        .map_err(|e| CliError::new(ErrorKind::Ostree, format!("could not run ostree: {e}")))?;
    if !out.status.success() {
        return Err(CliError::new(
            ErrorKind::Ostree,
            format!(
                "ostree checkout {commit}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        )
        .into());
    }
    Ok(())
}
