//! What a commit's kernel knows, read offline from `/usr/lib/modules/$kver/`: its build
//! configuration (`config`), its built-in modules and their parameters (`modules.builtin`,
//! `modules.builtin.modinfo`) and its loadable modules (`modules.dep`), whose parameters are
//! read from the `.modinfo` strings of the `.ko` files asked for.

use crate::Result;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A kernel as [`kernel_facts`] reads it. Module and parameter names use `_` for `-`, as the
/// kernel compares them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelFacts {
    pub version: String,
    /// `CONFIG_X` → `y`, `m` or a value (options that are not set are absent).
    pub config: BTreeMap<String, String>,
    /// Built-in modules.
    pub builtin: BTreeSet<String>,
    /// Loadable modules → their path under `/usr/lib/modules/$kver/`.
    pub loadable: BTreeMap<String, String>,
    /// Parameters of the built-in modules and of the loadable ones that were asked for.
    pub params: BTreeMap<String, BTreeSet<String>>,
}

impl KernelFacts {
    /// Whether the kernel has module `name` (built in or loadable).
    pub fn has_module(&self, name: &str) -> bool {
        let n = module_name(name);
        // Core code declares parameters under a module name too (`cpufreq.default_governor`):
        // modules.builtin.modinfo has them although modules.builtin does not list it.
        self.builtin.contains(&n) || self.loadable.contains_key(&n) || self.params.contains_key(&n)
    }

    /// The parameters of module `name`, if known.
    pub fn module_params(&self, name: &str) -> Option<&BTreeSet<String>> {
        self.params.get(&module_name(name))
    }

    /// Whether `CONFIG_<option>` is `y` or `m`.
    pub fn enabled(&self, option: &str) -> bool {
        matches!(self.config.get(option).map(String::as_str), Some("y" | "m"))
    }
}

/// A module or parameter name as the kernel compares it (`-` and `_` are the same).
pub fn module_name(name: &str) -> String {
    name.replace('-', "_")
}

/// The first kernel of `commit` (none: the commit has no kernel), with the parameters of the
/// loadable modules in `modules` read from their `.ko` files.
pub fn kernel_facts(repo: &Path, commit: &str, modules: &[&str]) -> Result<Option<KernelFacts>> {
    let Some((version, _)) = crate::kernels(repo, commit)?.into_iter().next() else {
        return Ok(None);
    };
    let read = |name: &str| {
        crate::read_commit_file(repo, commit, &format!("usr/lib/modules/{version}/{name}"))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    let mut facts = parse_facts(
        &version,
        &read("config"),
        &read("modules.builtin"),
        &read("modules.builtin.modinfo"),
        &read("modules.dep"),
    );
    for m in modules {
        let m = module_name(m);
        if let Some(path) = facts.loadable.get(&m) {
            let ko = crate::read_commit_file(
                repo,
                commit,
                &format!("usr/lib/modules/{version}/{path}"),
            )?;
            facts.params.insert(m, ko_params(&ko));
        }
    }
    Ok(Some(facts))
}

/// [`KernelFacts`] from the text of the kernel's files.
pub fn parse_facts(
    version: &str,
    config: &str,
    builtin: &str,
    builtin_modinfo: &str,
    modules_dep: &str,
) -> KernelFacts {
    let config = config
        .lines()
        .filter_map(|l| l.strip_prefix("CONFIG_"))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
        .collect();
    let stem = |path: &str| {
        let file = path.rsplit('/').next().unwrap_or(path);
        let file = file.split(".ko").next().unwrap_or(file);
        module_name(file)
    };
    let builtin = builtin
        .lines()
        .filter(|l| !l.is_empty())
        .map(stem)
        .collect();
    let loadable = modules_dep
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(path, _)| (stem(path), path.to_owned()))
        .collect();
    let mut params: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in builtin_modinfo.split('\0') {
        // `module.parmtype=name:type`
        let Some((module, rest)) = entry.split_once('.') else {
            continue;
        };
        if let Some(p) = rest.strip_prefix("parmtype=") {
            let name = p.split(':').next().unwrap_or(p);
            params
                .entry(module_name(module))
                .or_default()
                .insert(module_name(name));
        }
    }
    KernelFacts {
        version: version.to_owned(),
        config,
        builtin,
        loadable,
        params,
    }
}

/// The parameters a `.ko` declares: its `.modinfo` strings `parmtype=name:type` (and
/// `parm=name:description`), found by scanning the file, which also works for a file
/// whose sections this code does not parse.
pub fn ko_params(ko: &[u8]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in ko.split(|&b| b == 0) {
        for prefix in [&b"parmtype="[..], b"parm="] {
            if let Some(rest) = s.strip_prefix(prefix) {
                let name = rest.split(|&b| b == b':').next().unwrap_or(rest);
                if let Ok(name) = std::str::from_utf8(name) {
                    if !name.is_empty() {
                        out.insert(module_name(name));
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_come_from_the_kernels_files() {
        let f = parse_facts(
            "6.1.0-50-amd64",
            "# comment\nCONFIG_HUGETLBFS=y\nCONFIG_X86_INTEL_PSTATE=y\nCONFIG_DRM_I915=m\nCONFIG_LOCALVERSION=\"\"\n# CONFIG_FOO is not set\n",
            "kernel/drivers/cpufreq/cpufreq.ko\nkernel/mm/hugetlb.ko\n",
            "cpufreq.parmtype=default_governor:charp\0cpufreq.parm=default_governor:x\0hugetlb.file=mm/hugetlb\0",
            "kernel/drivers/gpu/drm/i915/i915.ko: kernel/drivers/gpu/drm/drm.ko\nkernel/net/bridge/br-netfilter.ko:\n",
        );
        assert!(f.enabled("HUGETLBFS") && f.enabled("DRM_I915") && !f.enabled("FOO"));
        assert!(f.has_module("cpufreq") && f.has_module("i915") && f.has_module("br_netfilter"));
        assert!(f.has_module("br-netfilter") && !f.has_module("nvidia_drm"));
        assert!(f
            .module_params("cpufreq")
            .expect("params")
            .contains("default_governor"));
        assert_eq!(f.loadable["i915"], "kernel/drivers/gpu/drm/i915/i915.ko");
        let ko = b"\x7fELF junk\0parmtype=fastboot:int\0parm=fastboot:Try to skip\0license=GPL\0";
        assert_eq!(ko_params(ko), BTreeSet::from(["fastboot".to_owned()]));
    }
}
