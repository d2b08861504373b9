//! materializer: a resolved package set and a profile into a bootable-layout OSTree commit.
//!
//! It owns:
//! - the path-safe extractor (`extract`): `data.tar` into a staging tree, nothing outside it;
//! - the dpkg database of the tree (`dpkgdb`) and configuration in a sandbox (`configure`,
//!   `sandbox`, `order`): maintainer scripts run as dpkg runs them, under bubblewrap;
//! - the atomic layout and normalization (`layout`): unified `/usr`, `/usr/etc`, `/var` as
//!   tmpfiles.d entries, profile files, everything that would make two builds differ removed;
//! - the OSTree side (`commit`): bare-user repository, commits with transaction metadata, refs,
//!   fsck.
//!
//! It is not:
//! - a solver: the input is an already resolved set (replay never re-solves);
//! - a journal: it reads a [`BuildInput`] the caller maps from journal records, and never
//!   writes the journal or the store;
//! - a ref mover during builds: [`materialize`] only writes a commit; the caller records the
//!   transaction, then calls [`set_ref`].
//!
//! See `docs/materializer.md` (layout, kargs) and `docs/reproducibility.md`.

mod commit;
mod configure;
mod deb;
mod dpkgdb;
mod extract;
mod hook;
mod incremental;
mod known;
mod layout;
mod materialize;
mod order;
mod overlay;
mod sandbox;

pub use commit::{
    commit_exists, commit_metadata, commit_parent, fsck, init_repo, resolve_ref, set_ref,
    variant_ref, RepoError,
};
pub use configure::ConfigureError;
pub use dpkgdb::DpkgDbError;
pub use extract::ExtractError;
pub use hook::set_crash_hook;
pub use layout::{LayoutError, INITRAMFS_HOOK_KEY, INITRAMFS_MODULES_KEY};
pub use materialize::{
    materialize, materialize_with, materialize_with_progress, BuildInput, MaterializeError,
    Materialized, Options, PackageInput, Phase, Profile, Progress,
};
pub use overlay::remove_work_dir;
pub use sandbox::SandboxError;
