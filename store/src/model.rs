//! The typed package model: what a `Packages` stanza means, independent of where it came from.
//!
//! Everything here is plain data with owned fields, serializable with rkyv (for the zero-copy
//! universe snapshot) and serde (for JSON output). Relations keep their alternatives, version
//! operators and architecture qualifiers exactly as written; semantics live in the solver.

use crate::id::Sha256;
use crate::version::compare_versions;
use std::cmp::Ordering;
use std::fmt;

/// A version operator in a relation.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
pub enum Op {
    /// `<<`
    Lt,
    /// `<=` (and the obsolete `<`)
    Le,
    /// `=`
    Eq,
    /// `>=` (and the obsolete `>`)
    Ge,
    /// `>>`
    Gt,
}

impl Op {
    /// The operator as Debian writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<<",
            Op::Le => "<=",
            Op::Eq => "=",
            Op::Ge => ">=",
            Op::Gt => ">>",
        }
    }

    /// Whether `candidate OP reference` holds.
    pub fn holds(self, candidate: &str, reference: &str) -> bool {
        let o = compare_versions(candidate, reference);
        match self {
            Op::Lt => o == Ordering::Less,
            Op::Le => o != Ordering::Greater,
            Op::Eq => o == Ordering::Equal,
            Op::Ge => o != Ordering::Less,
            Op::Gt => o == Ordering::Greater,
        }
    }
}

/// A version constraint: `(>= 2.3)`.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
pub struct Constraint {
    pub op: Op,
    pub version: String,
}

impl Constraint {
    /// Whether `version` satisfies this constraint.
    pub fn matches(&self, version: &str) -> bool {
        self.op.holds(version, &self.version)
    }
}

/// The architecture qualifier of a relation's package name.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
pub enum ArchQualifier {
    /// `pkg`: the depending package's own architecture (or `all`/Multi-Arch: foreign rules).
    #[default]
    None,
    /// `pkg:any`: any architecture, if the target is Multi-Arch: allowed.
    Any,
    /// `pkg:native` (build dependencies only).
    Native,
    /// `pkg:amd64`, `libc6-i386:x32`, …
    Named(String),
}

/// One package relation: `name[:arch] [(op version)]`.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
pub struct Relation {
    pub name: String,
    pub arch: ArchQualifier,
    pub constraint: Option<Constraint>,
}

/// One entry of a dependency field: alternatives separated by `|`, any one of which satisfies it.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
pub struct Dependency {
    pub alternatives: Vec<Relation>,
}

/// The Multi-Arch field.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
pub enum MultiArch {
    #[default]
    No,
    Same,
    Foreign,
    Allowed,
}

/// The Priority field.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
pub enum Priority {
    Required,
    Important,
    Standard,
    #[default]
    Optional,
    Extra,
}

/// The Debian architecture this program was built for (`dpkg --print-architecture` on the
/// system it runs on, for a native build): the default architecture of a source and of a
/// package named without one.
pub fn native_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "i386",
        "aarch64" => "arm64",
        "arm" => "armhf",
        "powerpc64" => "ppc64el",
        "riscv64" => "riscv64",
        "s390x" => "s390x",
        "loongarch64" => "loong64",
        "mips64" => "mips64el",
        other => other,
    }
}

/// One binary package as an index describes it.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub arch: String,
    pub multi_arch: MultiArch,
    pub essential: bool,
    /// `Protected: yes` (dpkg refuses to remove these without force, like Essential).
    pub protected: bool,
    pub priority: Priority,
    pub section: String,
    /// The source package name (the binary's name when the field is absent).
    pub source: String,
    pub depends: Vec<Dependency>,
    pub pre_depends: Vec<Dependency>,
    pub recommends: Vec<Dependency>,
    pub suggests: Vec<Dependency>,
    pub enhances: Vec<Dependency>,
    pub conflicts: Vec<Relation>,
    pub breaks: Vec<Relation>,
    pub replaces: Vec<Relation>,
    pub provides: Vec<Relation>,
    /// Installed-Size, in KiB.
    pub installed_size: u64,
    /// Size of the .deb, in bytes.
    pub size: u64,
    pub sha256: Sha256,
    /// Path of the .deb relative to the archive root.
    pub filename: String,
}

impl Package {
    /// `name:arch=version`, for messages.
    pub fn key(&self) -> String {
        format!("{}:{}={}", self.name, self.arch, self.version)
    }

    /// What pins this package: its name, version, architecture and `.deb` digest.
    pub fn entry(&self) -> PackageEntry {
        PackageEntry {
            name: self.name.clone(),
            version: self.version.clone(),
            arch: self.arch.clone(),
            sha256: self.sha256,
        }
    }
}

/// One resolved package: exactly which `.deb` (by its SHA-256, as the index names it) is meant.
/// What a journal state lists (`journal::State::packages`, encoded field by field in the frozen
/// journal format) and what the materializer builds from (`materializer::PackageInput`), so the
/// digest travels with the package from the pinned index to the commit.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct PackageEntry {
    pub name: String,
    pub version: String,
    pub arch: String,
    pub sha256: Sha256,
}

impl PackageEntry {
    /// The key a package set is sorted and deduplicated by: `(name, arch)`.
    pub fn key(&self) -> (&str, &str) {
        (&self.name, &self.arch)
    }
}

impl fmt::Display for PackageEntry {
    /// `name version (arch)`, for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({})", self.name, self.version, self.arch)
    }
}

/// A set of packages loaded from one or more indices.
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
pub struct Universe {
    pub packages: Vec<Package>,
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        match &self.arch {
            ArchQualifier::None => {}
            ArchQualifier::Any => f.write_str(":any")?,
            ArchQualifier::Native => f.write_str(":native")?,
            ArchQualifier::Named(a) => write!(f, ":{a}")?,
        }
        if let Some(c) = &self.constraint {
            write!(f, " ({} {})", c.op.as_str(), c.version)?;
        }
        Ok(())
    }
}

impl fmt::Display for Dependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.alternatives.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}
