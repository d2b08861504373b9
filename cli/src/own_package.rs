//! particle's own package as a source of the state directory, so that images carry the tool
//! that manages them as a package dpkg knows, from nothing but the Debian mirror added: `self/`
//! holds a local archive, signed with a key made for this state directory, that offers the
//! package built from the running programs (`machine::build_package`). It is set up when a
//! transaction asks for `particle` and no source has it yet, and `repo update` rebuilds it when
//! the programs changed. The store verifies and pins it like any other source. See
//! docs/delivery.md, "particle in the images".

use crate::error::CliError;
use engine::state::State;
use engine::ErrorKind;
use std::path::PathBuf;

/// The source's name.
pub(crate) const SOURCE: &str = engine::machine::OWN_PACKAGE_SOURCE;

fn dir(state: &State) -> PathBuf {
    state.root.join("self")
}

/// Whether `names` asks for particle's own package.
pub(crate) fn wanted<'a>(mut names: impl Iterator<Item = &'a str>) -> bool {
    names.any(|n| n.split(['=', ':']).next() == Some(machine::PACKAGE))
}

/// Makes sure the state directory offers particle's own package: builds it and its archive,
/// adds the source and pins it, when the source is missing, or when `refresh` is set and the
/// running programs differ from the packaged ones. Returns whether the pin changed.
pub(crate) fn ensure(
    state: &State,
    st: &store::Store,
    refresh: bool,
    say: &dyn Fn(&str),
) -> anyhow::Result<bool> {
    let present = st.sources()?.iter().any(|s| s.name == SOURCE);
    if present && !refresh {
        return Ok(false);
    }
    let program = std::env::current_exe().map_err(|e| {
        CliError::new(
            ErrorKind::Io,
            format!("could not find the running program: {e}"),
        )
    })?;
    let grub = machine::grub_mkconfig_program().ok_or_else(|| {
        CliError::new(
            ErrorKind::Tool,
            "particle-grub-mkconfig was not found beside particle nor installed",
        )
        .hint("build the whole workspace (`cargo build`), or install particle's package")
    })?;
    let dir = dir(state);
    std::fs::create_dir_all(&dir)
        .map_err(|e| engine::state::io_error(&state.root, &dir, "create", &e))?;
    let arch = store::native_architecture();
    let pkg = machine::build_package(
        &machine::PackageRequest {
            version: env!("CARGO_PKG_VERSION"),
            arch,
            program: &program,
            grub_mkconfig: &grub,
            license: "Apache-2.0",
        },
        &dir,
    )
    .map_err(crate::deliver::machine_err)?;
    let in_pool = dir
        .join("pool/main/p/particle")
        .join(pkg.path.file_name().unwrap_or_default());
    let same = present && in_pool.exists();
    let keyring = if same {
        dir.join("keyring.gpg")
    } else {
        machine::write_archive(&dir, &pkg, crate::txn::now())
            .map_err(crate::deliver::machine_err)?
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
        })?;
    }
    for outcome in st.update_sources(crate::txn::now(), Some(&[SOURCE]))? {
        if let store::UpdateOutcome::Failed { error, .. } = outcome {
            return Err(CliError::new(
                ErrorKind::OwnPackage,
                format!("particle's own package archive did not verify: {error}"),
            )
            .into());
        }
    }
    say(&format!(
        "{SOURCE}: offering particle {} ({arch}) built from {}",
        pkg.version,
        program.display()
    ));
    Ok(true)
}
