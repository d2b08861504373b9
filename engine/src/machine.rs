//! A machine's own transactions around its sysroot: the state directory seeded with an
//! `origin` record when a variant is deployed, the preflight before anything is recorded, the
//! deployment of a record (staged on the running system), and the journal's head against the
//! deployments (recovery, and what `status` reports). See docs/delivery.md, "A machine's
//! journal" and "Transactions on a machine".

use crate::state::{lock, state_dir_of, Machine, StateDir, MACHINE_FILE};
use crate::{Error, ErrorKind, Result};
use journal::{NewRecord, Record, Request};
use std::path::{Path, PathBuf};

/// The source name of particle's own package on a build host (a local signed archive); it
/// stays on the build host when a machine is seeded.
pub const OWN_PACKAGE_SOURCE: &str = "particle";

/// Seconds since the epoch, for a new record.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Who is acting: the user (the one behind sudo) and the host.
pub fn actor() -> journal::Actor {
    let user = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| {
            if rustix::process::getuid().is_root() {
                "root".into()
            } else {
                rustix::process::getuid().as_raw().to_string()
            }
        });
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into());
    journal::Actor { user, host }
}

/// Creates (or continues) the machine state directory of `stateroot` in `sysroot` after
/// `record`'s commit was deployed there: the marker, an empty package store with the build
/// host's sources (their keyrings by the same paths; the machine pins its own snapshots with
/// `repo update`), and a journal whose new record is an `origin` naming `from`, the
/// transaction and its commit. Nothing is appended when the machine's head already is that
/// commit.
pub fn seed(
    sysroot: &Path,
    stateroot: &str,
    from: &str,
    record: &Record,
    sources: &[store::SourceConfig],
) -> Result<PathBuf> {
    let dir = state_dir_of(sysroot, stateroot);
    let state = StateDir::create(&dir)?;
    let marker = dir.join(MACHINE_FILE);
    store::write_atomic(&marker, format!("stateroot={stateroot}\n").as_bytes()).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("could not write {}: {e}", marker.display()),
        )
    })?;
    let _lock = lock(&state)?;
    let st = store::Store::create(&state.store_dir())?;
    let known = st.sources()?;
    // The build host's archive of particle's own package stays on the build host.
    for s in sources.iter().filter(|s| s.name != OWN_PACKAGE_SOURCE) {
        if !known.iter().any(|k| k.name == s.name) {
            st.add_source(s)?;
        }
    }
    let (mut journal, _) = journal::Journal::open(&dir.join("journal")).map_err(|e| {
        Error::new(
            ErrorKind::Journal,
            format!("could not open the journal: {e}"),
        )
    })?;
    if journal.last().is_some_and(|h| h.commit == record.commit) {
        return Ok(dir);
    }
    journal
        .append(NewRecord {
            time: now(),
            actor: actor(),
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
            state: journal::State::clone(&record.state),
            commit: record.commit,
            base: None,
        })
        .map_err(|e| {
            Error::new(
                ErrorKind::Journal,
                format!("could not record the origin: {e}"),
            )
        })?;
    Ok(dir)
}

/// Checks, before a machine transaction is recorded, that its deployment fits in `/boot` and
/// the sysroot, with `repo_needed` bytes more in the repository above what it keeps free (the
/// machine's own packages on a new base; `no_space` otherwise: nothing is recorded or staged).
pub fn preflight(m: &Machine, commit: &str, repo_needed: u64) -> Result<machine::Preflight> {
    Ok(machine::preflight(&m.sysroot, commit, repo_needed)?)
}

/// Deploys `record`'s commit into the machine's sysroot with its kernel arguments and the
/// machine's: staged on the running system (ostree finalizes it at shutdown, merging `/etc` as
/// it is then), the new default at once offline.
pub fn deploy_record(m: &Machine, record: &Record, say: &dyn Fn(&str)) -> Result<()> {
    let commit = record.commit.to_hex();
    let grub = machine::grub_mkconfig_program();
    machine::deploy(
        &m.sysroot,
        &machine::DeployRequest {
            repo: &m.repo(),
            commit: &commit,
            variant: &record.variant,
            what: &format!(
                "transaction {} ({}, commit {})",
                record.seq,
                record.id.short(12),
                &commit[..12]
            ),
            stateroot: &m.stateroot,
            kargs: &record.state.profile.kargs,
            host_kargs: None,
            env: &[],
            grub_mkconfig: grub.as_deref(),
            stage: m.booted,
        },
        say,
    )?;
    Ok(())
}

/// The machine's journal head against its deployments (refs and deployments are projections
/// of the journal): when the head's commit is not what boots next (a command interrupted
/// between recording and deploying, or a staged deployment that failed to finalize at
/// shutdown), it is deployed (staged) again; a head that is deployed but not first is made
/// the default. Returns what was done, for the recovery note.
pub fn reconcile(
    m: &Machine,
    journal: &journal::Journal,
    say: &dyn Fn(&str),
) -> Result<Option<String>> {
    let Some(head) = journal.last() else {
        return Ok(None);
    };
    let commit = head.commit.to_hex();
    let list = machine::deployments(&m.sysroot)?;
    if list.first().is_some_and(|d| d.commit == commit) {
        return Ok(None);
    }
    if let Some(at) = list
        .iter()
        .position(|d| d.commit == commit && !d.staged && d.stateroot == m.stateroot)
    {
        let grub = machine::grub_mkconfig_program();
        machine::set_default(&m.sysroot, at, grub.as_deref())?;
        return Ok(Some(format!(
            "recovery: made the deployment of transaction {} the default again, as the journal has it",
            head.seq
        )));
    }
    preflight(m, &commit, 0)?;
    deploy_record(m, head, say)?;
    Ok(Some(format!(
        "recovery: transaction {} was recorded but not deployed (an interrupted command, or a finalization that failed at shutdown); {} it now",
        head.seq,
        if m.booted { "staged" } else { "deployed" }
    )))
}

/// What `status` says about a machine whose journal head is not what boots next: a command
/// was interrupted after recording, or the staged deployment failed to finalize at shutdown
/// (ostree leaves `/boot/ostree/finalize-failure.stamp` until `ostree-boot-complete` reports
/// it at the next boot).
pub fn drift(
    m: &Machine,
    journal: &journal::Journal,
    list: &[machine::DeploymentStatus],
) -> Option<String> {
    let head = journal.last()?;
    let commit = head.commit.to_hex();
    if list.first().is_some_and(|d| d.commit == commit) {
        return None;
    }
    let stamp = m.sysroot.join("boot/ostree/finalize-failure.stamp");
    let why = match std::fs::read_to_string(&stamp) {
        Ok(text) => format!(
            "the staged deployment failed to finalize at shutdown: {}",
            text.trim()
        ),
        Err(_) => match m.booted.then(boot_complete_failure).flatten() {
            Some(text) => format!(
                "the staged deployment failed to finalize at the last shutdown: {text} (`systemctl status ostree-boot-complete`)"
            ),
            None => "it was recorded but is not what boots next (an interrupted command, or a staged deployment that failed to finalize at shutdown: see `journalctl -b -1 -u ostree-finalize-staged`)".to_owned(),
        },
    };
    Some(format!(
        "transaction {} ({}) is the journal's head, but {why}",
        head.seq,
        head.id.short(12)
    ))
}

/// What `ostree-boot-complete.service` reported in this boot, if it failed: early in the boot
/// after a failed finalization it takes ostree's failure stamp from `/boot` and fails with its
/// text, so the stamp is gone by the time anyone runs `status`.
fn boot_complete_failure() -> Option<String> {
    const UNIT: &str = "ostree-boot-complete.service";
    let state = std::process::Command::new("systemctl")
        .args(["is-failed", UNIT])
        .output()
        .ok()?;
    if String::from_utf8_lossy(&state.stdout).trim() != "failed" {
        return None;
    }
    let log = std::process::Command::new("journalctl")
        .args(["-b", "-u", UNIT, "-o", "cat", "--no-pager"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&log.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.contains("error"))
        .map(|l| l.trim().to_owned());
    Some(line.unwrap_or_else(|| format!("{UNIT} failed")))
}

/// The variant a command acts on when none is named: on a machine, the one it runs (its
/// journal's head); else `base`.
pub fn default_variant(root: &Path) -> String {
    machine_variant(root).unwrap_or_else(|| "base".to_owned())
}

/// The variant a machine runs (its journal's head), when `root` is a machine state directory.
pub fn machine_variant(root: &Path) -> Option<String> {
    if !root.join(MACHINE_FILE).is_file() {
        return None;
    }
    let (journal, _) = journal::Journal::open_read_only(&root.join("journal")).ok()?;
    journal.last().map(|r| r.variant.clone())
}
