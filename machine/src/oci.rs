//! An OSTree commit as an OCI image layout: one gzip layer, a config with labels, a manifest
//! and `index.json`, written so that the same commit (and the same labels) always gives the same
//! bytes. See docs/delivery.md.
//!
//! The layer is read from the commit's objects (dirtree, dirmeta, content), never from a checkout
//! or anything else mutable: entries in path order (each directory before its contents, names
//! compared bytewise), every mtime the commit's timestamp, numeric owners only (no user or group
//! names), modes including setuid/setgid/sticky as OSTree recorded them, symlinks as symlinks,
//! and a content object that appears at several paths written once and then as hard links to
//! its first path (what an OSTree deployment has: one inode per object), except under `/etc`,
//! which a deployment holds as a copy. `/usr/etc` is written as `/etc`, as ostree-ext and bootc
//! do for container images.
//!
//! The writer prints nothing: [`export`] returns what it wrote ([`Exported`]) or an [`OciError`],
//! which converts into a [`crate::Error`] of kind [`crate::ErrorKind::Export`] with the same
//! message. Writing into a fresh directory and moving it into place is the caller's job.

use ostree::{gio, glib};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::Path;

/// Why an export failed. Every variant is an export failure: as a [`crate::Error`] (through
/// `From`) it is of kind [`crate::ErrorKind::Export`], with this message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OciError {
    /// libostree could not open the repository or read an object from it.
    #[error("could not {action} in the OSTree repository {repo}: {source}")]
    Repo {
        /// What was being done (`open`, `load commit C`, `load dirtree T`, ...).
        action: String,
        /// The repository's path.
        repo: String,
        /// libostree's error.
        #[source]
        source: glib::Error,
    },
    /// The commit's objects are not what an OSTree commit holds (a missing timestamp, a
    /// symlink without a target, both `/etc` and `/usr/etc`, ...).
    #[error("commit {commit}: {what}")]
    Malformed {
        /// The commit's checksum.
        commit: String,
        /// What is wrong with it.
        what: String,
    },
    /// Writing the layout (a blob, `index.json`, a layer entry) failed.
    #[error("could not write {path}: {source}")]
    Write {
        /// The file written, or `the layer entry P`, `the image config`, `the image manifest`.
        path: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

/// What goes into the image besides the tree.
#[derive(Debug, Clone)]
pub struct ImageInfo {
    /// Labels on the image config (also the manifest's annotations).
    pub labels: BTreeMap<String, String>,
    /// OCI architecture (`amd64`, `arm64`, ...).
    pub architecture: String,
    /// `org.opencontainers.image.ref.name` in `index.json`.
    pub ref_name: String,
    /// gzip level (1–9) of the layer.
    pub compression_level: u32,
}

/// What was written. Digests are `sha256:HEX`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Exported {
    /// The manifest's digest (what `index.json` points at, and what `skopeo inspect` prints).
    pub manifest_digest: String,
    /// The image config's digest.
    pub config_digest: String,
    /// The compressed layer's digest (its blob's name).
    pub layer_digest: String,
    /// The uncompressed layer's digest (the config's `rootfs.diff_ids`).
    pub diff_id: String,
    /// The compressed layer's size in bytes.
    pub layer_size: u64,
    /// Entries in the layer (directories, files, symlinks, hard links; the root not counted).
    pub entries: u64,
    /// How many of those entries are hard links.
    pub hardlinks: u64,
    /// The commit's timestamp as RFC 3339 (the config's `created`).
    pub created: String,
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
    len: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W> Hashing<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            hash: Sha256::new(),
            len: 0,
        }
    }
    fn finish(self) -> (W, String, u64) {
        (self.inner, hex::encode(self.hash.finalize()), self.len)
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for unix seconds (proleptic Gregorian, UTC).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

struct Walker<'a> {
    repo: &'a ostree::Repo,
    repo_path: String,
    commit: String,
    mtime: u64,
    /// Content checksum → the first path it was written at.
    seen: HashMap<String, String>,
    entries: u64,
    hardlinks: u64,
}

impl Walker<'_> {
    fn repo_err(&self, action: impl Into<String>) -> impl FnOnce(glib::Error) -> OciError + '_ {
        let action = action.into();
        move |source| OciError::Repo {
            action,
            repo: self.repo_path.clone(),
            source,
        }
    }
    fn malformed(&self, what: impl Into<String>) -> OciError {
        OciError::Malformed {
            commit: self.commit.clone(),
            what: what.into(),
        }
    }

    fn header(
        &self,
        kind: tar::EntryType,
        uid: u32,
        gid: u32,
        mode: u32,
        size: u64,
    ) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_uid(u64::from(uid));
        h.set_gid(u64::from(gid));
        h.set_mode(mode & 0o7777);
        h.set_size(size);
        h.set_mtime(self.mtime);
        h
    }

    /// (uid, gid, mode) of a dirmeta object.
    fn dirmeta(&self, checksum: &str) -> Result<(u32, u32, u32), OciError> {
        let v = self
            .repo
            .load_variant(ostree::ObjectType::DirMeta, checksum)
            .map_err(self.repo_err(format!("load dirmeta {checksum}")))?;
        let field = |i: usize| {
            v.child_value(i)
                .get::<u32>()
                .map(u32::from_be)
                .ok_or_else(|| self.malformed(format!("dirmeta {checksum} is not (uuua(ayay))")))
        };
        Ok((field(0)?, field(1)?, field(2)?))
    }

    /// Writes the directory `path` (already emitted unless it is the root) and everything in it.
    /// `extra` adds one subdirectory from elsewhere in the commit (`usr/etc` as `etc` at the
    /// root); `skip` leaves one child out (`etc` inside `usr`).
    fn dir<W: Write>(
        &mut self,
        tar: &mut tar::Builder<W>,
        path: &str,
        tree: &str,
        extra: Option<(String, String, String)>,
        skip: Option<&str>,
    ) -> Result<(), OciError> {
        let v = self
            .repo
            .load_variant(ostree::ObjectType::DirTree, tree)
            .map_err(self.repo_err(format!("load dirtree {tree}")))?;
        enum Child {
            File(String),
            Dir(String, String),
        }
        let mut children: BTreeMap<Vec<u8>, (String, Child)> = BTreeMap::new();
        let files = v.child_value(0);
        for i in 0..files.n_children() {
            let f = files.child_value(i);
            let name = f
                .child_value(0)
                .str()
                .ok_or_else(|| self.malformed("a file name is not a string"))?
                .to_owned();
            let csum = hex::encode(f.child_value(1).data());
            children.insert(name.as_bytes().to_vec(), (name, Child::File(csum)));
        }
        let dirs = v.child_value(1);
        for i in 0..dirs.n_children() {
            let d = dirs.child_value(i);
            let name = d
                .child_value(0)
                .str()
                .ok_or_else(|| self.malformed("a directory name is not a string"))?
                .to_owned();
            if skip == Some(name.as_str()) {
                continue;
            }
            let t = hex::encode(d.child_value(1).data());
            let m = hex::encode(d.child_value(2).data());
            children.insert(name.as_bytes().to_vec(), (name, Child::Dir(t, m)));
        }
        if let Some((name, t, m)) = extra {
            if children.contains_key(name.as_bytes()) {
                return Err(self.malformed(format!(
                    "/{name} exists, so /usr/{name} cannot be exported as /{name}"
                )));
            }
            children.insert(name.as_bytes().to_vec(), (name, Child::Dir(t, m)));
        }
        for (_, (name, child)) in children {
            let p = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}/{name}")
            };
            match child {
                Child::File(csum) => self.file(tar, &p, &csum)?,
                Child::Dir(t, m) => {
                    let (uid, gid, mode) = self.dirmeta(&m)?;
                    let mut h = self.header(tar::EntryType::Directory, uid, gid, mode, 0);
                    tar.append_data(&mut h, format!("{p}/"), io::empty())
                        .map_err(|e| self.write_err(&p, e))?;
                    self.entries += 1;
                    // `usr/etc` goes out as `etc` (handled at the root), so `usr` skips it.
                    let skip = (p == "usr").then_some("etc");
                    self.dir(tar, &p, &t, None, skip)?;
                }
            }
        }
        Ok(())
    }

    fn write_err(&self, path: &str, source: io::Error) -> OciError {
        OciError::Write {
            path: format!("the layer entry {path}"),
            source,
        }
    }

    fn file<W: Write>(
        &mut self,
        tar: &mut tar::Builder<W>,
        path: &str,
        csum: &str,
    ) -> Result<(), OciError> {
        let (stream, info, xattrs) = self
            .repo
            .load_file(csum, gio::Cancellable::NONE)
            .map_err(self.repo_err(format!("load file object {csum}")))?;
        // File capabilities (the only extended attributes commits keep) as PAX records, as
        // GNU tar and container runtimes read them.
        let pax: Vec<(String, Vec<u8>)> = xattrs
            .iter()
            .flat_map(|v| v.iter())
            .filter_map(|pair| {
                let name = pair.child_value(0).data_as_bytes();
                let value = pair.child_value(1).data_as_bytes();
                let name = std::str::from_utf8(&name)
                    .ok()?
                    .trim_end_matches('\0')
                    .to_owned();
                Some((format!("SCHILY.xattr.{name}"), value.to_vec()))
            })
            .collect();
        let uid = info.attribute_uint32("unix::uid");
        let gid = info.attribute_uint32("unix::gid");
        let mode = info.attribute_uint32("unix::mode");
        self.entries += 1;
        if info.file_type() == gio::FileType::SymbolicLink {
            let target = info
                .symlink_target()
                .ok_or_else(|| self.malformed(format!("symlink {path} has no target")))?;
            let mut h = self.header(tar::EntryType::Symlink, uid, gid, mode, 0);
            return tar
                .append_link(&mut h, path, &target)
                .map_err(|e| self.write_err(path, e));
        }
        // /etc is a copy in a deployment, not hard links into the repository: no links there.
        let linkable = !(path == "etc" || path.starts_with("etc/"));
        if let Some(first) = self.seen.get(csum).filter(|_| linkable) {
            let mut h = self.header(tar::EntryType::Link, uid, gid, mode, 0);
            let first = first.clone();
            self.hardlinks += 1;
            return tar
                .append_link(&mut h, path, &first)
                .map_err(|e| self.write_err(path, e));
        }
        let size = u64::try_from(info.size()).unwrap_or(0);
        if !pax.is_empty() {
            tar.append_pax_extensions(pax.iter().map(|(k, v)| (k.as_str(), v.as_slice())))
                .map_err(|e| self.write_err(path, e))?;
        }
        let mut h = self.header(tar::EntryType::Regular, uid, gid, mode, size);
        let stream =
            stream.ok_or_else(|| self.malformed(format!("file object {csum} has no content")))?;
        let read = gio::prelude::InputStreamExtManual::into_read(stream);
        tar.append_data(&mut h, path, read)
            .map_err(|e| self.write_err(path, e))?;
        if linkable {
            self.seen.insert(csum.to_owned(), path.to_owned());
        }
        Ok(())
    }
}

fn write_err(path: &Path) -> impl FnOnce(io::Error) -> OciError + '_ {
    move |source| OciError::Write {
        path: path.display().to_string(),
        source,
    }
}

/// Writes `bytes` as a blob; returns its digest (hex) and size.
fn blob(dir: &Path, bytes: &[u8]) -> Result<(String, u64), OciError> {
    let digest = hex::encode(Sha256::digest(bytes));
    let path = dir.join("blobs/sha256").join(&digest);
    std::fs::write(&path, bytes).map_err(write_err(&path))?;
    Ok((digest, bytes.len() as u64))
}

/// Writes the OCI image layout of `commit` (in the repository at `repo`) into `dir`, which must
/// exist and be empty: `oci-layout`, `index.json` (one manifest, named `info.ref_name`) and
/// `blobs/sha256/` (the layer, the config, the manifest). On failure `dir` holds a partial
/// layout (the caller removes it).
pub fn export(
    repo: &Path,
    commit: &str,
    info: &ImageInfo,
    dir: &Path,
) -> Result<Exported, OciError> {
    let repo_path = repo.display().to_string();
    let r = ostree::Repo::new_for_path(repo);
    r.open(gio::Cancellable::NONE)
        .map_err(|source| OciError::Repo {
            action: "open".into(),
            repo: repo_path.clone(),
            source,
        })?;
    let (c, _) = r.load_commit(commit).map_err(|source| OciError::Repo {
        action: format!("load commit {commit}"),
        repo: repo_path.clone(),
        source,
    })?;
    let mtime = c
        .child_value(5)
        .get::<u64>()
        .map(u64::from_be)
        .ok_or_else(|| OciError::Malformed {
            commit: commit.to_owned(),
            what: "no timestamp".into(),
        })?;
    let root_tree = hex::encode(c.child_value(6).data());

    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).map_err(write_err(&blobs))?;
    let tmp = blobs.join("layer.tmp");
    let file = std::fs::File::create(&tmp).map_err(write_err(&tmp))?;
    let compressed = Hashing::new(io::BufWriter::with_capacity(1 << 20, file));
    // Deterministic gzip: no file name, mtime 0, fixed level; flate2's pure-Rust backend
    // (miniz_oxide, pinned by Cargo.lock) gives the same stream for the same input.
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(compressed, flate2::Compression::new(info.compression_level));
    let uncompressed = Hashing::new(gz);
    let mut tar = tar::Builder::new(uncompressed);
    let mut w = Walker {
        repo: &r,
        repo_path: repo_path.clone(),
        commit: commit.to_owned(),
        mtime,
        seen: HashMap::new(),
        entries: 0,
        hardlinks: 0,
    };
    // /usr/etc, if the commit has one, goes out as /etc.
    let usr_etc = find_usr_etc(&w, &root_tree)?;
    w.dir(&mut tar, "", &root_tree, usr_etc, None)?;
    let uncompressed = tar.into_inner().map_err(write_err(&tmp))?;
    let (gz, diff_id, _) = uncompressed.finish();
    let compressed = gz.finish().map_err(write_err(&tmp))?;
    let (buf, layer_digest, layer_size) = compressed.finish();
    let file = buf.into_inner().map_err(|e| OciError::Write {
        path: tmp.display().to_string(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(write_err(&tmp))?;
    let layer_path = blobs.join(&layer_digest);
    std::fs::rename(&tmp, &layer_path).map_err(write_err(&layer_path))?;

    let created = rfc3339(mtime);
    let config = serde_json::json!({
        "created": created,
        "architecture": info.architecture,
        "os": "linux",
        "config": { "Labels": info.labels },
        "rootfs": { "type": "layers", "diff_ids": [format!("sha256:{diff_id}")] },
        "history": [{ "created": created, "created_by": "particle export oci" }],
    });
    let config_bytes = serde_json::to_vec(&config).map_err(|e| OciError::Write {
        path: "the image config".into(),
        source: e.into(),
    })?;
    let (config_digest, config_size) = blob(dir, &config_bytes)?;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": format!("sha256:{config_digest}"),
            "size": config_size,
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": format!("sha256:{layer_digest}"),
            "size": layer_size,
        }],
        "annotations": info.labels,
    });
    let manifest_bytes = serde_json::to_vec(&manifest).map_err(|e| OciError::Write {
        path: "the image manifest".into(),
        source: e.into(),
    })?;
    let (manifest_digest, manifest_size) = blob(dir, &manifest_bytes)?;
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{manifest_digest}"),
            "size": manifest_size,
            "annotations": { "org.opencontainers.image.ref.name": info.ref_name },
        }],
    });
    let index_path = dir.join("index.json");
    let index_bytes = serde_json::to_vec(&index).map_err(|e| OciError::Write {
        path: index_path.display().to_string(),
        source: e.into(),
    })?;
    std::fs::write(&index_path, index_bytes).map_err(write_err(&index_path))?;
    let layout = dir.join("oci-layout");
    std::fs::write(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#).map_err(write_err(&layout))?;
    Ok(Exported {
        manifest_digest: format!("sha256:{manifest_digest}"),
        config_digest: format!("sha256:{config_digest}"),
        layer_digest: format!("sha256:{layer_digest}"),
        diff_id: format!("sha256:{diff_id}"),
        layer_size,
        entries: w.entries,
        hardlinks: w.hardlinks,
        created,
    })
}

/// `("etc", tree, meta)` of `/usr/etc` when the commit has it.
fn find_usr_etc(
    w: &Walker<'_>,
    root_tree: &str,
) -> Result<Option<(String, String, String)>, OciError> {
    let sub = |tree: &str, name: &str| -> Result<Option<(String, String)>, OciError> {
        let v = w
            .repo
            .load_variant(ostree::ObjectType::DirTree, tree)
            .map_err(w.repo_err(format!("load dirtree {tree}")))?;
        let dirs = v.child_value(1);
        for i in 0..dirs.n_children() {
            let d = dirs.child_value(i);
            if d.child_value(0).str() == Some(name) {
                return Ok(Some((
                    hex::encode(d.child_value(1).data()),
                    hex::encode(d.child_value(2).data()),
                )));
            }
        }
        Ok(None)
    };
    let Some((usr, _)) = sub(root_tree, "usr")? else {
        return Ok(None);
    };
    Ok(sub(&usr, "etc")?.map(|(t, m)| ("etc".to_owned(), t, m)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{chown, symlink, PermissionsExt};
    use std::process::Command;

    fn ostree(args: &[&str]) -> String {
        let out = Command::new("ostree")
            .args(args)
            .output()
            .expect("run ostree");
        assert!(
            out.status.success(),
            "ostree {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// A small tree with what the layer must keep: setuid/setgid, a group owner, a sticky
    /// directory, a symlink, duplicate content (hard links in /usr, copies in /usr/etc).
    fn tree(dir: &Path) {
        let w = |rel: &str, data: &str, mode: u32| {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, data).expect("write");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod");
        };
        w("usr/bin/su", "setuid program", 0o4755);
        w("usr/bin/chage", "setgid program", 0o2755);
        // chown clears setgid, so the mode is set again after it.
        chown(dir.join("usr/bin/chage"), Some(0), Some(42)).expect("chown");
        std::fs::set_permissions(
            dir.join("usr/bin/chage"),
            std::fs::Permissions::from_mode(0o2755),
        )
        .expect("chmod");
        w("usr/lib/a", "same", 0o644);
        w("usr/lib/b", "same", 0o644);
        w("usr/etc/one", "same", 0o644);
        w("usr/etc/two", "same", 0o644);
        w("usr/lib-x/z", "z", 0o644);
        std::fs::create_dir_all(dir.join("tmp")).expect("mkdir");
        std::fs::set_permissions(dir.join("tmp"), std::fs::Permissions::from_mode(0o1777))
            .expect("chmod");
        symlink("usr/bin", dir.join("bin")).expect("symlink");
        for d in ["usr", "usr/bin", "usr/lib", "usr/lib-x", "usr/etc"] {
            std::fs::set_permissions(dir.join(d), std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
    }

    fn commit(repo: &Path, tree: &Path) -> String {
        ostree(&[
            &format!("--repo={}", repo.display()),
            "init",
            "--mode=bare-user",
        ]);
        ostree(&[
            &format!("--repo={}", repo.display()),
            "commit",
            "--branch=t",
            "--timestamp=2026-01-02 03:04:05 +0000",
            &format!("--tree=dir={}", tree.display()),
        ])
    }

    fn info() -> ImageInfo {
        ImageInfo {
            labels: BTreeMap::from([("org.particle-os.variant".into(), "t".into())]),
            architecture: "amd64".into(),
            ref_name: "t".into(),
            compression_level: 1,
        }
    }

    fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        for sub in ["", "blobs/sha256"] {
            for e in std::fs::read_dir(dir.join(sub))
                .expect("read_dir")
                .flatten()
            {
                if e.file_type().expect("type").is_file() {
                    let name = format!("{sub}/{}", e.file_name().to_string_lossy());
                    out.insert(name, std::fs::read(e.path()).expect("read"));
                }
            }
        }
        out
    }

    #[test]
    fn layer_keeps_owners_modes_links_and_is_reproducible_across_repos() {
        let t = tempfile::tempdir().expect("tempdir");
        tree(&t.path().join("tree"));
        let c1 = commit(&t.path().join("repo1"), &t.path().join("tree"));
        let c2 = commit(&t.path().join("repo2"), &t.path().join("tree"));
        assert_eq!(c1, c2, "same tree and timestamp, same commit");
        let e1 = export(
            &t.path().join("repo1"),
            &c1,
            &info(),
            &t.path().join("oci1"),
        )
        .expect("export 1");
        let e2 = export(
            &t.path().join("repo2"),
            &c2,
            &info(),
            &t.path().join("oci2"),
        )
        .expect("export 2");
        assert_eq!(e1.manifest_digest, e2.manifest_digest);
        assert!(files(&t.path().join("oci1")) == files(&t.path().join("oci2")));
        assert_eq!(e1.created, "2026-01-02T03:04:05Z");

        let layer = t
            .path()
            .join("oci1/blobs/sha256")
            .join(e1.layer_digest.trim_start_matches("sha256:"));
        let gz = flate2::read::GzDecoder::new(std::fs::File::open(layer).expect("open layer"));
        let mut archive = tar::Archive::new(gz);
        let mut seen = Vec::new();
        for entry in archive.entries().expect("entries") {
            let entry = entry.expect("entry");
            let h = entry.header();
            let path = entry.path().expect("path").display().to_string();
            let link = entry
                .link_name()
                .expect("link name")
                .map(|l| l.display().to_string());
            assert_eq!(h.mtime().expect("mtime"), 1_767_323_045, "{path}");
            assert!(h.username().expect("utf-8").unwrap_or("").is_empty());
            seen.push((
                path,
                h.entry_type(),
                h.mode().expect("mode"),
                h.gid().expect("gid"),
                link,
            ));
        }
        use tar::EntryType as E;
        let expected: Vec<(String, E, u32, u64, Option<String>)> = vec![
            ("bin".into(), E::Symlink, 0o777, 0, Some("usr/bin".into())),
            ("etc/".into(), E::Directory, 0o755, 0, None),
            ("etc/one".into(), E::Regular, 0o644, 0, None),
            ("etc/two".into(), E::Regular, 0o644, 0, None),
            ("tmp/".into(), E::Directory, 0o1777, 0, None),
            ("usr/".into(), E::Directory, 0o755, 0, None),
            ("usr/bin/".into(), E::Directory, 0o755, 0, None),
            ("usr/bin/chage".into(), E::Regular, 0o2755, 42, None),
            ("usr/bin/su".into(), E::Regular, 0o4755, 0, None),
            ("usr/lib/".into(), E::Directory, 0o755, 0, None),
            ("usr/lib/a".into(), E::Regular, 0o644, 0, None),
            (
                "usr/lib/b".into(),
                E::Link,
                0o644,
                0,
                Some("usr/lib/a".into()),
            ),
            ("usr/lib-x/".into(), E::Directory, 0o755, 0, None),
            ("usr/lib-x/z".into(), E::Regular, 0o644, 0, None),
        ];
        assert_eq!(seen, expected);
        assert_eq!(e1.hardlinks, 1);
    }

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_798_761_599), "2026-12-31T23:59:59Z");
    }
}
