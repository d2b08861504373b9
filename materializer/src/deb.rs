//! Reading a `.deb` through the store's reader: control members (with the modes dpkg gives them
//! in `info/`) and the decompressed, size-bounded `data.tar` stream.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use store::{DebError, DebLimits, DebReader};

/// One control member (`postinst`, `md5sums`, ...), with the mode dpkg installs it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ControlMember {
    pub(crate) mode: u32,
    pub(crate) data: Vec<u8>,
}

/// A package's typed control stanza and every control member.
pub(crate) fn read_control(
    deb: &Path,
) -> Result<(store::Package, BTreeMap<String, ControlMember>), DebError> {
    let reader = DebReader::open(deb, DebLimits::default())?;
    let control = reader.control();
    let members = control
        .members
        .iter()
        .map(|(name, data)| {
            let mode = if store::MAINTAINER_SCRIPTS.contains(&name.as_str()) {
                0o755
            } else {
                0o644
            };
            (
                name.clone(),
                ControlMember {
                    mode,
                    data: data.clone(),
                },
            )
        })
        .collect();
    Ok((control.package.clone(), members))
}

/// The decompressed `data.tar` stream; call `finish` after reading to run integrity checks.
pub(crate) fn open_data(deb: &Path) -> Result<store::DataReader<BufReader<File>>, DebError> {
    let (_, data) = DebReader::open(deb, DebLimits::default())?.into_data()?;
    Ok(data)
}
