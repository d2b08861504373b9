//! Reading a `.deb`: its control members and a stream of its decompressed `data.tar`.
//!
//! Until the store's `.deb` reader is exported, this goes through `dpkg-deb` (present on every
//! Debian system): `--ctrl-tarfile` for the control members, `--fsys-tarfile` for the data. Both
//! are plain readers of the archive; nothing is unpacked by them. The caller's extractor does all
//! writing.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

/// Why a `.deb` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DebError {
    #[error("could not run dpkg-deb on {path}")]
    Spawn {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("could not read the {member} of {path}: {detail}")]
    Member { path: PathBuf, member: &'static str, detail: String },
}

/// One control member (`control`, `postinst`, `md5sums`, ...), with its mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ControlMember {
    pub(crate) mode: u32,
    pub(crate) data: Vec<u8>,
}

/// Reads every control member of a `.deb`.
pub(crate) fn control_members(deb: &Path) -> Result<BTreeMap<String, ControlMember>, DebError> {
    let out = Command::new("dpkg-deb")
        .arg("--ctrl-tarfile")
        .arg(deb)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| DebError::Spawn { path: deb.to_owned(), source })?;
    let member_err = |detail: String| DebError::Member { path: deb.to_owned(), member: "control archive", detail };
    if !out.status.success() {
        return Err(member_err(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
    }
    let mut members = BTreeMap::new();
    let mut archive = tar::Archive::new(out.stdout.as_slice());
    for entry in archive.entries().map_err(|e| member_err(e.to_string()))? {
        let mut entry = entry.map_err(|e| member_err(e.to_string()))?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry.path().map_err(|e| member_err(e.to_string()))?;
        let name = path.to_string_lossy().trim_start_matches("./").to_owned();
        if name.is_empty() || name.contains('/') {
            continue;
        }
        let mode = entry.header().mode().map_err(|e| member_err(e.to_string()))?;
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(|e| member_err(e.to_string()))?;
        members.insert(name, ControlMember { mode, data });
    }
    if !members.contains_key("control") {
        return Err(member_err("no control file".to_owned()));
    }
    Ok(members)
}

/// The decompressed `data.tar` of a `.deb`, streamed.
pub(crate) struct DataTar {
    child: Child,
    stdout: ChildStdout,
    path: PathBuf,
}

impl DataTar {
    pub(crate) fn open(deb: &Path) -> Result<Self, DebError> {
        let mut child = Command::new("dpkg-deb")
            .arg("--fsys-tarfile")
            .arg(deb)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| DebError::Spawn { path: deb.to_owned(), source })?;
        let stdout = child.stdout.take().expect("stdout was piped");
        Ok(DataTar { child, stdout, path: deb.to_owned() })
    }

    /// Drains the stream and checks that the decompressor succeeded.
    pub(crate) fn finish(mut self) -> Result<(), DebError> {
        io::copy(&mut self.stdout, &mut io::sink())
            .map_err(|e| DebError::Member { path: self.path.clone(), member: "data archive", detail: e.to_string() })?;
        let mut stderr = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut stderr);
        }
        let status = self.child.wait().map_err(|source| DebError::Spawn { path: self.path.clone(), source })?;
        if status.success() {
            Ok(())
        } else {
            Err(DebError::Member { path: self.path.clone(), member: "data archive", detail: stderr.trim().to_owned() })
        }
    }
}

impl Read for DataTar {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stdout.read(buf)
    }
}

impl Drop for DataTar {
    fn drop(&mut self) {
        // On an early error the child may still be writing: stop it rather than leak it.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
