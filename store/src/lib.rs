//! The store: everything particle knows about Debian archives, verified before use.
//!
//! It owns:
//! - the package model ([`model`]) and Debian version ordering ([`version`]);
//! - the deb822, relation and `Packages` parsers (pure, over `&str`);
//! - (in progress) InRelease verification, the `.deb` reader, the content-addressed object store
//!   and the redb metadata database under `<root>/store`.
//!
//! It is not:
//! - a solver (that is `solver`, which only reads the package model);
//! - a history (that is `journal`, which refers to store objects by digest);
//! - an OSTree writer (that is `materializer`).
//!
//! The store depends on no other particle crate.

mod deb822;
mod id;
mod index;
mod model;
mod relation;
mod version;

pub use deb822::{paragraphs, Deb822Error, Paragraph, Paragraphs};
pub use id::{Blake3, DigestError, Sha256};
pub use index::{decompress, package_from_paragraph, parse_packages, parse_packages_bytes, Compression, IndexError};
pub use model::{ArchQualifier, Constraint, Dependency, MultiArch, Op, Package, Priority, Relation, Universe};
pub use relation::{parse_dependencies, parse_relation, parse_relations, valid_name, RelationError};
pub use version::{compare_versions, Version, VersionError};
