//! One transaction's package set and profile into one OSTree commit: unpack, write the dpkg
//! database, configure in a sandbox, lay out, normalize, commit. Moves no ref.

use crate::commit::{commit_tree, CommitMeta, RepoError};
use crate::configure::{configure, ConfigureError};
use crate::deb::{open_data, read_control};
use crate::dpkgdb::{conffile_paths, interested_triggers, write_database, DbPackage, DpkgDbError};
use crate::extract::{ExtractError, Extractor, PackageRef};
use crate::layout::{
    atomic_layout, merge_usr, normalize, pre_configure_files, pre_configure_mode, strip_xattrs,
    wants_boot_chain, write_file, LayoutError, VariantInfo, BOOT_CHAIN,
};
use crate::order::configure_order;
use crate::sandbox::Sandbox;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use store::{CommitId, DebError, PackageEntry, TxnId};

/// One package of the resolved set: what the journal pinned (name, version, architecture and the
/// `.deb`'s SHA-256) and where the store keeps its `.deb`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageInput {
    pub package: PackageEntry,
    /// The `.deb` in the store. `None` is allowed only for a package the base commit already
    /// has in this version (a build on a commit reads only the `.deb`s of what changed, so a
    /// machine never downloads its whole package set for a one-package change).
    pub deb_path: Option<PathBuf>,
}

impl PackageInput {
    /// The `.deb`, or [`MaterializeError::NoDeb`].
    pub(crate) fn deb(&self) -> Result<&Path, MaterializeError> {
        self.deb_path
            .as_deref()
            .ok_or_else(|| MaterializeError::NoDeb {
                package: self.package.to_string(),
            })
    }
}

/// The variant's profile, as the journal records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// Kernel arguments, in order.
    pub kargs: Vec<String>,
    /// initramfs-tools settings (`KEY=VALUE` in `/usr/etc/initramfs-tools/conf.d/particle.conf`).
    pub initramfs: BTreeMap<String, String>,
    /// sysctl settings (`/usr/lib/sysctl.d/50-particle.conf`).
    pub sysctl: BTreeMap<String, String>,
}

/// Everything one commit is built from. The same input gives the same commit, bit for bit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInput {
    pub variant: String,
    /// The variant's description, as its definition gives it (`Description=` of a machine
    /// tree's `/etc/particle-os/variant.conf`).
    pub description: Option<String>,
    pub parent_variant: Option<String>,
    /// The transaction's sequence number. The commit metadata names the transaction `seq-<seq>`
    /// (`particle.txn-id`, the subject, `TXN_ID=` in `variant.conf`): its id is not known until
    /// the record holding the commit is written.
    pub seq: u64,
    /// The id of the record the transaction's record will chain onto (`particle.journal-head`).
    pub journal_head: TxnId,
    /// The transaction time (unix seconds): the commit timestamp and `SOURCE_DATE_EPOCH`.
    pub time: u64,
    pub packages: Vec<PackageInput>,
    pub profile: Profile,
    /// Pinned InRelease hashes (suite or URL → digest), recorded in the commit metadata.
    pub inrelease: BTreeMap<String, String>,
    /// The variant's previous commit, the new commit's parent.
    pub parent_commit: Option<CommitId>,
    /// The commit to build on: its tree is checked out and changed into this input (packages
    /// removed, added and upgraded through dpkg, profile rewritten) instead of composing every
    /// package from nothing. Work is then proportional to the change. `None` composes from
    /// nothing. The caller picks it from the journal alone, so that a replay picks the same one.
    pub base_commit: Option<CommitId>,
    /// Foreign architectures the variant declares (`dpkg --add-architecture`): dpkg's `arch`
    /// file lists them with those of the packages. Derived from the journal by the caller, so
    /// that a replay gives the same.
    pub architectures: Vec<String>,
}

impl BuildInput {
    /// What the commit metadata names the transaction by: `seq-<seq>`.
    pub(crate) fn txn_label(&self) -> String {
        format!("seq-{}", self.seq)
    }
}

/// Knobs that do not change the result.
#[derive(Debug, Clone)]
pub struct Options {
    /// Time limit for each sandboxed step (one preinst, `dpkg --configure -a`, triggers).
    pub script_timeout: Duration,
    /// A hard-link checkout of the build's base commit (a deployment of it in a sysroot whose
    /// repository is the build's): the overlay a build on a commit uses takes it as its lower
    /// layer instead of checking the base out. Top-level entries the commit does not have (a
    /// deployment's `/etc`) are hidden; a directory missing one of the commit's is not used.
    pub base_checkout: Option<PathBuf>,
    /// Copy the base commit even where an overlay could be used (the two give the same commit;
    /// tests compare them).
    pub copy_base: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            script_timeout: Duration::from_secs(600),
            base_checkout: None,
            copy_base: false,
        }
    }
}

/// What a successful build produced.
#[derive(Debug, Clone)]
pub struct Materialized {
    /// The OSTree commit.
    pub commit: CommitId,
    /// Maintainer script output.
    pub log: PathBuf,
    /// Wall-clock time of each phase, for benchmarks.
    pub timings: Vec<(&'static str, Duration)>,
}

/// The long phases of a build, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Unpacking each package's `data.tar` (`done`/`total` packages).
    Unpack,
    /// Maintainer scripts: each `preinst`, then one step per package that `dpkg --configure -a`
    /// sets up, then trigger processing (`done`/`total` steps).
    Scripts,
    /// Normalizing, the atomic layout and the OSTree commit (`0/1` when it starts, `1/1` when
    /// the commit is written).
    Commit,
}

/// Where a build is: `done` of `total` units of `phase`. Reported when a phase starts (`done`
/// may be 0), after each unit, and when it ends (`done == total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub phase: Phase,
    pub done: usize,
    pub total: usize,
}

/// Why a build failed. Nothing was committed and no ref moved.
#[derive(Debug, thiserror::Error)]
pub enum MaterializeError {
    #[error("package {package}: its .deb is not in the store, and the build needs it")]
    NoDeb { package: String },
    #[error("package {package}: could not read {path}")]
    Deb {
        package: String,
        path: PathBuf,
        #[source]
        source: Box<DebError>,
    },
    #[error("package {package}: {path} holds {found}, not the pinned {expected}")]
    Mismatch {
        package: String,
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("cannot build on commit {commit}: {reason}")]
    Base { commit: String, reason: String },
    #[error("package {package} is listed twice in the input")]
    Duplicate { package: String },
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error(transparent)]
    Database(#[from] DpkgDbError),
    #[error(transparent)]
    Configure(#[from] ConfigureError),
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error("could not {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Builds `input` into a commit in `repo` (a bare-user repository, see [`crate::init_repo`]),
/// staging under `work_dir`. Moves no ref: the caller records the journal, then calls
/// [`crate::set_ref`].
pub fn materialize(
    repo: &Path,
    work_dir: &Path,
    input: &BuildInput,
) -> Result<Materialized, MaterializeError> {
    materialize_with(repo, work_dir, input, &Options::default())
}

/// [`materialize_with`], reporting [`Progress`] to `progress` (from the calling thread and,
/// while `dpkg --configure -a` runs, from a thread that follows the script log).
pub fn materialize_with_progress(
    repo: &Path,
    work_dir: &Path,
    input: &BuildInput,
    options: &Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Materialized, MaterializeError> {
    run(repo, work_dir, input, options, progress)
}

/// [`materialize`] with explicit [`Options`].
pub fn materialize_with(
    repo: &Path,
    work_dir: &Path,
    input: &BuildInput,
    options: &Options,
) -> Result<Materialized, MaterializeError> {
    run(repo, work_dir, input, options, &|_| {})
}

fn run(
    repo: &Path,
    work_dir: &Path,
    input: &BuildInput,
    options: &Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Materialized, MaterializeError> {
    let tree = work_dir.join("tree");
    crate::overlay::teardown(work_dir)?;
    if tree.symlink_metadata().is_ok() {
        std::fs::remove_dir_all(&tree).map_err(io_err("clear the staging tree", &tree))?;
    }
    std::fs::create_dir_all(&tree).map_err(io_err("create the staging tree", &tree))?;
    let log = work_dir.join("scripts.log");
    std::fs::write(&log, b"").map_err(io_err("create the log", &log))?;
    let result = build(repo, work_dir, &log, input, options, progress);
    // Atomic: the staging tree never outlives the build, whatever happened.
    let started = Instant::now();
    let cleanup = crate::overlay::teardown(work_dir).and_then(|()| {
        std::fs::remove_dir_all(&tree).map_err(io_err("remove the staging tree", &tree))
    });
    let (commit, mut timings) = result?;
    cleanup?;
    timings.push(("cleanup", started.elapsed()));
    Ok(Materialized {
        commit,
        log,
        timings,
    })
}

type Built = (CommitId, Vec<(&'static str, Duration)>);

/// A [`MaterializeError::Io`] for `action` on `path`.
pub(crate) fn io_err(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(io::Error) -> MaterializeError {
    let path = path.to_owned();
    move |source| MaterializeError::Io {
        action,
        path,
        source,
    }
}

/// Wall-clock time of each phase.
pub(crate) struct Clock {
    last: Instant,
    timings: Vec<(&'static str, Duration)>,
}

impl Clock {
    fn new() -> Self {
        Clock {
            last: Instant::now(),
            timings: Vec::new(),
        }
    }

    /// Ends phase `name` now.
    pub(crate) fn lap(&mut self, name: &'static str) {
        self.timings.push((name, self.last.elapsed()));
        self.last = Instant::now();
    }
}

fn build(
    repo: &Path,
    work_dir: &Path,
    log: &Path,
    input: &BuildInput,
    options: &Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Built, MaterializeError> {
    let tree = &work_dir.join("tree");
    let mut clock = Clock::new();
    let mut seen = BTreeSet::new();
    for p in &input.packages {
        if !seen.insert(p.package.key()) {
            return Err(MaterializeError::Duplicate {
                package: p.package.name.clone(),
            });
        }
    }
    let sandbox = Sandbox {
        root: tree.to_owned(),
        source_date_epoch: input.time,
        log: log.to_owned(),
        timeout: options.script_timeout,
        ro_binds: Vec::new(),
    };
    let from_base = match &input.base_commit {
        None => {
            compose(&sandbox, input, progress, &mut clock)?;
            None
        }
        Some(base) => {
            let base = &base.to_hex();
            let from_base =
                crate::incremental::prepare(repo, base, work_dir, tree, options, &mut clock)?;
            crate::incremental::apply(base, work_dir, &sandbox, input, progress, &mut clock)?;
            Some(from_base)
        }
    };
    let tree = tree.as_path();

    progress(Progress {
        phase: Phase::Commit,
        done: 0,
        total: 1,
    });
    normalize(tree)?;
    let txn_id = input.txn_label();
    let journal_head = input.journal_head.to_hex();
    let variant = VariantInfo {
        variant: &input.variant,
        description: input.description.as_deref(),
        parent: input.parent_variant.as_deref(),
        txn_id: &txn_id,
        seq: input.seq,
        journal_head: &journal_head,
    };
    let machine = wants_boot_chain(input.packages.iter().map(|p| p.package.name.as_str()));
    atomic_layout(tree, &variant, &input.profile, machine)?;
    match &from_base {
        Some(crate::known::FromBase::Overlay { upper, .. }) => {
            crate::layout::strip_xattrs_upper(tree, upper)?
        }
        _ => strip_xattrs(tree)?,
    }
    clock.lap("layout");

    let mut strings = BTreeMap::new();
    strings.insert("particle.variant", input.variant.clone());
    strings.insert(
        "particle.parent-variant",
        input.parent_variant.clone().unwrap_or_default(),
    );
    strings.insert("particle.txn-id", txn_id.clone());
    strings.insert("particle.seq", input.seq.to_string());
    strings.insert("particle.journal-head", journal_head);
    strings.insert("particle.packages", input.packages.len().to_string());
    strings.insert("version", format!("{}.{}", input.variant, input.seq));
    let parent = input.parent_commit.map(|c| c.to_hex());
    let meta = CommitMeta {
        parent: parent.as_deref(),
        subject: format!(
            "particle {} transaction {} (seq {})",
            input.variant, txn_id, input.seq
        ),
        time: input.time,
        strings,
        inrelease: &input.inrelease,
    };
    crate::hook::point("commit");
    let commit = commit_tree(repo, tree, &meta, from_base.as_ref())?;
    clock.lap("commit");
    progress(Progress {
        phase: Phase::Commit,
        done: 1,
        total: 1,
    });
    Ok((commit, clock.timings))
}

/// Reads the control members of `inputs` and checks each against its pin.
pub(crate) fn read_packages(inputs: &[&PackageInput]) -> Result<Vec<DbPackage>, MaterializeError> {
    let mut pkgs = Vec::with_capacity(inputs.len());
    for p in inputs {
        let deb = p.deb()?;
        let p = &p.package;
        let (package, control) = read_control(deb).map_err(|source| MaterializeError::Deb {
            package: p.name.clone(),
            path: deb.to_owned(),
            source: Box::new(source),
        })?;
        if (
            package.name.as_str(),
            package.version.as_str(),
            package.arch.as_str(),
        ) != (p.name.as_str(), p.version.as_str(), p.arch.as_str())
        {
            return Err(MaterializeError::Mismatch {
                package: p.name.clone(),
                path: deb.to_owned(),
                expected: format!("{} {} {}", p.name, p.version, p.arch),
                found: format!("{} {} {}", package.name, package.version, package.arch),
            });
        }
        pkgs.push(DbPackage {
            package,
            control,
            extracted: Default::default(),
            taken: BTreeSet::new(),
        });
    }
    Ok(pkgs)
}

/// Extracts `pkgs` (read from `inputs`, same indices) in `order` with `extractor`, reporting
/// [`Phase::Unpack`] progress; fills in what each package extracted and gave up.
pub(crate) fn unpack(
    extractor: &mut Extractor,
    pkgs: &mut [DbPackage],
    inputs: &[&PackageInput],
    order: &[usize],
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<(), MaterializeError> {
    let total = order.len();
    progress(Progress {
        phase: Phase::Unpack,
        done: 0,
        total,
    });
    for (n, &i) in order.iter().enumerate() {
        let p = &pkgs[i];
        let path = inputs[i].deb()?;
        let conffiles = conffile_paths(p.control.get("conffiles"));
        let pref = PackageRef {
            name: &p.package.name,
            version: &p.package.version,
            replaces: &p.package.replaces,
            conffiles: &conffiles,
            multi_arch_same: p.package.multi_arch == store::MultiArch::Same,
        };
        let deb_err = |source: DebError| MaterializeError::Deb {
            package: p.package.name.clone(),
            path: path.to_owned(),
            source: Box::new(source),
        };
        let mut data = open_data(path).map_err(deb_err)?;
        let extracted = extractor.extract(&pref, &mut data)?;
        data.finish().map_err(deb_err)?;
        pkgs[i].extracted = extracted;
        progress(Progress {
            phase: Phase::Unpack,
            done: n + 1,
            total,
        });
        crate::hook::point("unpack");
    }
    for p in pkgs.iter_mut() {
        p.taken = extractor.taken_from(&p.package.name);
    }
    Ok(())
}

/// A fresh build: every package unpacked into the empty staging tree, the dpkg database
/// written, the profile's script-visible files put in place, every maintainer script run.
fn compose(
    sandbox: &Sandbox,
    input: &BuildInput,
    progress: &(dyn Fn(Progress) + Sync),
    clock: &mut Clock,
) -> Result<(), MaterializeError> {
    let tree = sandbox.root.as_path();
    let inputs: Vec<&PackageInput> = input.packages.iter().collect();
    let mut pkgs = read_packages(&inputs)?;
    let refs: Vec<&store::Package> = pkgs.iter().map(|p| &p.package).collect();
    let order = configure_order(&refs);
    clock.lap("read control");

    // Unpack, dependencies first.
    let mut extractor = Extractor::new(tree)?;
    unpack(&mut extractor, &mut pkgs, &inputs, &order, progress)?;
    clock.lap("unpack");

    merge_usr(tree)?;
    write_database(tree, &pkgs, &input.architectures)?;
    clock.lap("dpkg database");

    // Profile files the scripts read (initramfs-tools settings) go in before they run.
    for (rel, text) in pre_configure_files(&input.profile) {
        write_file(tree, &rel, text.as_bytes(), pre_configure_mode(&rel))?;
    }
    if wants_boot_chain(input.packages.iter().map(|p| p.package.name.as_str())) {
        for (rel, text) in BOOT_CHAIN {
            write_file(tree, rel, text.as_bytes(), 0o755)?;
        }
    }
    let ordered: Vec<&DbPackage> = order.iter().map(|&i| &pkgs[i]).collect();
    configure(
        sandbox,
        &ordered,
        &interested_triggers(&pkgs),
        &|done, total| {
            progress(Progress {
                phase: Phase::Scripts,
                done,
                total,
            })
        },
    )?;
    clock.lap("configure");
    Ok(())
}
