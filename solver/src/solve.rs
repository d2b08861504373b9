//! Requests (install, remove, upgrade) relative to an installed set, solved into a target set
//! with a reason for every package and the changes against the installed set.

use crate::explain::{explain, minimize, Explanation, Step};
use crate::index::{Field, Index, Options, Pkg};
use crate::policy;
use crate::problem::{dedup_keep_order, Info, Outcome, Problem};
use crate::sat::{Cid, Lit, Val};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use store::{compare_versions, Universe};

/// A package in the installed set (a dpkg status entry).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Installed {
    pub name: String,
    pub version: String,
    pub arch: String,
}

/// What to change. Package specs are `name`, `name:arch`, `name=version` or `name:arch=version`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub install: Vec<String>,
    pub remove: Vec<String>,
    /// Move every installed package to its newest version where possible.
    pub upgrade: bool,
    /// Skip the Recommends pass.
    pub no_recommends: bool,
}

/// Why a package is in the target set.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Named in the request.
    Requested,
    /// `Essential: yes`.
    Essential,
    /// `Priority: required`.
    Required,
    /// Already installed and kept.
    Installed,
    /// Needed by `by` through relation `relation` (of its Depends or Pre-Depends).
    Depends { by: String, relation: String },
    /// Recommended by `by` through `relation`.
    Recommends { by: String, relation: String },
}

/// One package of the target set.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Chosen {
    /// Name, version, architecture and the SHA256 of the .deb: the one type that carries a
    /// resolved package from here through the journal to the materializer. Of one name,
    /// version and architecture listed by several indices, the first in universe order (the
    /// order of the sources) among those of the highest pin priority.
    #[serde(flatten)]
    pub package: store::PackageEntry,
    pub reason: Reason,
    /// Index (in `Solution::packages`) of the package that pulled this one in, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<usize>,
}

/// A chosen package reads as its [`store::PackageEntry`] (`c.name`, `c.sha256`).
impl std::ops::Deref for Chosen {
    type Target = store::PackageEntry;
    fn deref(&self) -> &store::PackageEntry {
        &self.package
    }
}

/// What happens to one package name:arch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Install,
    Remove,
    Upgrade,
    Downgrade,
}

/// A difference between the installed set and the target set.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub name: String,
    pub arch: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// A solved request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Solution {
    /// The target set, sorted by name, architecture, version.
    pub packages: Vec<Chosen>,
    /// Changes against the installed set, sorted by name and architecture.
    pub changes: Vec<Change>,
}

impl Solution {
    /// The chain that explains why `name` is in the target set, from the package itself up to
    /// the request (`hello 2.10-3: requested`, `libc6 2.36-9: hello depends on libc6 (>= 2.34)`, …).
    pub fn why(&self, name: &str) -> Option<Vec<String>> {
        let mut i = self.packages.iter().position(|c| c.name == name)?;
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        loop {
            let c = &self.packages[i];
            let what = match &c.reason {
                Reason::Requested => "requested".to_owned(),
                Reason::Essential => "essential".to_owned(),
                Reason::Required => "required (Priority: required)".to_owned(),
                Reason::Installed => "installed, kept".to_owned(),
                Reason::Depends { by, relation } => format!("{by} depends on {relation}"),
                Reason::Recommends { by, relation } => format!("{by} recommends {relation}"),
            };
            out.push(format!("{} {}: {what}", c.name, c.version));
            match c.parent {
                Some(p) if seen.insert(i) => i = p,
                _ => break,
            }
        }
        Some(out)
    }
}

/// Why a request cannot be solved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SolveError {
    /// A requested name that no package has (nor provides).
    #[error("cannot {action}: no package named {name} is available")]
    Unknown { action: String, name: String },
    /// A requested `name=version` that no package of that name has (`available`: the versions
    /// there are, comma-separated).
    #[error("cannot {action}: {name} has no version {version} (available: {available})")]
    UnknownVersion {
        action: String,
        name: String,
        version: String,
        available: String,
    },
    /// The request would remove an essential or required package (`name`: the packages the
    /// request removes, comma-separated).
    #[error("refusing to remove {name}: {explanation}")]
    Essential {
        name: String,
        explanation: Explanation,
    },
    /// No installation satisfies the request (`action`: the request, as in "install a, b").
    #[error("cannot {action}: {explanation}")]
    Unsatisfiable {
        action: String,
        explanation: Explanation,
    },
}

/// A solver over one universe. Building it indexes the universe once; each [`Solver::solve`]
/// encodes only the part of the universe its request can reach.
pub struct Solver<'u> {
    index: Index<'u>,
}

pub(crate) struct Spec<'a> {
    pub(crate) name: &'a str,
    arch: Option<&'a str>,
    version: Option<&'a str>,
}

pub(crate) fn parse_spec(s: &str) -> Spec<'_> {
    let (head, version) = match s.split_once('=') {
        Some((h, v)) => (h, Some(v)),
        None => (s, None),
    };
    let (name, arch) = match head.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (head, None),
    };
    Spec {
        name,
        arch,
        version,
    }
}

impl<'u> Solver<'u> {
    pub fn new(universe: &'u Universe, options: &Options) -> Self {
        Solver {
            index: Index::new(universe, options),
        }
    }

    /// A solver over a package table read in place (a store snapshot): the same answers as
    /// [`Solver::new`] over the table's universe, without converting the whole table first.
    pub fn from_table(table: store::TableView<'u>, options: &Options) -> Self {
        Solver {
            index: Index::from_table(table, options),
        }
    }

    /// Candidates for a request spec, best first: real packages, else providers.
    fn spec_candidates(&self, spec: &Spec<'_>, action: &str) -> Result<Vec<Pkg>, SolveError> {
        let ix = &self.index;
        let named: Vec<Pkg> = ix
            .named(spec.name)
            .iter()
            .copied()
            .filter(|&p| spec.arch.is_none_or(|a| ix.eff_arch(p) == a))
            .collect();
        if named.is_empty() {
            if spec.version.is_none() && ix.is_provided(spec.name) {
                let rel = store::Relation {
                    name: spec.name.to_owned(),
                    arch: spec.arch.map_or(store::ArchQualifier::None, |a| {
                        store::ArchQualifier::Named(a.to_owned())
                    }),
                    constraint: None,
                };
                let mut out = Vec::new();
                ix.satisfiers((&rel).into(), &ix.native, &mut out);
                if !out.is_empty() {
                    return Ok(out);
                }
            }
            return Err(SolveError::Unknown {
                action: action.to_owned(),
                name: spec.name.to_owned(),
            });
        }
        match spec.version {
            None => Ok(named),
            Some(v) => {
                let hit: Vec<Pkg> = named
                    .iter()
                    .copied()
                    .filter(|&p| {
                        compare_versions(&ix.pkg(p).version, v) == std::cmp::Ordering::Equal
                    })
                    .collect();
                if hit.is_empty() {
                    let available = named
                        .iter()
                        .map(|&p| ix.pkg(p).version.clone())
                        .collect::<Vec<_>>()
                        .join(", ");
                    Err(SolveError::UnknownVersion {
                        action: action.to_owned(),
                        name: spec.name.to_owned(),
                        version: v.to_owned(),
                        available,
                    })
                } else {
                    Ok(hit)
                }
            }
        }
    }

    /// Solves `request` against `installed`. Deterministic: the same universe, request and
    /// installed set give the same solution.
    pub fn solve(
        &self,
        request: &Request,
        installed: &[Installed],
    ) -> Result<Solution, SolveError> {
        self.solve_inner(request, installed, true)
    }

    /// [`Solver::solve`] without adding the essential and required set: exactly what is asked,
    /// as apt does (the EDSP solver uses this; removing an essential package is then the
    /// caller's decision).
    pub fn solve_without_base_set(
        &self,
        request: &Request,
        installed: &[Installed],
    ) -> Result<Solution, SolveError> {
        self.solve_inner(request, installed, false)
    }

    fn solve_inner(
        &self,
        request: &Request,
        installed: &[Installed],
        base_set: bool,
    ) -> Result<Solution, SolveError> {
        let ix = &self.index;
        let action = describe(request);
        let mut pb = Problem::new(ix, !request.no_recommends, None);
        let mut requested = BTreeSet::new();
        let mut wishes: Vec<Lit> = Vec::new();
        let mut start = Vec::new();
        for s in &request.install {
            let spec = parse_spec(s);
            let cands = self.spec_candidates(&spec, &action)?;
            requested.extend(cands.iter().copied());
            start.extend(cands.iter().copied());
            pb.add_root(&cands, Info::Install(s.clone()));
            wishes.push(pb.lit(cands[0]));
        }
        let mut removed = BTreeSet::new();
        let base_names: Vec<&str> = if base_set {
            ix.base_names(true)
        } else {
            Vec::new()
        };
        for s in &request.remove {
            let spec = parse_spec(s);
            let cands = self.spec_candidates(&spec, &action)?;
            if base_names.contains(&spec.name) {
                let p = ix.pkg(cands[0]);
                let name = spec.name.to_owned();
                let step = if p.essential {
                    Step::Essential { name }
                } else {
                    Step::Required { name }
                };
                let explanation = Explanation { steps: vec![step] };
                return Err(SolveError::Essential {
                    name: spec.name.to_owned(),
                    explanation,
                });
            }
            for &c in &cands {
                removed.insert(c);
                pb.add_ban(c, Info::Remove(s.clone()));
            }
        }
        for name in &base_names {
            let cands: Vec<Pkg> = ix
                .named(name)
                .iter()
                .copied()
                .filter(|&p| ix.eff_arch(p) == ix.native)
                .collect();
            let p = ix.pkg(cands[0]);
            let info = if p.essential {
                Info::Essential((*name).to_owned())
            } else {
                Info::Required((*name).to_owned())
            };
            pb.add_root(&cands, info);
        }
        // Installed packages: kept where possible (upgraded first when asked).
        let mut installed_names = BTreeSet::new();
        let mut kept = Vec::new();
        for inst in installed {
            installed_names.insert(inst.name.as_str());
            let same: Vec<Pkg> = ix
                .named(&inst.name)
                .iter()
                .copied()
                .filter(|&p| ix.eff_arch(p) == inst.arch || ix.pkg(p).arch == inst.arch)
                .filter(|&p| !removed.contains(&p))
                .collect();
            if same.is_empty() {
                continue;
            }
            // Keep the installed version (or move to the newest when upgrading); failing that,
            // keep the name installed with another version, newest first, as apt does.
            let exact = same
                .iter()
                .copied()
                .find(|&p| ix.pkg(p).version == inst.version);
            if request.upgrade {
                // apt's candidate: the installed version counts at least 100, and nothing
                // older than it is taken below 1000 (policy::candidate).
                let versions: Vec<policy::Version<'_>> = same
                    .iter()
                    .map(|&p| policy::Version {
                        version: ix.version(p),
                        priority: if ix.version(p) == inst.version {
                            ix.pin(p).max(policy::INSTALLED_PRIORITY)
                        } else {
                            ix.pin(p)
                        },
                    })
                    .collect();
                let cand = policy::candidate(&versions, Some(&inst.version)).map(|i| same[i]);
                kept.extend(cand);
                kept.extend(exact.filter(|&e| Some(e) != cand));
                kept.extend(
                    same.iter()
                        .copied()
                        .filter(|&p| Some(p) != cand && Some(p) != exact),
                );
            } else {
                kept.extend(exact);
                kept.extend(same.iter().copied().filter(|&p| Some(p) != exact));
            }
        }
        for &p in &kept {
            pb.activate(p);
        }
        let mut soft: Vec<Lit> = wishes;
        soft.extend(kept.iter().map(|&p| pb.lit(p)));
        match pb.search(&[], &soft, None) {
            Outcome::Sat { .. } => {}
            Outcome::Unsat(core) => return Err(self.failure(&pb, &core, &start, request, &action)),
        }
        let mut recommended: BTreeMap<Pkg, (Pkg, u32)> = BTreeMap::new();
        if !request.no_recommends {
            self.recommends(&mut pb, &mut soft, &installed_names, &mut recommended)
                .map_err(|core| self.failure(&pb, &core, &start, request, &action))?;
        }
        Ok(self.solution(&pb, &requested, installed, &recommended))
    }

    /// apt-like greedy Recommends: for each installed package in installation order, each
    /// Recommends entry not yet satisfied gets its first alternative that can be added without
    /// changing earlier choices.
    fn recommends(
        &self,
        pb: &mut Problem<'_, 'u>,
        soft: &mut Vec<Lit>,
        installed_names: &BTreeSet<&str>,
        recommended: &mut BTreeMap<Pkg, (Pkg, u32)>,
    ) -> Result<(), Vec<Cid>> {
        let ix = &self.index;
        // Per variable: no package is encoded during this pass.
        let mut visited = vec![false; pb.var_count()];
        let mut cursor = 0;
        let mut epoch = pb.sat.epoch;
        let mut cands = Vec::new();
        // apt's MarkInstall order: depth first from the request, each package's dependencies
        // (Pre-Depends, Depends) then its Recommends, a Recommends tried when it is reached.
        let mut stack: Vec<(Pkg, usize)> = Vec::new();
        let mut seeds: Vec<Pkg> = Vec::new();
        for &r in &pb.roots {
            seeds.extend(
                pb.sat
                    .clause(r)
                    .iter()
                    .filter(|l| pb.sat.value(**l) == Val::True)
                    .map(|l| pb.pkg(l.var())),
            );
        }
        seeds.reverse();
        loop {
            let Some(&mut (p, ref mut next)) = stack.last_mut() else {
                let p = if let Some(p) = seeds.pop() {
                    p
                } else {
                    if pb.sat.epoch != epoch {
                        epoch = pb.sat.epoch;
                        cursor = 0;
                    }
                    let trail = pb.sat.trail();
                    while cursor < trail.len()
                        && (trail[cursor].is_neg() || visited[trail[cursor].var() as usize])
                    {
                        cursor += 1;
                    }
                    if cursor >= trail.len() {
                        return Ok(());
                    }
                    pb.pkg(trail[cursor].var())
                };
                let v = pb
                    .var(p)
                    .expect("a root candidate or an installed package is encoded");
                if !std::mem::replace(&mut visited[v as usize], true) && pb.sat.is_true(v) {
                    stack.push((p, 0));
                }
                continue;
            };
            let k = *next;
            *next += 1;
            let pre = ix.entry_count(p, Field::PreDepends);
            let hard = pre + ix.entry_count(p, Field::Depends);
            let ((field, i), is_rec) = if k < pre {
                ((Field::PreDepends, k), false)
            } else if k < hard {
                ((Field::Depends, k - pre), false)
            } else if k < hard + ix.entry_count(p, Field::Recommends)
                && !installed_names.contains(ix.name(p))
            {
                ((Field::Recommends, k - hard), true)
            } else {
                stack.pop();
                continue;
            };
            cands.clear();
            match pb.entry_cands(p, k) {
                Some(list) => cands.extend_from_slice(list),
                None => {
                    for alt in ix.entry(p, field, i) {
                        ix.satisfiers(alt, ix.eff_arch(p), &mut cands);
                    }
                    dedup_keep_order(&mut cands);
                }
            }
            if let Some(&q) = cands.iter().find(|&&c| pb.is_true(c)) {
                if !std::mem::replace(&mut visited[pb.lit(q).var() as usize], true) {
                    stack.push((q, 0));
                }
                continue;
            }
            if !is_rec {
                continue;
            }
            for &c in &cands {
                if !pb.is_active(c) {
                    // Encoded now, and what that makes unit propagated: the candidate may turn
                    // out excluded already, as it would be had it been encoded up front.
                    pb.activate(c);
                    if let Outcome::Unsat(core) = pb.search(&[], soft, None) {
                        return Err(core);
                    }
                    visited.resize(pb.var_count(), false);
                }
                let l = pb.lit(c);
                if pb.sat.value(l) != Val::Unset {
                    continue;
                }
                let floor = pb.sat.level() + 1;
                pb.sat.decide(l);
                let outcome = pb.search(&[], soft, Some(floor));
                visited.resize(pb.var_count(), false);
                match outcome {
                    Outcome::Sat { rejected: false } => {
                        soft.push(l);
                        recommended.insert(c, (p, (k - hard) as u32));
                        visited[l.var() as usize] = true;
                        stack.push((c, 0));
                        break;
                    }
                    Outcome::Sat { rejected: true } => {
                        if pb.sat.is_true(l.var()) {
                            break;
                        }
                    }
                    Outcome::Unsat(core) => return Err(core),
                }
            }
        }
    }

    fn failure(
        &self,
        pb: &Problem<'_, 'u>,
        core: &[Cid],
        start: &[Pkg],
        request: &Request,
        action: &str,
    ) -> SolveError {
        let lits = |c: Cid| pb.sat.clause(c).to_vec();
        let core = minimize(&lits, core, &[]);
        let explanation = explain(&self.index, pb, &core, start);
        let base = core
            .iter()
            .any(|&c| matches!(pb.info[c as usize], Info::Essential(_) | Info::Required(_)));
        let removes = core
            .iter()
            .any(|&c| matches!(pb.info[c as usize], Info::Remove(_)));
        if base && removes && request.install.is_empty() {
            let name = request.remove.join(", ");
            return SolveError::Essential { name, explanation };
        }
        SolveError::Unsatisfiable {
            action: action.to_owned(),
            explanation,
        }
    }

    fn solution(
        &self,
        pb: &Problem<'_, 'u>,
        requested: &BTreeSet<Pkg>,
        installed: &[Installed],
        recommended: &BTreeMap<Pkg, (Pkg, u32)>,
    ) -> Solution {
        let ix = &self.index;
        let chosen: Vec<Pkg> = pb
            .sat
            .trail()
            .iter()
            .filter(|l| !l.is_neg())
            .map(|l| pb.pkg(l.var()))
            .collect();
        let mut keyed: Vec<(&str, &str, &str, Pkg)> = chosen
            .iter()
            .map(|&p| (ix.name(p), ix.arch(p), ix.version(p), p))
            .collect();
        keyed.sort_by(|a, b| {
            a.0.cmp(b.0)
                .then_with(|| a.1.cmp(b.1))
                .then_with(|| compare_versions(a.2, b.2))
        });
        let order: Vec<Pkg> = keyed.iter().map(|k| k.3).collect();
        // Per variable, the place in `order` of a chosen package; per place, its reason and
        // its parent's place, once found (arrays over the few thousand reached packages
        // rather than maps).
        let mut pos = vec![u32::MAX; pb.var_count()];
        for (i, &p) in order.iter().enumerate() {
            pos[pb.lit(p).var() as usize] = i as u32;
        }
        let place = |p: Pkg| pos[pb.lit(p).var() as usize] as usize;
        let mut reason: Vec<Option<(Reason, Option<usize>)>> = vec![None; order.len()];
        let mut queue = VecDeque::new();
        let installed_keys: BTreeSet<(&str, &str, &str)> = installed
            .iter()
            .map(|i| (i.name.as_str(), i.version.as_str(), i.arch.as_str()))
            .collect();
        let mut seed = |p: Pkg, r: Reason, reason: &mut Vec<Option<(Reason, Option<usize>)>>| {
            if pb.is_true(p) && reason[place(p)].is_none() {
                reason[place(p)] = Some((r, None));
                queue.push_back(p);
            }
        };
        for &p in requested {
            seed(p, Reason::Requested, &mut reason);
        }
        for &r in &pb.roots {
            let r_info = match &pb.info[r as usize] {
                Info::Essential(_) => Reason::Essential,
                Info::Required(_) => Reason::Required,
                _ => continue,
            };
            for l in pb.sat.clause(r) {
                seed(pb.pkg(l.var()), r_info.clone(), &mut reason);
            }
        }
        for &p in &chosen {
            if installed_keys.contains(&(ix.name(p), ix.version(p), ix.arch(p))) {
                seed(p, Reason::Installed, &mut reason);
            }
        }
        let mut cands = Vec::new();
        while let Some(p) = queue.pop_front() {
            let arch = ix.eff_arch(p);
            // A Recommends gives a reason only to what the Recommends pass added.
            let recommends = if recommended.is_empty() {
                0
            } else {
                ix.entry_count(p, Field::Recommends)
            };
            let entries = [Field::PreDepends, Field::Depends]
                .into_iter()
                .flat_map(|f| (0..ix.entry_count(p, f)).map(move |i| (f, i)))
                .chain((0..recommends).map(|i| (Field::Recommends, i)));
            for (k, (field, i)) in entries.enumerate() {
                let soft = field == Field::Recommends;
                let cands = match pb.entry_cands(p, k) {
                    Some(list) => list,
                    None => {
                        cands.clear();
                        for alt in ix.entry(p, field, i) {
                            ix.satisfiers(alt, arch, &mut cands);
                        }
                        &cands[..]
                    }
                };
                for &c in cands {
                    if pb.is_true(c) && reason[place(c)].is_none() {
                        if soft && recommended.get(&c).is_none_or(|&(by, _)| by != p) {
                            continue;
                        }
                        let by = ix.name(p).to_owned();
                        let relation = ix.entry_text(p, field, i);
                        let r = if soft {
                            Reason::Recommends { by, relation }
                        } else {
                            Reason::Depends { by, relation }
                        };
                        reason[place(c)] = Some((r, Some(place(p))));
                        queue.push_back(c);
                    }
                }
            }
        }
        let packages = order
            .iter()
            .zip(reason)
            .map(|(&p, r)| {
                let (reason, parent) = r.unwrap_or((Reason::Installed, None));
                Chosen {
                    package: store::PackageEntry {
                        name: ix.name(p).to_owned(),
                        version: ix.version(p).to_owned(),
                        arch: ix.arch(p).to_owned(),
                        sha256: ix.sha256(p),
                    },
                    reason,
                    parent,
                }
            })
            .collect::<Vec<_>>();
        let changes = diff(installed, &packages);
        Solution { packages, changes }
    }
}

fn describe(r: &Request) -> String {
    let mut parts = Vec::new();
    if !r.install.is_empty() {
        parts.push(format!("install {}", r.install.join(", ")));
    }
    if !r.remove.is_empty() {
        parts.push(format!("remove {}", r.remove.join(", ")));
    }
    if r.upgrade {
        parts.push("upgrade".to_owned());
    }
    if parts.is_empty() {
        parts.push("keep the installed set".to_owned());
    }
    parts.join(" and ")
}

fn diff(installed: &[Installed], target: &[Chosen]) -> Vec<Change> {
    let before: BTreeMap<(&str, &str), &str> = installed
        .iter()
        .map(|i| ((i.name.as_str(), i.arch.as_str()), i.version.as_str()))
        .collect();
    let after: BTreeMap<(&str, &str), &str> = target
        .iter()
        .map(|c| ((c.name.as_str(), c.arch.as_str()), c.version.as_str()))
        .collect();
    let mut out = Vec::new();
    for (&(name, arch), &to) in &after {
        let kind = match before.get(&(name, arch)) {
            None => ChangeKind::Install,
            Some(&from) => match compare_versions(to, from) {
                std::cmp::Ordering::Greater => ChangeKind::Upgrade,
                std::cmp::Ordering::Less => ChangeKind::Downgrade,
                std::cmp::Ordering::Equal => continue,
            },
        };
        let from = before.get(&(name, arch)).map(|s| (*s).to_owned());
        out.push(Change {
            kind,
            name: name.to_owned(),
            arch: arch.to_owned(),
            from,
            to: Some(to.to_owned()),
        });
    }
    for (&(name, arch), &from) in &before {
        if !after.contains_key(&(name, arch)) {
            out.push(Change {
                kind: ChangeKind::Remove,
                name: name.to_owned(),
                arch: arch.to_owned(),
                from: Some(from.to_owned()),
                to: None,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.arch.cmp(&b.arch)));
    out
}
