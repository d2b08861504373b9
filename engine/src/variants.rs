//! Variants as code: definition files (`variants/*.toml`), `variant apply`, `variant rebase`,
//! `compose`, and the hardware rules that `txn hardware` evaluates.
//!
//! A definition says what a variant adds to its parent: packages, kernel arguments,
//! initramfs-tools settings, sysctl and hardware rules. Applying it reconciles the variant's state
//! with it in one `apply` record that carries the definition (canonical JSON), so the journal
//! stays the authority: the next apply, a hardware event and `compose` read it back from there.
//! See docs/variants.md for the format and the semantics.

use crate::pinned::PinnedView;
use crate::session::Session;
use crate::txn::{query_err, solve_state, Observer, Plan};
use crate::{Error, ErrorKind, Result};
use journal::query::ProfileChange;
use journal::{Provenance, Record, Request, State, Value};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A variant definition, as written in `variants/NAME.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub name: String,
    /// The variant this one inherits from (none for a root such as `base`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub packages: Packages,
    /// Kernel arguments this variant adds to its parent's.
    #[serde(default)]
    pub kargs: Vec<String>,
    #[serde(default, deserialize_with = "scalar_map")]
    pub initramfs: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "scalar_map")]
    pub sysctl: BTreeMap<String, String>,
    /// `[[hardware]]` rules: detected hardware → packages and kernel arguments.
    #[serde(default, rename = "hardware")]
    pub rules: Vec<Rule>,
    /// Architectures the variant installs packages of (`["amd64", "i386"]`), inherited by its
    /// children; the native one is always included. Empty: every architecture the sources
    /// carry (`repo add --arch`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub architectures: Vec<String>,
    /// Kernel modules the variant's initramfs must hold and load (GPU drivers for early KMS,
    /// storage drivers for the root), added to the parent's; recorded in the profile's
    /// initramfs settings under [`materializer::INITRAMFS_MODULES_KEY`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub initramfs_modules: Vec<String>,
    /// initramfs-tools hooks the variant adds: name → script (`#!/bin/sh` …), written to
    /// `/usr/share/initramfs-tools/hooks/particle-variant-NAME` and run by mkinitramfs in the
    /// build's sandbox like a package's hook; recorded under
    /// [`materializer::INITRAMFS_HOOK_KEY`]`NAME`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub initramfs_hooks: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Packages {
    #[serde(default)]
    pub install: Vec<String>,
    #[serde(default)]
    pub remove: Vec<String>,
    /// Also install what the packages recommend (default: no, images stay lean).
    #[serde(default)]
    pub recommends: bool,
}

/// When the hardware profile matches, add packages, kernel arguments, sysctl settings and
/// initramfs modules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    #[serde(rename = "match")]
    pub when: Match,
    #[serde(default)]
    pub kargs: Vec<String>,
    #[serde(default)]
    pub packages: Vec<String>,
    /// sysctl settings the rule adds (removed again when it stops matching).
    #[serde(
        default,
        deserialize_with = "scalar_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub sysctl: BTreeMap<String, String>,
    /// Kernel modules the rule puts into the initramfs ([`Definition::initramfs_modules`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub initramfs_modules: Vec<String>,
}

/// Every condition given must hold; the `pci_*` ones for one and the same device. Ids are hex,
/// with or without `0x`, in any case; `pci_class` matches as a prefix (`03` = any display
/// controller, `0300` = VGA).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pci_vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pci_device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pci_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_flag: Option<String>,
    /// A block device kind: `nvme`, `sata`, `virtio`, `mmc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_driver: Option<String>,
    /// A sound card id (`/sys/class/sound/card*/id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<String>,
}

/// sysctl and initramfs values may be written as TOML strings, integers or booleans; they are
/// kept as the strings the files will contain. Floats are refused (no canonical spelling).
fn scalar_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Str(String),
        Int(i64),
        Bool(bool),
    }
    let raw = BTreeMap::<String, Scalar>::deserialize(d)?;
    Ok(raw
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Scalar::Str(s) => s,
                Scalar::Int(i) => i.to_string(),
                Scalar::Bool(b) => if b { "y" } else { "n" }.to_owned(),
            };
            (k, v)
        })
        .collect())
}

/// What a definition puts in force for a given hardware profile.
#[derive(Debug, Default, PartialEq, Eq)]
struct Effects {
    kargs: Vec<String>,
    packages: Vec<String>,
    /// The matching rules' sysctl settings and initramfs modules (the unconditional ones are
    /// merged as maps by [`Reconcile`]).
    sysctl: BTreeMap<String, String>,
    modules: Vec<String>,
}

impl Effects {
    /// Moves `profile` from the rule effects `before` to `self`: sysctl keys a rule no longer
    /// sets go (unless set to another value since), new ones come; initramfs modules likewise.
    fn apply_rules(&self, before: &Effects, profile: &mut journal::Profile) {
        for (k, v) in &before.sysctl {
            if !self.sysctl.contains_key(k) && profile.sysctl.get(k) == Some(v) {
                profile.sysctl.remove(k);
            }
        }
        profile.sysctl.extend(self.sysctl.clone());
        let key = materializer::INITRAMFS_MODULES_KEY;
        let mut modules: Vec<String> = profile
            .initramfs
            .get(key)
            .map(|m| m.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        modules.retain(|m| !before.modules.contains(m) || self.modules.contains(m));
        for m in &self.modules {
            push_unique(&mut modules, m);
        }
        if modules.is_empty() {
            profile.initramfs.remove(key);
        } else {
            profile.initramfs.insert(key.to_owned(), modules.join(" "));
        }
    }
}

fn push_unique(v: &mut Vec<String>, x: &str) {
    if !v.iter().any(|y| y == x) {
        v.push(x.to_owned());
    }
}

impl Definition {
    /// Reads and checks a definition file.
    pub fn load(path: &Path) -> Result<Definition> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("could not read {}: {e}", path.display()),
            )
        })?;
        let mut def: Definition = toml::from_str(&text).map_err(|e| {
            let at = e.span().map_or(String::new(), |s| {
                let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                format!(" (line {line})")
            });
            Error::new(
                ErrorKind::BadDefinition,
                format!("{}{at}: {}", path.display(), e.message().trim_end()),
            )
        })?;
        def.check().map_err(|m| {
            Error::new(ErrorKind::BadDefinition, format!("{}: {m}", path.display()))
        })?;
        def.normalize();
        Ok(def)
    }

    /// Reads a definition back from an `apply` record.
    fn from_record(r: &Record) -> Option<Definition> {
        match &r.request {
            Request::Apply { definition, .. } => serde_json::from_str(definition).ok(),
            _ => None,
        }
    }

    /// The canonical JSON the journal records (field order fixed, maps sorted).
    fn canonical(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn check(&self) -> Result<(), String> {
        if !journal::query::valid_variant_name(&self.name) {
            return Err(format!("{:?} is not a valid variant name", self.name));
        }
        if let Some(p) = &self.parent {
            if !journal::query::valid_variant_name(p) {
                return Err(format!("parent {p:?} is not a valid variant name"));
            }
            if *p == self.name {
                return Err("a variant cannot be its own parent".into());
            }
        }
        let word = |what: &str, w: &str| -> Result<(), String> {
            if w.is_empty() || w.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!("{what} {w:?} is empty or contains whitespace"));
            }
            Ok(())
        };
        let package = |w: &str| -> Result<(), String> {
            word("package", w)?;
            if w.contains('=') {
                return Err(format!(
                    "package {w:?}: definitions name packages without versions (the pinned archive decides)"
                ));
            }
            Ok(())
        };
        for p in self.packages.install.iter().chain(&self.packages.remove) {
            package(p)?;
        }
        if let Some(p) = self
            .packages
            .install
            .iter()
            .find(|p| self.packages.remove.contains(p))
        {
            return Err(format!("package {p:?} is both installed and removed"));
        }
        for k in &self.kargs {
            word("kernel argument", k)?;
        }
        let rule_sysctl = self.rules.iter().flat_map(|r| &r.sysctl);
        for (k, v) in self.sysctl.iter().chain(rule_sysctl) {
            word("sysctl key", k)?;
            if k.contains('=') || v.contains('\n') || v.is_empty() {
                return Err(format!("sysctl {k:?} = {v:?} is not a valid setting"));
            }
        }
        for (name, script) in &self.initramfs_hooks {
            let ok_name = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !ok_name {
                return Err(format!(
                    "initramfs hook {name:?}: a name of lower-case letters, digits and -"
                ));
            }
            if !script.starts_with("#!") || script.contains('\0') {
                return Err(format!(
                    "initramfs hook {name:?}: a script starting with #! (e.g. #!/bin/sh)"
                ));
            }
        }
        let rule_modules = self.rules.iter().flat_map(|r| &r.initramfs_modules);
        for m in self.initramfs_modules.iter().chain(rule_modules) {
            word("initramfs module", m)?;
        }
        for (k, v) in &self.initramfs {
            if k.is_empty()
                || !k
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(format!(
                    "initramfs key {k:?} is not an initramfs-tools variable (A-Z, 0-9, _)"
                ));
            }
            if v.is_empty() || v.contains(['\n', '"', '\'', '`', '$', '\\']) {
                return Err(format!("initramfs {k} = {v:?} is not a plain value"));
            }
        }
        let mut names = BTreeSet::new();
        for r in &self.rules {
            if r.name.trim().is_empty() || !names.insert(r.name.as_str()) {
                return Err(format!(
                    "hardware rule {:?}: every rule needs its own name",
                    r.name
                ));
            }
            if r.when == Match::default() {
                return Err(format!(
                    "hardware rule {:?} matches nothing: give `match` at least one condition",
                    r.name
                ));
            }
            if r.kargs.is_empty()
                && r.packages.is_empty()
                && r.sysctl.is_empty()
                && r.initramfs_modules.is_empty()
            {
                return Err(format!("hardware rule {:?} adds nothing", r.name));
            }
            for k in &r.kargs {
                word("kernel argument", k)?;
            }
            for p in &r.packages {
                package(p)?;
            }
        }
        Ok(())
    }

    /// Ids to lower-case hex without `0x`, so that matching and the recorded text are canonical.
    fn normalize(&mut self) {
        for r in &mut self.rules {
            for id in [
                &mut r.when.pci_vendor,
                &mut r.when.pci_device,
                &mut r.when.pci_class,
            ]
            .into_iter()
            .flatten()
            {
                *id = hex(id);
            }
        }
    }

    /// The kernel arguments and packages in force on hardware `hw`: the unconditional ones, then
    /// each matching rule's, in order, without repeats.
    fn effects(&self, hw: &Value) -> Effects {
        let mut e = Effects::default();
        for k in &self.kargs {
            push_unique(&mut e.kargs, k);
        }
        for p in &self.packages.install {
            push_unique(&mut e.packages, p);
        }
        for r in self.rules.iter().filter(|r| r.when.matches(hw)) {
            for k in &r.kargs {
                push_unique(&mut e.kargs, k);
            }
            for p in &r.packages {
                push_unique(&mut e.packages, p);
            }
            e.sysctl.extend(r.sysctl.clone());
            for m in &r.initramfs_modules {
                push_unique(&mut e.modules, m);
            }
        }
        e
    }

    fn matching_rules(&self, hw: &Value) -> Vec<&str> {
        self.rules
            .iter()
            .filter(|r| r.when.matches(hw))
            .map(|r| r.name.as_str())
            .collect()
    }
}

fn hex(s: &str) -> String {
    let s = s.trim();
    s.strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s)
        .to_ascii_lowercase()
}

fn field<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    match v {
        Value::Map(m) => m.get(key),
        _ => None,
    }
}

fn items(v: Option<&Value>) -> &[Value] {
    match v {
        Some(Value::List(l)) => l,
        _ => &[],
    }
}

fn text(v: Option<&Value>) -> Option<&str> {
    match v {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    }
}

impl Match {
    /// Whether the hardware profile (as `txn hardware` records it) satisfies every condition.
    fn matches(&self, hw: &Value) -> bool {
        let pci_wanted =
            self.pci_vendor.is_some() || self.pci_device.is_some() || self.pci_class.is_some();
        let pci_ok = !pci_wanted
            || items(field(hw, "pci")).iter().any(|d| {
                let id = |k: &str| text(field(d, k)).map(hex).unwrap_or_default();
                self.pci_vendor.as_ref().is_none_or(|v| id("vendor") == *v)
                    && self.pci_device.as_ref().is_none_or(|v| id("device") == *v)
                    && self
                        .pci_class
                        .as_ref()
                        .is_none_or(|c| id("class").starts_with(c.as_str()))
            });
        let cpu = field(hw, "cpu");
        let cpu_ok = self
            .cpu_vendor
            .as_ref()
            .is_none_or(|v| cpu.and_then(|c| text(field(c, "vendor"))) == Some(v.as_str()))
            && self.cpu_flag.as_ref().is_none_or(|f| {
                items(cpu.and_then(|c| field(c, "flags")))
                    .iter()
                    .any(|x| text(Some(x)) == Some(f.as_str()))
            });
        let any_with = |list: &str, key: Option<&str>, want: &Option<String>| {
            want.as_ref().is_none_or(|w| {
                items(field(hw, list)).iter().any(|x| {
                    let v = match key {
                        Some(k) => text(field(x, k)),
                        None => text(Some(x)),
                    };
                    v == Some(w.as_str())
                })
            })
        };
        pci_ok
            && cpu_ok
            && any_with("storage", Some("kind"), &self.storage)
            && any_with("network", Some("driver"), &self.network_driver)
            && any_with("audio", None, &self.audio)
    }
}

/// The packages an `apply` record's definition asks for: its own and its rules' (for `why`).
pub fn requested_by_definition(r: &Record) -> Vec<String> {
    let Some(d) = Definition::from_record(r) else {
        return Vec::new();
    };
    let mut names = d.packages.install.clone();
    for rule in &d.rules {
        for p in &rule.packages {
            push_unique(&mut names, p);
        }
    }
    names
}

/// The description the variant's definition gives it for transaction `seq` with `request`:
/// the definition that request applies, else the latest one the variant was applied with
/// before `seq` (its own records only). Read from the journal alone, so a replay finds the same.
pub fn description_at(
    h: &journal::History<'_>,
    variant: &str,
    seq: u64,
    request: &Request,
) -> Option<String> {
    definition_at(h, variant, seq, request).map(|d| d.description)
}

/// The definition in force for transaction `seq` of `variant` with `request`: the one it
/// applies, else the variant's last one before it.
fn definition_at(
    h: &journal::History<'_>,
    variant: &str,
    seq: u64,
    request: &Request,
) -> Option<Definition> {
    if let Request::Apply { definition, .. } = request {
        return serde_json::from_str::<Definition>(definition).ok();
    }
    h.lineage(variant, Some(seq.saturating_sub(1)))
        .ok()?
        .iter()
        .rev()
        .filter(|r| r.variant == variant)
        .find_map(|r| Definition::from_record(r))
}

/// The foreign architectures a transaction's tree must know ([`Definition::architectures`]):
/// those of the definition it applies (else the variant's last one before it) and of its
/// parent's definitions up to the transaction it is built on (`base`). From the journal alone,
/// so that a replay gives the same; empty when nothing declares any.
pub fn architectures_at(
    h: &journal::History<'_>,
    variant: &str,
    seq: u64,
    request: &Request,
    base: Option<&journal::Provenance>,
) -> Vec<String> {
    let own = definition_at(h, variant, seq, request);
    let parents = base
        .and_then(|b| h.record(b.seq))
        .map(|r| definitions_at(h, r))
        .unwrap_or_default();
    foreign_architectures(parents.iter().chain(own.as_ref()))
}

/// The declared architectures of `defs` other than the native one, sorted, once each.
pub(crate) fn foreign_architectures<'d>(defs: impl Iterator<Item = &'d Definition>) -> Vec<String> {
    let native = store::native_architecture();
    let mut archs: Vec<String> = defs
        .flat_map(|d| d.architectures.iter().cloned())
        .filter(|a| a != native)
        .collect();
    archs.sort();
    archs.dedup();
    archs
}

/// The foreign architectures a machine's variant declares (from the definitions the machine
/// keeps, [`write_machine_definitions`]).
pub(crate) fn machine_architectures(root: &Path) -> Result<Vec<String>> {
    Ok(foreign_architectures(machine_definitions(root)?.iter()))
}

/// The latest definition `variant` was applied with (its own records only).
fn last_definition(h: &journal::History<'_>, variant: &str) -> Option<Definition> {
    let head = h.head(variant)?;
    h.lineage(variant, Some(head.seq))
        .ok()?
        .iter()
        .rev()
        .filter(|r| r.variant == variant)
        .find_map(|r| Definition::from_record(r))
}

impl Definition {
    /// The initramfs settings the definition asks for, its modules (after `inherited`, the
    /// parent's, each once) under [`materializer::INITRAMFS_MODULES_KEY`].
    fn initramfs_settings(&self, inherited: Option<&String>) -> BTreeMap<String, String> {
        let mut settings = self.initramfs.clone();
        if !self.initramfs_modules.is_empty() {
            let mut modules: Vec<&str> = inherited
                .map(|s| s.split_whitespace().collect())
                .unwrap_or_default();
            for m in &self.initramfs_modules {
                if !modules.contains(&m.as_str()) {
                    modules.push(m);
                }
            }
            settings.insert(
                materializer::INITRAMFS_MODULES_KEY.to_owned(),
                modules.join(" "),
            );
        }
        for (name, script) in &self.initramfs_hooks {
            let key = format!("{}{name}", materializer::INITRAMFS_HOOK_KEY);
            settings.insert(key, script.clone());
        }
        settings
    }
}

/// The architectures `variant` declares with its ancestors ([`Definition::architectures`],
/// with `def` in place of its recorded definition when given), or `None` when none declares any.
pub(crate) fn declared_architectures(
    h: &journal::History<'_>,
    variant: &str,
    def: Option<&Definition>,
) -> Option<Vec<String>> {
    let mut chain = definition_chain(h, def.and_then(|d| d.parent.as_deref()).unwrap_or(variant));
    if def.is_some_and(|d| d.parent.is_none()) {
        chain.clear();
    }
    chain.extend(def.cloned());
    let mut archs: Vec<String> = chain.into_iter().flat_map(|d| d.architectures).collect();
    archs.sort();
    archs.dedup();
    (!archs.is_empty()).then_some(archs)
}

/// The definitions in force at `record` (root first): those of its lineage up to it, then its
/// parent's up to the transaction it was built on, and so on.
pub(crate) fn definitions_at(h: &journal::History<'_>, record: &Record) -> Vec<Definition> {
    let mut chain = Vec::new();
    let mut at = Some((record.variant.clone(), record.seq));
    let mut seen = BTreeSet::new();
    while let Some((variant, seq)) = at.take() {
        if !seen.insert(variant.clone()) {
            break;
        }
        if let Ok(lineage) = h.lineage(&variant, Some(seq)) {
            if let Some(d) = lineage
                .iter()
                .rev()
                .filter(|r| r.variant == variant)
                .find_map(|r| Definition::from_record(r))
            {
                chain.push(d);
            }
        }
        at = h
            .record(seq)
            .and_then(|r| r.base.as_ref())
            .map(|b| (b.variant.clone(), b.seq));
    }
    chain.reverse();
    chain
}

/// Where a machine keeps the definitions of the variant it runs (from the build host's or the
/// published journal, written at deploy and upgrade): its hardware rules need them, and the
/// machine's own journal has no `apply` records.
const MACHINE_DEFINITIONS: &str = "definitions.json";

/// Writes `defs` as the machine's definitions (state directory `root`).
pub(crate) fn write_machine_definitions(root: &Path, defs: &[Definition]) -> Result<()> {
    let path = root.join(MACHINE_DEFINITIONS);
    let json = serde_json::to_vec_pretty(defs).expect("definitions serialize");
    store::write_atomic(&path, &json).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("could not write {}: {e}", path.display()),
        )
    })
}

/// The machine's definitions (none before the first deploy that wrote them).
fn machine_definitions(root: &Path) -> Result<Vec<Definition>> {
    let path = root.join(MACHINE_DEFINITIONS);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            Error::new(
                ErrorKind::MachineState,
                format!("{} does not parse: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::new(
            ErrorKind::Io,
            format!("{}: {e}", path.display()),
        )),
    }
}

/// The definitions in force for `variant`: its ancestors' (root first), then its own.
fn definition_chain(h: &journal::History<'_>, variant: &str) -> Vec<Definition> {
    let mut chain = Vec::new();
    let mut v = variant.to_owned();
    let mut seen = BTreeSet::new();
    while seen.insert(v.clone()) {
        let Some(head) = h.head(&v) else { break };
        if let Some(d) = last_definition(h, &v) {
            chain.push(d);
        }
        match &head.base {
            Some(b) => v = b.variant.clone(),
            None => break,
        }
    }
    chain.reverse();
    chain
}

/// The package and profile changes that take `state` from what `prev` put in force to what
/// `def` puts in force, on hardware `hw`. `parent` is the state the variant inherits from:
/// what it has is inherited, not the definition's, so dropping it from the definition keeps it.
struct Reconcile<'a> {
    def: &'a Definition,
    prev: Option<&'a Definition>,
    parent: Option<&'a State>,
}

impl Reconcile<'_> {
    /// Applies the profile part to `state`; returns the packages to install and to remove.
    fn profile(&self, state: &mut State) -> (Vec<String>, Vec<String>) {
        let hw = state.profile.hardware.clone();
        let now = self.def.effects(&hw);
        let before = self.prev.map(|p| p.effects(&hw)).unwrap_or_default();
        let inherited_karg = |k: &String| self.parent.is_some_and(|p| p.profile.kargs.contains(k));
        let dropped: Vec<&String> = before
            .kargs
            .iter()
            .filter(|k| !now.kargs.contains(k) && !inherited_karg(k))
            .collect();
        state.profile.kargs.retain(|k| !dropped.contains(&k));
        for k in &now.kargs {
            push_unique(&mut state.profile.kargs, k);
        }
        let key = materializer::INITRAMFS_MODULES_KEY;
        let inherited = self.parent.and_then(|p| p.profile.initramfs.get(key));
        let initramfs = self.def.initramfs_settings(inherited);
        let prev_initramfs = self.prev.map(|p| p.initramfs_settings(None));
        let maps = [
            (
                &self.def.sysctl,
                self.prev.map(|p| &p.sysctl),
                self.parent.map(|p| &p.profile.sysctl),
                &mut state.profile.sysctl,
            ),
            (
                &initramfs,
                prev_initramfs.as_ref(),
                self.parent.map(|p| &p.profile.initramfs),
                &mut state.profile.initramfs,
            ),
        ];
        for (want, prev, parent, map) in maps {
            for k in prev.into_iter().flat_map(|m| m.keys()) {
                if !want.contains_key(k) {
                    match parent.and_then(|p| p.get(k)) {
                        Some(v) => map.insert(k.clone(), v.clone()),
                        None => map.remove(k),
                    };
                }
            }
            for (k, v) in want {
                map.insert(k.clone(), v.clone());
            }
        }
        now.apply_rules(&before, &mut state.profile);
        let inherited_pkg = |n: &str| {
            self.parent
                .is_some_and(|p| p.packages.iter().any(|e| e.name == n))
        };
        let mut remove: Vec<String> = self.def.packages.remove.clone();
        for p in &before.packages {
            if !now.packages.contains(p) && !inherited_pkg(p) {
                push_unique(&mut remove, p);
            }
        }
        (now.packages, remove)
    }
}

/// `state` with `install` present and `remove` absent; the solver runs only if that changes
/// something, so a state that already satisfies the definition stays bit for bit the same.
fn packages(
    pinned: &PinnedView<'_>,
    state: State,
    install: &[String],
    remove: &[String],
    recommends: bool,
) -> Result<State> {
    let has = |n: &str| state.packages.iter().any(|p| p.name == n);
    let install: Vec<String> = install.iter().filter(|n| !has(n)).cloned().collect();
    let remove: Vec<String> = remove.iter().filter(|n| has(n)).cloned().collect();
    if install.is_empty() && remove.is_empty() {
        return Ok(state);
    }
    let request = solver::Request {
        install,
        remove,
        upgrade: false,
        no_recommends: !recommends,
    };
    solve_state(pinned, &state, &request)
}

/// `child`'s own changes (its head against the parent state it was built on) replayed onto
/// `parent_head`'s state: the parent's packages and profile, then the child's added, removed
/// and changed packages (a package both changed, the parent's version wins), kernel arguments
/// added and removed, sysctl, initramfs and hardware settings. The solver then restores any
/// dependency the combination needs.
fn rebased(
    pinned: &PinnedView<'_>,
    h: &journal::History<'_>,
    child: &Record,
    parent_head: &Record,
) -> Result<State> {
    let b = child.base.as_ref().ok_or_else(|| {
        Error::new(
            ErrorKind::NotAChild,
            format!("variant {} has no parent to rebase on", child.variant),
        )
    })?;
    let old_parent = &h.state_at(&b.variant, b.seq).map_err(query_err)?.state;
    let layer = journal::diff(old_parent, &child.state);
    let new_parent: &State = &parent_head.state;
    let mut s = new_parent.clone();
    for ch in &layer.profile {
        match ch {
            ProfileChange::Kargs { added, removed, .. } => {
                s.profile.kargs.retain(|k| !removed.contains(k));
                for k in added {
                    push_unique(&mut s.profile.kargs, k);
                }
            }
            ProfileChange::Initramfs { key, to, .. } => {
                set_or_remove(&mut s.profile.initramfs, key, to)
            }
            ProfileChange::Sysctl { key, to, .. } => set_or_remove(&mut s.profile.sysctl, key, to),
            ProfileChange::Hardware { to, .. } => s.profile.hardware = to.clone(),
        }
    }
    if layer.added.is_empty() && layer.removed.is_empty() && layer.changed.is_empty() {
        return Ok(s);
    }
    let key = |n: &str, a: &str| (n.to_owned(), a.to_owned());
    let mut set: BTreeMap<(String, String), journal::PackageEntry> = s
        .packages
        .iter()
        .map(|p| (key(&p.name, &p.arch), p.clone()))
        .collect();
    let version_in = |st: &State, n: &str, a: &str| {
        st.packages
            .iter()
            .find(|p| p.name == n && p.arch == a)
            .map(|p| p.version.clone())
    };
    for p in &layer.added {
        set.entry(key(&p.name, &p.arch))
            .or_insert_with(|| p.clone());
    }
    for c in &layer.changed {
        if version_in(old_parent, &c.name, &c.arch) == version_in(new_parent, &c.name, &c.arch) {
            set.insert(
                key(&c.name, &c.arch),
                journal::PackageEntry {
                    name: c.name.clone(),
                    version: c.to.clone(),
                    arch: c.arch.clone(),
                    sha256: c.to_sha256,
                },
            );
        }
    }
    for p in &layer.removed {
        set.remove(&key(&p.name, &p.arch));
    }
    s.packages = set.into_values().collect();
    let request = solver::Request {
        install: layer.added.iter().map(|p| p.name.clone()).collect(),
        remove: Vec::new(),
        upgrade: false,
        no_recommends: true,
    };
    let solved = solve_state(pinned, &s, &request)?;
    // The solver keeps what it can; a package the child removed must stay removed.
    if let Some(p) = layer
        .removed
        .iter()
        .find(|p| solved.packages.iter().any(|q| q.name == p.name))
    {
        return Err(Error::new(
            ErrorKind::RebaseConflict,
            format!(
                "{} removed {} but {}'s new head needs it",
                child.variant, p.name, b.variant
            ),
        )
        .hint(format!(
            "install {} in {} again, or remove what needs it from {}",
            p.name, child.variant, b.variant
        )));
    }
    Ok(solved)
}

fn set_or_remove(m: &mut BTreeMap<String, String>, key: &str, to: &Option<String>) {
    match to {
        Some(v) => m.insert(key.to_owned(), v.clone()),
        None => m.remove(key),
    };
}

fn provenance(r: &Record) -> Provenance {
    Provenance {
        variant: r.variant.clone(),
        seq: r.seq,
        txn: r.id,
    }
}

impl Session {
    /// Sets up particle's own package as a source when one of `defs` installs it
    /// ([`crate::own_package`]).
    pub fn offer_own_package(&mut self, defs: &[Definition], obs: &dyn Observer) -> Result<()> {
        let names = defs
            .iter()
            .flat_map(|d| d.packages.install.iter().map(String::as_str));
        if crate::own_package::wanted(names) {
            self.ensure_own_package(false, obs)?;
        }
        Ok(())
    }

    /// Plans applying `def` to its variant. With `follow_parent` (as in `compose`), a child
    /// whose parent has moved is rebased onto the parent's head in the same record; otherwise it
    /// stays on the parent transaction it was built on. A variant without a parent that nothing
    /// declared yet is declared here.
    pub(crate) fn plan_apply(
        &mut self,
        def: &Definition,
        file: &str,
        follow_parent: bool,
    ) -> Result<Plan> {
        self.load_pinned()?;
        let h = self.journal.history();
        let pinned = self.pinned.as_ref().expect("loaded").view()?;
        // An architecture no source carries would leave packages unfindable: refused here.
        for a in &def.architectures {
            let carried =
                a == store::native_architecture() || pinned.source_architectures().contains(a);
            if !carried {
                return Err(Error::new(
                    ErrorKind::BadDefinition,
                    format!("{}: architecture {a} is carried by no pinned source", def.name),
                )
                .hint(format!("add it to a source: `particle repo add ... --arch {a}`, then `particle repo update`")));
            }
        }
        let pinned =
            pinned.with_architectures(declared_architectures(&h, &def.name, Some(def)).as_deref());
        let head = h.head(&def.name).cloned();
        let declared = crate::state::variants(&self.state)?.contains(&def.name);
        let parent_head = match &def.parent {
            Some(p) => Some(
                h.head(p)
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::UnknownVariant,
                            format!("{}'s parent {p:?} has no transactions yet", def.name),
                        )
                        .hint(format!(
                            "apply {p}'s definition first, or run `particle compose` on the directory holding both"
                        ))
                    })?
                    .clone(),
            ),
            None => None,
        };
        // The recorded parent must be the defined one: changing a variant's parent is a new
        // variant.
        let recorded_parent = head
            .as_ref()
            .and_then(|r| r.base.as_ref().map(|b| b.variant.clone()));
        if head.is_some() && recorded_parent != def.parent {
            return Err(Error::new(
                ErrorKind::ParentMismatch,
                format!(
                    "variant {} is built on {}, but the definition says {}",
                    def.name,
                    recorded_parent.as_deref().unwrap_or("nothing"),
                    def.parent.as_deref().unwrap_or("nothing"),
                ),
            )
            .hint("create a new variant under another name for the new parent"));
        }
        if head.is_none() && declared && def.parent.is_some() {
            return Err(Error::new(
                ErrorKind::ParentMismatch,
                format!(
                    "variant {} was created empty, but the definition gives it a parent",
                    def.name
                ),
            ));
        }
        // Where the variant starts from, and the parent state it inherits.
        let (from, start, base, parent_state) = match (&head, &parent_head) {
            (None, None) => (State::default(), State::default(), None, None),
            (None, Some(ph)) => (
                journal::State::clone(&ph.state),
                journal::State::clone(&ph.state),
                Some(provenance(ph)),
                Some(journal::State::clone(&ph.state)),
            ),
            (Some(hd), None) => (
                journal::State::clone(&hd.state),
                journal::State::clone(&hd.state),
                None,
                None,
            ),
            (Some(hd), Some(ph)) => {
                let b = hd.base.clone();
                let moved = b.as_ref().is_some_and(|b| b.seq != ph.seq);
                if follow_parent && moved {
                    let s = rebased(&pinned, &h, hd, ph)?;
                    (
                        journal::State::clone(&hd.state),
                        s,
                        Some(provenance(ph)),
                        Some(journal::State::clone(&ph.state)),
                    )
                } else {
                    let at = b
                        .as_ref()
                        .map(|b| {
                            h.state_at(&b.variant, b.seq)
                                .map(|r| journal::State::clone(&r.state))
                        })
                        .transpose()
                        .map_err(query_err)?;
                    (
                        journal::State::clone(&hd.state),
                        journal::State::clone(&hd.state),
                        b,
                        at,
                    )
                }
            }
        };
        // A hardware rule naming a package no source has would fail on the machine it matches,
        // maybe long after: refused here, before anything is recorded.
        for rule in &def.rules {
            for p in &rule.packages {
                let name = p.split(['=', ':']).next().unwrap_or(p);
                if pinned.named(name).is_empty() {
                    return Err(Error::new(
                        ErrorKind::BadDefinition,
                        format!(
                            "{}: hardware rule {:?} installs {name}, which no pinned source has",
                            def.name, rule.name
                        ),
                    )
                    .hint("add the source or component that has it (`particle repo add --component non-free ...`), or fix the name"));
                }
            }
        }
        let prev = last_definition(&h, &def.name);
        let mut target = start;
        let (install, remove) = Reconcile {
            def,
            prev: prev.as_ref(),
            parent: parent_state.as_ref(),
        }
        .profile(&mut target);
        if target.packages.is_empty() && install.is_empty() {
            return Err(Error::new(
                ErrorKind::EmptyDefinition,
                format!(
                    "{} would have no packages: list some under [packages] install",
                    def.name
                ),
            ));
        }
        let target = packages(&pinned, target, &install, &remove, def.packages.recommends)?;
        let canonical = def.canonical();
        let news = prev.as_ref().map(Definition::canonical) != Some(canonical.clone());
        let request = Request::Apply {
            file: file.to_owned(),
            definition: canonical,
        };
        if head.is_none() && !declared && def.parent.is_none() {
            crate::state::declare_variant(&self.state, &def.name)?;
        }
        Ok(self.plan_target(
            &pinned,
            &def.name,
            &from,
            head.as_ref(),
            request,
            target,
            base,
            news,
        ))
    }

    /// `variant rebase CHILD`: CHILD rebuilt on its parent's head with its own changes; nothing
    /// to do when it is built on that head already.
    pub(crate) fn plan_rebase(&mut self, variant: &str) -> Result<Plan> {
        self.load_pinned()?;
        let h = self.journal.history();
        let archs = declared_architectures(&h, variant, None);
        let pinned = self
            .pinned
            .as_ref()
            .expect("loaded")
            .view()?
            .with_architectures(archs.as_deref());
        let head = h
            .head(variant)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::UnknownVariant,
                    format!("variant {variant:?} has no transactions"),
                )
                .hint("see `particle variant list`")
            })?
            .clone();
        let b = head.base.clone().ok_or_else(|| {
            Error::new(
                ErrorKind::NotAChild,
                format!("variant {variant} has no parent to rebase on"),
            )
        })?;
        let parent_head = h
            .head(&b.variant)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::UnknownVariant,
                    format!("parent {} has no transactions", b.variant),
                )
            })?
            .clone();
        if parent_head.seq == b.seq {
            return Ok(Plan::unchanged(variant, Some(head)));
        }
        let target = rebased(&pinned, &h, &head, &parent_head)?;
        let request = Request::Rebase {
            parent: b.variant.clone(),
            parent_seq: parent_head.seq,
            parent_txn: parent_head.id,
        };
        Ok(self.plan_target(
            &pinned,
            variant,
            &head.state,
            Some(&head),
            request,
            target,
            Some(provenance(&parent_head)),
            true,
        ))
    }

    /// `txn hardware`: records the profile and applies the hardware rules of the variant's
    /// definitions (its own and its ancestors'): kernel arguments and packages of rules that
    /// stop matching go, those of rules that start matching come, in the same record.
    pub(crate) fn plan_hardware(
        &mut self,
        variant: &str,
        profile: Value,
        source: String,
    ) -> Result<Plan> {
        let (head, old) = self.existing_head(variant)?;
        // On a machine the rules come with the variant from the build host (deploy, upgrade);
        // the hardware is the machine's own, recorded in its journal.
        let chain = if self.state.machine.is_some() {
            machine_definitions(&self.state.root)?
        } else {
            definition_chain(&self.journal.history(), variant)
        };
        let mut target = old.clone();
        target.profile.hardware = profile.clone();
        let (mut install, mut remove) = (Vec::new(), Vec::new());
        let mut matched = Vec::new();
        for def in &chain {
            // Only what the change of matching rules brings or takes: the rest of the profile
            // (and what the administrator changed by hand) stays as it is.
            let before = def.effects(&old.profile.hardware);
            let after = def.effects(&profile);
            target
                .profile
                .kargs
                .retain(|k| !before.kargs.contains(k) || after.kargs.contains(k));
            for k in after.kargs.iter().filter(|k| !before.kargs.contains(k)) {
                push_unique(&mut target.profile.kargs, k);
            }
            for p in after
                .packages
                .iter()
                .filter(|p| !before.packages.contains(p))
            {
                push_unique(&mut install, p);
            }
            for p in before
                .packages
                .iter()
                .filter(|p| !after.packages.contains(p))
            {
                push_unique(&mut remove, p);
            }
            after.apply_rules(&before, &mut target.profile);
            for r in def.matching_rules(&profile) {
                matched.push(format!("{}: {r}", def.name));
            }
        }
        remove.retain(|p| !install.contains(p));
        let recommends = chain.last().is_some_and(|d| d.packages.recommends);
        self.load_pinned()?;
        let archs = declared_architectures(&self.journal.history(), variant, None);
        let pinned = self
            .pinned
            .as_ref()
            .expect("loaded")
            .view()?
            .with_architectures(archs.as_deref());
        let target = packages(&pinned, target, &install, &remove, recommends)?;
        let base = head.base.clone();
        let mut plan = self.plan_target(
            &pinned,
            variant,
            &old,
            Some(&head),
            Request::Hardware { source },
            target,
            base,
            false,
        );
        plan.matched_rules = matched;
        Ok(plan)
    }

    /// What `compose` applies, in order (parents first) with their file names: the definitions
    /// of `dir`, or without one those last applied ([`Session::applied_definitions`]). When one
    /// installs particle's own package, it is set up as a source first.
    pub fn compose_definitions(
        &mut self,
        dir: Option<&Path>,
        obs: &dyn Observer,
    ) -> Result<Vec<(String, Definition)>> {
        let defs = match dir {
            Some(d) => load_dir(d)?,
            None => self.applied_definitions()?,
        };
        let defs = ordered(defs)?;
        let just_defs: Vec<Definition> = defs.iter().map(|(_, d)| d.clone()).collect();
        self.offer_own_package(&just_defs, obs)?;
        Ok(defs)
    }

    /// The definitions last applied to each variant (from the journal), with their file names,
    /// for `compose` without a directory.
    pub fn applied_definitions(&self) -> Result<Vec<(String, Definition)>> {
        let h = self.journal.history();
        let mut defs = Vec::new();
        for v in h.variants() {
            if let Some(head) = h.head(v) {
                let last = h
                    .lineage(v, Some(head.seq))
                    .map_err(query_err)?
                    .into_iter()
                    .rev()
                    .filter(|r| r.variant == v)
                    .find_map(|r| match &r.request {
                        Request::Apply { file, .. } => {
                            Definition::from_record(r).map(|d| (file.clone(), d))
                        }
                        _ => None,
                    });
                defs.extend(last);
            }
        }
        if defs.is_empty() {
            return Err(Error::new(
                ErrorKind::BadDefinition,
                "no variant has been applied from a definition yet",
            )
            .hint("run `particle compose --dir variants/` or `particle variant apply FILE`"));
        }
        Ok(defs)
    }
}

/// The file name a definition is recorded under.
pub fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Reads every `*.toml` of `dir` (sorted by name).
pub fn load_dir(dir: &Path) -> Result<Vec<(String, Definition)>> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("could not read {}: {e}", dir.display()),
        )
    })?;
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut defs = Vec::new();
    for f in files {
        let d = Definition::load(&f)?;
        if let Some((other, _)) = defs
            .iter()
            .find(|(_, x): &&(String, Definition)| x.name == d.name)
        {
            return Err(Error::new(
                ErrorKind::BadDefinition,
                format!("{} and {other} both define {}", f.display(), d.name),
            ));
        }
        defs.push((file_name(&f), d));
    }
    if defs.is_empty() {
        return Err(Error::new(
            ErrorKind::BadDefinition,
            format!("{} holds no variant definitions (*.toml)", dir.display()),
        ));
    }
    Ok(defs)
}

/// Parents before children (then by name), or an error naming a cycle.
pub fn ordered(defs: Vec<(String, Definition)>) -> Result<Vec<(String, Definition)>> {
    let mut left = defs;
    left.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    let mut out: Vec<(String, Definition)> = Vec::new();
    while !left.is_empty() {
        let ready = left.iter().position(|(_, d)| {
            d.parent
                .as_ref()
                .is_none_or(|p| !left.iter().any(|(_, x)| &x.name == p))
        });
        match ready {
            Some(i) => out.push(left.remove(i)),
            None => {
                let names: Vec<&str> = left.iter().map(|(_, d)| d.name.as_str()).collect();
                return Err(Error::new(
                    ErrorKind::BadDefinition,
                    format!("the parents of {} form a cycle", names.join(", ")),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(text: &str) -> Result<Definition, String> {
        let mut d: Definition = toml::from_str(text).map_err(|e| e.to_string())?;
        d.check()?;
        d.normalize();
        Ok(d)
    }

    fn nvidia_hw() -> Value {
        let json = serde_json::json!({
            "pci": [
                {"slot": "0000:00:02.0", "class": "0x030000", "vendor": "0x8086", "device": "0x9a49"},
                {"slot": "0000:01:00.0", "class": "0x030000", "vendor": "0x10de", "device": "0x2484"}
            ],
            "cpu": {"vendor": "GenuineIntel", "flags": ["avx2", "sse4_2"]},
            "storage": [{"name": "nvme0n1", "kind": "nvme", "rotational": false}],
            "network": [{"name": "enp3s0", "driver": "r8169"}],
            "audio": ["PCH"]
        });
        serde_json::from_value(json).expect("value")
    }

    #[test]
    fn shipped_definitions_parse_and_order_parents_first() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../variants");
        let defs = ordered(load_dir(&dir).expect("variants/ loads")).expect("no cycle");
        let names: Vec<&str> = defs.iter().map(|(_, d)| d.name.as_str()).collect();
        assert_eq!(names, ["base", "apex", "bosom", "corona", "euclase"]);
        let euclase = &defs[4].1;
        assert_eq!(euclase.parent.as_deref(), Some("base"));
        assert_eq!(euclase.sysctl["kernel.sched_rt_runtime_us"], "-1");
        assert_eq!(defs[0].1.initramfs["MODULES"], "most");
    }

    #[test]
    fn rules_match_on_one_device_and_every_condition() {
        let d = def(r#"
name = "g"
parent = "base"
[[hardware]]
name = "nvidia"
match = { pci_vendor = "10DE", pci_class = "0x03" }
kargs = ["nvidia-drm.modeset=1"]
[[hardware]]
name = "intel cpu with avx512"
match = { cpu_vendor = "GenuineIntel", cpu_flag = "avx512f" }
kargs = ["x"]
[[hardware]]
name = "nvidia but not a gpu"
match = { pci_vendor = "10de", pci_class = "02" }
kargs = ["y"]
[[hardware]]
name = "nvme on r8169"
match = { storage = "nvme", network_driver = "r8169", audio = "PCH" }
packages = ["nvme-cli"]
"#)
        .expect("valid");
        let hw = nvidia_hw();
        assert_eq!(d.matching_rules(&hw), ["nvidia", "nvme on r8169"]);
        let e = d.effects(&hw);
        assert_eq!(e.kargs, ["nvidia-drm.modeset=1"]);
        assert_eq!(e.packages, ["nvme-cli"]);
        assert_eq!(d.effects(&Value::Null), Effects::default());
    }

    #[test]
    fn rules_add_and_take_back_sysctl_and_initramfs_modules() {
        let d = def(r#"
name = "g"
parent = "base"
[[hardware]]
name = "nvidia"
match = { pci_vendor = "10de", pci_class = "03" }
sysctl = { "vm.max_map_count" = 1048576 }
initramfs_modules = ["nvidia", "nvidia_drm"]
"#)
        .expect("valid");
        let hw = nvidia_hw();
        let on = d.effects(&hw);
        let off = d.effects(&Value::Null);
        assert_eq!(on.sysctl["vm.max_map_count"], "1048576");
        assert_eq!(on.modules, ["nvidia", "nvidia_drm"]);
        let mut profile = journal::Profile::default();
        let key = materializer::INITRAMFS_MODULES_KEY;
        profile.initramfs.insert(key.into(), "raid1".into());
        profile.sysctl.insert("vm.swappiness".into(), "1".into());
        on.apply_rules(&off, &mut profile);
        assert_eq!(profile.initramfs[key], "raid1 nvidia nvidia_drm");
        assert_eq!(profile.sysctl.len(), 2);
        off.apply_rules(&on, &mut profile);
        assert_eq!(profile.initramfs[key], "raid1");
        assert_eq!(profile.sysctl.keys().collect::<Vec<_>>(), ["vm.swappiness"]);
        // The canonical form of a rule without them is what it was before they existed.
        let plain = def("name = \"g\"\n[[hardware]]\nname = \"n\"\nmatch = { storage = \"nvme\" }\npackages = [\"nvme-cli\"]\n")
            .expect("valid");
        let canonical = plain.canonical();
        assert!(
            canonical.contains(r#""packages":["nvme-cli"]}]"#),
            "{canonical}"
        );
    }

    #[test]
    fn bad_definitions_are_refused_with_the_reason() {
        for (text, why) in [
            ("name = \"a b\"", "not a valid variant name"),
            ("name = \"a\"\nparent = \"a\"", "own parent"),
            (
                "name = \"a\"\n[packages]\ninstall = [\"x=1\"]",
                "without versions",
            ),
            (
                "name = \"a\"\n[packages]\ninstall = [\"x\"]\nremove = [\"x\"]",
                "both",
            ),
            ("name = \"a\"\nkargs = [\"a b\"]", "whitespace"),
            (
                "name = \"a\"\n[initramfs_hooks]\n\"A b\" = \"#!/bin/sh\"",
                "lower-case letters",
            ),
            (
                "name = \"a\"\n[initramfs_hooks]\nx = \"echo hi\"",
                "starting with #!",
            ),
            (
                "name = \"a\"\n[initramfs]\nmodules = \"most\"",
                "initramfs-tools variable",
            ),
            (
                "name = \"a\"\n[initramfs]\nMODULES = \"$(x)\"",
                "plain value",
            ),
            ("name = \"a\"\n[sysctl]\n\"vm.x\" = 1.5", "float"),
            (
                "name = \"a\"\n[[hardware]]\nname = \"r\"\nmatch = {}\nkargs = [\"k\"]",
                "matches nothing",
            ),
            (
                "name = \"a\"\n[[hardware]]\nname = \"r\"\nmatch = { audio = \"x\" }",
                "adds nothing",
            ),
            ("name = \"a\"\nsurprise = 1", "unknown field"),
        ] {
            let err = def(text).expect_err(text);
            assert!(
                err.contains(why) || (why == "float" && err.contains("did not match any variant")),
                "{text:?}: {err}"
            );
        }
    }

    #[test]
    fn values_become_strings_and_the_canonical_form_roundtrips() {
        let d = def("name = \"a\"\n[sysctl]\n\"vm.swappiness\" = 1\n\"kernel.printk\" = \"3 4 1 3\"\n[initramfs]\nBUSYBOX = true")
            .expect("valid");
        assert_eq!(d.sysctl["vm.swappiness"], "1");
        assert_eq!(d.initramfs["BUSYBOX"], "y");
        let back: Definition = serde_json::from_str(&d.canonical()).expect("roundtrip");
        assert_eq!(back, d);
    }

    fn state(kargs: &[&str], sysctl: &[(&str, &str)]) -> State {
        let mut s = State::default();
        s.profile.kargs = kargs.iter().map(|k| (*k).to_owned()).collect();
        s.profile.sysctl = sysctl
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        s
    }

    #[test]
    fn reconcile_drops_what_the_previous_definition_added_but_keeps_the_inherited() {
        let prev = def("name = \"c\"\nparent = \"p\"\nkargs = [\"a\", \"shared\"]\n[sysctl]\n\"k1\" = \"1\"\n\"k2\" = \"2\"\n[packages]\ninstall = [\"x\", \"y\"]").expect("valid");
        let now = def("name = \"c\"\nparent = \"p\"\nkargs = [\"b\"]\n[sysctl]\n\"k1\" = \"9\"\n[packages]\ninstall = [\"x\"]").expect("valid");
        let parent = state(&["shared"], &[("k2", "parent")]);
        let mut s = state(&["shared", "a"], &[("k1", "1"), ("k2", "2")]);
        let (install, remove) = Reconcile {
            def: &now,
            prev: Some(&prev),
            parent: Some(&parent),
        }
        .profile(&mut s);
        assert_eq!(s.profile.kargs, ["shared", "b"]);
        assert_eq!(s.profile.sysctl["k1"], "9");
        assert_eq!(s.profile.sysctl["k2"], "parent");
        assert_eq!(install, ["x"]);
        assert_eq!(remove, ["y"]);
        // Applying the same definition again changes nothing.
        let again = s.clone();
        let (install2, remove2) = Reconcile {
            def: &now,
            prev: Some(&now),
            parent: Some(&parent),
        }
        .profile(&mut s);
        assert_eq!(s, again);
        assert_eq!((install2, remove2), (vec!["x".to_owned()], vec![]));
    }
}
