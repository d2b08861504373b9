//! Building on a previous commit instead of from nothing (issue step 7, "work proportional to
//! the change"): the base commit is checked out, turned back into a live tree
//! ([`crate::layout::undo_atomic_layout`]), and changed into the target the way an administrator's
//! `apt-get` would change a running system: removed packages purged, new and upgraded ones
//! unpacked by the tree's own dpkg (upgrades run their `preinst upgrade`/`postrm upgrade` and
//! keep the package's history of conffiles), then `dpkg --configure -a` and
//! `dpkg --triggers-only --pending` for every trigger still pending. A changed initramfs-tools setting activates the
//! `update-initramfs` trigger. Unchanged packages cost nothing but the checkout and the commit.
//!
//! Every new `.deb` is first extracted by the path-safe extractor into a scratch tree and thrown
//! away: a package the fresh compose would refuse (`..`, links out, device nodes, file
//! conflicts inside the set) is refused here with the same error before dpkg sees it. dpkg then
//! runs inside the sandbox, whose root is the staging tree.
//!
//! Which commit a build starts from is the caller's choice, made from the journal alone (see
//! `docs/materializer.md`), so replaying the journal builds every commit on the same base and
//! gets the same checksum.

use crate::commit::checkout;
use crate::configure::{configure_failed, following_log, with_services_held, ConfigureError};
use crate::extract::Extractor;
use crate::known::{FromBase, KnownFiles};
use crate::layout::{
    beneath, pre_configure_files, remove_any, undo_atomic_layout, wants_boot_chain, write_file,
    BOOT_CHAIN,
};
use crate::materialize::{
    io_err, read_packages, unpack, BuildInput, Clock, MaterializeError, Options, PackageInput,
    Phase, Progress,
};
use crate::order::configure_order;
use crate::sandbox::{log_since, Sandbox};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Where the new `.deb`s appear inside the sandbox.
const DEB_DIR: &str = "/run/particle/debs";

/// Options every dpkg call gets: no questions about conffiles (keep the tree's version unless
/// the package's default says otherwise), as apt does non-interactively.
const DPKG_OPTS: [&str; 2] = ["--force-confdef", "--force-confold"];

/// Makes the staging tree `tree` (empty, under `work_dir`) the live tree of commit `base`: an
/// overlay over its files where one can be used (`crate::overlay`), a copy otherwise.
pub(crate) fn prepare(
    repo: &Path,
    base: &str,
    work_dir: &Path,
    tree: &Path,
    options: &Options,
    clock: &mut Clock,
) -> Result<FromBase, MaterializeError> {
    let overlay = if options.copy_base {
        Err("copying was asked for")
    } else {
        crate::overlay::mount(repo, base, work_dir, tree, options.base_checkout.as_deref())?
    };
    let known = match overlay {
        Ok(upper) => {
            clock.lap("overlay");
            FromBase::Overlay {
                base: base.to_owned(),
                upper,
            }
        }
        Err(why) => {
            tracing::debug!("building on a copy of {base}: no overlay ({why})");
            std::fs::remove_dir(tree).map_err(io_err("prepare the staging tree", tree))?;
            checkout(repo, base, tree)?;
            let known =
                KnownFiles::record(&crate::commit::open(repo)?, base, tree).map_err(|source| {
                    crate::commit::RepoError::Repo {
                        action: "read the base commit's tree in",
                        repo: repo.to_owned(),
                        source,
                    }
                })?;
            clock.lap("checkout");
            FromBase::Copy(known)
        }
    };
    undo_atomic_layout(tree)?;
    clock.lap("undo layout");
    Ok(known)
}

/// Changes the live tree of commit `base` at `sandbox.root` (see [`prepare`]) into `input`.
pub(crate) fn apply(
    base: &str,
    work_dir: &Path,
    sandbox: &Sandbox,
    input: &BuildInput,
    progress: &(dyn Fn(Progress) + Sync),
    clock: &mut Clock,
) -> Result<(), MaterializeError> {
    let tree = sandbox.root.as_path();

    let installed = installed_packages(tree).map_err(|reason| MaterializeError::Base {
        commit: base.to_owned(),
        reason,
    })?;
    let wanted: BTreeSet<(&str, &str)> = input.packages.iter().map(|p| p.package.key()).collect();
    let remove: Vec<String> = installed
        .keys()
        .filter(|(name, arch)| !wanted.contains(&(name.as_str(), arch.as_str())))
        .map(|(name, arch)| dpkg_name(name, arch))
        .collect();
    let changed: Vec<&PackageInput> = input
        .packages
        .iter()
        .filter(|p| {
            let p = &p.package;
            installed.get(&(p.name.clone(), p.arch.clone())) != Some(&p.version)
        })
        .collect();
    let mut pkgs = read_packages(&changed)?;
    let refs: Vec<&store::Package> = pkgs.iter().map(|p| &p.package).collect();
    let order = configure_order(&refs);
    clock.lap("read control");

    // The extractor's checks, on a throw-away tree.
    let scratch = work_dir.join("check");
    if scratch.symlink_metadata().is_ok() {
        std::fs::remove_dir_all(&scratch).map_err(io_err("clear", &scratch))?;
    }
    std::fs::create_dir_all(&scratch).map_err(io_err("create", &scratch))?;
    let checked = Extractor::new(&scratch)
        .map_err(MaterializeError::from)
        .and_then(|mut e| unpack(&mut e, &mut pkgs, &changed, &order, progress));
    std::fs::remove_dir_all(&scratch).map_err(io_err("remove", &scratch))?;
    checked?;
    clock.lap("check packages");

    // dpkg must know every architecture it purges or unpacks; afterwards the file is what a
    // fresh compose of the same packages writes.
    let native = store::native_architecture();
    let during = crate::dpkgdb::arch_file(
        native,
        installed
            .keys()
            .map(|(_, a)| a.as_str())
            .chain(input.packages.iter().map(|p| p.package.arch.as_str()))
            .chain(input.architectures.iter().map(String::as_str)),
    );
    let after = crate::dpkgdb::arch_file(
        native,
        input
            .packages
            .iter()
            .map(|p| p.package.arch.as_str())
            .chain(input.architectures.iter().map(String::as_str)),
    );
    crate::dpkgdb::write_arch_file(tree, during.as_deref())?;

    let initramfs_changed = write_initramfs_conf(tree, &input.profile)?;
    let boot_chain_changed = write_boot_chain(tree, input)?;
    let initramfs_changed = initramfs_changed || boot_chain_changed;
    if remove.is_empty() && changed.is_empty() && !initramfs_changed {
        crate::dpkgdb::write_arch_file(tree, after.as_deref())?;
        return Ok(());
    }
    let mut sandbox = sandbox.clone();
    sandbox.ro_binds = changed
        .iter()
        .enumerate()
        .map(|(i, p)| Ok((p.deb()?.to_owned(), format!("{DEB_DIR}/{i}.deb"))))
        .collect::<Result<_, MaterializeError>>()?;
    let steps = Steps {
        sandbox: &sandbox,
        remove: &remove,
        unpack: order
            .iter()
            .map(|&i| (i, &pkgs[i].package))
            .collect::<Vec<_>>(),
        initramfs_changed,
        progress,
    };
    with_services_held(&sandbox, || steps.run())?;
    crate::dpkgdb::write_arch_file(tree, after.as_deref())?;
    clock.lap("configure");
    Ok(())
}

/// The dpkg work of one incremental build.
struct Steps<'a> {
    sandbox: &'a Sandbox,
    /// dpkg names of the packages to purge.
    remove: &'a [String],
    /// The packages to unpack, in configure order: (index of its `.deb` under [`DEB_DIR`], model).
    unpack: Vec<(usize, &'a store::Package)>,
    initramfs_changed: bool,
    progress: &'a (dyn Fn(Progress) + Sync),
}

impl Steps<'_> {
    fn run(&self) -> Result<(), ConfigureError> {
        let total = usize::from(!self.remove.is_empty()) + 2 * self.unpack.len() + 1;
        let mut done = 0;
        let report = |done| {
            (self.progress)(Progress {
                phase: Phase::Scripts,
                done,
                total,
            })
        };
        report(done);
        if !self.remove.is_empty() {
            let mut argv = vec![
                "dpkg",
                "--purge",
                "--force-depends",
                "--force-remove-protected",
            ];
            argv.extend(self.remove.iter().map(String::as_str));
            self.dpkg("dpkg --purge", &argv)?;
            done += 1;
            report(done);
        }

        // Unpack in batches; a package whose Pre-Depends name one still unconfigured is only
        // unpacked once everything before it is configured, as dpkg requires.
        let mut batch: Vec<(usize, &store::Package)> = Vec::new();
        let mut unconfigured = BTreeSet::new();
        for &(i, p) in &self.unpack {
            let waits = p
                .pre_depends
                .iter()
                .flat_map(|d| &d.alternatives)
                .any(|r| unconfigured.contains(r.name.as_str()));
            if waits {
                done += self.unpack_batch(&batch)?;
                report(done);
                batch.clear();
                self.configure(&mut done, &report, unconfigured.len())?;
                unconfigured.clear();
            }
            batch.push((i, p));
            unconfigured.insert(p.name.as_str());
            unconfigured.extend(p.provides.iter().map(|r| r.name.as_str()));
        }
        done += self.unpack_batch(&batch)?;
        report(done);

        if self.initramfs_changed {
            self.dpkg(
                "update-initramfs trigger",
                &["dpkg-trigger", "--no-await", "update-initramfs"],
            )?;
        }
        self.configure(&mut done, &report, self.unpack.len())?;
        // `--configure -a` leaves triggers activated from outside a run (the initramfs one
        // above) pending; a finished build has none.
        self.dpkg(
            "trigger processing",
            &["dpkg", "--triggers-only", "--pending"],
        )?;
        report(total);
        Ok(())
    }

    /// `dpkg --unpack` of `batch`; returns how many packages it unpacked.
    fn unpack_batch(&self, batch: &[(usize, &store::Package)]) -> Result<usize, ConfigureError> {
        if batch.is_empty() {
            return Ok(0);
        }
        let debs: Vec<String> = batch
            .iter()
            .map(|(i, _)| format!("{DEB_DIR}/{i}.deb"))
            .collect();
        let mut argv = vec!["dpkg", "--unpack", "--auto-deconfigure"];
        argv.extend(DPKG_OPTS);
        argv.extend(debs.iter().map(String::as_str));
        let start = log_len(&self.sandbox.log);
        self.sandbox
            .run("dpkg --unpack", &argv, &[])
            .map_err(|source| {
                let text = log_since(&self.sandbox.log, start);
                // dpkg names the archive it failed on.
                let package = batch
                    .iter()
                    .zip(&debs)
                    .find(|(_, deb)| text.contains(&format!("processing archive {deb}")))
                    .map_or_else(|| batch[0].1.name.clone(), |((_, p), _)| p.name.clone());
                ConfigureError::Unpack {
                    package,
                    log: self.sandbox.log.clone(),
                    source,
                }
            })?;
        Ok(batch.len())
    }

    /// `dpkg --configure -a` (which also processes pending triggers), following its progress.
    fn configure(
        &self,
        done: &mut usize,
        report: &(dyn Fn(usize) + Sync),
        expected: usize,
    ) -> Result<(), ConfigureError> {
        let start = log_len(&self.sandbox.log);
        let mut argv = vec!["dpkg", "--configure", "-a"];
        argv.extend(DPKG_OPTS);
        let base = *done;
        let configured = following_log(
            &self.sandbox.log,
            start,
            expected,
            &|n| report(base + n),
            || self.sandbox.run("dpkg --configure -a", &argv, &[]),
        );
        if let Err(source) = configured {
            return Err(configure_failed(&self.sandbox.log, start, source));
        }
        *done += expected;
        Ok(())
    }

    fn dpkg(&self, step: &'static str, argv: &[&str]) -> Result<(), ConfigureError> {
        self.sandbox
            .run(step, argv, &[])
            .map_err(|source| ConfigureError::Step {
                step,
                log: self.sandbox.log.clone(),
                source,
            })
    }
}

fn log_len(log: &Path) -> u64 {
    std::fs::metadata(log).map(|m| m.len()).unwrap_or(0)
}

/// The name dpkg takes on its command line: `name:arch`, except for `Architecture: all`.
fn dpkg_name(name: &str, arch: &str) -> String {
    if arch == "all" {
        name.to_owned()
    } else {
        format!("{name}:{arch}")
    }
}

/// Writes (or removes) the profile's initramfs-tools settings in the live tree; says whether
/// they differ from what the base had, which means the initramfs must be rebuilt.
fn write_initramfs_conf(tree: &Path, profile: &crate::Profile) -> Result<bool, MaterializeError> {
    let wanted = pre_configure_files(profile);
    // The fixed files, the variant's hooks the base has, and those the profile wants.
    let (hooks_dir, prefix) = crate::layout::INITRAMFS_HOOKS
        .rsplit_once('/')
        .expect("a path with a directory");
    let mut paths: Vec<String> = vec![
        crate::layout::INITRAMFS_CONF.to_owned(),
        crate::layout::INITRAMFS_MODULES.to_owned(),
    ];
    if let Ok(dir) = std::fs::read_dir(beneath(tree, hooks_dir)?) {
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(prefix) {
                paths.push(format!("{hooks_dir}/{name}"));
            }
        }
    }
    paths.extend(wanted.iter().map(|(r, _)| r.clone()));
    paths.sort();
    paths.dedup();
    let mut changed = false;
    for rel in &paths {
        let path = beneath(tree, rel)?;
        let before = std::fs::read(&path).ok();
        let after = wanted
            .iter()
            .find(|(r, _)| r == rel)
            .map(|(_, text)| text.as_bytes().to_vec());
        if before == after {
            continue;
        }
        changed = true;
        match &after {
            Some(text) => {
                remove_any(&path)?;
                write_file(tree, rel, text, crate::layout::pre_configure_mode(rel))?;
            }
            None => remove_any(&path)?,
        }
    }
    Ok(changed)
}

/// Writes (or removes) the initramfs-tools boot chain as the package set asks; says whether
/// anything changed, which means the initramfs must be rebuilt.
fn write_boot_chain(tree: &Path, input: &BuildInput) -> Result<bool, MaterializeError> {
    let wanted = wants_boot_chain(input.packages.iter().map(|p| p.package.name.as_str()));
    let mut changed = false;
    for (rel, text) in BOOT_CHAIN {
        let path = beneath(tree, rel)?;
        let before = std::fs::read(&path).ok();
        let after = wanted.then_some(text.as_bytes());
        if before.as_deref() == after {
            continue;
        }
        changed = true;
        remove_any(&path)?;
        if let Some(text) = after {
            write_file(tree, rel, text, 0o755)?;
        }
    }
    Ok(changed)
}

/// `(name, arch) → version` of every package the tree's dpkg database has installed (pure
/// reading of `/var/lib/dpkg/status`). A package in any state but installed (or purged with
/// only its conffiles left) means the base is not a finished build.
pub(crate) fn installed_packages(
    tree: &Path,
) -> Result<BTreeMap<(String, String), String>, String> {
    let path = tree.join("var/lib/dpkg/status");
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read its dpkg status: {e}"))?;
    parse_status(&text)
}

fn parse_status(text: &str) -> Result<BTreeMap<(String, String), String>, String> {
    let mut out = BTreeMap::new();
    for stanza in text.split("\n\n").filter(|s| !s.trim().is_empty()) {
        let field = |name: &str| {
            stanza.lines().find_map(|l| {
                l.strip_prefix(name)
                    .and_then(|r| r.strip_prefix(':'))
                    .map(str::trim)
            })
        };
        let (Some(name), Some(status)) = (field("Package"), field("Status")) else {
            return Err(format!("a stanza without Package or Status: {stanza:?}"));
        };
        match status.rsplit(' ').next() {
            Some("installed") => {}
            Some("not-installed" | "config-files") => continue,
            _ => return Err(format!("package {name} is in state {status:?}")),
        }
        let arch = field("Architecture").unwrap_or("all");
        let version = field("Version").ok_or_else(|| format!("package {name} has no Version"))?;
        out.insert((name.to_owned(), arch.to_owned()), version.to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_installed_packages_and_refuses_half_done_ones() {
        let status = "Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\nDescription: x\n y\n\nPackage: b\nStatus: deinstall ok config-files\nArchitecture: all\nVersion: 2\n\nPackage: c\nStatus: install ok installed\nArchitecture: all\nVersion: 3:1-2\n";
        let got = parse_status(status).expect("parse");
        assert_eq!(
            got.into_iter().collect::<Vec<_>>(),
            [
                (("a".into(), "amd64".into()), "1.0".into()),
                (("c".into(), "all".into()), "3:1-2".into())
            ]
        );
        let half =
            "Package: a\nStatus: install ok half-configured\nArchitecture: amd64\nVersion: 1\n";
        assert_eq!(
            parse_status(half).expect_err("half-configured"),
            "package a is in state \"install ok half-configured\""
        );
        assert_eq!(dpkg_name("libc6", "amd64"), "libc6:amd64");
        assert_eq!(dpkg_name("tzdata", "all"), "tzdata");
    }
}
