//! An opened state directory with its libraries: the store, the journal and the OSTree repo.
//! Mutating commands open it under the lock, which also runs recovery: staging leftovers are
//! removed and every variant's ref is moved to its journal head's commit (refs are projections).

use crate::error::CliError;
use engine::state::State;
use engine::ErrorKind;
use std::path::PathBuf;

/// The store of `state`, opened read-only; opened read-write only if that fails (a database
/// that needs repairing after a crash, which only a writer can do). While a transaction holds
/// the store, this fails with kind `locked`.
pub(crate) fn read_store(state: &State) -> anyhow::Result<store::Store> {
    match store::Store::open_read_only(&state.store_dir()) {
        Ok(st) => Ok(st),
        Err(read_only) => store::Store::open(&state.store_dir()).map_err(|e| {
            tracing::info!("the store did not open read-only ({read_only}) nor read-write");
            if e.is_in_use() {
                return CliError::new(
                    ErrorKind::Locked,
                    format!(
                        "the package store of {} is in use by a running transaction",
                        state.root.display()
                    ),
                )
                .hint("wait for it to finish (`txn log`, `txn show`, `txn diff`, `status` work meanwhile)")
                .into();
            }
            e.into()
        }),
    }
}

pub(crate) struct Ctx {
    pub(crate) state: State,
    /// Opened when first used by a reading command ([`Ctx::store`]): the journal alone answers
    /// `txn log/show/diff/verify` and `status`, also while a transaction holds the store.
    store: std::cell::OnceCell<store::Store>,
    pub(crate) journal: journal::Journal,
    pub(crate) _lock: Option<journal::Lock>,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("root", &self.state.root)
            .finish()
    }
}

impl Ctx {
    pub(crate) fn repo(&self) -> PathBuf {
        self.state.repo()
    }
    pub(crate) fn staging(&self) -> PathBuf {
        staging_dir(&self.state.root)
    }

    /// The store: opened with the context by mutating commands, on first use by reading ones.
    pub(crate) fn store(&self) -> anyhow::Result<&store::Store> {
        if let Some(st) = self.store.get() {
            return Ok(st);
        }
        let st = read_store(&self.state)?;
        Ok(self.store.get_or_init(|| st))
    }

    /// Every variant: those declared (`init`, `variant create` without a parent) in order, then
    /// those only the journal knows.
    pub(crate) fn variant_names(&self) -> Result<Vec<String>, CliError> {
        let mut names = engine::state::variants(&self.state)?;
        for v in self.journal.history().variants() {
            if !names.iter().any(|n| n == v) {
                names.push(v.to_owned());
            }
        }
        Ok(names)
    }

    /// Opens for reading: no lock, no recovery, nothing written. The store and the journal are
    /// opened read-only, so history can be read from a read-only file system or by a user who
    /// may not write to the state directory.
    pub(crate) fn read(root: &std::path::Path) -> anyhow::Result<Self> {
        let state = State::open(root)?;
        let dir = state.root.join("journal");
        let (journal, report) = match journal::Journal::open_read_only(&dir) {
            Err(e) if e.source.kind() == std::io::ErrorKind::NotFound => {
                journal::Journal::open(&dir)
            }
            opened => opened,
        }
        .map_err(|e| {
            CliError::new(
                ErrorKind::Journal,
                format!("could not open the journal: {e}"),
            )
        })?;
        if let Some(t) = &report.torn_tail {
            tracing::warn!(
                "the journal ends in an interrupted append ({} bytes); it is ignored",
                t.len
            );
        }
        Ok(Self {
            state,
            store: std::cell::OnceCell::new(),
            journal,
            _lock: None,
        })
    }

    /// Opens for a mutating command: takes the lock, then recovers.
    pub(crate) fn write(root: &std::path::Path, quiet: bool) -> anyhow::Result<Self> {
        let t = std::time::Instant::now();
        let state = State::open(root)?;
        let lock = engine::state::lock(&state)?;
        let store = store::Store::open(&state.store_dir())?;
        let (journal, report) =
            journal::Journal::open(&state.root.join("journal")).map_err(|e| {
                CliError::new(
                    ErrorKind::Journal,
                    format!("could not open the journal: {e}"),
                )
            })?;
        let ctx = Self {
            state,
            store: std::cell::OnceCell::from(store),
            journal,
            _lock: Some(lock),
        };
        if let Some(t) = &report.torn_tail {
            note(
                quiet,
                &format!(
                    "recovery: dropped an interrupted journal append ({} bytes at offset {})",
                    t.len, t.offset
                ),
            );
        }
        if !ctx.journal.is_writable() {
            return Err(CliError::new(
                ErrorKind::JournalCorrupt,
                "the journal is damaged in the middle; refusing to change anything",
            )
            .hint("run `particle txn verify` to find the first bad record")
            .into());
        }
        ctx.recover(quiet)?;
        if let Some(m) = &ctx.state.machine {
            let say = |msg: &str| note(quiet, msg);
            if let Some(done) = engine::machine::reconcile(m, &ctx.journal, &say)? {
                note(quiet, &done);
            }
        }
        tracing::info!(
            "locked and opened {} (journal at transaction {}), recovery checked, in {:?}",
            root.display(),
            ctx.journal.last().map_or(0, |r| r.seq),
            t.elapsed()
        );
        Ok(ctx)
    }

    fn recover(&self, quiet: bool) -> anyhow::Result<()> {
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
                materializer::remove_work_dir(&p)
                    .map_err(|e| std::io::Error::other(e.to_string()))
                    .or_else(|_| std::fs::remove_file(&p))
                    .map_err(|err| {
                        CliError::new(
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
            note(
                quiet,
                &format!("recovery: removed {n} staging leftover(s) of an interrupted transaction"),
            );
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
            let have = materializer::resolve_ref(&repo, variant)
                .map_err(|e| CliError::new(ErrorKind::Ostree, e.to_string()))?;
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
                        return Err(CliError::new(
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
                        ))
                        .into());
                    }
                }
                if !materializer::commit_exists(&repo, &want)
                    .map_err(|e| CliError::new(ErrorKind::Ostree, e.to_string()))?
                {
                    return Err(CliError::new(
                        ErrorKind::MissingCommit,
                        format!("variant {variant}: commit {want} of transaction {} is missing from the repository", head.seq),
                    )
                    .hint("rebuild it with `particle replay`")
                    .into());
                }
                materializer::set_ref(&repo, variant, &want)
                    .map_err(|e| CliError::new(ErrorKind::Ostree, e.to_string()))?;
                note(
                    quiet,
                    &format!(
                        "recovery: moved {} from {} to the journal head's commit {} (transaction {})",
                        materializer::variant_ref(variant),
                        have.as_deref().map_or("nothing", |h| &h[..h.len().min(12)]),
                        &want[..12],
                        head.seq
                    ),
                );
            }
        }
        Ok(())
    }
}

/// Every directory a transaction of `root` may have staged in: `$PARTICLE_STAGING` alone if set,
/// else the tmpfs directory and `<root>/staging`.
fn staging_candidates(root: &std::path::Path) -> Vec<PathBuf> {
    if let Some(d) = std::env::var_os("PARTICLE_STAGING") {
        return vec![PathBuf::from(d)];
    }
    vec![shm_staging(root), root.join("staging")]
}

fn shm_staging(root: &std::path::Path) -> PathBuf {
    let canonical = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
    let tag = store::Blake3::of(canonical.as_os_str().as_encoded_bytes()).short(16);
    std::path::Path::new("/dev/shm").join(format!("particle-staging-{tag}"))
}

/// Where transactions build their trees: `$PARTICLE_STAGING` if set, else a directory on
/// `/dev/shm` (unpacking and removing a tree of tens of thousands of files is several times faster
/// on tmpfs, and the tree never needs to survive a crash), else `<root>/staging`. The tmpfs
/// directory is named after the state directory, so recovery finds its leftovers.
pub(crate) fn staging_dir(root: &std::path::Path) -> PathBuf {
    if let Some(d) = std::env::var_os("PARTICLE_STAGING") {
        return PathBuf::from(d);
    }
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir()
        && rustix::fs::statvfs(shm)
            .map(|v| v.f_bavail.saturating_mul(v.f_frsize) > (4 << 30))
            .unwrap_or(false)
    {
        return shm_staging(root);
    }
    root.join("staging")
}

fn note(quiet: bool, msg: &str) {
    tracing::info!("{msg}");
    if !quiet {
        eprintln!("{msg}");
    }
}
