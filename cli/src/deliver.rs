//! Delivery: `deploy` into an OSTree sysroot, `export oci`, static `delta`s between transactions.
//! See docs/delivery.md.
//!
//! `deploy` and `delta` drive the `ostree` command (`ostree admin ...`, `ostree static-delta
//! ...`), which is what the issue asks for and what an administrator would run by hand; its
//! errors are reported with the command that failed and ostree's own message. `export oci` reads
//! the commit's objects through libostree (`crate::oci`).

use crate::ctx::Ctx;
use crate::error::CliError;
use crate::output::print_json;
use journal::Record;
use ostree::gio;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// What `deploy` and `export oci` read: the state directory and its journal. Not the store:
/// its database is held by a running transaction, and delivering the current head while the
/// next transaction builds must work.
struct Reader {
    state: crate::state::State,
    journal: journal::Journal,
}

impl Reader {
    fn open(root: &Path) -> anyhow::Result<Self> {
        let state = crate::state::State::open(root)?;
        let (journal, _) = journal::Journal::open(&state.root.join("journal"))
            .map_err(|e| CliError::new("journal", format!("could not open the journal: {e}")))?;
        Ok(Self { state, journal })
    }
    fn repo(&self) -> PathBuf {
        self.state.root.join("ostree/repo")
    }

    /// The head record of `variant`, or a clear error.
    fn head(&self, variant: &str) -> anyhow::Result<&Record> {
        if let Some(r) = self.journal.history().head(variant) {
            return Ok(r);
        }
        if crate::state::variants(&self.state)?
            .iter()
            .any(|v| v == variant)
        {
            return Err(CliError::new(
                "no_transactions",
                format!("variant {variant} has no transactions yet, so it has no commit"),
            )
            .hint(format!(
                "build it first, e.g. `particle txn install --variant {variant} linux-image-amd64 initramfs-tools`"
            ))
            .into());
        }
        Err(
            CliError::new("unknown_variant", format!("no variant named {variant:?}"))
                .hint("see `particle variant list`; create one with `particle variant create`")
                .into(),
        )
    }
}

fn ostree_err(e: impl std::fmt::Display) -> CliError {
    CliError::new("ostree", e.to_string())
}

/// Runs `ostree ARGS...`; on failure the error names the command and carries ostree's message.
fn run_ostree(kind: &'static str, args: &[OsString]) -> Result<String, CliError> {
    let shown = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    tracing::info!("running ostree {shown}");
    let out = std::process::Command::new("ostree")
        .args(args)
        .output()
        .map_err(|e| {
            CliError::new(kind, format!("could not run `ostree {shown}`: {e}"))
                .hint("install the ostree command (Debian package ostree)")
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let msg = stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(CliError::new(
            kind,
            format!(
                "`ostree {shown}` failed: {}",
                msg.trim_start_matches("error: ")
            ),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn os(parts: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<OsString> {
    parts.iter().map(|p| p.as_ref().to_owned()).collect()
}

fn open_repo(path: &Path) -> Result<ostree::Repo, CliError> {
    let r = ostree::Repo::new_for_path(path);
    r.open(gio::Cancellable::NONE).map_err(|e| {
        ostree_err(format!(
            "could not open the OSTree repository {}: {e}",
            path.display()
        ))
    })?;
    Ok(r)
}

/// The subdirectory `name` of dirtree `tree`: `(dirtree, dirmeta)` checksums.
fn subdir(repo: &ostree::Repo, tree: &str, name: &str) -> Result<Option<String>, CliError> {
    let v = repo
        .load_variant(ostree::ObjectType::DirTree, tree)
        .map_err(|e| ostree_err(format!("could not load dirtree {tree}: {e}")))?;
    let dirs = v.child_value(1);
    for i in 0..dirs.n_children() {
        let d = dirs.child_value(i);
        if d.child_value(0).str() == Some(name) {
            return Ok(Some(hex::encode(d.child_value(1).data())));
        }
    }
    Ok(None)
}

/// Kernel versions in the commit: directories `/usr/lib/modules/$kver` holding a `vmlinuz`,
/// with whether they also hold an `initramfs.img`.
fn kernels(repo: &ostree::Repo, commit: &str) -> Result<Vec<(String, bool)>, CliError> {
    let (c, _) = repo
        .load_commit(commit)
        .map_err(|e| ostree_err(format!("could not load commit {commit}: {e}")))?;
    let mut tree = hex::encode(c.child_value(6).data());
    for name in ["usr", "lib", "modules"] {
        match subdir(repo, &tree, name)? {
            Some(t) => tree = t,
            None => return Ok(Vec::new()),
        }
    }
    let modules = repo
        .load_variant(ostree::ObjectType::DirTree, &tree)
        .map_err(|e| ostree_err(format!("could not load dirtree {tree}: {e}")))?;
    let dirs = modules.child_value(1);
    let mut out = Vec::new();
    for i in 0..dirs.n_children() {
        let d = dirs.child_value(i);
        let Some(kver) = d.child_value(0).str().map(str::to_owned) else {
            continue;
        };
        let t = hex::encode(d.child_value(1).data());
        let v = repo
            .load_variant(ostree::ObjectType::DirTree, &t)
            .map_err(|e| ostree_err(format!("could not load dirtree {t}: {e}")))?;
        let files = v.child_value(0);
        let names: Vec<String> = (0..files.n_children())
            .filter_map(|j| files.child_value(j).child_value(0).str().map(str::to_owned))
            .collect();
        if names.iter().any(|n| n == "vmlinuz") {
            out.push((kver, names.iter().any(|n| n == "initramfs.img")));
        }
    }
    Ok(out)
}

fn no_kernel(variant: &str, seq: u64, commit: &str) -> CliError {
    CliError::new(
        "no_kernel",
        format!(
            "variant {variant} (transaction {seq}, commit {}) has no kernel: no /usr/lib/modules/*/vmlinuz, so it cannot be deployed",
            &commit[..commit.len().min(12)]
        ),
    )
    .hint(format!(
        "install one: `particle txn install --variant {variant} linux-image-amd64 initramfs-tools`"
    ))
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
    if stateroot.is_empty()
        || stateroot.starts_with('.')
        || stateroot.contains(['/', '\0'])
        || stateroot.chars().any(char::is_whitespace)
    {
        return Err(CliError::usage(format!(
            "{stateroot:?} is not a valid stateroot name (one path component, no spaces)"
        ))
        .into());
    }
    let ctx = Reader::open(root)?;
    let record = ctx.head(variant)?;
    let commit = record.commit.to_hex();
    let repo_path = ctx.repo();
    let repo = open_repo(&repo_path)?;
    if !materializer::commit_exists(&repo_path, &commit).map_err(ostree_err)? {
        return Err(CliError::new(
            "missing_commit",
            format!(
                "commit {commit} of transaction {} is missing from the repository",
                record.seq
            ),
        )
        .hint("rebuild it with `particle replay`")
        .into());
    }
    let kernels = kernels(&repo, &commit)?;
    if kernels.is_empty() {
        return Err(no_kernel(variant, record.seq, &commit).into());
    }
    if !kernels.iter().any(|(_, initramfs)| *initramfs) {
        return Err(CliError::new(
            "no_initramfs",
            format!(
                "variant {variant} has a kernel ({}) but no /usr/lib/modules/$kver/initramfs.img",
                kernels[0].0
            ),
        )
        .hint(format!(
            "install initramfs-tools: `particle txn install --variant {variant} initramfs-tools`"
        ))
        .into());
    }
    let kargs = record.state.profile.kargs.clone();

    // The sysroot: created, then initialized as an OSTree sysroot and stateroot if needed.
    std::fs::create_dir_all(sysroot).map_err(|e| {
        CliError::new(
            "io",
            format!("could not create the sysroot {}: {e}", sysroot.display()),
        )
    })?;
    let sysroot = std::fs::canonicalize(sysroot)?;
    let sysroot_repo = sysroot.join("ostree/repo");
    let say = |m: &str| {
        if !json && !quiet {
            eprintln!("{m}");
        }
    };
    if !sysroot_repo.join("config").exists() {
        say(&format!(
            "initializing the OSTree sysroot {}",
            sysroot.display()
        ));
        run_ostree("deploy", &os(&[&"admin", &"init-fs", &sysroot]))?;
    }
    if !sysroot.join("ostree/deploy").join(stateroot).is_dir() {
        let flag = OsString::from(format!("--sysroot={}", sysroot.display()));
        run_ostree("deploy", &os(&[&"admin", &"os-init", &flag, &stateroot]))?;
    }
    // The commit into the sysroot's repository, under the variant's ref.
    let repo_flag = OsString::from(format!("--repo={}", sysroot_repo.display()));
    run_ostree(
        "deploy",
        &os(&[&repo_flag, &"pull-local", &repo_path, &commit]),
    )?;
    materializer::set_ref(&sysroot_repo, variant, &commit).map_err(ostree_err)?;
    // Exactly the recorded kernel arguments (`--karg-none`: nothing carried over from the
    // previous deployment, so a karg deleted by a transaction is gone here too). /etc is merged
    // from the previous deployment, as ostree always does.
    let mut args = os(&[
        &"admin",
        &"deploy",
        &OsString::from(format!("--sysroot={}", sysroot.display())),
        &OsString::from(format!("--os={stateroot}")),
        &"--karg-none",
    ]);
    for k in &kargs {
        args.push(format!("--karg-append={k}").into());
    }
    args.push(materializer::variant_ref(variant).into());
    say(&format!(
        "deploying {} (transaction {}, commit {}) into {}",
        materializer::variant_ref(variant),
        record.seq,
        &commit[..12],
        sysroot.display()
    ));
    run_ostree("deploy", &args)?;

    // What ostree did, read back from the sysroot.
    let sr = ostree::Sysroot::new(Some(&gio::File::for_path(&sysroot)));
    sr.load(gio::Cancellable::NONE)
        .map_err(|e| ostree_err(format!("could not load the sysroot after deploying: {e}")))?;
    let deployments = sr.deployments();
    let new = deployments
        .iter()
        .find(|d| d.csum() == commit.as_str() && d.osname() == stateroot)
        .ok_or_else(|| {
            CliError::new(
                "deploy",
                format!("ostree reported success but no deployment of {commit} is in the sysroot"),
            )
        })?;
    let options = new
        .bootconfig()
        .and_then(|b| b.get("options"))
        .map(|s| s.to_string())
        .unwrap_or_default();
    let entries_dir = sysroot.join("boot/loader/entries");
    let mut entries: Vec<String> = std::fs::read_dir(&entries_dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".conf"))
                .collect()
        })
        .unwrap_or_default();
    entries.sort();
    let list: Vec<serde_json::Value> = deployments
        .iter()
        .map(|d| {
            serde_json::json!({
                "index": d.index(), "stateroot": d.osname().as_str(), "checksum": d.csum().as_str(),
                "serial": d.deployserial(), "path": sysroot.join(sr.deployment_dirpath(d).as_str()),
            })
        })
        .collect();
    let deployment = serde_json::json!({
        "index": new.index(),
        "checksum": new.csum().as_str(),
        "serial": new.deployserial(),
        "path": sysroot.join(sr.deployment_dirpath(new).as_str()),
        "kernel": kernels[0].0,
    });
    if json {
        return print_json(&serde_json::json!({
            "variant": variant,
            "txn": record.seq,
            "txn_id": record.id.to_hex(),
            "commit": commit,
            "sysroot": sysroot,
            "stateroot": stateroot,
            "deployment": deployment,
            "kargs": kargs,
            "options": options,
            "boot_entries": entries.len(),
            "entries": entries,
            "deployments": list,
        }));
    }
    if !quiet {
        eprintln!(
            "deployed transaction {} ({}) as deployment {} of {} in {}; boot entries: {}",
            record.seq,
            record.id.short(12),
            new.index(),
            deployments.len(),
            sysroot.display(),
            entries.len()
        );
        eprintln!("kernel arguments: {options}");
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
        .unwrap_or("amd64");
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
    let repo = open_repo(&repo_path)?;
    if dir.exists()
        && std::fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(CliError::new(
            "exists",
            format!("{} exists and is not empty", dir.display()),
        )
        .hint("export into a new or empty directory")
        .into());
    }
    let bootable = !kernels(&repo, &commit)?.is_empty();
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
            crate::oci::rfc3339(record.time.max(0) as u64),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let info = crate::oci::ImageInfo {
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
    let out = match crate::oci::export(&repo_path, &commit, &info, &tmp) {
        Ok(o) => o,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(CliError::new("export", e.to_string()).into());
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
    let ctx = Ctx::write(root, quiet || json)?;
    let ra = crate::txn::resolve(&ctx, a)?;
    let rb = crate::txn::resolve(&ctx, b)?;
    let (ca, cb) = (ra.commit.to_hex(), rb.commit.to_hex());
    if ca == cb {
        return Err(CliError::new(
            "same_commit",
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
                "missing_commit",
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
    run_ostree(
        "delta",
        &os(&[
            &repo_flag,
            &"static-delta",
            &"generate",
            &"--inline",
            &from,
            &to,
            &NO_FALLBACK_MB,
        ]),
    )?;
    let name = format!("{ca}-{cb}");
    let listed = run_ostree("delta", &os(&[&repo_flag, &"static-delta", &"list"]))?;
    if !listed.lines().any(|l| l.trim() == name) {
        return Err(CliError::new(
            "delta",
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
                "io",
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
        .map_err(|e| CliError::new("internal", format!("bad checksum {checksum}: {e}")))?;
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
