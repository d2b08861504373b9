//! An opened state directory with its libraries: the store, the journal and the OSTree repo.
//! Mutating front ends open it under the lock ([`Session::write`]), which also runs recovery:
//! staging leftovers are removed and every variant's ref is moved to its journal head's commit
//! (refs are projections). Reading ones open it without the lock ([`Session::read`]).

use crate::pinned::Pinned;
use crate::state::StateDir;
use crate::txn::Observer;
use crate::{Error, ErrorKind, Result};
use journal::Record;
use std::path::{Path, PathBuf};

/// The store of `state`, opened read-only; opened read-write only if that fails (a database
/// that needs repairing after a crash, which only a writer can do). While a transaction holds
/// the store, this fails with kind `locked`.
pub fn read_store(state: &StateDir) -> Result<store::Store> {
    match store::Store::open_read_only(&state.store_dir()) {
        Ok(st) => Ok(st),
        Err(read_only) => store::Store::open(&state.store_dir()).map_err(|e| {
            tracing::info!("the store did not open read-only ({read_only}) nor read-write");
            if e.is_in_use() {
                return Error::new(
                    ErrorKind::Locked,
                    format!(
                        "the package store of {} is in use by a running transaction",
                        state.root.display()
                    ),
                )
                .hint("wait for it to finish (`txn log`, `txn show`, `txn diff`, `status` work meanwhile)");
            }
            e.into()
        }),
    }
}

/// A state directory opened for reading or for a transaction.
pub struct Session {
    pub(crate) state: StateDir,
    /// Opened when first used by a reading command ([`Session::store`]): the journal alone
    /// answers `txn log/show/diff/verify` and `status`, also while a transaction holds the store.
    store: std::cell::OnceCell<store::Store>,
    pub(crate) journal: journal::Journal,
    /// The pinned universe, loaded by the first plan that needs it and dropped when the pins
    /// change.
    pub(crate) pinned: Option<Pinned>,
    _lock: Option<journal::Lock>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("root", &self.state.root)
            .finish()
    }
}

fn journal_error(e: journal::OpenError) -> Error {
    Error::new(
        ErrorKind::Journal,
        format!("could not open the journal: {e}"),
    )
    .with_source(e)
}

impl Session {
    /// The state directory.
    pub fn state(&self) -> &StateDir {
        &self.state
    }

    /// The journal as opened.
    pub fn journal(&self) -> &journal::Journal {
        &self.journal
    }

    /// The journal's records, indexed for queries.
    pub fn history(&self) -> journal::History<'_> {
        self.journal.history()
    }

    /// The OSTree repository.
    pub fn repo(&self) -> PathBuf {
        self.state.repo()
    }

    /// Where this session's transactions build their trees ([`staging_dir`]).
    pub fn staging(&self) -> PathBuf {
        staging_dir(&self.state.root)
    }

    /// The machine whose state directory this is, if it is one.
    pub fn machine(&self) -> Option<&crate::state::Machine> {
        self.state.machine.as_ref()
    }

    /// The store: opened with the session by [`Session::write`], on first use by readers.
    pub fn store(&self) -> Result<&store::Store> {
        if let Some(st) = self.store.get() {
            return Ok(st);
        }
        let st = read_store(&self.state)?;
        Ok(self.store.get_or_init(|| st))
    }

    /// Every variant: those declared (`init`, `variant create` without a parent) in order, then
    /// those only the journal knows.
    pub fn variant_names(&self) -> Result<Vec<String>> {
        let mut names = crate::state::variants(&self.state)?;
        for v in self.journal.history().variants() {
            if !names.iter().any(|n| n == v) {
                names.push(v.to_owned());
            }
        }
        Ok(names)
    }

    /// Whether `variant` is declared or has transactions; else `unknown_variant`.
    pub fn check_variant_known(&self, variant: &str) -> Result<()> {
        if self.journal.history().head(variant).is_some()
            || crate::state::variants(&self.state)?
                .iter()
                .any(|v| v == variant)
        {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::UnknownVariant,
            format!("no variant named {variant:?}"),
        )
        .hint("see `particle variant list`; create one with `particle variant create`"))
    }

    /// The record a reference (`N`, `-N`, an id prefix, `VARIANT@N`) names.
    pub fn resolve(&self, reference: &str) -> Result<&Record> {
        self.journal.history().resolve(reference).map_err(|e| {
            let kind = if matches!(e, journal::ResolveError::Invalid { .. }) {
                ErrorKind::Usage
            } else {
                ErrorKind::UnknownTxn
            };
            Error::new(kind, e.to_string()).hint("see `particle txn log`")
        })
    }

    /// Creates a state directory at `root` (an empty or missing directory): the package store,
    /// the OSTree repository, the journal, and `variant` declared. Returns the directory.
    pub fn init(root: &Path, variant: &str) -> Result<StateDir> {
        if !store::valid_name(variant) {
            return Err(Error::usage(format!(
                "{variant:?} is not a valid variant name (letters, digits, + - .)"
            )));
        }
        let state = StateDir::create(root)?;
        let _lock = crate::state::lock(&state)?;
        store::Store::create(&state.store_dir())?;
        let ostree = state.root.join("ostree");
        std::fs::create_dir_all(&ostree)
            .map_err(|e| crate::state::io_error(&state.root, &ostree, "create", &e))?;
        materializer::init_repo(&state.repo()).map_err(ostree_error)?;
        journal::Journal::open(&state.root.join("journal")).map_err(journal_error)?;
        crate::state::declare_variant(&state, variant)?;
        Ok(state)
    }

    /// Opens for reading: no lock, no recovery, nothing written. The store and the journal are
    /// opened read-only, so history can be read from a read-only file system or by a user who
    /// may not write to the state directory.
    pub fn read(root: &Path) -> Result<Self> {
        let state = StateDir::open(root)?;
        let dir = state.root.join("journal");
        let (journal, report) = match journal::Journal::open_read_only(&dir) {
            Err(e) if e.source.kind() == std::io::ErrorKind::NotFound => {
                journal::Journal::open(&dir)
            }
            opened => opened,
        }
        .map_err(journal_error)?;
        if let Some(t) = &report.torn_tail {
            tracing::warn!(
                "the journal ends in an interrupted append ({} bytes); it is ignored",
                t.len
            );
        }
        if let Some(bad) = &report.corruption {
            // History is shown up to the damage; nothing after it can be trusted.
            tracing::warn!(
                "the journal is damaged at {bad}; only the {} records before it are read (run `particle txn verify`)",
                bad.position.saturating_sub(1)
            );
        }
        Ok(Self {
            state,
            store: std::cell::OnceCell::new(),
            journal,
            pinned: None,
            _lock: None,
        })
    }

    /// Opens for a transaction: takes the lock, then recovers (telling `obs` what it repaired).
    pub fn write(root: &Path, obs: &dyn Observer) -> Result<Self> {
        let t = std::time::Instant::now();
        let state = StateDir::open(root)?;
        let lock = crate::state::lock(&state)?;
        let store = store::Store::open(&state.store_dir())?;
        let (journal, report) =
            journal::Journal::open(&state.root.join("journal")).map_err(journal_error)?;
        let session = Self {
            state,
            store: std::cell::OnceCell::from(store),
            journal,
            pinned: None,
            _lock: Some(lock),
        };
        if let Some(t) = &report.torn_tail {
            obs.note(&format!(
                "recovery: dropped an interrupted journal append ({} bytes at offset {})",
                t.len, t.offset
            ));
        }
        if !session.journal.is_writable() {
            return Err(Error::new(
                ErrorKind::JournalCorrupt,
                "the journal is damaged in the middle; refusing to change anything",
            )
            .hint("run `particle txn verify` to find the first bad record"));
        }
        session.recover(obs)?;
        if let Some(m) = &session.state.machine {
            let say = |msg: &str| obs.note(msg);
            if let Some(seq) = session.interrupted_upgrade() {
                // Deploying the new base as it is would drop the machine's own changes.
                obs.note(&format!(
                    "recovery: transaction {seq}, the new base of an interrupted upgrade, is not deployed until `particle upgrade` re-applies this machine's own packages and settings on it"
                ));
            } else if let Some(done) = crate::machine::reconcile(m, &session.journal, &say)? {
                obs.note(&done);
            }
        }
        tracing::info!(
            "locked and opened {} (journal at transaction {}), recovery checked, in {:?}",
            root.display(),
            session.journal.last().map_or(0, |r| r.seq),
            t.elapsed()
        );
        Ok(session)
    }

    fn recover(&self, obs: &dyn Observer) -> Result<()> {
        // Only transaction work directories (`txn-N`) are ours: `$PARTICLE_STAGING` may name a
        // directory shared with other things. Both default locations are swept, since which one
        // a transaction used depends on the free space on /dev/shm at the time.
        let mut n = 0;
        for staging in staging_candidates(&self.state.root) {
            let Ok(entries) = std::fs::read_dir(&staging) else {
                continue;
            };
            for e in entries.flatten() {
                if !e.file_name().as_encoded_bytes().starts_with(b"txn-") {
                    continue;
                }
                let p = e.path();
                remove_leftover(&p).map_err(|err| {
                    Error::new(
                        ErrorKind::Io,
                        format!(
                            "could not remove the staging leftover {}: {err}",
                            p.display()
                        ),
                    )
                })?;
                n += 1;
            }
        }
        if n > 0 {
            obs.note(&format!(
                "recovery: removed {n} staging leftover(s) of an interrupted transaction"
            ));
        }
        if let Some(st) = self.store.get() {
            let _ = st.objects().clean_tmp();
        }
        let repo = self.repo();
        let history = self.journal.history();
        for variant in history.variants() {
            let Some(head) = history.head(variant) else {
                continue;
            };
            let want = head.commit.to_hex();
            let have = materializer::resolve_ref(&repo, variant).map_err(ostree_error)?;
            if have.as_deref() != Some(want.as_str()) {
                // The ref only ever moves to a commit after its record is durable, so it can be
                // behind the head (a crash between append and ref move) but never at a commit no
                // record of the variant knows: that means records were lost (the journal was cut
                // or replaced) or the ref was moved behind particle's back. Refuse to guess.
                if let Some(h) = have.as_deref() {
                    let known = self
                        .journal
                        .records()
                        .iter()
                        .any(|r| r.variant == *variant && r.commit.to_hex() == h);
                    if !known {
                        return Err(Error::new(
                            ErrorKind::RefMismatch,
                            format!(
                                "variant {variant}: {} points at commit {h}, which no transaction in the journal recorded (the journal's head is transaction {}, commit {want})",
                                materializer::variant_ref(variant),
                                head.seq
                            ),
                        )
                        .hint(format!(
                            "records may have been lost or the ref was moved by hand: run `particle txn verify`; if the journal is right, delete the ref (`ostree --repo={} refs --delete {}`) and the next command restores it",
                            repo.display(),
                            materializer::variant_ref(variant)
                        )));
                    }
                }
                if !materializer::commit_exists(&repo, &want).map_err(ostree_error)? {
                    return Err(Error::new(
                        ErrorKind::MissingCommit,
                        format!("variant {variant}: commit {want} of transaction {} is missing from the repository", head.seq),
                    )
                    .hint("rebuild it with `particle replay`"));
                }
                materializer::set_ref(&repo, variant, &want).map_err(ostree_error)?;
                obs.note(&format!(
                    "recovery: moved {} from {} to the journal head's commit {} (transaction {})",
                    materializer::variant_ref(variant),
                    have.as_deref().map_or("nothing", |h| &h[..h.len().min(12)]),
                    &want[..12],
                    head.seq
                ));
            }
        }
        Ok(())
    }
}

/// Removes a staging leftover: a work directory (its overlay unmounted first) or a file. A
/// maintainer script of the killed transaction may still be running for a moment (its sandbox
/// dies with particle, but not at the same instant) and create files while the tree is
/// removed, so a directory that will not go is tried again for up to two seconds.
fn remove_leftover(p: &Path) -> std::result::Result<(), String> {
    if !p.symlink_metadata().is_ok_and(|m| m.is_dir()) {
        return std::fs::remove_file(p).map_err(|e| e.to_string());
    }
    let mut tries = 0;
    loop {
        match materializer::remove_work_dir(p) {
            Ok(()) => return Ok(()),
            Err(e) if tries >= 20 => return Err(crate::error::chain(&e)),
            Err(e) => {
                tracing::info!("removing {} failed ({e}); trying again", p.display());
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
}

/// An OSTree failure (libostree's errors carry only a message).
pub(crate) fn ostree_error(e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Ostree, e.to_string())
}

/// Every directory a transaction of `root` may have staged in: `$PARTICLE_STAGING` alone if set,
/// else the tmpfs directory and `<root>/staging`.
fn staging_candidates(root: &Path) -> Vec<PathBuf> {
    if let Some(d) = std::env::var_os("PARTICLE_STAGING") {
        return vec![PathBuf::from(d)];
    }
    vec![shm_staging(root), root.join("staging")]
}

fn shm_staging(root: &Path) -> PathBuf {
    let canonical = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
    let tag = store::Blake3::of(canonical.as_os_str().as_encoded_bytes()).short(16);
    Path::new("/dev/shm").join(format!("particle-staging-{tag}"))
}

/// Where transactions build their trees: `$PARTICLE_STAGING` if set, else a directory on
/// `/dev/shm` (unpacking and removing a tree of tens of thousands of files is several times faster
/// on tmpfs, and the tree never needs to survive a crash), else `<root>/staging`. The tmpfs
/// directory is named after the state directory, so recovery finds its leftovers.
pub fn staging_dir(root: &Path) -> PathBuf {
    if let Some(d) = std::env::var_os("PARTICLE_STAGING") {
        return PathBuf::from(d);
    }
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && rustix::fs::statvfs(shm)
            .map(|v| v.f_bavail.saturating_mul(v.f_frsize) > (4 << 30))
            .unwrap_or(false)
    {
        return shm_staging(root);
    }
    root.join("staging")
}
