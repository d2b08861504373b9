//! What a sysroot holds: its deployments in boot order, each with the particle transaction its
//! commit was built from (read from the commit's metadata, which the materializer writes).

use crate::{Error, ErrorKind, Result};
use ostree::{gio, glib};
use std::path::{Path, PathBuf};

/// One deployment of a sysroot, as `particle status` shows it (its JSON: every field but
/// `packages`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeploymentStatus {
    /// Boot order: 0 is the default for the next boot.
    pub index: i32,
    pub stateroot: String,
    /// The running system (only on a booted sysroot).
    pub booted: bool,
    /// Staged: made the default at the next shutdown.
    pub staged: bool,
    /// What `rollback` would boot.
    pub rollback: bool,
    pub commit: String,
    /// The particle variant, transaction sequence number and id the commit was built from
    /// (`None` for a commit particle did not build). The commit's metadata holds `seq-N` where
    /// the id would go (the record's id covers the commit checksum); a caller with the
    /// journal fills in the real id.
    pub variant: Option<String>,
    pub txn: Option<u64>,
    pub txn_id: Option<String>,
    /// The commit's `version` (`VARIANT.SEQ`).
    pub version: Option<String>,
    #[serde(skip)]
    pub packages: Option<u64>,
    pub path: PathBuf,
}

/// The deployments of `sysroot`, in boot order. `no_sysroot` when it is not an OSTree sysroot.
pub fn deployments(sysroot: &Path) -> Result<Vec<DeploymentStatus>> {
    if !sysroot.join("ostree/repo").is_dir() || !sysroot.join("ostree/deploy").is_dir() {
        return Err(Error::new(
            ErrorKind::NoSysroot,
            format!(
                "{} is not an OSTree sysroot (no ostree/repo and ostree/deploy)",
                sysroot.display()
            ),
        )
        .hint("deploy into it first: `particle deploy --sysroot DIR` or `particle image`"));
    }
    let sr = ostree::Sysroot::new(Some(&gio::File::for_path(sysroot)));
    sr.load(gio::Cancellable::NONE).map_err(|e| {
        Error::new(
            ErrorKind::Ostree,
            format!("could not load the sysroot {}: {e}", sysroot.display()),
        )
    })?;
    let repo = sr.repo();
    let booted = sr.booted_deployment();
    let staged = sr.staged_deployment();
    let all = sr.deployments();
    // The rollback is the first deployment of the same stateroot after the booted one, as
    // libostree's `query_deployments_for` has it; on a sysroot nothing runs from (an image, an
    // offline directory), after the default one, which is what boots next.
    let anchor = booted.clone().or_else(|| all.first().cloned());
    let rollback = anchor.as_ref().and_then(|a| {
        all.iter()
            .skip_while(|d| !d.equal(a))
            .skip(1)
            .find(|d| d.osname() == a.osname())
            .cloned()
    });
    let same = |a: &Option<ostree::Deployment>, d: &ostree::Deployment| {
        a.as_ref().is_some_and(|a| a.equal(d))
    };
    let mut out = Vec::new();
    for d in all {
        let commit = d.csum().to_string();
        let meta = repo
            .load_commit(&commit)
            .map(|(v, _)| glib::VariantDict::new(Some(&v.child_value(0))))
            .ok();
        let get = |key: &str| -> Option<String> {
            meta.as_ref()?
                .lookup_value(key, None)?
                .str()
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        out.push(DeploymentStatus {
            index: d.index(),
            stateroot: d.osname().to_string(),
            booted: same(&booted, &d),
            staged: same(&staged, &d),
            rollback: same(&rollback, &d),
            variant: get("particle.variant"),
            txn: get("particle.seq").and_then(|s| s.parse().ok()),
            txn_id: get("particle.txn-id"),
            version: get("version"),
            packages: get("particle.packages").and_then(|s| s.parse().ok()),
            path: sysroot.join(sr.deployment_dirpath(&d).as_str()),
            commit,
        });
    }
    Ok(out)
}

/// Whether this process runs on a booted OSTree system (`/run/ostree-booted`), where the
/// sysroot is `/`.
pub fn booted_system() -> bool {
    Path::new("/run/ostree-booted").exists()
}
