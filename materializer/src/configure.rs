//! Configuring the unpacked packages the way dpkg does a fresh install (as multistrap does
//! after unpacking): `preinst install` for each package in dependency order (Pre-Depends first),
//! then the real `dpkg --configure -a` (dpkg orders the postinsts itself and breaks cycles its
//! own way), then every trigger some package is interested in is activated once and processed
//! (`dpkg-trigger --no-await` + `dpkg --triggers-only --pending`), as unpacking them with dpkg
//! would have. Services are kept from starting by a `policy-rc.d` that exits 101, present only
//! while scripts run.

use crate::dpkgdb::DbPackage;
use crate::sandbox::{log_since, Sandbox, SandboxError};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why configuring failed: names the package and the script.
#[derive(Debug, thiserror::Error)]
pub enum ConfigureError {
    #[error("maintainer script {script} of package {package} failed; see the log {log}")]
    Script {
        package: String,
        script: &'static str,
        log: PathBuf,
        #[source]
        source: SandboxError,
    },
    #[error("dpkg could not unpack package {package}; see the log {log}")]
    Unpack {
        package: String,
        log: PathBuf,
        #[source]
        source: SandboxError,
    },
    #[error("{step} failed; see the log {log}")]
    Step {
        step: &'static str,
        log: PathBuf,
        #[source]
        source: SandboxError,
    },
    #[error("could not install or remove policy-rc.d")]
    Layout {
        #[source]
        source: crate::layout::LayoutError,
    },
}

const POLICY_RC_D: &str =
    "#!/bin/sh\n# Written by particle while maintainer scripts run: start no services.\nexit 101\n";

/// Runs the maintainer scripts of `pkgs` (already in configure order) inside the sandbox's tree,
/// reporting `(done, total)` steps to `progress`: one per `preinst`, one per package that
/// `dpkg --configure -a` sets up, one for trigger processing.
pub(crate) fn configure(
    sandbox: &Sandbox,
    pkgs: &[&DbPackage],
    triggers: &[(String, BTreeSet<String>)],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(), ConfigureError> {
    with_services_held(sandbox, || run_scripts(sandbox, pkgs, triggers, progress))
}

/// Runs `f` with a `policy-rc.d` in the tree that keeps every service from starting, and removes
/// it afterwards whatever `f` returned.
pub(crate) fn with_services_held<T>(
    sandbox: &Sandbox,
    f: impl FnOnce() -> Result<T, ConfigureError>,
) -> Result<T, ConfigureError> {
    let layout_err = |source| ConfigureError::Layout { source };
    crate::layout::write_file(
        &sandbox.root,
        "usr/sbin/policy-rc.d",
        POLICY_RC_D.as_bytes(),
        0o755,
    )
    .map_err(layout_err)?;
    let result = f();
    let policy =
        crate::layout::beneath(&sandbox.root, "usr/sbin/policy-rc.d").map_err(layout_err)?;
    crate::layout::remove_any(&policy).map_err(layout_err)?;
    result
}

fn run_scripts(
    sandbox: &Sandbox,
    pkgs: &[&DbPackage],
    triggers: &[(String, BTreeSet<String>)],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(), ConfigureError> {
    let preinsts = pkgs
        .iter()
        .filter(|p| p.control.contains_key("preinst"))
        .count();
    let total = preinsts + pkgs.len() + usize::from(!triggers.is_empty());
    let mut done = 0;
    progress(done, total);
    for p in pkgs {
        if !p.control.contains_key("preinst") {
            continue;
        }
        let info = p.info_name();
        let script = format!("/var/lib/dpkg/info/{info}.preinst");
        let env = [
            ("DPKG_MAINTSCRIPT_PACKAGE", p.package.name.as_str()),
            ("DPKG_MAINTSCRIPT_ARCH", p.package.arch.as_str()),
            ("DPKG_MAINTSCRIPT_NAME", "preinst"),
            ("DPKG_MAINTSCRIPT_PACKAGE_REFCOUNT", "1"),
            ("DPKG_ADMINDIR", "/var/lib/dpkg"),
            ("DPKG_ROOT", ""),
        ];
        sandbox
            .run(
                &format!("{} preinst install", p.package.name),
                &[script.as_str(), "install"],
                &env,
            )
            .map_err(|source| ConfigureError::Script {
                package: p.package.name.clone(),
                script: "preinst",
                log: sandbox.log.clone(),
                source,
            })?;
        done += 1;
        progress(done, total);
    }

    let start = std::fs::metadata(&sandbox.log)
        .map(|m| m.len())
        .unwrap_or(0);
    let configured = following_log(
        &sandbox.log,
        start,
        pkgs.len(),
        &|n| progress(done + n, total),
        || sandbox.run("dpkg --configure -a", &["dpkg", "--configure", "-a"], &[]),
    );
    if let Err(source) = configured {
        return Err(configure_failed(&sandbox.log, start, source));
    }

    done += pkgs.len();
    progress(done, total);

    // What unpacking with dpkg would have activated, except what dpkg already ran after the
    // last package was set up: that saw the final tree, and running it again (a second and
    // third initramfs for a kernel) would only repeat it.
    let settled = settled_packages(&log_since(&sandbox.log, start));
    let triggers: Vec<&String> = triggers
        .iter()
        .filter(|(_, who)| !who.is_subset(&settled))
        .map(|(t, _)| t)
        .collect();
    if !triggers.is_empty() {
        let mut script = String::from("set -e\n");
        for t in triggers {
            script.push_str(&format!(
                "dpkg-trigger --no-await '{}'\n",
                t.replace('\'', "")
            ));
        }
        script.push_str("dpkg --triggers-only --pending\n");
        sandbox
            .run("trigger processing", &["/bin/sh", "-c", &script], &[])
            .map_err(|source| ConfigureError::Step {
                step: "trigger processing",
                log: sandbox.log.clone(),
                source,
            })?;
    }
    progress(total, total);
    Ok(())
}

/// Runs `f` while a second thread follows `log` from byte `start` and reports how many packages
/// dpkg has set up so far (its `Setting up ` lines, at most `max`), every 200 ms.
pub(crate) fn following_log<T>(
    log: &Path,
    start: u64,
    max: usize,
    report: &(dyn Fn(usize) + Sync),
    f: impl FnOnce() -> T,
) -> T {
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut last = 0;
            // Disconnected (the sender dropped) ends the loop at once.
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(Duration::from_millis(200))
            {
                let n = log_since(log, start)
                    .matches("Setting up ")
                    .count()
                    .min(max);
                if n != last {
                    last = n;
                    report(n);
                }
            }
        });
        let r = f();
        drop(stop);
        r
    })
}

/// The packages whose triggers dpkg processed after the last package it set up, from its
/// output (pure).
pub(crate) fn settled_packages(log: &str) -> BTreeSet<String> {
    let after_setup = log.rfind("Setting up ").map_or(log, |i| &log[i..]);
    after_setup
        .lines()
        .filter_map(|l| l.strip_prefix("Processing triggers for "))
        .filter_map(|rest| rest.split([' ', ':']).next())
        .map(str::to_owned)
        .collect()
}

/// The error for a failed `dpkg --configure -a` that started writing to `log` at byte `start`:
/// names the package whose postinst failed or hung when dpkg's output says which.
pub(crate) fn configure_failed(log: &Path, start: u64, source: SandboxError) -> ConfigureError {
    let text = log_since(log, start);
    let log = log.to_owned();
    match failing_package(&text, &source) {
        Some(package) => ConfigureError::Script {
            package,
            script: "postinst",
            log,
            source,
        },
        None => ConfigureError::Step {
            step: "dpkg --configure -a",
            log,
            source,
        },
    }
}

/// The package whose postinst failed or hung, from dpkg's output (pure).
pub(crate) fn failing_package(log: &str, err: &SandboxError) -> Option<String> {
    let name_after = |line: &str, marker: &str| -> Option<String> {
        let rest = line.split(marker).nth(1)?;
        let name = rest.split([' ', '(']).next()?.trim();
        (!name.is_empty()).then(|| name.split(':').next().unwrap_or(name).to_owned())
    };
    match err {
        // A hung script: the last package dpkg started setting up.
        SandboxError::TimedOut { .. } => {
            log.lines().rev().find_map(|l| name_after(l, "Setting up "))
        }
        _ => log
            .lines()
            .find_map(|l| name_after(l, "error processing package "))
            .or_else(|| log.lines().rev().find_map(|l| name_after(l, "Setting up "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn settled_packages_are_those_processed_after_the_last_setup() {
        let log = "Setting up a (1) ...\nProcessing triggers for libc-bin (2.36) ...\nSetting up linux-image (6.1) ...\nProcessing triggers for initramfs-tools (0.142) ...\nProcessing triggers for libglib2.0-0:amd64 (2.74) ...\n";
        assert_eq!(
            settled_packages(log),
            BTreeSet::from(["initramfs-tools".to_owned(), "libglib2.0-0".to_owned()])
        );
        assert!(settled_packages("").is_empty());
    }

    #[test]
    fn names_the_failing_package() {
        let log = "Setting up aaa (1) ...\nSetting up bad (1.0) ...\ndpkg: error processing package bad (--configure):\n installed bad package post-installation script subprocess returned error exit status 1\nErrors were encountered while processing:\n bad\n";
        let timeout = SandboxError::TimedOut {
            what: "x".into(),
            seconds: 1,
        };
        let log2 = "Setting up aaa (1) ...\nSetting up libc6:amd64 (2.36) ...\n";
        assert_eq!(failing_package(log2, &timeout).as_deref(), Some("libc6"));
        let failed = SandboxError::Spawn {
            what: "x".into(),
            source: io::Error::other("x"),
        };
        assert_eq!(failing_package(log, &failed).as_deref(), Some("bad"));
        assert_eq!(failing_package("", &failed), None);
    }
}
