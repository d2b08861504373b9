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

mod archive;
mod cas;
mod deb;
mod deb822;
mod fetch;
mod id;
mod index;
mod model;
mod relation;
mod release;
mod verify;
mod version;

pub use archive::{
    IndexPin, PackageOrigin, Pin, Snapshot, SourceConfig, Store, StoreError, UpdateOutcome,
};
pub use cas::{CasError, CasVerifyReport, ObjectStore, PutInfo};
pub use deb::{
    Conffile, Control, DataArchive, DataEntries, DataEntry, DataReader, DebError, DebLimits,
    DebReader, EntryKind, EntryMeta, Md5Sum, MAINTAINER_SCRIPTS,
};
pub use deb822::{paragraphs, Deb822Error, Paragraph, Paragraphs};
pub use fetch::{join_uri, FetchError, Fetcher};
pub use id::{Blake3, DigestError, Sha256};
pub use index::{
    decompress, package_from_paragraph, parse_packages, parse_packages_bytes, Compression,
    IndexError,
};
pub use model::{
    ArchQualifier, Constraint, Dependency, MultiArch, Op, Package, Priority, Relation, Universe,
};
pub use relation::{
    parse_dependencies, parse_relation, parse_relations, valid_name, RelationError,
};
pub use release::{
    format_utc, parse_release, parse_rfc2822, split_clearsigned, ClearsignError, Clearsigned,
    Release, ReleaseError, ReleaseFile,
};
pub use verify::{verify_inrelease, Verified, VerifyError};
pub use version::{compare_versions, Version, VersionError};
