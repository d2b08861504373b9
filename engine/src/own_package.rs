//! particle's own package as a source of the state directory, so that images carry the tool
//! that manages them as a package dpkg knows, from nothing but the Debian mirror added: `self/`
//! holds a local archive, signed with a key made for this state directory, that offers the
//! package built from the running programs (`machine::build_package`). It is set up when a
//! transaction asks for `particle` and no source has it yet, and `repo update` rebuilds it when
//! the programs changed. The store verifies and pins it like any other source. See
//! docs/delivery.md, "particle in the images".

use crate::session::Session;
use crate::state::StateDir;
use crate::txn::Observer;
use crate::{Error, ErrorKind, Result};
use std::path::PathBuf;

/// The source's name.
pub const SOURCE: &str = crate::machine::OWN_PACKAGE_SOURCE;

fn dir(state: &StateDir) -> PathBuf {
    state.root.join("self")
}

/// Whether `names` asks for particle's own package.
pub fn wanted<'a>(mut names: impl Iterator<Item = &'a str>) -> bool {
    names.any(|n| n.split(['=', ':']).next() == Some(machine::PACKAGE))
}

impl Session {
    /// Makes sure the state directory offers particle's own package: builds it and its
    /// archive, adds the source and pins it, when the source is missing, or when `refresh` is
    /// set and the running programs differ from the packaged ones. Returns whether the pin
    /// changed.
    pub fn ensure_own_package(&mut self, refresh: bool, obs: &dyn Observer) -> Result<bool> {
        let changed = ensure(&self.state, self.store()?, refresh, obs)?;
        if changed {
            self.pinned = None;
        }
        Ok(changed)
    }
}

/// [`Session::ensure_own_package`] on a store opened outside a session (`repo update`).
pub fn ensure(
    state: &StateDir,
    st: &store::Store,
    refresh: bool,
    obs: &dyn Observer,
) -> Result<bool> {
    let present = st.sources()?.iter().any(|s| s.name == SOURCE);
    if present && !refresh {
        return Ok(false);
    }
    // This runs in `particle-full`; `particle` is beside it or installed.
    let full = std::env::current_exe().map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("could not find the running program: {e}"),
        )
    })?;
    let program = machine::require_sibling("particle", machine::PROGRAM_INSTALLED)?;
    let grub =
        machine::require_sibling("particle-grub-mkconfig", machine::GRUB_MKCONFIG_INSTALLED)?;
    let dir = dir(state);
    std::fs::create_dir_all(&dir)
        .map_err(|e| crate::state::io_error(&state.root, &dir, "create", &e))?;
    let arch = store::native_architecture();
    let pkg = machine::build_package(
        &machine::PackageRequest {
            version: env!("CARGO_PKG_VERSION"),
            arch,
            program: &program,
            full: &full,
            grub_mkconfig: &grub,
            license: "Apache-2.0",
        },
        &dir,
    )?;
    let in_pool = dir
        .join("pool/main/p/particle")
        .join(pkg.path.file_name().unwrap_or_default());
    let same = present && in_pool.exists();
    let keyring = if same {
        dir.join("keyring.gpg")
    } else {
        machine::write_archive(&dir, &pkg, crate::machine::now())?
    };
    let _ = std::fs::remove_file(&pkg.path);
    if same {
        return Ok(false);
    }
    if !present {
        st.add_source(&store::SourceConfig {
            name: SOURCE.to_owned(),
            uri: format!("file://{}", dir.display()),
            suite: "particle".to_owned(),
            components: vec!["main".to_owned()],
            architectures: vec![arch.to_owned()],
            keyring,
            priority: None,
        })?;
    }
    for outcome in st.update_sources(crate::machine::now(), Some(&[SOURCE]))? {
        if let store::UpdateOutcome::Failed { error, .. } = outcome {
            return Err(Error::new(
                ErrorKind::OwnPackage,
                format!("particle's own package archive did not verify: {error}"),
            ));
        }
    }
    obs.note(&format!(
        "{SOURCE}: offering particle {} ({arch}) built from {}",
        pkg.version,
        program.display()
    ));
    Ok(true)
}
