//! machine: where a commit leaves the build host and becomes a machine.
//!
//! It owns:
//! - OSTree sysroots (`sysroot`): initializing one, deploying a commit into it with exactly the
//!   variant's recorded kernel arguments plus the machine's own (host) arguments, reading back
//!   what ostree did;
//! - the boot loader (`bls`, `grub`): Debian's GRUB has no `blscfg`, so `grub.cfg` is generated
//!   from ostree's Boot Loader Specification entries, every deployment a menu entry, the default
//!   first and the rollback after it;
//! - disk images (`disk`, `image`): a partitioned raw (or qcow2) disk with an OSTree sysroot and
//!   GRUB for BIOS and UEFI, written without loop devices, complete or absent;
//! - container images (`oci`): a commit as a reproducible OCI image layout, read from the
//!   commit's objects; pushed to a registry with skopeo (`registry`), signed with sigstore keys
//!   that particle writes in cosign's encrypted format (`sigstore`); pulled back only when a
//!   containers-policy.json(5) accepts them (`policy`, `reference`: particle verifies the
//!   sigstore signatures itself, skopeo only transfers).
//!
//! It is not a journal reader or a solver: callers hand it a repository, a commit and the
//! arguments the journal recorded. See `docs/boot.md` and `docs/delivery.md`.

mod bls;
mod disk;
mod error;
mod grub;
mod image;
mod kernel;
pub mod oci;
mod ostree_cmd;
mod package;
pub mod policy;
pub mod reference;
pub mod registry;
pub mod sigstore;
mod status;
mod strict_json;
mod sysroot;

pub use bls::{read_entries, BootEntry};
pub use disk::{mbr, Partition, SECTOR};
pub use error::{Error, ErrorKind};
pub use grub::{
    grub_cfg, grub_mkconfig_program, mkconfig, GrubSettings, GRUB_EXEC_ENV, GRUB_MKCONFIG_INSTALLED,
};
pub use image::{build_image, Firmware, Format, ImageReport, ImageRequest, Seed};
pub use kernel::{kernel_facts, ko_params, module_name, parse_facts, KernelFacts};
pub use ostree_cmd::{args as ostree_args, run as run_ostree};
pub use package::{
    build_package, exec_sibling, require_sibling, sibling_program, write_archive, BuiltPackage,
    PackageRequest, FULL_PROGRAM_INSTALLED, PACKAGE, PROGRAM_INSTALLED,
};
pub use status::{booted_system, deployments, DeploymentStatus};
pub use sysroot::{
    check_bootable, check_stateroot, deploy, drop_staged, host_kargs, kernels, preflight,
    read_commit_file, set_default, DeployRequest, Deployed, DeploymentInfo, Preflight, HOST_KARGS,
};

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
