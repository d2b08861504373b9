//! Delivery as the command line shows it: `deploy`, `image`, `export oci`, `delta`, and a
//! sysroot's `status`. The work is [`engine::deliver`]'s; see docs/delivery.md.

use crate::args::Global;
use crate::error::CliError;
use crate::output::print_json;
use crate::progress::Reporter;
use engine::deliver::{Delivery, ExportOptions, ImageOptions, PushOptions};
use engine::Session;
use std::path::Path;

/// `particle deploy --sysroot DIR [--variant V] [--stateroot OS]`.
pub(crate) fn deploy(
    root: &Path,
    sysroot: &Path,
    variant: &str,
    stateroot: &str,
    json: bool,
    quiet: bool,
) -> anyhow::Result<()> {
    let reporter = Reporter::new(!json && !quiet);
    let r = Delivery::open(root)?.deploy(sysroot, variant, stateroot, &reporter)?;
    let (record, d) = (&r.record, &r.deployed);
    let info = |i: &machine::DeploymentInfo| {
        serde_json::json!({
            "index": i.index, "stateroot": i.stateroot, "checksum": i.checksum,
            "serial": i.serial, "path": i.path,
        })
    };
    if json {
        let mut deployment = info(&d.deployment);
        deployment["kernel"] = d.kernel.clone().into();
        return print_json(&serde_json::json!({
            "variant": variant, "txn": record.seq, "txn_id": record.id.to_hex(),
            "commit": record.commit.to_hex(), "sysroot": d.sysroot, "stateroot": stateroot,
            "deployment": deployment, "kargs": d.kargs, "options": d.options,
            "boot_entries": d.entries.len(), "entries": d.entries,
            "deployments": d.deployments.iter().map(info).collect::<Vec<_>>(), "grub": d.grub,
            "machine_root": r.machine_root,
        }));
    }
    if !quiet {
        eprintln!(
            "deployed transaction {} ({}) as deployment {} of {} in {}; boot entries: {}",
            record.seq,
            record.id.short(12),
            d.deployment.index,
            d.deployments.len(),
            d.sysroot.display(),
            d.entries.len()
        );
        eprintln!("kernel arguments: {}", d.options);
    }
    Ok(())
}

/// `particle --sysroot DIR status`: the sysroot's deployments in boot order, each with the
/// transaction its commit was built from; the top-level fields are the default deployment's
/// (the contract's `status` shape).
pub(crate) fn sysroot_status(root: &Path, sysroot: &Path, json: bool) -> anyhow::Result<()> {
    let status = engine::deliver::sysroot_status(root, sysroot)?;
    if json {
        print_json(&status.to_json(sysroot))?;
        return match status.problem {
            Some(_) => Err(CliError::reported(1).into()),
            None => Ok(()),
        };
    }
    let engine::deliver::SysrootStatus {
        deployments: list,
        problem,
        ..
    } = status;
    println!("deployments of {} (boot order):", sysroot.display());
    if list.is_empty() {
        println!("  none");
    }
    for d in &list {
        let mut tags = Vec::new();
        for (on, tag) in [
            (d.booted, "booted"),
            (d.staged, "staged"),
            (d.rollback, "rollback"),
        ] {
            if on {
                tags.push(tag);
            }
        }
        if d.index == 0 && !d.staged {
            tags.push("default");
        }
        let txn = match (&d.variant, d.txn, &d.txn_id) {
            (Some(v), Some(seq), Some(id)) => {
                format!("{v}  transaction {seq} ({})", &id[..id.len().min(12)])
            }
            _ => "(not built by particle)".to_owned(),
        };
        println!(
            "{} {}  {}  {txn}  commit {}  {}  [{}]",
            if d.booted { "●" } else { " " },
            d.index,
            d.stateroot,
            &d.commit[..d.commit.len().min(12)],
            d.version.as_deref().unwrap_or("-"),
            tags.join(", ")
        );
    }
    match problem {
        Some(p) => Err(engine::deliver::not_deployed(&p).into()),
        None => Ok(()),
    }
}

/// `particle image --variant V [--format F] [--firmware F] [--size S] [--karg A]... OUT`.
pub(crate) fn image(
    root: &Path,
    o: &ImageOptions<'_>,
    json: bool,
    quiet: bool,
) -> anyhow::Result<()> {
    let reporter = Reporter::new(!json && !quiet);
    let done = Delivery::open(root)?.image(o, &reporter)?;
    let (record, r) = (&done.record, &done.report);
    if json {
        return print_json(&serde_json::json!({
            "variant": o.variant, "txn": record.seq, "txn_id": record.id.to_hex(),
            "commit": record.commit.to_hex(), "out": r.out,
            "format": match o.format { machine::Format::Raw => "raw", machine::Format::Qcow2 => "qcow2" },
            "firmware": o.firmware.as_str(), "size": r.size, "tree_bytes": r.tree_bytes,
            "root_uuid": r.root_uuid, "kernel": r.kernel, "options": r.options,
        }));
    }
    if !quiet {
        eprintln!(
            "wrote {} ({} MiB, {} firmware): variant {} transaction {} ({}), kernel {}",
            r.out.display(),
            r.size >> 20,
            o.firmware.as_str(),
            o.variant,
            record.seq,
            record.id.short(12),
            r.kernel
        );
        eprintln!("kernel arguments: {}", r.options);
    }
    Ok(())
}

/// `particle export oci --variant V [--repo-url URL] [--compression-level N] DIR`.
pub(crate) fn export_oci(
    root: &Path,
    o: &ExportOptions<'_>,
    json: bool,
    quiet: bool,
) -> anyhow::Result<()> {
    let reporter = Reporter::new(!json && !quiet);
    let r = Delivery::open(root)?.export_oci(o, &reporter)?;
    let (record, out) = (&r.record, &r.exported);
    if json {
        return print_json(&serde_json::json!({
            "variant": o.variant, "txn": record.seq, "txn_id": record.id.to_hex(),
            "commit": record.commit.to_hex(), "dir": o.dir, "manifest_digest": out.manifest_digest,
            "config_digest": out.config_digest,
            "layer": { "digest": out.layer_digest, "size": out.layer_size, "diff_id": out.diff_id,
                       "entries": out.entries, "hardlinks": out.hardlinks },
            "created": out.created, "labels": r.labels,
        }));
    }
    if !quiet {
        eprintln!(
            "wrote {} ({} entries, {}) manifest {}",
            o.dir.display(),
            out.entries,
            crate::output::human_bytes(out.layer_size),
            out.manifest_digest
        );
    }
    Ok(())
}

/// `particle push --variant V [--sign-key KEY [--passphrase-file F]] REGISTRY/NAME`.
pub(crate) fn push(root: &Path, o: &PushOptions<'_>, g: &Global) -> anyhow::Result<()> {
    let reporter = Reporter::new(!g.json && !g.quiet);
    let r = Delivery::open(root)?.push(o, &reporter)?;
    let (record, variant) = (&r.record, o.export.variant);
    if g.json {
        return print_json(&serde_json::json!({
            "variant": variant, "txn": record.seq, "txn_id": record.id.to_hex(),
            "commit": record.commit.to_hex(), "references": r.references,
            "manifest_digest": r.manifest_digest, "signed": r.signed, "labels": r.labels,
        }));
    }
    if !g.quiet {
        let signed = if r.signed { "signed" } else { "unsigned" };
        let refs = r.references.join(", ");
        eprintln!("pushed {} ({signed}): {refs}", r.manifest_digest);
    }
    Ok(())
}

/// `particle pull [--policy FILE] [--check] REFERENCE [DIR]`: no state directory needed.
pub(crate) fn pull(o: &engine::deliver::PullOptions<'_>, g: &Global) -> anyhow::Result<()> {
    let r = engine::deliver::pull(o, &Reporter::new(!g.json && !g.quiet))?;
    if g.json {
        return print_json(&r.to_json());
    }
    if !g.quiet {
        eprintln!("{}", r.summary());
    }
    Ok(())
}

/// `particle key generate --sigstore PREFIX [--passphrase-file F]`.
pub(crate) fn key_generate(
    prefix: &Path,
    passphrase: Option<&Path>,
    g: &Global,
) -> anyhow::Result<()> {
    let files = engine::deliver::generate_sigstore_key(prefix, passphrase)?;
    if g.json {
        return print_json(
            &serde_json::json!({ "format": "sigstore", "private_key": files.private_key, "public_key": files.public_key }),
        );
    }
    if !g.quiet {
        eprintln!(
            "wrote {} and {}",
            files.private_key.display(),
            files.public_key.display()
        );
    }
    Ok(())
}

/// `particle delta TXN_A TXN_B [--output FILE]`.
pub(crate) fn delta(
    root: &Path,
    a: &str,
    b: &str,
    output: Option<&Path>,
    json: bool,
    quiet: bool,
) -> anyhow::Result<()> {
    // Generating writes into the repository (deltas/), so it takes the lock like a transaction.
    let reporter = Reporter::new(!json && !quiet);
    let session = Session::write(root, &reporter)?;
    let (a, b) = (session.resolve(a)?.seq, session.resolve(b)?.seq);
    let d = session.delta(a, b, output, &reporter)?;
    let repo = session.repo();
    if json {
        let end = |r: &journal::Record| serde_json::json!({ "txn": r.seq, "txn_id": r.id.to_hex(), "commit": r.commit.to_hex(), "variant": r.variant });
        return print_json(&serde_json::json!({
            "from": end(&d.from), "to": end(&d.to), "delta": d.name, "repo": repo,
            "superblock": d.superblock, "output": output, "output_size": d.output_size,
        }));
    }
    if !quiet {
        eprintln!("static delta {} stored in {}", d.name, repo.display());
        if let (Some(o), Some(n)) = (output, d.output_size) {
            eprintln!(
                "single-file delta written to {} ({})",
                o.display(),
                crate::output::human_bytes(n)
            );
        }
    }
    Ok(())
}
