//! Delivery: `deploy` into an OSTree sysroot, `export oci`, static `delta`s between transactions.
//! See docs/delivery.md.
//!
//! `deploy` and `delta` drive the `ostree` command (`ostree admin ...`, `ostree static-delta
//! ...`), which is what the issue asks for and what an administrator would run by hand; its
//! errors are reported with the command that failed and ostree's own message. `export oci` reads
//! the commit's objects through libostree (`machine::oci`).

use crate::error::CliError;
use crate::output::print_json;
use engine::ErrorKind;
use engine::Session;
use journal::Record;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// What `deploy` and `export oci` read: the state directory and its journal. Not the store:
/// its database is held by a running transaction, and delivering the current head while the
/// next transaction builds must work.
struct Reader {
    state: engine::state::State,
    journal: journal::Journal,
}

impl Reader {
    fn open(root: &Path) -> anyhow::Result<Self> {
        let state = engine::state::State::open(root)?;
        let (journal, _) = journal::Journal::open(&state.root.join("journal")).map_err(|e| {
            CliError::new(
                ErrorKind::Journal,
                format!("could not open the journal: {e}"),
            )
        })?;
        Ok(Self { state, journal })
    }
    fn repo(&self) -> PathBuf {
        self.state.repo()
    }

    /// What a machine deployed from here records as its origin: this state directory, and the
    /// sources it pins (none when the store is held by a running transaction: the machine then
    /// adds its own with `repo add`).
    fn origin(&self) -> anyhow::Result<(String, Vec<store::SourceConfig>)> {
        let from = std::fs::canonicalize(&self.state.root)
            .unwrap_or_else(|_| self.state.root.clone())
            .display()
            .to_string();
        let sources = match engine::read_store(&self.state) {
            Ok(st) => st.sources()?,
            Err(e) => {
                tracing::warn!("the machine gets no sources: {e}");
                Vec::new()
            }
        };
        Ok((from, sources))
    }

    /// The head record of `variant`, or a clear error.
    fn head(&self, variant: &str) -> anyhow::Result<&Record> {
        if let Some(r) = self.journal.history().head(variant) {
            return Ok(r);
        }
        if engine::state::variants(&self.state)?
            .iter()
            .any(|v| v == variant)
        {
            return Err(CliError::new(
                ErrorKind::NoTransactions,
                format!("variant {variant} has no transactions yet, so it has no commit"),
            )
            .hint(format!(
                "build it first, e.g. `particle txn install --variant {variant} linux-image-amd64 initramfs-tools`"
            ))
            .into());
        }
        Err(CliError::new(
            ErrorKind::UnknownVariant,
            format!("no variant named {variant:?}"),
        )
        .hint("see `particle variant list`; create one with `particle variant create`")
        .into())
    }
}

fn ostree_err(e: impl std::fmt::Display) -> CliError {
    CliError::new(ErrorKind::Ostree, e.to_string())
}

/// A `machine` error as the command line reports it: same kind, message and hint.
pub(crate) fn machine_err(e: machine::Error) -> CliError {
    engine::Error::from(e).into()
}

/// "variant V (transaction N, commit C…)": how refusals name a head commit.
fn describe(variant: &str, record: &Record) -> String {
    let commit = record.commit.to_hex();
    format!(
        "variant {variant} (transaction {}, commit {})",
        record.seq,
        &commit[..12]
    )
}

/// `particle deploy --sysroot DIR [--variant V] [--stateroot OS]`.
pub(crate) fn deploy(
    root: &Path,
    sysroot: &Path,
    variant: &str,
    stateroot: &str,
    json: bool,
    quiet: bool,
) -> anyhow::Result<()> {
    machine::check_stateroot(stateroot).map_err(machine_err)?;
    let ctx = Reader::open(root)?;
    let record = ctx.head(variant)?;
    let commit = record.commit.to_hex();
    let repo_path = ctx.repo();
    let say = |m: &str| {
        if !json && !quiet {
            eprintln!("{m}");
        }
    };
    let kargs = record.state.profile.kargs.clone();
    let grub_mkconfig = machine::grub_mkconfig_program();
    let d = machine::deploy(
        sysroot,
        &machine::DeployRequest {
            repo: &repo_path,
            commit: &commit,
            variant,
            what: &describe(variant, record),
            stateroot,
            kargs: &kargs,
            host_kargs: None,
            env: &[],
            grub_mkconfig: grub_mkconfig.as_deref(),
            stage: false,
        },
        &say,
    )
    .map_err(machine_err)?;
    let (from, sources) = ctx.origin()?;
    let machine_root = engine::machine::seed(&d.sysroot, stateroot, &from, record, &sources)?;
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
            "variant": variant,
            "txn": record.seq,
            "txn_id": record.id.to_hex(),
            "commit": commit,
            "sysroot": d.sysroot,
            "stateroot": stateroot,
            "deployment": deployment,
            "kargs": d.kargs,
            "options": d.options,
            "boot_entries": d.entries.len(),
            "entries": d.entries,
            "deployments": d.deployments.iter().map(info).collect::<Vec<_>>(),
            "grub": d.grub,
            "machine_root": machine_root,
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
    let mut list = machine::deployments(sysroot).map_err(machine_err)?;
    // A commit records the sequence number of its transaction but cannot hold the record's id
    // (the id covers the commit checksum): the journal names the record that committed each
    // deployment's checksum. The machine's own journal when it has one (its numbering), else
    // the state directory's.
    let machine_root = engine::state::root_for(sysroot)
        .ok()
        .filter(|r| r.join("journal").exists());
    let machine = match &machine_root {
        Some(r) => engine::state::detect(r)?,
        None => None,
    };
    let journal_dir = machine_root.as_deref().unwrap_or(root).join("journal");
    let journal = journal::Journal::open_read_only(&journal_dir)
        .ok()
        .map(|(j, _)| j);
    let problem = match (&machine, &journal) {
        (Some(m), Some(j)) => engine::machine::drift(m, j, &list),
        _ => None,
    };
    if let Some(journal) = &journal {
        for d in &mut list {
            let record = journal
                .records()
                .iter()
                .rev()
                .find(|r| r.commit.to_hex() == d.commit);
            if let Some(r) = record {
                d.txn = Some(r.seq);
                d.txn_id = Some(r.id.to_hex());
                d.variant = Some(r.variant.clone());
            }
        }
    }
    for d in &mut list {
        if d.txn_id.as_deref().is_some_and(|id| id.starts_with("seq-")) {
            d.txn_id = None;
        }
    }
    if json {
        let deployments: Vec<serde_json::Value> = list
            .iter()
            .map(|d| {
                serde_json::json!({
                    "index": d.index, "booted": d.booted, "staged": d.staged,
                    "rollback": d.rollback, "variant": d.variant, "txn": d.txn,
                    "txn_id": d.txn_id, "commit": d.commit, "version": d.version,
                    "stateroot": d.stateroot, "path": d.path,
                })
            })
            .collect();
        let first = list.first();
        print_json(&serde_json::json!({
            "sysroot": sysroot,
            "machine_root": machine_root,
            "problem": problem,
            "variant": first.and_then(|d| d.variant.clone()),
            "txn": first.and_then(|d| d.txn),
            "txn_id": first.and_then(|d| d.txn_id.clone()),
            "commit": first.map(|d| d.commit.clone()),
            "ref": first.and_then(|d| d.variant.as_deref()).map(materializer::variant_ref),
            "packages": first.and_then(|d| d.packages),
            "deployments": deployments,
        }))?;
        return match problem {
            Some(_) => Err(CliError::reported(1).into()),
            None => Ok(()),
        };
    }
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
        Some(p) => Err(CliError::new(ErrorKind::NotDeployed, p)
            .hint("the next particle transaction deploys the journal's head again; `particle txn rollback --to TXN` records the running state instead")
            .into()),
        None => Ok(()),
    }
}

/// What `particle image` was asked for.
pub(crate) struct ImageOpts<'a> {
    pub(crate) variant: &'a str,
    pub(crate) format: machine::Format,
    pub(crate) firmware: machine::Firmware,
    pub(crate) size: Option<u64>,
    pub(crate) kargs: &'a [String],
    pub(crate) root_password_hash: Option<&'a str>,
    pub(crate) out: &'a Path,
}

/// `particle image --variant V [--format F] [--firmware F] [--size S] [--karg A]... OUT`.
pub(crate) fn image(root: &Path, o: &ImageOpts<'_>, json: bool, quiet: bool) -> anyhow::Result<()> {
    let ctx = Reader::open(root)?;
    let record = ctx.head(o.variant)?;
    let commit = record.commit.to_hex();
    let repo = ctx.repo();
    let (from, sources) = ctx.origin()?;
    let say = |m: &str| {
        if !json && !quiet {
            eprintln!("{m}");
        }
    };
    let r = machine::build_image(
        &machine::ImageRequest {
            repo: &repo,
            commit: &commit,
            variant: o.variant,
            what: &describe(o.variant, record),
            stateroot: "particle-os",
            kargs: &record.state.profile.kargs,
            host_kargs: o.kargs,
            firmware: o.firmware,
            format: o.format,
            size: o.size,
            root_password_hash: o.root_password_hash,
            time: record.time.max(0) as u64,
            out: o.out,
            seed: Some(&|sysroot: &Path| {
                engine::machine::seed(sysroot, "particle-os", &from, record, &sources)
                    .map(drop)
                    .map_err(|e| crate::error::CliError::from(e).message)
            }),
        },
        &say,
    )
    .map_err(machine_err)?;
    if json {
        return print_json(&serde_json::json!({
            "variant": o.variant,
            "txn": record.seq,
            "txn_id": record.id.to_hex(),
            "commit": commit,
            "out": r.out,
            "format": match o.format { machine::Format::Raw => "raw", machine::Format::Qcow2 => "qcow2" },
            "firmware": o.firmware.as_str(),
            "size": r.size,
            "tree_bytes": r.tree_bytes,
            "root_uuid": r.root_uuid,
            "kernel": r.kernel,
            "options": r.options,
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

/// The OCI architecture of a package set (its first architecture-specific package).
fn oci_arch(record: &Record) -> String {
    let dpkg = record
        .state
        .packages
        .iter()
        .map(|p| p.arch.as_str())
        .find(|a| *a != "all")
        .unwrap_or(store::native_architecture());
    match dpkg {
        "i386" => "386",
        "armhf" | "armel" => "arm",
        "ppc64el" => "ppc64le",
        "mips64el" => "mips64le",
        other => other,
    }
    .to_owned()
}

/// What `export oci` was asked for.
#[derive(Debug, Clone)]
pub(crate) struct ExportOpts<'a> {
    pub(crate) variant: &'a str,
    pub(crate) dir: &'a Path,
    pub(crate) repo_url: Option<&'a str>,
    pub(crate) compression_level: u32,
}

/// `particle export oci --variant V [--repo-url URL] [--compression-level N] DIR`.
pub(crate) fn export_oci(
    root: &Path,
    o: &ExportOpts<'_>,
    json: bool,
    quiet: bool,
) -> anyhow::Result<()> {
    let (variant, dir, repo_url) = (o.variant, o.dir, o.repo_url);
    let ctx = Reader::open(root)?;
    let record = ctx.head(variant)?;
    let commit = record.commit.to_hex();
    let repo_path = ctx.repo();
    if dir.exists()
        && std::fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(CliError::new(
            ErrorKind::Exists,
            format!("{} exists and is not empty", dir.display()),
        )
        .hint("export into a new or empty directory")
        .into());
    }
    let bootable = !machine::kernels(&repo_path, &commit)
        .map_err(machine_err)?
        .is_empty();
    let repo_url = match repo_url {
        Some(u) => u.to_owned(),
        None => format!(
            "file://{}",
            std::fs::canonicalize(&repo_path)
                .unwrap_or(repo_path.clone())
                .display()
        ),
    };
    let meta = materializer::commit_metadata(&repo_path, &commit).map_err(ostree_err)?;
    let version = meta
        .get("version")
        .cloned()
        .unwrap_or_else(|| format!("{variant}.{}", record.seq));
    let labels: std::collections::BTreeMap<String, String> = [
        ("org.osbuild.ostree.repo", repo_url),
        ("org.osbuild.ostree.ref", materializer::variant_ref(variant)),
        ("org.osbuild.ostree.commit", commit.clone()),
        ("ostree.commit", commit.clone()),
        ("ostree.bootable", bootable.to_string()),
        ("org.particle-os.variant", variant.to_owned()),
        ("org.particle-os.txn-id", record.id.to_hex()),
        ("org.particle-os.txn-seq", record.seq.to_string()),
        ("org.opencontainers.image.version", version),
        (
            "org.opencontainers.image.created",
            machine::oci::rfc3339(record.time.max(0) as u64),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let info = machine::oci::ImageInfo {
        labels: labels.clone(),
        architecture: oci_arch(record),
        ref_name: variant.to_owned(),
        compression_level: o.compression_level,
    };
    // Written beside DIR, then renamed into place: DIR is either complete or absent.
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let name = dir
        .file_name()
        .ok_or_else(|| CliError::usage(format!("{} is not a directory name", dir.display())))?;
    let tmp: PathBuf = parent.join(format!(
        ".{}.particle-tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    if !json && !quiet {
        eprintln!(
            "exporting {} (transaction {}, commit {}) to {}",
            materializer::variant_ref(variant),
            record.seq,
            &commit[..12],
            dir.display()
        );
    }
    let t = std::time::Instant::now();
    let out = match machine::oci::export(&repo_path, &commit, &info, &tmp) {
        Ok(o) => o,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(CliError::new(ErrorKind::Export, e.to_string()).into());
        }
    };
    if dir.exists() {
        std::fs::remove_dir(dir)?;
    }
    std::fs::rename(&tmp, dir)?;
    tracing::info!("exported in {:?}", t.elapsed());
    if json {
        return print_json(&serde_json::json!({
            "variant": variant,
            "txn": record.seq,
            "txn_id": record.id.to_hex(),
            "commit": commit,
            "dir": dir,
            "manifest_digest": out.manifest_digest,
            "config_digest": out.config_digest,
            "layer": { "digest": out.layer_digest, "size": out.layer_size, "diff_id": out.diff_id,
                       "entries": out.entries, "hardlinks": out.hardlinks },
            "created": out.created,
            "labels": labels,
        }));
    }
    if !quiet {
        eprintln!(
            "wrote {} ({} entries, {}) manifest {}",
            dir.display(),
            out.entries,
            crate::txn::human_bytes(out.layer_size),
            out.manifest_digest
        );
    }
    Ok(())
}

/// Objects bigger than this many MB would be left out of the delta as "fallback" objects for a
/// separate HTTP fetch; a delta meant to be applied offline must contain everything.
const NO_FALLBACK_MB: &str = "--min-fallback-size=4096";

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
    let ctx = Session::write(root, &crate::progress::Reporter::new(!quiet && !json))?;
    let ra = ctx.resolve(a)?;
    let rb = ctx.resolve(b)?;
    let (ca, cb) = (ra.commit.to_hex(), rb.commit.to_hex());
    if ca == cb {
        return Err(CliError::new(
            ErrorKind::SameCommit,
            format!(
                "transactions {} and {} have the same commit {ca}; there is no delta between them",
                ra.seq, rb.seq
            ),
        )
        .into());
    }
    let repo_path = ctx.repo();
    for (r, c) in [(ra, &ca), (rb, &cb)] {
        if !materializer::commit_exists(&repo_path, c).map_err(ostree_err)? {
            return Err(CliError::new(
                ErrorKind::MissingCommit,
                format!(
                    "commit {c} of transaction {} is missing from the repository",
                    r.seq
                ),
            )
            .hint("rebuild it with `particle replay`")
            .into());
        }
    }
    let repo_flag = OsString::from(format!("--repo={}", repo_path.display()));
    let from = OsString::from(format!("--from={ca}"));
    let to = OsString::from(format!("--to={cb}"));
    if !json && !quiet {
        eprintln!(
            "generating the static delta {}..{} (transactions {} -> {})",
            &ca[..12],
            &cb[..12],
            ra.seq,
            rb.seq
        );
    }
    // `--inline`: the parts live inside the superblock, so the stored delta is one file that
    // `--output` can copy as it is (generating twice would double the cost).
    machine::run_ostree(
        machine::ErrorKind::Delta,
        &machine::ostree_args(&[
            &repo_flag,
            &"static-delta",
            &"generate",
            &"--inline",
            &from,
            &to,
            &NO_FALLBACK_MB,
        ]),
        &[],
    )
    .map_err(machine_err)?;
    let name = format!("{ca}-{cb}");
    let listed = machine::run_ostree(
        machine::ErrorKind::Delta,
        &machine::ostree_args(&[&repo_flag, &"static-delta", &"list"]),
        &[],
    )
    .map_err(machine_err)?;
    if !listed.lines().any(|l| l.trim() == name) {
        return Err(CliError::new(
            ErrorKind::Delta,
            format!(
                "ostree generated no delta named {name} in {}",
                repo_path.display()
            ),
        )
        .into());
    }
    let superblock = repo_path.join(delta_superblock(&ca, &cb)?);
    let mut written = None;
    if let Some(out) = output {
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)?;
        let fname = out
            .file_name()
            .ok_or_else(|| CliError::usage(format!("{} is not a file name", out.display())))?;
        let tmp = parent.join(format!(
            ".{}.particle-tmp-{}",
            fname.to_string_lossy(),
            std::process::id()
        ));
        let copy = std::fs::copy(&superblock, &tmp)
            .and_then(|_| std::fs::File::open(&tmp).and_then(|f| f.sync_all()))
            .and_then(|()| std::fs::rename(&tmp, out));
        if let Err(e) = copy {
            let _ = std::fs::remove_file(&tmp);
            return Err(CliError::new(
                ErrorKind::Io,
                format!(
                    "could not copy {} to {}: {e}",
                    superblock.display(),
                    out.display()
                ),
            )
            .into());
        }
        written = Some(std::fs::metadata(out)?.len());
    }
    if json {
        return print_json(&serde_json::json!({
            "from": { "txn": ra.seq, "txn_id": ra.id.to_hex(), "commit": ca, "variant": ra.variant },
            "to": { "txn": rb.seq, "txn_id": rb.id.to_hex(), "commit": cb, "variant": rb.variant },
            "delta": name,
            "repo": repo_path,
            "superblock": superblock,
            "output": output,
            "output_size": written,
        }));
    }
    if !quiet {
        eprintln!("static delta {name} stored in {}", repo_path.display());
        if let (Some(o), Some(n)) = (output, written) {
            eprintln!(
                "single-file delta written to {} ({})",
                o.display(),
                crate::txn::human_bytes(n)
            );
        }
    }
    Ok(())
}

/// OSTree's "modified base64" of a checksum: standard base64 of the 32 bytes, `=` padding
/// dropped, `/` written as `_` (`_ostree_get_relative_static_delta_path`).
fn mbase64(checksum: &str) -> Result<String, CliError> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+_";
    let bytes = hex::decode(checksum)
        .map_err(|e| CliError::new(ErrorKind::Internal, format!("bad checksum {checksum}: {e}")))?;
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    Ok(out)
}

/// `deltas/XX/REST-TO/superblock` of the delta from `from` to `to`, relative to the repository.
fn delta_superblock(from: &str, to: &str) -> Result<PathBuf, CliError> {
    let f = mbase64(from)?;
    let t = mbase64(to)?;
    Ok(PathBuf::from(format!(
        "deltas/{}/{}-{t}/superblock",
        &f[..2],
        &f[2..]
    )))
}

#[cfg(test)]
mod tests {
    use super::delta_superblock;

    #[test]
    fn delta_path_matches_ostree() {
        // Seen in a repository after `ostree static-delta generate --from A --to B`.
        let p = delta_superblock(
            "18a2edaad19fb97a575f125bd8c22426e65e2aec134b9810dc9d1f9fa70d57a0",
            "05517c6f45bf54cdc6585189dd3841967830592fc3fbceb0a1aeeed595fd4bee",
        )
        .expect("valid checksums");
        assert_eq!(
            p.to_str(),
            Some("deltas/GK/LtqtGfuXpXXxJb2MIkJuZeKuwTS5gQ3J0fn6cNV6A-BVF8b0W_VM3GWFGJ3ThBlngwWS_D+86woa7u1ZX9S+4/superblock")
        );
    }
}
