//! A machine's own state directory: `/var/lib/particle` of an OSTree sysroot's stateroot, kept
//! across deployments (ostree shares a stateroot's `/var` between its deployments). Its
//! repository is the sysroot's `ostree/repo`, not a copy, and its journal starts with an
//! `origin` record that names the variant transaction and commit the machine was deployed from,
//! with that transaction's state, so the machine's own transactions build on the commit it runs.
//! See docs/delivery.md, "A machine's journal".

use crate::deliver::machine_err;
use crate::error::CliError;
use journal::{NewRecord, Record, Request};
use std::path::{Path, PathBuf};

/// The file that marks a state directory as a machine's: `stateroot=NAME`.
const MACHINE_FILE: &str = "machine";

/// Where a machine's state directory sits in its stateroot's `/var`.
const IN_VAR: &str = "lib/particle";

/// The sysroot a machine state directory belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Machine {
    pub(crate) sysroot: PathBuf,
    pub(crate) stateroot: String,
    /// The sysroot is the running system: new deployments are staged, and ostree finalizes
    /// them at shutdown.
    pub(crate) booted: bool,
}

impl Machine {
    pub(crate) fn repo(&self) -> PathBuf {
        self.sysroot.join("ostree/repo")
    }
}

/// `<sysroot>/ostree/deploy/<stateroot>/var/lib/particle`.
pub(crate) fn state_dir_of(sysroot: &Path, stateroot: &str) -> PathBuf {
    sysroot
        .join("ostree/deploy")
        .join(stateroot)
        .join("var")
        .join(IN_VAR)
}

/// Whether `sysroot` is `/` of the OSTree system this process runs on.
pub(crate) fn is_running_root(sysroot: &Path) -> bool {
    machine::booted_system() && std::fs::canonicalize(sysroot).is_ok_and(|p| p == Path::new("/"))
}

/// The state directory `--sysroot DIR` acts on: that of the stateroot of DIR's default
/// deployment, or `/var/lib/particle` when DIR is `/` of the running system.
pub(crate) fn root_for(sysroot: &Path) -> Result<PathBuf, CliError> {
    if is_running_root(sysroot) {
        return Ok(PathBuf::from("/var").join(IN_VAR));
    }
    let list = machine::deployments(sysroot).map_err(machine_err)?;
    let first = list.first().ok_or_else(|| {
        CliError::new(
            "no_sysroot",
            format!("the sysroot {} has no deployment", sysroot.display()),
        )
        .hint("deploy a variant into it first: `particle deploy --sysroot DIR`")
    })?;
    Ok(state_dir_of(sysroot, &first.stateroot))
}

/// Reads the machine marker of `root`: `Some` for a machine state directory, with the sysroot
/// found from where the directory sits (offline) or `/` (on the running system).
pub(crate) fn detect(root: &Path) -> Result<Option<Machine>, CliError> {
    let path = root.join(MACHINE_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(crate::state::io_error(root, &path, "read", &e)),
    };
    let stateroot = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("stateroot="))
        .map(str::to_owned)
        .ok_or_else(|| {
            CliError::new(
                "not_a_state_dir",
                format!("{} names no stateroot", path.display()),
            )
        })?;
    let canonical = std::fs::canonicalize(root).map_err(|e| CliError::new("io", e.to_string()))?;
    let tail = Path::new("ostree/deploy")
        .join(&stateroot)
        .join("var")
        .join(IN_VAR);
    let prefix = canonical
        .ancestors()
        .nth(tail.components().count())
        .filter(|_| canonical.ends_with(&tail))
        .map(Path::to_path_buf);
    let running = machine::booted_system();
    let machine = match prefix {
        Some(p) if !(running && p == Path::new("/sysroot")) => Machine {
            sysroot: p,
            stateroot,
            booted: false,
        },
        _ if running => Machine {
            sysroot: PathBuf::from("/"),
            stateroot,
            booted: true,
        },
        _ => {
            return Err(CliError::new(
                "no_sysroot",
                format!(
                    "{} is a machine's state directory, but it is not inside an OSTree sysroot and this system did not boot from one",
                    root.display()
                ),
            )
            .hint("pass the sysroot with --sysroot DIR"))
        }
    };
    Ok(Some(machine))
}

/// Creates (or continues) the machine state directory of `stateroot` in `sysroot` after
/// `record`'s commit was deployed there: the marker, an empty package store with the build
/// host's sources (their keyrings by the same paths; the machine pins its own snapshots with
/// `repo update`), and a journal whose new record is an `origin` naming `from`, the
/// transaction and its commit. Nothing is appended when the machine's head already is that
/// commit.
pub(crate) fn seed(
    sysroot: &Path,
    stateroot: &str,
    from: &str,
    record: &Record,
    sources: &[store::SourceConfig],
) -> anyhow::Result<PathBuf> {
    let dir = state_dir_of(sysroot, stateroot);
    let state = crate::state::State::create(&dir)?;
    let marker = dir.join(MACHINE_FILE);
    store::write_atomic(&marker, format!("stateroot={stateroot}\n").as_bytes())
        .map_err(|e| CliError::new("io", format!("could not write {}: {e}", marker.display())))?;
    let _lock = crate::state::lock(&state)?;
    let st = store::Store::create(&state.store_dir())?;
    let known = st.sources()?;
    for s in sources {
        if !known.iter().any(|k| k.name == s.name) {
            st.add_source(s)?;
        }
    }
    let (mut journal, _) = journal::Journal::open(&dir.join("journal"))
        .map_err(|e| CliError::new("journal", format!("could not open the journal: {e}")))?;
    if journal.last().is_some_and(|h| h.commit == record.commit) {
        return Ok(dir);
    }
    journal
        .append(NewRecord {
            time: crate::txn::now(),
            actor: crate::txn::actor(),
            reason: format!(
                "deployed from {from}: {} transaction {} ({})",
                record.variant,
                record.seq,
                record.id.short(12)
            ),
            variant: record.variant.clone(),
            request: Request::Origin {
                from: from.to_owned(),
                seq: record.seq,
                txn: record.id,
            },
            state: record.state.clone(),
            commit: record.commit,
            base: None,
        })
        .map_err(|e| CliError::new("journal", format!("could not record the origin: {e}")))?;
    Ok(dir)
}
