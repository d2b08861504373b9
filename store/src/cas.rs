//! The content-addressed object store: `<root>/store/objects/<2 hex>/<62 hex>[.zst]`, named by the
//! BLAKE3 of the content.
//!
//! Writes are atomic and idempotent (gitoxide's loose-object discipline): content goes to a temp
//! file in `objects/tmp/` while it is hashed, is fsynced, renamed into place, and the directory is
//! fsynced; an object that already exists is success. Objects may be stored zstd-compressed (a
//! `.zst` suffix); their name is always the digest of the uncompressed content.

use crate::id::{Blake3, Sha256};
use sha2::Digest;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// An object store operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum CasError {
    #[error("could not {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("object {id} is missing from {path}")]
    Missing { id: Blake3, path: PathBuf },
    #[error("object {path} is corrupt: its content hashes to {actual}, not {expected}")]
    Corrupt {
        path: PathBuf,
        expected: Blake3,
        actual: Blake3,
    },
    #[error("{path} is not an object name")]
    Stray { path: PathBuf },
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> CasError + 'a {
    move |source| CasError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// What a `put` learned about the content it stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutInfo {
    pub blake3: Blake3,
    pub sha256: Sha256,
    pub size: u64,
    /// False if the object was already present.
    pub written: bool,
}

/// The result of [`ObjectStore::verify_all`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CasVerifyReport {
    pub objects: u64,
    pub bytes: u64,
}

/// A directory of content-addressed objects.
#[derive(Debug, Clone)]
pub struct ObjectStore {
    dir: PathBuf,
}

impl ObjectStore {
    /// Opens (creating if needed) the object directory `dir`.
    pub fn open(dir: &Path) -> Result<Self, CasError> {
        fs::create_dir_all(dir.join("tmp")).map_err(io_err("create", dir))?;
        Ok(Self {
            dir: dir.to_owned(),
        })
    }

    fn final_path(&self, id: &Blake3, compressed: bool) -> PathBuf {
        let hex = id.to_hex();
        let name = if compressed {
            format!("{}.zst", &hex[2..])
        } else {
            hex[2..].to_owned()
        };
        self.dir.join(&hex[..2]).join(name)
    }

    /// The path of an object, if it is present.
    pub fn locate(&self, id: &Blake3) -> Option<PathBuf> {
        [false, true]
            .into_iter()
            .map(|c| self.final_path(id, c))
            .find(|p| p.exists())
    }

    /// Whether the object is present.
    pub fn contains(&self, id: &Blake3) -> bool {
        self.locate(id).is_some()
    }

    /// Stores `data`, zstd-compressing it if `compress`.
    pub fn put_bytes(&self, data: &[u8], compress: bool) -> Result<PutInfo, CasError> {
        self.put_reader(data, compress)
    }

    /// Stores `data` even if an object of that name exists: for repairing an object found
    /// damaged (its content no longer matches its name, so [`Self::put_bytes`] would keep it).
    pub fn replace_bytes(&self, data: &[u8], compress: bool) -> Result<PutInfo, CasError> {
        self.put(data, compress, true)
    }

    /// Streams `reader` into the store, hashing (BLAKE3 and SHA256) as it goes.
    pub fn put_reader(&self, reader: impl Read, compress: bool) -> Result<PutInfo, CasError> {
        self.put(reader, compress, false)
    }

    /// [`Self::put_reader`]; with `replace`, an existing object of the same name is replaced.
    fn put(
        &self,
        mut reader: impl Read,
        compress: bool,
        replace: bool,
    ) -> Result<PutInfo, CasError> {
        let tmp_dir = self.dir.join("tmp");
        let tmp = tempfile::NamedTempFile::new_in(&tmp_dir)
            .map_err(io_err("create a temp file in", &tmp_dir))?;
        let mut b3 = blake3::Hasher::new();
        let mut sha = sha2::Sha256::new();
        let mut size = 0u64;
        {
            let file = tmp.as_file();
            let mut sink: Box<dyn Write> = if compress {
                Box::new(
                    zstd::Encoder::new(file, 3)
                        .map_err(io_err("compress into", tmp.path()))?
                        .auto_finish(),
                )
            } else {
                Box::new(io::BufWriter::with_capacity(1 << 20, file))
            };
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(CasError::Io {
                            action: "read content for",
                            path: tmp.path().to_owned(),
                            source: e,
                        })
                    }
                };
                b3.update(&buf[..n]);
                sha.update(&buf[..n]);
                size += n as u64;
                sink.write_all(&buf[..n])
                    .map_err(io_err("write", tmp.path()))?;
            }
            sink.flush().map_err(io_err("write", tmp.path()))?;
        }
        let blake3 = Blake3(*b3.finalize().as_bytes());
        let sha256 = Sha256(sha.finalize().into());
        if !replace && self.contains(&blake3) {
            return Ok(PutInfo {
                blake3,
                sha256,
                size,
                written: false,
            });
        }
        tmp.as_file()
            .sync_all()
            .map_err(io_err("fsync", tmp.path()))?;
        let dest = self.final_path(&blake3, compress);
        let parent = dest
            .parent()
            .expect("object paths have a fan-out directory");
        fs::create_dir_all(parent).map_err(io_err("create", parent))?;
        tmp.persist(&dest).map_err(|e| CasError::Io {
            action: "rename into place",
            path: dest.clone(),
            source: e.error,
        })?;
        sync_dir(parent)?;
        Ok(PutInfo {
            blake3,
            sha256,
            size,
            written: true,
        })
    }

    /// Opens an object for reading (decompressing transparently).
    pub fn open_object(&self, id: &Blake3) -> Result<Box<dyn Read + Send>, CasError> {
        let path = self.locate(id).ok_or_else(|| CasError::Missing {
            id: *id,
            path: self.final_path(id, false),
        })?;
        let file = File::open(&path).map_err(io_err("open", &path))?;
        if path.extension().is_some_and(|e| e == "zst") {
            Ok(Box::new(
                zstd::Decoder::new(file).map_err(io_err("decompress", &path))?,
            ))
        } else {
            Ok(Box::new(io::BufReader::with_capacity(1 << 20, file)))
        }
    }

    /// Reads a whole object into memory and checks its digest.
    pub fn get(&self, id: &Blake3) -> Result<Vec<u8>, CasError> {
        let mut out = Vec::new();
        let mut r = self.open_object(id)?;
        r.read_to_end(&mut out)
            .map_err(io_err("read", &self.final_path(id, false)))?;
        let actual = Blake3::of(&out);
        if actual != *id {
            return Err(CasError::Corrupt {
                path: self.locate(id).unwrap_or_default(),
                expected: *id,
                actual,
            });
        }
        Ok(out)
    }

    /// Re-hashes every object; fails naming the first that does not match its name (in sorted order).
    pub fn verify_all(&self) -> Result<CasVerifyReport, CasError> {
        let mut report = CasVerifyReport::default();
        let mut fanouts: Vec<_> = read_dir_sorted(&self.dir)?;
        fanouts.retain(|p| p.file_name().is_some_and(|n| n != "tmp"));
        for fan in fanouts {
            for path in read_dir_sorted(&fan)? {
                let (Some(fan_name), Some(name)) = (
                    fan.file_name().and_then(|n| n.to_str()),
                    path.file_name().and_then(|n| n.to_str()),
                ) else {
                    return Err(CasError::Stray { path });
                };
                let (stem, compressed) = match name.strip_suffix(".zst") {
                    Some(s) => (s, true),
                    None => (name, false),
                };
                let expected = Blake3::from_hex(&format!("{fan_name}{stem}"))
                    .map_err(|_| CasError::Stray { path: path.clone() })?;
                let file = File::open(&path).map_err(io_err("open", &path))?;
                let mut reader: Box<dyn Read> = if compressed {
                    Box::new(zstd::Decoder::new(file).map_err(io_err("decompress", &path))?)
                } else {
                    Box::new(file)
                };
                let mut hasher = blake3::Hasher::new();
                let n = io::copy(&mut reader, &mut hasher).map_err(|source| {
                    if compressed {
                        CasError::Corrupt {
                            path: path.clone(),
                            expected,
                            actual: Blake3::default(),
                        }
                    } else {
                        CasError::Io {
                            action: "read",
                            path: path.clone(),
                            source,
                        }
                    }
                })?;
                let actual = Blake3(*hasher.finalize().as_bytes());
                if actual != expected {
                    return Err(CasError::Corrupt {
                        path,
                        expected,
                        actual,
                    });
                }
                report.objects += 1;
                report.bytes += n;
            }
        }
        Ok(report)
    }

    /// Removes leftovers of interrupted writes: temporary files, and the download directories
    /// an interrupted `fetch_debs` leaves (a `kill -9` mid-fetch leaves one with partial `.deb`s).
    pub fn clean_tmp(&self) -> Result<usize, CasError> {
        let tmp = self.dir.join("tmp");
        let mut n = 0;
        for p in read_dir_sorted(&tmp)? {
            let is_dir = fs::symlink_metadata(&p)
                .map(|m| m.is_dir())
                .map_err(io_err("inspect", &p))?;
            if is_dir {
                fs::remove_dir_all(&p).map_err(io_err("remove", &p))?;
            } else {
                fs::remove_file(&p).map_err(io_err("remove", &p))?;
            }
            n += 1;
        }
        Ok(n)
    }
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, CasError> {
    let mut v = Vec::new();
    for e in fs::read_dir(dir).map_err(io_err("list", dir))? {
        v.push(e.map_err(io_err("list", dir))?.path());
    }
    v.sort();
    Ok(v)
}

/// fsyncs a directory so a rename in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), CasError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("fsync", dir))
}

/// Writes `data` to `path` atomically: temp file beside it, fsync, rename, fsync the directory.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<(), CasError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_err("create", dir))?;
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(io_err("create a temp file in", dir))?;
    tmp.write_all(data).map_err(io_err("write", path))?;
    tmp.as_file().sync_all().map_err(io_err("fsync", path))?;
    tmp.persist(path).map_err(|e| CasError::Io {
        action: "rename into place",
        path: path.to_owned(),
        source: e.error,
    })?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_is_idempotent_and_verify_finds_corruption() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = ObjectStore::open(dir.path()).expect("open");
        let a = s.put_bytes(b"hello", false).expect("put");
        assert!(a.written);
        assert_eq!(a.blake3, Blake3::of(b"hello"));
        assert_eq!(a.sha256, Sha256::of(b"hello"));
        assert!(!s.put_bytes(b"hello", false).expect("put").written);
        let b = s.put_bytes(&vec![7u8; 100_000], true).expect("put");
        assert_eq!(s.get(&b.blake3).expect("get").len(), 100_000);
        assert_eq!(
            s.verify_all().expect("clean"),
            CasVerifyReport {
                objects: 2,
                bytes: 100_005
            }
        );
        let p = s.locate(&a.blake3).expect("present");
        fs::write(&p, b"hellO").expect("corrupt it");
        match s.verify_all() {
            Err(CasError::Corrupt { path, expected, .. }) => {
                assert_eq!(path, p);
                assert_eq!(expected, a.blake3);
            }
            other => panic!("expected corruption, got {other:?}"),
        }
        assert!(matches!(s.get(&a.blake3), Err(CasError::Corrupt { .. })));
    }

    #[test]
    fn clean_tmp_removes_files_and_interrupted_download_directories() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = ObjectStore::open(dir.path()).expect("open");
        let tmp = dir.path().join("tmp");
        fs::write(tmp.join("partial-object"), b"x").expect("write");
        // What a `kill -9` during `fetch_debs` leaves: its download directory with a partial .deb.
        let download = tmp.join(".tmpAbC123");
        fs::create_dir(&download).expect("mkdir");
        fs::write(download.join("3.deb"), b"!<arch>\n").expect("write");
        assert_eq!(s.clean_tmp().expect("clean"), 2);
        assert_eq!(fs::read_dir(&tmp).expect("list").count(), 0);
    }
}
