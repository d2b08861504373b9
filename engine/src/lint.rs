//! Kernel arguments and sysctl keys that do nothing: checked when a variant is applied (and
//! when `txn kargs`/`txn sysctl` change them) against the kernel of the commit, as far as it
//! can be known offline ([`machine::KernelFacts`]), and sysctl names against the `/proc/sys`
//! of the running kernel. Findings are warnings: the transaction still goes ahead.

use machine::KernelFacts;
use std::collections::BTreeMap;
use std::path::Path;

/// One setting that does not do what it says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// `karg elevator=deadline` or `sysctl dev.cpu.dma_latency`.
    pub setting: String,
    pub problem: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.setting, self.problem)
    }
}

/// Dotted kernel arguments that are not kernel module parameters but read by user space
/// (systemd, udev, the initramfs, ostree) or by core kernel code under a dotted name.
const USER_SPACE_PREFIXES: &[&str] = &[
    "systemd",
    "rd",
    "udev",
    "plymouth",
    "luks",
    "vconsole",
    "locale",
    "fsck",
    "net",
    "ostree",
    "particle",
    "console",
    "module_blacklist",
    "modprobe",
    "resume",
    "apparmor",
    "selinux",
];

/// `intel_pstate=` values the 6.1 kernel accepts (Documentation/admin-guide/pm/intel_pstate.rst).
const INTEL_PSTATE: &[&str] = &[
    "disable",
    "active",
    "passive",
    "force",
    "no_hwp",
    "hwp_only",
    "support_acpi_ppc",
    "per_cpu_perf_limits",
];

/// The modules that dotted kernel arguments name (their `.ko` files are read for parameters).
pub fn modules_named(kargs: &[String]) -> Vec<&str> {
    kargs
        .iter()
        .filter_map(|k| k.split('=').next())
        .filter_map(|k| k.split_once('.').map(|(m, _)| m))
        .filter(|m| !USER_SPACE_PREFIXES.contains(m))
        .collect()
}

/// Checks kernel arguments against `kernel` (when the commit has one) and a few rules that hold
/// for every kernel since 5.0.
pub fn kargs(kernel: Option<&KernelFacts>, kargs: &[String]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut warn = |k: &str, problem: String| {
        out.push(Finding {
            setting: format!("karg {k}"),
            problem,
        })
    };
    let version = kernel.map_or("the kernel", |k| k.version.as_str());
    let has = |name: &str| kargs.iter().any(|k| k.split('=').next() == Some(name));
    for k in kargs {
        let (name, value) = k.split_once('=').unwrap_or((k, ""));
        match name {
            "elevator" => warn(
                k,
                "has no effect since Linux 5.0 (blk-mq): the scheduler is chosen per device \
                 (mq-deadline is already the default for single-queue disks; a udev rule \
                 setting ATTR{queue/scheduler} chooses another)"
                    .into(),
            ),
            "intel_pstate" if !INTEL_PSTATE.contains(&value) => warn(
                k,
                format!(
                    "{value:?} is not a value intel_pstate accepts ({}); for the performance \
                     governor use intel_pstate=passive cpufreq.default_governor=performance",
                    INTEL_PSTATE.join(", ")
                ),
            ),
            "hugepagesz" if !has("hugepages") => warn(
                k,
                "reserves nothing without hugepages=N after it (or a default_hugepagesz= with \
                 vm.nr_hugepages at run time)"
                    .into(),
            ),
            _ => {}
        }
        let Some(kernel) = kernel else { continue };
        let needs = match name {
            "intel_pstate" => Some("X86_INTEL_PSTATE"),
            "hugepagesz" | "hugepages" | "default_hugepagesz" => Some("HUGETLBFS"),
            "intel_iommu" => Some("INTEL_IOMMU"),
            "amd_iommu" => Some("AMD_IOMMU"),
            _ => None,
        };
        if let Some(option) = needs.filter(|o| !kernel.enabled(o)) {
            warn(k, format!("{version} is built without CONFIG_{option}"));
        }
        let Some((module, param)) = name.split_once('.') else {
            continue;
        };
        if USER_SPACE_PREFIXES.contains(&module) {
            continue;
        }
        if !kernel.has_module(module) {
            warn(
                k,
                format!("{version} has no module {module} (built in or loadable)"),
            );
        } else if let Some(params) = kernel.module_params(module) {
            if !params.contains(&machine::module_name(param)) {
                warn(
                    k,
                    format!("module {module} of {version} has no parameter {param}"),
                );
            }
        }
    }
    out
}

/// Checks the modules an initramfs must hold ([`materializer::INITRAMFS_MODULES_KEY`])
/// against `kernel`.
pub fn initramfs(
    kernel: Option<&KernelFacts>,
    settings: &BTreeMap<String, String>,
) -> Vec<Finding> {
    let (Some(kernel), Some(modules)) = (kernel, settings.get(materializer::INITRAMFS_MODULES_KEY))
    else {
        return Vec::new();
    };
    modules
        .split_whitespace()
        .filter(|m| !kernel.has_module(m))
        .map(|m| Finding {
            setting: format!("initramfs module {m}"),
            problem: format!(
                "{} has no module {m}: mkinitramfs will fail to add it",
                kernel.version
            ),
        })
        .collect()
}

/// Checks sysctl keys against `proc_sys` (the running kernel's `/proc/sys`; `running` names
/// it in the message). A key under `net.` may come from a module not loaded here, which the
/// message says.
pub fn sysctl(settings: &BTreeMap<String, String>, proc_sys: &Path, running: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    if !proc_sys.join("kernel").is_dir() {
        return out;
    }
    for key in settings.keys() {
        let rel = if key.contains('/') {
            key.clone()
        } else {
            key.replace('.', "/")
        };
        if proc_sys.join(&rel).exists() {
            continue;
        }
        let problem = if key == "dev.cpu.dma_latency" {
            "not a sysctl: /dev/cpu_dma_latency is a device that a process holds open to keep \
             the CPU latency bound (gamemode and tuned do this); systemd-sysctl logs an error \
             for it at every boot"
                .to_owned()
        } else if key.starts_with("net.") {
            format!(
                "the running kernel ({running}) has no /proc/sys/{rel}; a module that is not \
                 loaded here may add it, otherwise systemd-sysctl logs an error for it at boot"
            )
        } else {
            format!(
                "the running kernel ({running}) has no /proc/sys/{rel}: systemd-sysctl would \
                 log an error for it at every boot"
            )
        };
        out.push(Finding {
            setting: format!("sysctl {key}"),
            problem,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kernel() -> KernelFacts {
        machine::parse_facts(
            "6.1.0-50-amd64",
            "CONFIG_HUGETLBFS=y\nCONFIG_X86_INTEL_PSTATE=y\n",
            "kernel/drivers/cpufreq/cpufreq.ko\n",
            "cpufreq.parmtype=default_governor:string\0",
            "kernel/drivers/gpu/drm/i915/i915.ko:\n",
        )
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_seeds_dead_arguments_are_found_and_their_replacements_pass() {
        let mut k = kernel();
        k.params
            .insert("i915".into(), ["fastboot".to_owned()].into());
        let seed = strings(&[
            "elevator=deadline",
            "iommu=pt",
            "hugepagesz=1G",
            "intel_pstate=performance",
            "i915.fastboot=1",
            "i915.nosuch=1",
            "nvidia-drm.modeset=1",
            "systemd.unified_cgroup_hierarchy=1",
        ]);
        let found: Vec<String> = kargs(Some(&k), &seed)
            .iter()
            .map(|f| f.setting.clone())
            .collect();
        assert_eq!(
            found,
            [
                "karg elevator=deadline",
                "karg hugepagesz=1G",
                "karg intel_pstate=performance",
                "karg i915.nosuch=1",
                "karg nvidia-drm.modeset=1",
            ]
        );
        let fixed = strings(&[
            "iommu=pt",
            "default_hugepagesz=1G",
            "hugepagesz=1G",
            "hugepages=2",
            "intel_pstate=passive",
            "cpufreq.default_governor=performance",
            "i915.fastboot=1",
        ]);
        assert_eq!(kargs(Some(&k), &fixed), []);
        // Without a kernel only the rules that hold for every kernel apply.
        assert_eq!(kargs(None, &seed).len(), 3);
        let mut bare = kernel();
        bare.config.clear();
        assert!(kargs(Some(&bare), &fixed)
            .iter()
            .any(|f| f.problem.contains("CONFIG_HUGETLBFS")));
        assert_eq!(modules_named(&seed), ["i915", "i915", "nvidia-drm"]);
    }

    #[test]
    fn sysctl_keys_are_checked_against_proc_sys() {
        let dir = tempfile::tempdir().expect("tempdir");
        for d in ["kernel", "vm", "net/core"] {
            std::fs::create_dir_all(dir.path().join(d)).expect("mkdir");
        }
        for f in ["kernel/printk", "vm/swappiness", "net/core/rmem_max"] {
            std::fs::write(dir.path().join(f), "").expect("write");
        }
        let settings: BTreeMap<String, String> = [
            "kernel.printk",
            "vm.swappiness",
            "net.core.rmem_max",
            "dev.cpu.dma_latency",
            "net.bridge.bridge-nf-call-iptables",
            "vm.no_such_knob",
        ]
        .iter()
        .map(|k| ((*k).to_owned(), "1".to_owned()))
        .collect();
        let found = sysctl(&settings, dir.path(), "6.1.0-50-amd64");
        let keys: Vec<&str> = found.iter().map(|f| f.setting.as_str()).collect();
        assert_eq!(
            keys,
            [
                "sysctl dev.cpu.dma_latency",
                "sysctl net.bridge.bridge-nf-call-iptables",
                "sysctl vm.no_such_knob"
            ]
        );
        assert!(found[0].problem.contains("device"));
        assert!(found[1].problem.contains("module"));
        // No /proc/sys to compare with (a container without one): nothing is claimed.
        assert_eq!(sysctl(&settings, &dir.path().join("none"), "x"), []);
    }
}
