//! The store: everything particle knows about Debian archives, verified before use.
//!
//! It owns:
//! - the package model ([`model`], with [`PackageEntry`]: one resolved package, pinned by its
//!   `.deb`'s digest), the ids that cross crate boundaries ([`TxnId`], [`CommitId`]) and Debian version ordering ([`version`]);
//! - the package table (`table`): a parsed index as flat integer records over one string blob,
//!   what universe snapshots hold and what the solver reads in place, with its name directory
//!   (`names`: which packages carry, provide or conflict with a name), built once per snapshot;
//! - the deb822, relation and `Packages` parsers (pure, over `&str`);
//! - InRelease verification (`release`, `verify`), the `.deb` reader (`deb`), the
//!   content-addressed object store (`cas`);
//! - with the default `archive` feature: fetching (`fetch`: file, http, https) and the store as a
//!   whole (`archive`: sources, pins, universe snapshots in redb under `<root>/store`). Crates that
//!   only need the package model or the `.deb` reader (solver, journal, materializer, fuzz
//!   targets) turn it off and build none of the network or database dependencies.
//!
//! It is not:
//! - a solver (that is `solver`, which only reads the package model);
//! - a history (that is `journal`, which refers to store objects by digest);
//! - an OSTree writer (that is `materializer`).
//!
//! The store depends on no other particle crate.

#[cfg(feature = "archive")]
mod archive;
mod cas;
mod deb;
mod deb822;
#[cfg(feature = "archive")]
mod fetch;
mod id;
mod index;
mod lanes;
pub use lanes::prefetch;
mod model;
mod names;
mod relation;
mod release;
mod table;
mod verify;
mod version;

#[cfg(feature = "archive")]
pub use archive::{
    GcReport, IndexPin, PackageOrigin, Pin, Snapshot, SourceConfig, Store, StoreError,
    UpdateOutcome,
};
pub use cas::{write_atomic, CasError, CasVerifyReport, ObjectStore, PutInfo};
pub use deb::{
    Conffile, Control, DataArchive, DataEntries, DataEntry, DataReader, DebError, DebLimits,
    DebReader, EntryKind, EntryMeta, Md5Sum, MAINTAINER_SCRIPTS,
};
pub use deb822::{paragraphs, Deb822Error, Paragraph, Paragraphs};
#[cfg(feature = "archive")]
pub use fetch::{join_uri, FetchError, Fetcher};
pub use id::{Blake3, CommitId, DigestError, Sha256, TxnId};
pub use index::{
    decompress, package_from_paragraph, parse_packages, parse_packages_bytes, Compression,
    IndexError,
};
pub use model::{
    native_architecture, ArchQualifier, Constraint, Dependency, MultiArch, Op, Package,
    PackageEntry, Priority, Relation, Universe,
};
pub use names::{
    ArchivedNameDirectory, ArchivedNameEntry, NameDirectory, NameEntry, NegativeRef, ProvideRef,
};
pub use relation::{
    parse_dependencies, parse_relation, parse_relations, valid_name, RelationError,
};
pub use release::{
    format_rfc2822, format_utc, parse_release, parse_rfc2822, split_clearsigned, ClearsignError,
    Clearsigned, Release, ReleaseError, ReleaseFile,
};
pub use table::{
    multi_arch_of, op_of, priority_of, ArchivedPackageRecord, ArchivedPackageTable,
    ArchivedRelationRecord, ArchivedSpan, PackageRecord, PackageTable, Qualifier, RelationRecord,
    Span, TableView,
};
pub use verify::{verify_inrelease, Verified, VerifyError};
pub use version::{compare_version_bytes, compare_versions, Version, VersionError};
