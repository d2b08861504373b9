//! OSTree sysroots: deploying a commit with the variant's recorded kernel arguments and the
//! machine's own, and reading back what ostree did.

use crate::ostree_cmd::{self, sysroot_flag};
use crate::{read_entries, Error, ErrorKind, GrubSettings, Result};
use ostree::gio;
use ostree::gio::prelude::*;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Where a machine keeps its own kernel arguments (`root=`, `console=`, ...), one per line, in
/// `/etc` of each deployment: host configuration, carried to the next deployment by ostree's
/// `/etc` merge and added by every deploy after the variant's recorded arguments. Never in the
/// journal: many machines share a variant.
pub const HOST_KARGS: &str = "etc/particle/host-kargs";

/// The commit's kernels: versions under `/usr/lib/modules/` holding a `vmlinuz`, each with
/// whether it also holds an `initramfs.img`.
pub fn kernels(repo: &Path, commit: &str) -> Result<Vec<(String, bool)>> {
    let r = open_repo(repo)?;
    let (c, _) = r
        .load_commit(commit)
        .map_err(|e| ostree_err(format!("could not load commit {commit}: {e}")))?;
    let mut tree = hex::encode(c.child_value(6).data());
    for name in ["usr", "lib", "modules"] {
        match subdir(&r, &tree, name)? {
            Some(t) => tree = t,
            None => return Ok(Vec::new()),
        }
    }
    let modules = load_dirtree(&r, &tree)?;
    let dirs = modules.child_value(1);
    let mut out = Vec::new();
    for i in 0..dirs.n_children() {
        let d = dirs.child_value(i);
        let Some(kver) = d.child_value(0).str().map(str::to_owned) else {
            continue;
        };
        let v = load_dirtree(&r, &hex::encode(d.child_value(1).data()))?;
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

/// Whether the commit has the directory `path` (components from the root, e.g.
/// `["usr", "lib", "grub", "i386-pc"]`).
pub(crate) fn has_dir(repo: &Path, commit: &str, path: &[&str]) -> Result<bool> {
    let r = open_repo(repo)?;
    let (c, _) = r
        .load_commit(commit)
        .map_err(|e| ostree_err(format!("could not load commit {commit}: {e}")))?;
    let mut tree = hex::encode(c.child_value(6).data());
    for name in path {
        match subdir(&r, &tree, name)? {
            Some(t) => tree = t,
            None => return Ok(false),
        }
    }
    Ok(true)
}

/// The kernel version a commit boots, or `no_kernel`/`no_initramfs` (`what` names the commit in
/// the message, e.g. "variant base (transaction 3, commit 1a2b…)").
pub fn check_bootable(repo: &Path, commit: &str, what: &str, variant: &str) -> Result<String> {
    if !commit_exists(repo, commit)? {
        return Err(Error::new(
            ErrorKind::MissingCommit,
            format!("commit {commit} of {what} is missing from the repository"),
        )
        .hint("rebuild it with `particle replay`"));
    }
    let kernels = kernels(repo, commit)?;
    let Some((first, _)) = kernels.first() else {
        return Err(Error::new(
            ErrorKind::NoKernel,
            format!("{what} has no kernel: no /usr/lib/modules/*/vmlinuz, so it cannot be deployed"),
        )
        .hint(format!(
            "install one: `particle txn install --variant {variant} linux-image-amd64 initramfs-tools`"
        )));
    };
    match kernels.iter().find(|(_, initramfs)| *initramfs) {
        Some((kver, _)) => Ok(kver.clone()),
        None => Err(Error::new(
            ErrorKind::NoInitramfs,
            format!("{what} has a kernel ({first}) but no /usr/lib/modules/$kver/initramfs.img"),
        )
        .hint(format!(
            "install initramfs-tools: `particle txn install --variant {variant} initramfs-tools`"
        ))),
    }
}

/// A stateroot (os) name is one path component without spaces (`usage` otherwise).
pub fn check_stateroot(s: &str) -> Result<()> {
    if s.is_empty()
        || s.starts_with('.')
        || s.contains(['/', '\0'])
        || s.chars().any(char::is_whitespace)
    {
        return Err(Error::new(
            ErrorKind::Usage,
            format!("{s:?} is not a valid stateroot name (one path component, no spaces)"),
        ));
    }
    Ok(())
}

/// What to deploy, and how.
#[derive(Debug, Clone)]
pub struct DeployRequest<'a> {
    /// The repository holding the commit (particle's state repository).
    pub repo: &'a Path,
    pub commit: &'a str,
    pub variant: &'a str,
    /// Names the commit in refusals ("variant base (transaction 3, commit …)").
    pub what: &'a str,
    /// The OSTree stateroot (os name).
    pub stateroot: &'a str,
    /// The variant's kernel arguments, as its journal records them.
    pub kargs: &'a [String],
    /// The machine's own kernel arguments: `Some` sets them (and writes them to [`HOST_KARGS`] of
    /// the new deployment); `None` keeps those of the sysroot's current default deployment.
    pub host_kargs: Option<&'a [String]>,
    /// Environment for the `ostree` commands (`OSTREE_SYSROOT_OPTS=skip-sync`, ...).
    pub env: &'a [(&'a str, &'a str)],
    /// The program libostree runs to write the GRUB menu of a sysroot whose menu particle
    /// writes (`particle-grub-mkconfig`, [`crate::GRUB_EXEC_ENV`]); required for those.
    pub grub_mkconfig: Option<&'a Path>,
    /// Stage the deployment (`ostree admin deploy --stage`, only on the running system): ostree
    /// finalizes it at shutdown, merging `/etc` as it is then and writing the boot entries.
    pub stage: bool,
}

/// One deployment of a sysroot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentInfo {
    pub index: i32,
    pub stateroot: String,
    pub checksum: String,
    pub serial: i32,
    pub path: PathBuf,
}

/// What [`deploy`] did.
#[derive(Debug, Clone)]
pub struct Deployed {
    pub sysroot: PathBuf,
    pub deployment: DeploymentInfo,
    pub kernel: String,
    /// The kernel arguments the deployment boots with: the variant's, the host's, ostree's.
    pub kargs: Vec<String>,
    pub options: String,
    /// BLS entry file names, sorted.
    pub entries: Vec<String>,
    pub deployments: Vec<DeploymentInfo>,
    /// Whether `boot/grub/grub.cfg` was regenerated.
    pub grub: bool,
}

/// Deploys `req.commit` into `sysroot` (created and initialized when needed): the commit is
/// pulled into the sysroot's repository under the variant's ref, deployed with exactly the
/// recorded kernel arguments plus the host's (`--karg-none`: nothing else carried over), `/etc`
/// merged from the previous default as ostree always does; a GRUB configuration particle wrote
/// (`boot/grub/grub.cfg` beside `boot/grub/particle.env`) is regenerated. `say` gets progress
/// lines. Every refusal happens before the sysroot is touched.
pub fn deploy(sysroot: &Path, req: &DeployRequest<'_>, say: &dyn Fn(&str)) -> Result<Deployed> {
    let s = req.stateroot;
    check_stateroot(s)?;
    let kernel = check_bootable(req.repo, req.commit, req.what, req.variant)?;
    std::fs::create_dir_all(sysroot).map_err(|e| Error::io("create the sysroot", sysroot, e))?;
    let sysroot = std::fs::canonicalize(sysroot).map_err(|e| Error::io("resolve", sysroot, e))?;
    let host_kargs: Vec<String> = match req.host_kargs {
        Some(k) => k.to_vec(),
        None => host_kargs(&sysroot)?,
    };
    let sysroot_repo = sysroot.join("ostree/repo");
    if !sysroot_repo.join("config").exists() {
        say(&format!(
            "initializing the OSTree sysroot {}",
            sysroot.display()
        ));
        ostree_cmd::run(
            ErrorKind::Deploy,
            &ostree_cmd::args(&[&"admin", &"init-fs", &sysroot]),
            req.env,
        )?;
        // particle writes the boot loader configuration itself (crate::grub): ostree must not
        // run grub-mkconfig when it finds boot/grub/grub.cfg.
        let repo_flag = repo_flag(&sysroot_repo);
        ostree_cmd::run(
            ErrorKind::Deploy,
            &ostree_cmd::args(&[
                &repo_flag,
                &"config",
                &"set",
                &"sysroot.bootloader",
                &"none",
            ]),
            req.env,
        )?;
    }
    if !sysroot.join("ostree/deploy").join(s).is_dir() {
        ostree_cmd::run(
            ErrorKind::Deploy,
            &ostree_cmd::args(&[&"admin", &"os-init", &sysroot_flag(&sysroot), &s]),
            req.env,
        )?;
    }
    // A sysroot whose menu particle writes: moved to ostree's swap first if an older particle
    // wrote its grub.cfg in place, and the generator handed to ostree.
    let settings = GrubSettings::load(&sysroot)?;
    let exec;
    let mut env: Vec<(&str, &str)> = req.env.to_vec();
    if let Some(settings) = &settings {
        let program = req.grub_mkconfig.ok_or_else(|| {
            Error::new(
                ErrorKind::Deploy,
                format!(
                    "{} has a GRUB menu written by particle, but particle-grub-mkconfig was not found",
                    sysroot.display()
                ),
            )
            .hint("install particle's package, or build the workspace (target/*/particle-grub-mkconfig)")
        })?;
        if !GrubSettings::installed(&sysroot) {
            settings.install(&sysroot)?;
        }
        exec = program.to_string_lossy().into_owned();
        env.push((crate::GRUB_EXEC_ENV, exec.as_str()));
    }
    let repo_flag = repo_flag(&sysroot_repo);
    let same_repo = std::fs::canonicalize(req.repo)
        .is_ok_and(|r| std::fs::canonicalize(&sysroot_repo).is_ok_and(|s| s == r));
    if !same_repo {
        ostree_cmd::run(
            ErrorKind::Deploy,
            &ostree_cmd::args(&[&repo_flag, &"pull-local", &req.repo, &req.commit]),
            &env,
        )?;
    }
    let r = ref_name(req.variant);
    open_repo(&sysroot_repo)?
        .set_ref_immediate(None, &r, Some(req.commit), gio::Cancellable::NONE)
        .map_err(|e| {
            ostree_err(format!(
                "could not set {r} in {}: {e}",
                sysroot_repo.display()
            ))
        })?;
    let mut args = ostree_cmd::args(&[
        &"admin",
        &"deploy",
        &sysroot_flag(&sysroot),
        &OsString::from(format!("--os={s}")),
        &"--karg-none",
    ]);
    if req.stage {
        args.push("--stage".into());
    }
    let kargs: Vec<String> = req.kargs.iter().chain(&host_kargs).cloned().collect();
    for k in &kargs {
        args.push(format!("--karg-append={k}").into());
    }
    args.push(r.clone().into());
    say(&format!(
        "deploying {r} (commit {}) into {}",
        &req.commit[..req.commit.len().min(12)],
        sysroot.display()
    ));
    ostree_cmd::run(ErrorKind::Deploy, &args, &env)?;

    let (deployments, new, options, path) = read_back(&sysroot, req.commit, s)?;
    // A staged deployment gets `/etc` (host kargs included) merged at finalization, and its
    // boot entries only then: the menu is regenerated after it (docs/delivery.md).
    if req.host_kargs.is_some() || (!req.stage && !host_kargs.is_empty()) {
        write_host_kargs(&path, &host_kargs)?;
    }
    let grub = settings.is_some() && !req.stage;
    let mut entries: Vec<String> = read_entries(&sysroot.join("boot/loader/entries"))?
        .into_iter()
        .map(|e| e.file)
        .collect();
    entries.sort();
    Ok(Deployed {
        sysroot,
        deployment: new,
        kernel,
        kargs,
        options,
        entries,
        deployments,
        grub,
    })
}

/// The host kernel arguments ([`HOST_KARGS`]) of the deployment whose `/etc` the next one
/// merges: the booted deployment on a running system, the default offline. Never a staged
/// deployment: ostree merges its `/etc` only when it finalizes it at shutdown, so until then
/// it has no host arguments (reading them there gave a second staged deployment none: no
/// `root=`, no `console=`, a machine that no longer boots). Empty when there are none (or no
/// deployment).
pub fn host_kargs(sysroot: &Path) -> Result<Vec<String>> {
    let sr = ostree::Sysroot::new(Some(&gio::File::for_path(sysroot)));
    if !sysroot.join("ostree/deploy").is_dir() {
        return Ok(Vec::new());
    }
    sr.load(gio::Cancellable::NONE).map_err(|e| {
        ostree_err(format!(
            "could not load the sysroot {}: {e}",
            sysroot.display()
        ))
    })?;
    let merged = sr
        .booted_deployment()
        .or_else(|| sr.deployments().into_iter().find(|d| !d.is_staged()));
    let Some(default) = merged else {
        return Ok(Vec::new());
    };
    let path = sysroot
        .join(sr.deployment_dirpath(&default).as_str())
        .join(HOST_KARGS);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io("read", &path, e)),
    }
}

fn write_host_kargs(deployment: &Path, kargs: &[String]) -> Result<()> {
    let path = deployment.join(HOST_KARGS);
    let dir = path.parent().expect("HOST_KARGS has a parent");
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let mut text = String::from(
        "# This machine's kernel arguments, added after the variant's by every deploy.\n",
    );
    for k in kargs {
        text.push_str(k);
        text.push('\n');
    }
    std::fs::write(&path, text).map_err(|e| Error::io("write", &path, e))
}

type ReadBack = (Vec<DeploymentInfo>, DeploymentInfo, String, PathBuf);

/// The sysroot's deployments after a deploy, the new one, its options and directory.
fn read_back(sysroot: &Path, commit: &str, stateroot: &str) -> Result<ReadBack> {
    let sr = ostree::Sysroot::new(Some(&gio::File::for_path(sysroot)));
    sr.load(gio::Cancellable::NONE)
        .map_err(|e| ostree_err(format!("could not load the sysroot after deploying: {e}")))?;
    let deployments = sr.deployments();
    let info = |d: &ostree::Deployment| DeploymentInfo {
        index: d.index(),
        stateroot: d.osname().to_string(),
        checksum: d.csum().to_string(),
        serial: d.deployserial(),
        path: sysroot.join(sr.deployment_dirpath(d).as_str()),
    };
    let new = deployments
        .iter()
        .find(|d| d.csum() == commit && d.osname() == stateroot)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Deploy,
                format!("ostree reported success but no deployment of {commit} is in the sysroot"),
            )
        })?;
    let options = new
        .bootconfig()
        .and_then(|b| b.get("options"))
        .map(|s| s.to_string())
        .unwrap_or_default();
    let new_info = info(new);
    let path = new_info.path.clone();
    Ok((
        deployments.iter().map(info).collect(),
        new_info,
        options,
        path,
    ))
}

fn repo_flag(repo: &Path) -> OsString {
    let mut s = OsString::from("--repo=");
    s.push(repo);
    s
}

/// `particle-os/VARIANT`, the ref a variant's commits are under.
fn ref_name(variant: &str) -> String {
    format!("particle-os/{variant}")
}

fn ostree_err(msg: String) -> Error {
    Error::new(ErrorKind::Ostree, msg)
}

fn open_repo(path: &Path) -> Result<ostree::Repo> {
    let r = ostree::Repo::new_for_path(path);
    r.open(gio::Cancellable::NONE).map_err(|e| {
        ostree_err(format!(
            "could not open the OSTree repository {}: {e}",
            path.display()
        ))
    })?;
    Ok(r)
}

fn commit_exists(repo: &Path, commit: &str) -> Result<bool> {
    let r = open_repo(repo)?;
    r.has_object(ostree::ObjectType::Commit, commit, gio::Cancellable::NONE)
        .map_err(|e| ostree_err(format!("could not look up commit {commit}: {e}")))
}

fn load_dirtree(repo: &ostree::Repo, tree: &str) -> Result<ostree::glib::Variant> {
    repo.load_variant(ostree::ObjectType::DirTree, tree)
        .map_err(|e| ostree_err(format!("could not load dirtree {tree}: {e}")))
}

/// The subdirectory `name` of dirtree `tree`.
fn subdir(repo: &ostree::Repo, tree: &str, name: &str) -> Result<Option<String>> {
    let dirs = load_dirtree(repo, tree)?.child_value(1);
    for i in 0..dirs.n_children() {
        let d = dirs.child_value(i);
        if d.child_value(0).str() == Some(name) {
            return Ok(Some(hex::encode(d.child_value(1).data())));
        }
    }
    Ok(None)
}

/// Makes deployment `index` of `sysroot` (boot order, as [`crate::deployments`] lists it) the
/// default for the next boot, keeping every other deployment after it in its order and
/// dropping a staged one: the cheap rollback, as `rpm-ostree rollback` does it, through
/// libostree's `write_deployments` (the GRUB menu through the same swap, with `grub_mkconfig`).
/// Returns the deployments in their new order.
pub fn set_default(
    sysroot: &Path,
    index: usize,
    grub_mkconfig: Option<&Path>,
) -> Result<Vec<DeploymentInfo>> {
    if GrubSettings::load(sysroot)?.is_some() {
        let program = grub_mkconfig.ok_or_else(|| {
            Error::new(
                ErrorKind::Deploy,
                "particle-grub-mkconfig was not found; the GRUB menu could not be written",
            )
        })?;
        // libostree reads it with g_getenv in this process; nothing else runs meanwhile.
        std::env::set_var(crate::GRUB_EXEC_ENV, program);
    }
    let sr = load_locked(sysroot)?;
    let all = sr.deployments();
    let target = all.get(index).cloned().ok_or_else(|| {
        Error::new(
            ErrorKind::Usage,
            format!("{} has no deployment {index}", sysroot.display()),
        )
    })?;
    let staged = sr.staged_deployment();
    let is = |a: &Option<ostree::Deployment>, d: &ostree::Deployment| {
        a.as_ref().is_some_and(|a| a.equal(d))
    };
    if is(&staged, &target) {
        return Err(Error::new(
            ErrorKind::Usage,
            "the staged deployment is already the default for the next boot",
        ));
    }
    let order: Vec<ostree::Deployment> = std::iter::once(target.clone())
        .chain(
            all.iter()
                .filter(|d| !d.equal(&target) && !is(&staged, d))
                .cloned(),
        )
        .collect();
    let written = sr.write_deployments(&order, gio::Cancellable::NONE);
    sr.unlock();
    written.map_err(|e| {
        Error::new(
            ErrorKind::Deploy,
            format!("could not write the new deployment order: {e}"),
        )
    })?;
    deployment_infos(sysroot)
}

/// Drops the staged deployment of the running system, if there is one (as `ostree admin
/// undeploy 0` does); returns whether there was one.
pub fn drop_staged(sysroot: &Path) -> Result<bool> {
    let sr = load_locked(sysroot)?;
    let Some(staged) = sr.staged_deployment() else {
        sr.unlock();
        return Ok(false);
    };
    let keep: Vec<ostree::Deployment> = sr
        .deployments()
        .into_iter()
        .filter(|d| !d.equal(&staged))
        .collect();
    let written = sr.write_deployments(&keep, gio::Cancellable::NONE);
    sr.unlock();
    written.map_err(|e| {
        Error::new(
            ErrorKind::Deploy,
            format!("could not drop the staged deployment: {e}"),
        )
    })?;
    Ok(true)
}

fn load_locked(sysroot: &Path) -> Result<ostree::Sysroot> {
    let sr = ostree::Sysroot::new(Some(&gio::File::for_path(sysroot)));
    sr.lock().map_err(|e| {
        ostree_err(format!(
            "could not lock the sysroot {}: {e}",
            sysroot.display()
        ))
    })?;
    if let Err(e) = sr.load(gio::Cancellable::NONE) {
        sr.unlock();
        return Err(ostree_err(format!(
            "could not load the sysroot {}: {e}",
            sysroot.display()
        )));
    }
    Ok(sr)
}

/// The deployments of `sysroot` in boot order.
fn deployment_infos(sysroot: &Path) -> Result<Vec<DeploymentInfo>> {
    let sr = ostree::Sysroot::new(Some(&gio::File::for_path(sysroot)));
    sr.load(gio::Cancellable::NONE).map_err(|e| {
        ostree_err(format!(
            "could not load the sysroot {}: {e}",
            sysroot.display()
        ))
    })?;
    Ok(sr
        .deployments()
        .iter()
        .map(|d| DeploymentInfo {
            index: d.index(),
            stateroot: d.osname().to_string(),
            checksum: d.csum().to_string(),
            serial: d.deployserial(),
            path: sysroot.join(sr.deployment_dirpath(d).as_str()),
        })
        .collect())
}

/// What a new deployment of a commit needs, and what the sysroot has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preflight {
    /// Bytes the new deployment adds to `/boot`: its kernel and initramfs, unless a deployment
    /// already boots the same pair (ostree then shares their directory).
    pub boot_needed: u64,
    pub boot_free: u64,
    /// Bytes the checkout adds to the sysroot's file system: its own copy of `/etc` and the
    /// directories (files are hard links into the repository), with a margin.
    pub root_needed: u64,
    pub root_free: u64,
    /// Bytes written to the repository before the deployment (the commit of a machine's own
    /// packages on a new base: what the caller estimates, plus the commit's initramfs, built
    /// again), which must fit above the space the repository keeps free.
    pub repo_needed: u64,
    /// What the repository keeps free (`min-free-space-size`, else `min-free-space-percent`
    /// of the file system, 3 % unless configured): ostree refuses writes that would use it.
    pub repo_reserve: u64,
}

/// Checks that `sysroot` has room for a deployment of `commit` (in the sysroot's repository)
/// in `/boot` and on the sysroot's file system; `no_space`, naming what is short, if not.
/// A full `/boot` otherwise fails at shutdown, when ostree finalizes a staged deployment.
pub fn preflight(sysroot: &Path, commit: &str, repo_needed: u64) -> Result<Preflight> {
    let repo = open_repo(&sysroot.join("ostree/repo"))?;
    // Each of the commit's kernel and initramfs: checksum, size, name.
    let boot_files = |c: &str| -> Result<Vec<(String, u64, &str)>> {
        let kernels = kernels(&sysroot.join("ostree/repo"), c)?;
        let Some((kver, _)) = kernels.first() else {
            return Ok(Vec::new());
        };
        let (root, _) = repo
            .read_commit(c, gio::Cancellable::NONE)
            .map_err(|e| ostree_err(format!("could not read commit {c}: {e}")))?;
        let mut out = Vec::new();
        for name in ["vmlinuz", "initramfs.img"] {
            let f = root.resolve_relative_path(format!("usr/lib/modules/{kver}/{name}"));
            let Ok(info) = f.query_info(
                "standard::size",
                gio::FileQueryInfoFlags::NOFOLLOW_SYMLINKS,
                gio::Cancellable::NONE,
            ) else {
                continue;
            };
            let sum = f
                .downcast_ref::<ostree::RepoFile>()
                .map(|r| r.checksum().to_string())
                .unwrap_or_default();
            out.push((sum, info.size().max(0) as u64, name));
        }
        Ok(out)
    };
    let new = boot_files(commit)?;
    let mut shared = false;
    for d in crate::deployments(sysroot)? {
        let theirs = boot_files(&d.commit)?;
        if !theirs.is_empty() && theirs.iter().map(|f| &f.0).eq(new.iter().map(|f| &f.0)) {
            shared = true;
            break;
        }
    }
    const MIB: u64 = 1 << 20;
    let boot_needed = if shared {
        0
    } else {
        new.iter().map(|f| f.1).sum::<u64>() + MIB
    };
    let etc = tree_size(&repo, commit, "usr/etc")?;
    let root_needed = etc + 32 * MIB;
    let free = |p: &Path| -> Result<u64> {
        rustix::fs::statvfs(p)
            .map(|v| v.f_bavail.saturating_mul(v.f_frsize))
            .map_err(|e| Error::io("query the free space of", p, e.into()))
    };
    let boot = sysroot.join("boot");
    let report = Preflight {
        boot_needed,
        boot_free: free(&boot)?,
        root_needed,
        root_free: free(sysroot)?,
        // A commit of the machine's own packages on this base builds its initramfs again.
        repo_needed: match repo_needed {
            0 => 0,
            n => {
                n + new
                    .iter()
                    .filter(|f| f.2 == "initramfs.img")
                    .map(|f| f.1)
                    .sum::<u64>()
            }
        },
        repo_reserve: match repo_needed {
            0 => 0,
            _ => repo_reserve(&repo, sysroot)?,
        },
    };
    let mib = |b: u64| b.div_ceil(MIB);
    if report.boot_needed > report.boot_free {
        return Err(Error::new(
            ErrorKind::NoSpace,
            format!(
                "{} has {} MiB free, and the new deployment's kernel and initramfs need {} MiB",
                boot.display(),
                report.boot_free / MIB,
                mib(report.boot_needed)
            ),
        )
        .hint("free space in /boot (`particle gc` removes old deployments), then run the command again; nothing was changed"));
    }
    if report.root_needed > report.root_free {
        return Err(Error::new(
            ErrorKind::NoSpace,
            format!(
                "{} has {} MiB free, and the new deployment needs {} MiB",
                sysroot.display(),
                report.root_free / MIB,
                mib(report.root_needed)
            ),
        )
        .hint("free space (`particle gc`), then run the command again; nothing was changed"));
    }
    let room = report
        .root_free
        .saturating_sub(report.root_needed + report.repo_reserve);
    if report.repo_needed > room {
        return Err(Error::new(
            ErrorKind::NoSpace,
            format!(
                "{} has {} MiB free; the new deployment needs {} MiB, the machine's own packages about {} MiB in the repository, which keeps {} MiB free",
                sysroot.display(),
                report.root_free / MIB,
                mib(report.root_needed),
                mib(report.repo_needed),
                mib(report.repo_reserve)
            ),
        )
        .hint("free space (`particle gc`), then run the command again; nothing was changed"));
    }
    Ok(report)
}

/// The space `repo` keeps free on the file system of `sysroot` (ostree's `core.min-free-space-
/// size`, else `core.min-free-space-percent` of the file system, 3 % by default).
fn repo_reserve(repo: &ostree::Repo, sysroot: &Path) -> Result<u64> {
    let config = repo.config();
    let key = |k: &str| config.string("core", k).ok().map(|v| v.to_string());
    if let Some(size) = key("min-free-space-size") {
        let size = size.trim();
        let split = size
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(size.len());
        let (n, unit) = size.split_at(split);
        let unit = match unit {
            "MB" => 1 << 20,
            "GB" => 1 << 30,
            "TB" => 1 << 40,
            _ => 1,
        };
        if let Ok(n) = n.parse::<u64>() {
            return Ok(n * unit);
        }
    }
    let percent = key("min-free-space-percent")
        .and_then(|p| p.trim().parse::<u64>().ok())
        .unwrap_or(3);
    let fs = rustix::fs::statvfs(sysroot)
        .map_err(|e| Error::io("query the size of", sysroot, e.into()))?;
    Ok(fs.f_blocks.saturating_mul(fs.f_frsize) / 100 * percent)
}

/// The content of the file at `path` (relative to the root) in `commit` of `repo`.
pub fn read_commit_file(repo: &Path, commit: &str, path: &str) -> Result<Vec<u8>> {
    let r = open_repo(repo)?;
    let (root, _) = r
        .read_commit(commit, gio::Cancellable::NONE)
        .map_err(|e| ostree_err(format!("could not read commit {commit}: {e}")))?;
    let err = |e: String| ostree_err(format!("could not read /{path} of commit {commit}: {e}"));
    // Through the file object, not GFile::load_contents: libostree's files give a plain input
    // stream, on which load_contents logs a GLib critical for every read.
    let file = root.resolve_relative_path(path);
    let file = file
        .downcast_ref::<ostree::RepoFile>()
        .ok_or_else(|| err("not a repository file".into()))?;
    file.ensure_resolved().map_err(|e| err(e.to_string()))?;
    let checksum = file.checksum().to_string();
    if checksum.is_empty() {
        return Err(err("no such file".into()));
    }
    let (stream, _, _) = r
        .load_file(&checksum, gio::Cancellable::NONE)
        .map_err(|e| err(e.to_string()))?;
    let stream = stream.ok_or_else(|| err("not a regular file".into()))?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut gio::prelude::InputStreamExtManual::into_read(stream),
        &mut bytes,
    )
    .map_err(|e| err(e.to_string()))?;
    Ok(bytes)
}

/// The bytes of the regular files under `path` of `commit`.
fn tree_size(repo: &ostree::Repo, commit: &str, path: &str) -> Result<u64> {
    let (root, _) = repo
        .read_commit(commit, gio::Cancellable::NONE)
        .map_err(|e| ostree_err(format!("could not read commit {commit}: {e}")))?;
    let mut total = 0u64;
    let mut stack = vec![root.resolve_relative_path(path)];
    while let Some(dir) = stack.pop() {
        let Ok(children) = dir.enumerate_children(
            "standard::name,standard::type,standard::size",
            gio::FileQueryInfoFlags::NOFOLLOW_SYMLINKS,
            gio::Cancellable::NONE,
        ) else {
            continue;
        };
        for info in children.flatten() {
            match info.file_type() {
                gio::FileType::Directory => stack.push(dir.child(info.name())),
                gio::FileType::Regular => total += info.size().max(0) as u64,
                _ => {}
            }
        }
    }
    Ok(total)
}
