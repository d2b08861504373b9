//! The store as a whole: `<root>/store` with its objects, its redb metadata (sources and pinned
//! snapshots) and its zero-copy universe snapshots.
//!
//! `update` is all-or-nothing per source: InRelease is verified, every index is checked against
//! the SHA256 and size InRelease gives, the parsed universe is snapshotted, and only then is the
//! new pin written (one redb transaction, durable on commit). Any failure leaves the previous pin
//! in force and says why.

use crate::cas::{write_atomic, CasError, CasVerifyReport, ObjectStore};
use crate::fetch::{join_uri, FetchError, Fetcher};
use crate::id::{Blake3, Sha256};
use crate::index::{decompress, Compression, IndexError};
use crate::model::{Package, Universe};
use crate::names::{ArchivedNameDirectory, NameDirectory};
use crate::release::{parse_release, ReleaseError};
use crate::table::{ArchivedPackageTable, PackageTable, TableView};
use crate::verify::{verify_inrelease, VerifyError};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const SOURCES: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("sources");
const PINS: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("pins");
const DEBS: TableDefinition<'_, &[u8; 32], &[u8; 32]> = TableDefinition::new("debs_by_sha256");

/// Largest InRelease accepted.
const MAX_INRELEASE: u64 = 64 << 20;
/// Largest decompressed index accepted when InRelease does not give the size.
const MAX_INDEX: u64 = 2 << 30;

/// A configured archive source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceConfig {
    pub name: String,
    pub uri: String,
    pub suite: String,
    pub components: Vec<String>,
    pub architectures: Vec<String>,
    pub keyring: PathBuf,
    /// A pin priority for every index of this source (`repo add --priority`), in place of
    /// the default that its Release gives (500; 100 or 1 for `NotAutomatic` releases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i16>,
}

/// One verified index within a pin.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IndexPin {
    pub component: String,
    pub arch: String,
    /// The path fetched, relative to the suite directory (e.g. `main/binary-amd64/Packages.xz`).
    pub path: String,
    pub sha256: Sha256,
    /// The uncompressed `Packages` text, in the object store.
    pub object: Blake3,
    pub packages: usize,
}

/// A source's pinned snapshot: what `update` verified last.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pin {
    pub source: String,
    pub inrelease_sha256: Sha256,
    pub inrelease_object: Blake3,
    /// Release `Date`, seconds since the epoch.
    pub date: i64,
    pub signers: Vec<String>,
    pub indices: Vec<IndexPin>,
    /// The rkyv snapshot of the parsed universe, in the object store.
    pub snapshot: Blake3,
    pub packages: usize,
    /// When this pin was made, seconds since the epoch.
    pub pinned_at: i64,
}

/// A store operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path} is not a particle store (run `particle init`)")]
    NotAStore { path: PathBuf },
    #[error("could not open the store database {path}: {source}")]
    Database {
        path: PathBuf,
        source: redb::DatabaseError,
    },
    /// The metadata database (redb) or a row in it failed; the lower error is the source.
    #[error("store database: {source}")]
    Db {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{0}")]
    Cas(#[from] CasError),
    #[error("source {source_name}: {what}")]
    Source { source_name: String, what: String },
    #[error("no source named {0:?} (see `particle repo list`)")]
    UnknownSource(String),
    #[error("a source named {0:?} already exists")]
    DuplicateSource(String),
    #[error("source {source_name}: {error}")]
    Fetch {
        source_name: String,
        error: FetchError,
    },
    #[error("source {source_name}: {error}")]
    Verify {
        source_name: String,
        error: VerifyError,
    },
    #[error("source {source_name}: {error}")]
    Release {
        source_name: String,
        error: ReleaseError,
    },
    #[error("source {source_name}: {path}: {what}")]
    IndexHash {
        source_name: String,
        path: String,
        what: String,
    },
    #[error("source {source_name}: {path}: {error}")]
    Index {
        source_name: String,
        path: String,
        error: Box<IndexError>,
    },
    #[error("snapshot {0} is corrupt: {1}")]
    Snapshot(Blake3, String),
    #[error("no source has been updated yet (run `particle repo update`)")]
    NothingPinned,
}

impl StoreError {
    /// The database is held by another process (a transaction in progress).
    pub fn is_in_use(&self) -> bool {
        matches!(
            self,
            StoreError::Database {
                source: redb::DatabaseError::DatabaseAlreadyOpen,
                ..
            }
        )
    }
}

fn db_err(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
    StoreError::Db { source: e.into() }
}

/// What `update` did for one source.
#[derive(Debug)]
pub enum UpdateOutcome {
    /// A new snapshot was pinned (or the same one confirmed).
    Pinned { pin: Pin, changed: bool },
    /// The update failed; the previous pin (if any) stays in force.
    Failed {
        source: String,
        error: StoreError,
        kept: Option<Pin>,
    },
}

/// The metadata database, opened for writing or only for reading.
enum Db {
    ReadWrite(redb::Database),
    ReadOnly(redb::ReadOnlyDatabase),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Db::ReadWrite(_) => "Db::ReadWrite",
            Db::ReadOnly(_) => "Db::ReadOnly",
        })
    }
}

impl Db {
    fn begin_read(&self) -> Result<redb::ReadTransaction, redb::TransactionError> {
        match self {
            Db::ReadWrite(db) => db.begin_read(),
            Db::ReadOnly(db) => db.begin_read(),
        }
    }

    fn begin_write(&self) -> Result<redb::WriteTransaction, StoreError> {
        match self {
            Db::ReadWrite(db) => db.begin_write().map_err(db_err),
            Db::ReadOnly(_) => Err(db_err(
                "the store was opened read-only; this operation writes",
            )),
        }
    }
}

/// `<root>/store`.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    db: Db,
    objects: ObjectStore,
}

impl Store {
    /// Creates the store under `dir` (idempotent).
    pub fn create(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| CasError::Io {
            action: "create",
            path: dir.to_owned(),
            source,
        })?;
        let path = dir.join("meta.redb");
        let db = redb::Database::create(&path).map_err(|source| StoreError::Database {
            path: path.clone(),
            source,
        })?;
        let tx = db.begin_write().map_err(db_err)?;
        {
            tx.open_table(SOURCES).map_err(db_err)?;
            tx.open_table(PINS).map_err(db_err)?;
            tx.open_table(DEBS).map_err(db_err)?;
        }
        tx.commit().map_err(db_err)?;
        Ok(Self {
            dir: dir.to_owned(),
            db: Db::ReadWrite(db),
            objects: ObjectStore::open(&dir.join("objects"))?,
        })
    }

    /// Opens an existing store.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join("meta.redb");
        if !path.exists() {
            return Err(StoreError::NotAStore {
                path: dir.to_owned(),
            });
        }
        let db = redb::Database::open(&path).map_err(|source| StoreError::Database {
            path: path.clone(),
            source,
        })?;
        Ok(Self {
            dir: dir.to_owned(),
            db: Db::ReadWrite(db),
            objects: ObjectStore::open(&dir.join("objects"))?,
        })
    }

    /// Opens an existing store for reading only. Opening the database for writing rewrites
    /// and syncs its header on open and on close (tens of milliseconds on a disk); commands
    /// that only read, such as `particle solve`, skip that. Operations that write fail.
    pub fn open_read_only(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join("meta.redb");
        if !path.exists() {
            return Err(StoreError::NotAStore {
                path: dir.to_owned(),
            });
        }
        let db = redb::ReadOnlyDatabase::open(&path).map_err(|source| StoreError::Database {
            path: path.clone(),
            source,
        })?;
        Ok(Self {
            dir: dir.to_owned(),
            db: Db::ReadOnly(db),
            objects: ObjectStore::open(&dir.join("objects"))?,
        })
    }

    /// The object store.
    pub fn objects(&self) -> &ObjectStore {
        &self.objects
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds a source.
    pub fn add_source(&self, source: &SourceConfig) -> Result<(), StoreError> {
        let tx = self.db.begin_write()?;
        {
            let mut t = tx.open_table(SOURCES).map_err(db_err)?;
            if t.get(source.name.as_str()).map_err(db_err)?.is_some() {
                return Err(StoreError::DuplicateSource(source.name.clone()));
            }
            let json = serde_json::to_vec(source).map_err(db_err)?;
            t.insert(source.name.as_str(), json.as_slice())
                .map_err(db_err)?;
        }
        tx.commit().map_err(db_err)
    }

    /// Every source, sorted by name.
    pub fn sources(&self) -> Result<Vec<SourceConfig>, StoreError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let t = tx.open_table(SOURCES).map_err(db_err)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(db_err)? {
            let (_, v) = row.map_err(db_err)?;
            out.push(serde_json::from_slice(v.value()).map_err(db_err)?);
        }
        Ok(out)
    }

    /// The pinned snapshot of every source that has one, sorted by source name.
    pub fn pins(&self) -> Result<Vec<Pin>, StoreError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let t = tx.open_table(PINS).map_err(db_err)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(db_err)? {
            let (_, v) = row.map_err(db_err)?;
            out.push(serde_json::from_slice(v.value()).map_err(db_err)?);
        }
        Ok(out)
    }

    fn pin_of(&self, name: &str) -> Result<Option<Pin>, StoreError> {
        Ok(self.pins()?.into_iter().find(|p| p.source == name))
    }

    /// Fetches, verifies and pins every source. Sources are independent: one failing does not
    /// stop the others, and it keeps its previous pin.
    pub fn update(&self, now: i64) -> Result<Vec<UpdateOutcome>, StoreError> {
        self.update_sources(now, None)
    }

    /// [`Store::update`] of the sources named in `only` (every source for `None`).
    pub fn update_sources(
        &self,
        now: i64,
        only: Option<&[&str]>,
    ) -> Result<Vec<UpdateOutcome>, StoreError> {
        let sources: Vec<SourceConfig> = self
            .sources()?
            .into_iter()
            .filter(|s| only.is_none_or(|names| names.contains(&s.name.as_str())))
            .collect();
        let rt = runtime()?;
        let fetcher = Fetcher::new().map_err(|error| StoreError::Fetch {
            source_name: String::new(),
            error,
        })?;
        let mut out = Vec::new();
        for source in &sources {
            let previous = self.pin_of(&source.name)?;
            match rt.block_on(self.update_one(&fetcher, source, previous.as_ref(), now)) {
                Ok(pin) => {
                    let changed =
                        previous.as_ref().map(|p| p.inrelease_sha256) != Some(pin.inrelease_sha256);
                    out.push(UpdateOutcome::Pinned { pin, changed });
                }
                Err(error) => out.push(UpdateOutcome::Failed {
                    source: source.name.clone(),
                    error,
                    kept: previous,
                }),
            }
        }
        Ok(out)
    }

    async fn update_one(
        &self,
        fetcher: &Fetcher,
        source: &SourceConfig,
        previous: Option<&Pin>,
        now: i64,
    ) -> Result<Pin, StoreError> {
        let name = source.name.clone();
        let suite_base = join_uri(&source.uri, &format!("dists/{}", source.suite));
        let inrelease = fetcher
            .get(&join_uri(&suite_base, "InRelease"), MAX_INRELEASE)
            .await
            .map_err(|error| StoreError::Fetch {
                source_name: name.clone(),
                error,
            })?;
        let verified =
            verify_inrelease(&inrelease, &source.keyring).map_err(|error| StoreError::Verify {
                source_name: name.clone(),
                error,
            })?;
        let release = parse_release(&verified.text).map_err(|error| StoreError::Release {
            source_name: name.clone(),
            error,
        })?;
        release
            .check_suite(&source.suite)
            .map_err(|error| StoreError::Release {
                source_name: name.clone(),
                error,
            })?;
        release
            .check_freshness(now, previous.map(|p| p.date), 24 * 3600)
            .map_err(|error| StoreError::Release {
                source_name: name.clone(),
                error,
            })?;
        let inrelease_sha256 = Sha256::of(&inrelease);
        let mut repair = false;
        if let Some(p) = previous {
            // A snapshot in an older format, or one that does not validate (damaged, or
            // written by a development build of the format), is rebuilt: it is a projection of
            // the verified indices, so `repo update` upgrades and repairs it.
            let sound = self.objects.locate(&p.snapshot).is_some_and(|path| {
                Snapshot::is_current_format(&path)
                    && Snapshot::open(&path, p.snapshot).is_ok_and(|s| s.validate().is_ok())
            });
            if p.inrelease_sha256 == inrelease_sha256 && sound {
                return Ok(p.clone());
            }
            repair = !sound;
        }
        let mut indices = Vec::new();
        let mut table = PackageTable::default();
        for component in &source.components {
            for arch in &source.architectures {
                let base = format!("{component}/binary-{arch}/Packages");
                let (path, text) = self
                    .fetch_index(fetcher, &name, &suite_base, &release, &base)
                    .await?;
                let put = self.objects.put_bytes(&text, true)?;
                let index_error = |error| StoreError::Index {
                    source_name: name.clone(),
                    path: path.clone(),
                    error: Box::new(error),
                };
                let text = std::str::from_utf8(&text)
                    .map_err(|e| index_error(IndexError::Utf8(e.valid_up_to())))?;
                let added = table.add_index(text).map_err(index_error)?;
                let sha256 = release.file(&path).map(|f| f.sha256).unwrap_or_default();
                indices.push(IndexPin {
                    component: component.clone(),
                    arch: arch.clone(),
                    path,
                    sha256,
                    object: put.blake3,
                    packages: added,
                });
            }
        }
        let encoded = Snapshot::encode(&table)?;
        // Checked before it is pinned: a snapshot that does not read back is never pinned.
        encoded.validate()?;
        // Rebuilding a damaged snapshot gives the content its name promises: it must replace
        // the damaged file, which a plain put would keep as already present.
        let snapshot = if repair {
            self.objects.replace_bytes(encoded.bytes(), false)?
        } else {
            self.objects.put_bytes(encoded.bytes(), false)?
        }
        .blake3;
        let inrelease_object = self.objects.put_bytes(&inrelease, false)?.blake3;
        let pin = Pin {
            source: name.clone(),
            inrelease_sha256,
            inrelease_object,
            date: release.date,
            signers: verified.signers,
            indices,
            snapshot,
            packages: table.packages.len(),
            pinned_at: now,
        };
        self.write_pin(&pin)?;
        Ok(pin)
    }

    /// Fetches `base` in the first form InRelease lists and the mirror has (xz, gz, zst, plain),
    /// checks its size and SHA256, decompresses it and checks the uncompressed SHA256 if listed.
    async fn fetch_index(
        &self,
        fetcher: &Fetcher,
        name: &str,
        suite_base: &str,
        release: &crate::release::Release,
        base: &str,
    ) -> Result<(String, Vec<u8>), StoreError> {
        let mut last_err = None;
        for ext in [".xz", ".gz", ".zst", ""] {
            let path = format!("{base}{ext}");
            let Some(entry) = release.file(&path) else {
                continue;
            };
            let uri = join_uri(suite_base, &path);
            let data = match fetcher.get(&uri, entry.size).await {
                Ok(d) => d,
                Err(FetchError::NotFound { .. }) => {
                    last_err = Some(format!(
                        "{path} is listed in InRelease but absent from the mirror"
                    ));
                    continue;
                }
                Err(FetchError::TooLarge { .. }) => {
                    return Err(StoreError::IndexHash {
                        source_name: name.to_owned(),
                        path,
                        what: format!("larger than the {} bytes InRelease gives", entry.size),
                    })
                }
                Err(error) => {
                    return Err(StoreError::Fetch {
                        source_name: name.to_owned(),
                        error,
                    })
                }
            };
            let hash_err = |what: String| StoreError::IndexHash {
                source_name: name.to_owned(),
                path: path.clone(),
                what,
            };
            if data.len() as u64 != entry.size {
                return Err(hash_err(format!(
                    "size {} does not match the {} bytes InRelease gives (truncated or replaced)",
                    data.len(),
                    entry.size
                )));
            }
            let actual = Sha256::of(&data);
            if actual != entry.sha256 {
                return Err(hash_err(format!(
                    "SHA256 {actual} does not match InRelease's {}",
                    entry.sha256
                )));
            }
            let plain = release.file(base);
            let limit = plain.map_or(MAX_INDEX, |f| f.size);
            let text =
                decompress(&data, Compression::from_name(&path), limit).map_err(|error| {
                    StoreError::Index {
                        source_name: name.to_owned(),
                        path: path.clone(),
                        error: Box::new(error),
                    }
                })?;
            if let Some(plain) = plain {
                if text.len() as u64 != plain.size || Sha256::of(&text) != plain.sha256 {
                    return Err(hash_err(format!(
                        "decompressed content does not match InRelease's entry for {base}"
                    )));
                }
            }
            return Ok((path, text));
        }
        Err(StoreError::Source {
            source_name: name.to_owned(),
            what: last_err.unwrap_or_else(|| {
                format!("InRelease lists no {base} index (is the component or architecture right?)")
            }),
        })
    }

    fn write_pin(&self, pin: &Pin) -> Result<(), StoreError> {
        let tx = self.db.begin_write()?;
        {
            let mut t = tx.open_table(PINS).map_err(db_err)?;
            let json = serde_json::to_vec(pin).map_err(db_err)?;
            t.insert(pin.source.as_str(), json.as_slice())
                .map_err(db_err)?;
        }
        tx.commit().map_err(db_err)
    }

    /// Reads a pinned source's universe snapshot (its content checked against its name; see
    /// [`Snapshot::table`] to read it in place).
    pub fn snapshot(&self, pin: &Pin) -> Result<Snapshot, StoreError> {
        let path = self.objects.locate(&pin.snapshot).ok_or_else(|| {
            StoreError::Snapshot(pin.snapshot, "missing from the object store".into())
        })?;
        Snapshot::open(&path, pin.snapshot)
    }

    /// The union of every pinned source's packages, as owned data.
    pub fn universe(&self) -> Result<(Universe, Vec<PackageOrigin>), StoreError> {
        let pins = self.pins()?;
        if pins.is_empty() {
            return Err(StoreError::NothingPinned);
        }
        let sources: BTreeMap<String, SourceConfig> = self
            .sources()?
            .into_iter()
            .map(|s| (s.name.clone(), s))
            .collect();
        let mut universe = Universe::default();
        let mut origins = Vec::new();
        for pin in &pins {
            let snap = self.snapshot(pin)?;
            let u = snap.to_universe()?;
            let uri = sources
                .get(&pin.source)
                .map(|s| s.uri.clone())
                .unwrap_or_default();
            origins.extend(std::iter::repeat_n(
                PackageOrigin {
                    source: pin.source.clone(),
                    uri,
                },
                u.packages.len(),
            ));
            universe.packages.extend(u.packages);
        }
        Ok((universe, origins))
    }

    /// The Release fields of a pin's InRelease (kept in the object store when it was
    /// verified).
    pub fn release(&self, pin: &Pin) -> Result<crate::Release, StoreError> {
        let data = self.objects.get(&pin.inrelease_object)?;
        let source = |what: String| StoreError::Source {
            source_name: pin.source.clone(),
            what,
        };
        let text = crate::split_clearsigned(&data)
            .map_err(|e| source(format!("pinned InRelease: {e}")))?
            .text;
        crate::parse_release(&text).map_err(|error| StoreError::Release {
            source_name: pin.source.clone(),
            error,
        })
    }

    /// The stored .deb with this SHA256, if any.
    pub fn deb_by_sha256(&self, sha256: &Sha256) -> Result<Option<Blake3>, StoreError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let t = tx.open_table(DEBS).map_err(db_err)?;
        let found = t
            .get(&sha256.0)
            .map_err(db_err)?
            .map(|v| Blake3(*v.value()));
        Ok(found.filter(|b| self.objects.contains(b)))
    }

    /// Fetches every package not yet stored, verifying each against its index SHA256 and size
    /// before it enters the store; `concurrency` downloads run at once. Returns, in input order,
    /// each package's object id. `progress` is called after each package with (done, total, bytes).
    pub fn fetch_debs(
        &self,
        wanted: &[(&Package, &PackageOrigin)],
        concurrency: usize,
        progress: &(dyn Fn(usize, usize, u64) + Sync),
    ) -> Result<Vec<Blake3>, StoreError> {
        use futures_util::StreamExt;
        let rt = runtime()?;
        let fetcher = Fetcher::new().map_err(|error| StoreError::Fetch {
            source_name: String::new(),
            error,
        })?;
        let mut ids = vec![None; wanted.len()];
        let mut todo = Vec::new();
        for (i, (p, _)) in wanted.iter().enumerate() {
            match self.deb_by_sha256(&p.sha256)? {
                Some(id) => ids[i] = Some(id),
                None => todo.push(i),
            }
        }
        let total = wanted.len();
        let done = std::sync::atomic::AtomicUsize::new(total - todo.len());
        let tmp = tempfile::tempdir_in(self.dir.join("objects").join("tmp")).map_err(|source| {
            CasError::Io {
                action: "create a download directory in",
                path: self.dir.clone(),
                source,
            }
        })?;
        let results: Vec<(usize, Result<Blake3, StoreError>)> = rt.block_on(
            futures_util::stream::iter(todo.iter().copied())
                .map(|i| {
                    let (p, origin) = wanted[i];
                    let fetcher = &fetcher;
                    let dest = tmp.path().join(format!("{i}.deb"));
                    let done = &done;
                    async move {
                        let r = self.fetch_one(fetcher, p, origin, &dest).await;
                        let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                        progress(n, total, p.size);
                        (i, r)
                    }
                })
                .buffer_unordered(concurrency.max(1))
                .collect(),
        );
        let mut results = results;
        results.sort_by_key(|(i, _)| *i);
        for (i, r) in results {
            ids[i] = Some(r?);
        }
        Ok(ids
            .into_iter()
            .map(|id| id.expect("every package was either stored or fetched"))
            .collect())
    }

    async fn fetch_one(
        &self,
        fetcher: &Fetcher,
        p: &Package,
        origin: &PackageOrigin,
        dest: &Path,
    ) -> Result<Blake3, StoreError> {
        let uri = join_uri(&origin.uri, &p.filename);
        fetcher
            .download(&uri, dest, p.size)
            .await
            .map_err(|error| StoreError::Fetch {
                source_name: origin.source.clone(),
                error,
            })?;
        let file = std::fs::File::open(dest).map_err(|source| CasError::Io {
            action: "open",
            path: dest.to_owned(),
            source,
        })?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let bad = |what: String| StoreError::IndexHash {
            source_name: origin.source.clone(),
            path: p.filename.clone(),
            what,
        };
        if len != p.size {
            return Err(bad(format!(
                "size {len} does not match the index's {} (truncated or replaced)",
                p.size
            )));
        }
        // Hash before storing: nothing unverified enters the store.
        let sha = sha256_file(dest).map_err(|source| CasError::Io {
            action: "read",
            path: dest.to_owned(),
            source,
        })?;
        if sha != p.sha256 {
            return Err(bad(format!(
                "SHA256 {sha} does not match the index's {}",
                p.sha256
            )));
        }
        let put = self.objects.put_reader(file, false)?;
        let tx = self.db.begin_write()?;
        {
            let mut t = tx.open_table(DEBS).map_err(db_err)?;
            t.insert(&put.sha256.0, &put.blake3.0).map_err(db_err)?;
        }
        tx.commit().map_err(db_err)?;
        Ok(put.blake3)
    }

    /// Re-hashes every object, and checks every recorded .deb's SHA256.
    pub fn verify(&self) -> Result<CasVerifyReport, StoreError> {
        let report = self.objects.verify_all()?;
        let tx = self.db.begin_read().map_err(db_err)?;
        let t = tx.open_table(DEBS).map_err(db_err)?;
        for row in t.iter().map_err(db_err)? {
            let (k, v) = row.map_err(db_err)?;
            let (sha, id) = (Sha256(*k.value()), Blake3(*v.value()));
            let path = self.objects.locate(&id).unwrap_or_default();
            let actual = sha256_file(&path).map_err(|source| CasError::Io {
                action: "read",
                path: path.clone(),
                source,
            })?;
            if actual != sha {
                return Err(StoreError::Cas(CasError::Corrupt {
                    path,
                    expected: id,
                    actual: Blake3::default(),
                }));
            }
        }
        for pin in self.pins()? {
            let path = self.objects.locate(&pin.snapshot).ok_or_else(|| {
                StoreError::Snapshot(pin.snapshot, "missing from the object store".into())
            })?;
            Snapshot::open_verified(&path, pin.snapshot)?;
        }
        Ok(report)
    }

    /// Removes every stored `.deb` whose SHA256 is not in `keep` (with `dry_run`, only counts
    /// them): the index rows first, in one transaction, then the files, so a crash in between
    /// leaves only unreferenced files, never a row naming a missing object.
    pub fn gc_debs(
        &self,
        keep: &std::collections::BTreeSet<Sha256>,
        dry_run: bool,
    ) -> Result<GcReport, StoreError> {
        let mut doomed = Vec::new();
        let mut report = GcReport::default();
        {
            let tx = self.db.begin_read().map_err(db_err)?;
            let t = tx.open_table(DEBS).map_err(db_err)?;
            for row in t.iter().map_err(db_err)? {
                let (k, v) = row.map_err(db_err)?;
                let (sha, id) = (Sha256(*k.value()), Blake3(*v.value()));
                if keep.contains(&sha) {
                    report.kept += 1;
                    continue;
                }
                let path = self.objects.locate(&id);
                report.removed += 1;
                report.bytes += path
                    .as_ref()
                    .and_then(|p| std::fs::metadata(p).ok())
                    .map_or(0, |m| m.len());
                doomed.push((sha, path));
            }
        }
        if dry_run || doomed.is_empty() {
            return Ok(report);
        }
        let tx = self.db.begin_write()?;
        {
            let mut t = tx.open_table(DEBS).map_err(db_err)?;
            for (sha, _) in &doomed {
                t.remove(&sha.0).map_err(db_err)?;
            }
        }
        tx.commit().map_err(db_err)?;
        for (_, path) in doomed {
            if let Some(p) = path {
                std::fs::remove_file(&p).map_err(|source| CasError::Io {
                    action: "remove",
                    path: p.clone(),
                    source,
                })?;
            }
        }
        Ok(report)
    }

    /// Writes a file into the store directory atomically (used for small state files).
    pub fn write_file(&self, rel: &str, data: &[u8]) -> Result<(), StoreError> {
        Ok(write_atomic(&self.dir.join(rel), data)?)
    }
}

/// What [`Store::gc_debs`] removed (or would remove).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcReport {
    pub removed: usize,
    pub kept: usize,
    /// The removed files' bytes.
    pub bytes: u64,
}

/// Which source a package in [`Store::universe`] came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageOrigin {
    pub source: String,
    pub uri: String,
}

fn sha256_file(path: &Path) -> std::io::Result<Sha256> {
    use sha2::Digest;
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(Sha256(h.finalize().into()))
}

fn runtime() -> Result<tokio::runtime::Runtime, StoreError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| db_err(format!("could not start the async runtime: {e}")))
}

/// The first 16 bytes of a snapshot in the current format (`docs/format/snapshot.md`): the
/// length of the table's archive (8 bytes, little-endian), 8 zero bytes, the rkyv archive of a
/// [`PackageTable`], zeros to a multiple of 16, the rkyv archive of its [`NameDirectory`].
const NAMES_MAGIC: &[u8; 16] = b"particle-table\x00\x02";

/// The first 16 bytes of a snapshot in the second format: the rkyv archive of a
/// [`PackageTable`] follows, without a name directory (readers build their lookups). A
/// snapshot with neither magic is in the first format, the rkyv archive of a [`Universe`].
/// Both stay readable and are replaced by the next update.
const TABLE_MAGIC: &[u8; 16] = b"particle-table\x00\x01";

/// The parts of a snapshot in one of the table formats.
struct Parts<'a> {
    table: &'a [u8],
    names: Option<&'a [u8]>,
}

/// A universe snapshot, read in place from the object store.
///
/// Opening maps the file and checks nothing but its first bytes, so it costs the same for any
/// archive size; [`Self::table`] then runs rkyv's validation, which for the table format is a
/// constant number of checks (its records are plain integers and its strings raw bytes), and
/// every lookup in the table is bounds-checked. What is *not* done on open, and why, is in
/// `docs/security.md` ("Universe snapshots"): the BLAKE3 of the content (checked when the
/// snapshot is written and by [`Store::verify`]) and the span check
/// ([`ArchivedPackageTable::check_spans`], same).
#[derive(Debug)]
pub struct Snapshot {
    id: Blake3,
    bytes: SnapshotBytes,
}

#[derive(Debug)]
enum SnapshotBytes {
    /// A store object, mapped read-only.
    Mapped(memmap2::Mmap),
    /// Encoded in memory (not yet stored).
    Owned(rkyv::util::AlignedVec<16>),
}

impl std::ops::Deref for SnapshotBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            SnapshotBytes::Mapped(m) => m,
            SnapshotBytes::Owned(v) => v,
        }
    }
}

impl Snapshot {
    /// Maps the snapshot at `path`, the store object named `id`. Its content is not hashed
    /// here (see the type's documentation); [`Self::open_verified`] does.
    pub fn open(path: &Path, id: Blake3) -> Result<Self, StoreError> {
        let file =
            std::fs::File::open(path).map_err(|e| StoreError::Snapshot(id, e.to_string()))?;
        let map = map_object(&file).map_err(|e| StoreError::Snapshot(id, e.to_string()))?;
        Ok(Self {
            id,
            bytes: SnapshotBytes::Mapped(map),
        })
    }

    /// Opens the snapshot and checks it completely: its content hashes to `id`, the archive
    /// validates and every span is in bounds. For `store verify`.
    pub fn open_verified(path: &Path, id: Blake3) -> Result<Self, StoreError> {
        let snapshot = Self::open(path, id)?;
        if Blake3::of(&snapshot.bytes) != id {
            return Err(StoreError::Snapshot(
                id,
                "content does not match its name".into(),
            ));
        }
        snapshot.validate()?;
        // The directory is a projection of the table: it must be exactly what the table gives.
        if let Some(names) = snapshot.names()? {
            let view = snapshot.view()?;
            let rebuilt = NameDirectory::build(&view);
            let stored = rkyv::deserialize::<NameDirectory, rkyv::rancor::Error>(names)
                .map_err(|e| StoreError::Snapshot(id, e.to_string()))?;
            if stored != rebuilt {
                return Err(StoreError::Snapshot(
                    id,
                    "its name directory is not the one its table gives".into(),
                ));
            }
        }
        Ok(snapshot)
    }

    /// Encodes a package table in the current format, with its name directory.
    pub fn encode(table: &PackageTable) -> Result<Self, StoreError> {
        let view_error = |e| StoreError::Snapshot(Blake3::default(), e);
        let archive = rkyv::to_bytes::<rkyv::rancor::Error>(table).map_err(encode_error)?;
        let view = rkyv::access::<ArchivedPackageTable, rkyv::rancor::Error>(&archive)
            .map_err(encode_error)?
            .view()
            .map_err(view_error)?;
        Self::assemble(&archive, &NameDirectory::build(&view))
    }

    /// A snapshot of a table's archive and a name directory (which [`Self::encode`] builds
    /// from the table; tests give others).
    fn assemble(table: &[u8], names: &NameDirectory) -> Result<Self, StoreError> {
        let names = rkyv::to_bytes::<rkyv::rancor::Error>(names).map_err(encode_error)?;
        let padded = table.len().next_multiple_of(16);
        let mut bytes = rkyv::util::AlignedVec::<16>::with_capacity(32 + padded + names.len());
        bytes.extend_from_slice(NAMES_MAGIC);
        bytes.extend_from_slice(&(table.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(table);
        bytes.extend_from_slice(&vec![0; padded - table.len()]);
        bytes.extend_from_slice(&names);
        let id = Blake3::of(&bytes);
        Ok(Self {
            id,
            bytes: SnapshotBytes::Owned(bytes),
        })
    }

    /// The table's and the directory's archives, or `None` for the first format.
    fn parts(&self) -> Result<Option<Parts<'_>>, StoreError> {
        if let Some(table) = self.bytes.strip_prefix(TABLE_MAGIC) {
            return Ok(Some(Parts { table, names: None }));
        }
        let Some(rest) = self.bytes.strip_prefix(NAMES_MAGIC) else {
            return Ok(None);
        };
        let bad = || StoreError::Snapshot(self.id, "the table's length is out of bounds".into());
        let (len, rest) = rest.split_first_chunk::<8>().ok_or_else(bad)?;
        let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|_| bad())?;
        let rest = rest.get(8..).ok_or_else(bad)?;
        let table = rest.get(..len).ok_or_else(bad)?;
        let names = rest.get(len.next_multiple_of(16)..).ok_or_else(bad)?;
        Ok(Some(Parts {
            table,
            names: Some(names),
        }))
    }

    /// Whether the file at `path` is a snapshot in the current format (by its first bytes).
    pub fn is_current_format(path: &Path) -> bool {
        use std::io::Read;
        let mut head = [0u8; 16];
        std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok_and(|()| &head == NAMES_MAGIC)
    }

    /// The package table, validated, read in place. Fails for a snapshot in the first format
    /// (use [`Self::to_universe`], which reads every format).
    pub fn table(&self) -> Result<&ArchivedPackageTable, StoreError> {
        let parts = self.parts()?.ok_or_else(|| {
            StoreError::Snapshot(
                self.id,
                "written by an older particle (run `particle repo update`)".into(),
            )
        })?;
        rkyv::access::<ArchivedPackageTable, rkyv::rancor::Error>(parts.table)
            .map_err(|_| self.invalid("its package table"))
    }

    /// The error for a part that fails rkyv's validation (whose error says nothing useful
    /// without rancor's `alloc` feature).
    fn invalid(&self, part: &str) -> StoreError {
        StoreError::Snapshot(
            self.id,
            format!("{part} does not validate (`particle repo update` rebuilds it)"),
        )
    }

    /// The name directory, validated by rkyv, read in place; `None` for a snapshot written
    /// before snapshots had one.
    pub fn names(&self) -> Result<Option<&ArchivedNameDirectory>, StoreError> {
        let Some(names) = self.parts()?.and_then(|p| p.names) else {
            return Ok(None);
        };
        rkyv::access::<ArchivedNameDirectory, rkyv::rancor::Error>(names)
            .map(Some)
            .map_err(|_| self.invalid("its name directory"))
    }

    /// The package table with its strings checked as UTF-8 (see [`ArchivedPackageTable::view`])
    /// and its name directory when the snapshot has one.
    pub fn view(&self) -> Result<TableView<'_>, StoreError> {
        let view = self
            .table()?
            .view()
            .map_err(|e| StoreError::Snapshot(self.id, e))?;
        Ok(match self.names()? {
            Some(names) => view.with_names(names),
            None => view,
        })
    }

    /// Validates the snapshot completely, whatever its format: span bounds, and the name
    /// directory's bounds.
    pub fn validate(&self) -> Result<(), StoreError> {
        if self.parts()?.is_none() {
            return self.legacy().map(|_| ());
        }
        let fail = |e| StoreError::Snapshot(self.id, e);
        self.table()?.check_spans().map_err(fail)?;
        let view = self.view()?;
        if let Some(names) = view.names() {
            names.check(&view).map_err(fail)?;
        }
        Ok(())
    }

    fn legacy(&self) -> Result<&crate::model::ArchivedUniverse, StoreError> {
        rkyv::access::<crate::model::ArchivedUniverse, rkyv::rancor::Error>(&self.bytes)
            .map_err(|_| self.invalid("its universe"))
    }

    /// The encoded bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The BLAKE3 of the encoded bytes: the snapshot's name in the object store.
    pub fn id(&self) -> Blake3 {
        self.id
    }

    /// An owned copy of the universe (either format).
    pub fn to_universe(&self) -> Result<Universe, StoreError> {
        if self.parts()?.is_some() {
            return Ok(self.view()?.to_universe());
        }
        rkyv::deserialize::<Universe, rkyv::rancor::Error>(self.legacy()?)
            .map_err(|e| StoreError::Snapshot(self.id, e.to_string()))
    }
}

fn encode_error(e: rkyv::rancor::Error) -> StoreError {
    StoreError::Snapshot(Blake3::default(), e.to_string())
}

/// Maps a store object read-only.
///
/// This is the one `unsafe` operation in the store. Mapping a file is unsafe in Rust because
/// another process could change the bytes while they are borrowed. Store objects are immutable:
/// each is written to a temporary file, fsynced and renamed into place under its content's
/// name, and the store never opens an object for writing again (a rename replaces the directory
/// entry, not the mapped inode); the store directory belongs to root. A process that truncated
/// an object anyway would make reads past the new end fault (SIGBUS), as with apt's mapped
/// `pkgcache.bin`; it could not make safe code read out of bounds.
#[allow(unsafe_code)]
fn map_object(file: &std::fs::File) -> std::io::Result<memmap2::Mmap> {
    // Populated: the readers touch most pages (the package records and the strings), and
    // mapping them in one call costs less than a page fault each.
    // SAFETY: see above: the file is an immutable, content-addressed store object.
    unsafe { memmap2::MmapOptions::new().populate().map(file) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = "Package: hello\nVersion: 2.10-3\nArchitecture: amd64\nDepends: libc6 (>= 2.34) | libc6.1\nProvides: greeting (= 1)\nSHA256: 0000000000000000000000000000000000000000000000000000000000000001\n\nPackage: libc6\nVersion: 2.36-9\nArchitecture: amd64\nMulti-Arch: same\nPriority: required\n";

    fn stored(dir: &Path, bytes: &[u8]) -> (PathBuf, Blake3) {
        let id = Blake3::of(bytes);
        let path = dir.join(id.to_hex());
        std::fs::write(&path, bytes).expect("write");
        (path, id)
    }

    #[test]
    fn a_table_snapshot_reads_back_in_place() {
        let dir = tempfile::tempdir().expect("tempdir");
        let table = PackageTable::parse(INDEX).expect("valid");
        let encoded = Snapshot::encode(&table).expect("encode");
        let (path, id) = stored(dir.path(), encoded.bytes());
        assert_eq!(encoded.id(), id);
        assert!(Snapshot::is_current_format(&path));
        let snap = Snapshot::open_verified(&path, id).expect("valid");
        let t = snap.view().expect("table");
        assert_eq!(t.len(), 2);
        assert_eq!(t.str(&t.packages[1].name), "libc6");
        let owned = crate::parse_packages(INDEX).expect("valid");
        assert_eq!(snap.to_universe().expect("universe"), owned);
    }

    #[test]
    fn a_snapshot_carries_the_name_directory_of_its_table() {
        let dir = tempfile::tempdir().expect("tempdir");
        let table = PackageTable::parse(INDEX).expect("valid");
        let encoded = Snapshot::encode(&table).expect("encode");
        let (path, id) = stored(dir.path(), encoded.bytes());
        let snap = Snapshot::open_verified(&path, id).expect("valid");
        let view = snap.view().expect("table");
        let names = view.names().expect("a directory");
        let greeting = names.find(&view, "greeting").expect("provided");
        assert_eq!(
            names.provides(greeting).map(|(p, _)| p).collect::<Vec<_>>(),
            [0]
        );
        let libc6 = names.find(&view, "libc6").expect("a package");
        assert_eq!(names.packages(libc6).collect::<Vec<_>>(), [1]);
        assert_eq!(
            names.find(&view, "libc6.1"),
            None,
            "named only in a Depends"
        );
    }

    #[test]
    fn verification_finds_a_directory_that_is_not_its_tables() {
        let dir = tempfile::tempdir().expect("tempdir");
        let table = PackageTable::parse(INDEX).expect("valid");
        let archive = rkyv::to_bytes::<rkyv::rancor::Error>(&table).expect("encode");
        let view = rkyv::access::<ArchivedPackageTable, rkyv::rancor::Error>(&archive)
            .expect("valid")
            .view()
            .expect("UTF-8");
        let mut names = NameDirectory::build(&view);
        // Structurally sound, but libc6's package list now says hello.
        names.packages.swap(0, 1);
        let snap = Snapshot::assemble(&archive, &names).expect("encode");
        let (path, id) = stored(dir.path(), snap.bytes());
        snap.validate().expect("every range is in bounds");
        let err = Snapshot::open_verified(&path, id).expect_err("not the table's directory");
        assert!(err.to_string().contains("name directory"), "{err}");
    }

    #[test]
    fn the_second_format_stays_readable_without_a_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let table = PackageTable::parse(INDEX).expect("valid");
        let mut bytes = TABLE_MAGIC.to_vec();
        bytes.extend_from_slice(&rkyv::to_bytes::<rkyv::rancor::Error>(&table).expect("encode"));
        let (path, id) = stored(dir.path(), &bytes);
        assert!(!Snapshot::is_current_format(&path), "update rebuilds it");
        let snap = Snapshot::open_verified(&path, id).expect("valid");
        let view = snap.view().expect("table");
        assert!(view.names().is_none());
        assert_eq!(view.len(), 2);
        let owned = crate::parse_packages(INDEX).expect("valid");
        assert_eq!(snap.to_universe().expect("universe"), owned);
    }

    #[test]
    fn the_first_format_stays_readable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let owned = crate::parse_packages(INDEX).expect("valid");
        let bytes = rkyv::to_bytes::<rkyv::rancor::Error>(&owned).expect("encode");
        let (path, id) = stored(dir.path(), &bytes);
        assert!(!Snapshot::is_current_format(&path));
        let snap = Snapshot::open_verified(&path, id).expect("valid");
        assert!(snap.table().is_err());
        assert_eq!(snap.to_universe().expect("universe"), owned);
    }

    #[test]
    fn verification_finds_a_changed_byte() {
        let dir = tempfile::tempdir().expect("tempdir");
        let encoded =
            Snapshot::encode(&PackageTable::parse(INDEX).expect("valid")).expect("encode");
        let mut bytes = encoded.bytes().to_vec();
        let (_, id) = stored(dir.path(), &bytes);
        let n = bytes.len();
        bytes[n / 2] ^= 1;
        let path = dir.path().join("changed");
        std::fs::write(&path, &bytes).expect("write");
        assert!(Snapshot::open_verified(&path, id).is_err());
        // Read without verification, a changed byte gives wrong data or an error, never
        // unchecked memory access: every lookup is bounds-checked.
        let snap = Snapshot::open(&path, id).expect("maps");
        if let Ok(t) = snap.view() {
            for i in 0..t.len() {
                let _ = t.package(i);
            }
        }
    }
}
