//! `replay`: every recorded commit rebuilt from the journal alone into a fresh state directory,
//! each checked against the checksum the journal recorded. This is how a build is proven
//! reproducible.

use crate::session::{ostree_error, staging_dir, Session};
use crate::txn::{build_input, query_err, Header};
use crate::{Error, ErrorKind, Result};
use journal::{CommitId, Record};
use std::path::{Path, PathBuf};

/// One transaction rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    pub seq: u64,
    pub variant: String,
    /// The commit the journal records.
    pub recorded: CommitId,
    /// The commit the rebuild gave.
    pub rebuilt: CommitId,
}

impl Replayed {
    /// Whether the rebuild is bit for bit the recorded commit.
    pub fn identical(&self) -> bool {
        self.recorded == self.rebuilt
    }
}

/// As `replay --json` lists it: the fields and `identical`.
impl serde::Serialize for Replayed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut r = s.serialize_struct("Replayed", 5)?;
        r.serialize_field("seq", &self.seq)?;
        r.serialize_field("variant", &self.variant)?;
        r.serialize_field("recorded", &self.recorded)?;
        r.serialize_field("rebuilt", &self.rebuilt)?;
        r.serialize_field("identical", &self.identical())?;
        r.end()
    }
}

/// `replay --verify`: `not_reproducible` naming the first transaction whose rebuilt commit
/// differs from the one `journal` ("the journal", "the published journal") records.
pub fn verify_replayed(replayed: &[Replayed], journal: &str) -> Result<()> {
    match replayed.iter().find(|r| !r.identical()) {
        Some(bad) => Err(Error::new(
            ErrorKind::NotReproducible,
            format!(
                "transaction {} rebuilt as {}, but {journal} records {}",
                bad.seq, bad.rebuilt, bad.recorded
            ),
        )),
        None => Ok(()),
    }
}

impl Session {
    /// Rebuilds the records up to `upto` (the last if `None`) — of `variant`'s lineage, or all
    /// — into `into`, which must be empty or missing and becomes a complete state directory
    /// (the journal copied byte for byte). `each` hears of every rebuilt transaction. A
    /// difference is reported, not an error: the caller decides (`--verify`).
    pub fn replay(
        &self,
        variant: Option<&str>,
        upto: Option<u64>,
        into: &Path,
        each: &mut dyn FnMut(&Replayed),
    ) -> Result<Vec<Replayed>> {
        let h = self.history();
        let upto = upto.unwrap_or_else(|| self.journal.last().map_or(0, |r| r.seq));
        let records: Vec<&Record> = match variant {
            Some(v) => h.lineage(v, Some(upto)).map_err(query_err)?,
            None => h.records().iter().filter(|r| r.seq <= upto).collect(),
        };
        if into.exists()
            && std::fs::read_dir(into)
                .map(|mut d| d.next().is_some())
                .unwrap_or(false)
        {
            return Err(Error::new(
                ErrorKind::Exists,
                format!("{} is not empty", into.display()),
            )
            .hint("replay builds into a fresh directory"));
        }
        let target = crate::state::StateDir::create(into)?;
        let io = |path: &Path, action: &str, e: std::io::Error| {
            crate::state::io_error(into, path, action, &e)
        };
        let repo = into.join("ostree/repo");
        std::fs::create_dir_all(into.join("ostree"))
            .map_err(|e| io(&into.join("ostree"), "create", e))?;
        materializer::init_repo(&repo).map_err(ostree_error)?;
        store::Store::create(&target.store_dir())?;
        let mut results = Vec::new();
        for r in records {
            let header = Header::of_record(&h, r);
            let input = build_input(self.store()?, header, &r.state, None)?;
            let work = staging_dir(into).join(format!("txn-{}", r.seq));
            let built = materializer::materialize(&repo, &work, &input).map_err(|e| {
                Error::new(
                    ErrorKind::Materialize,
                    format!(
                        "replaying transaction {}: {}",
                        r.seq,
                        crate::error::chain(&e)
                    ),
                )
                .with_source(e)
            })?;
            let _ = std::fs::remove_dir_all(&work);
            materializer::set_ref(&repo, &r.variant, &built.commit.to_hex())
                .map_err(ostree_error)?;
            let done = Replayed {
                seq: r.seq,
                variant: r.variant.clone(),
                recorded: r.commit,
                rebuilt: built.commit,
            };
            each(&done);
            results.push(done);
        }
        // The journal itself is copied byte for byte: the new directory is a complete state
        // directory.
        copy_dir(&self.state.root.join("journal"), &into.join("journal"))
            .map_err(|(p, e)| io(&p, "copy", e))?;
        // Only the (now empty) staging directory itself: `$PARTICLE_STAGING` may be shared.
        let _ = std::fs::remove_dir(staging_dir(into));
        Ok(results)
    }
}

fn copy_dir(
    from: &Path,
    to: &Path,
) -> std::result::Result<(), (std::path::PathBuf, std::io::Error)> {
    std::fs::create_dir_all(to).map_err(|e| (to.to_owned(), e))?;
    for e in std::fs::read_dir(from).map_err(|e| (from.to_owned(), e))? {
        let e = e.map_err(|e| (from.to_owned(), e))?;
        let dest = to.join(e.file_name());
        let kind = e.file_type().map_err(|err| (e.path(), err))?;
        if kind.is_dir() {
            copy_dir(&e.path(), &dest)?;
        } else if kind.is_file() {
            std::fs::copy(e.path(), &dest).map_err(|err| (e.path(), err))?;
        }
    }
    Ok(())
}

/// What [`replay_from`] did.
#[derive(Debug)]
pub struct RemoteReplay {
    /// The published index it replayed.
    pub published: crate::publish::Published,
    /// Whether `published.json`'s signature was checked (with the keyring given).
    pub signature_checked: bool,
    /// Every transaction rebuilt, in order (none on a dry run).
    pub replayed: Vec<Replayed>,
    /// The recorded packages and what of them had to be fetched (on a dry run: would have).
    pub fetch: FetchPlan,
    /// The state directory it built.
    pub into: PathBuf,
    /// The temporary directory holding `into` when none was given: removed with this.
    _scratch: Option<tempfile::TempDir>,
}

/// The `.deb`s a replay needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct FetchPlan {
    /// Distinct packages the journal records.
    pub packages: usize,
    /// Those the store lacked, fetched from the published sources.
    pub fetched: usize,
    /// Their size.
    pub bytes: u64,
}

/// `replay --from URL`: rebuilds every transaction of the journal published at `url` (by
/// `publish`) into `into` (by default a temporary directory, removed when the returned
/// [`RemoteReplay`] is dropped), on a machine that never saw the build's state directory. The
/// journal must match `published.json` (its SHA256, length and head) and its hash chain must
/// hold; with `keyring`, `published.json` must carry a good signature by one of its keys. The
/// `.deb`s come from the published sources, each checked against the SHA256 the journal
/// recorded; every published variant's commit must be its transaction's and the repository's
/// commit object. A rebuilt commit that differs is reported in [`Replayed`], not as an error.
/// With `dry_run`, everything is checked and every recorded package found in the sources, but
/// nothing is fetched or built.
pub fn replay_from(
    url: &str,
    into: Option<&Path>,
    keyring: Option<&Path>,
    dry_run: bool,
    obs: &dyn crate::Observer,
) -> Result<RemoteReplay> {
    use crate::publish::particle_url;
    let (into, scratch) = match into {
        Some(d) => (d.to_owned(), None),
        None => {
            let t = tempfile::Builder::new()
                .prefix("particle-replayed-")
                .tempdir()
                .map_err(|e| {
                    Error::new(
                        ErrorKind::Io,
                        format!("could not make a temporary directory: {e}"),
                    )
                })?;
            (t.path().join("state"), Some(t))
        }
    };
    let into = into.as_path();
    let purl = particle_url(url);
    let work = tempfile::Builder::new()
        .prefix("particle-replay-")
        .tempdir()
        .map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("could not make a work directory: {e}"),
            )
        })?;
    let fetched = crate::publish::fetch_published(url, keyring, work.path())?;
    if !fetched.signature_checked {
        obs.note("published.json's signature was not checked (give --keyring to check it)");
    }
    let published = fetched.published;
    let fetcher = store::Fetcher::new()
        .map_err(|e| Error::new(ErrorKind::Fetch, e.to_string()).with_source(e))?;
    let get = |rel: &str, limit: u64| {
        let uri = store::join_uri(&purl, rel);
        fetcher
            .get_blocking(&uri, limit)
            .map_err(|e| Error::new(ErrorKind::Fetch, e.to_string()).with_source(e))
    };

    // A state directory holding the published journal, its sources and their .debs.
    let root = work.path().join("state");
    crate::Session::init(&root, "base")?;
    let state = crate::state::StateDir::open(&root)?;
    let journal = crate::publish::open_journal(
        &root.join("journal"),
        &fetched.journal,
        &published.journal,
        &fetched.journal_uri,
    )?;
    for v in &published.variants {
        let recorded = journal
            .history()
            .record(v.txn)
            .filter(|r| r.variant == v.variant && r.id.to_hex() == v.txn_id)
            .map(|r| r.commit.to_hex());
        if recorded.as_deref() != Some(v.commit.as_str()) {
            return Err(Error::new(
                ErrorKind::JournalCorrupt,
                format!(
                    "published.json names commit {} for {} (transaction {}), but the journal records {}",
                    v.commit,
                    v.variant,
                    v.txn,
                    recorded.as_deref().unwrap_or("no such transaction")
                ),
            ));
        }
        // The repository serves the commit: its object, whose SHA256 is its name. (Not the
        // ref, which a publish running now may have moved past this index.)
        let object = store::join_uri(
            crate::publish::repo_url(url).as_str(),
            &format!("objects/{}/{}.commit", &v.commit[..2], &v.commit[2..]),
        );
        let served = fetcher
            .get_blocking(&object, 64 << 20)
            .map_err(|e| Error::new(ErrorKind::Fetch, e.to_string()).with_source(e))?;
        let sha = store::Sha256::of(&served).to_hex();
        if sha != v.commit {
            return Err(Error::new(
                ErrorKind::HashMismatch,
                format!("{object}: its SHA256 is {sha}, not the commit's checksum"),
            )
            .hint("the repository's commit object was changed after it was published"));
        }
    }
    let fetch = {
        let _lock = crate::state::lock(&state)?;
        let st = store::Store::open(&state.store_dir())?;
        let keyrings = state.store_dir().join("keyrings");
        std::fs::create_dir_all(&keyrings).map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
        for s in &published.sources {
            let key = get(crate::publish::relative(&s.keyring)?, 16 << 20)?;
            if let Some(want) = &s.keyring_sha256 {
                let sha = store::Sha256::of(&key).to_hex();
                if sha != *want {
                    return Err(Error::new(
                        ErrorKind::HashMismatch,
                        format!(
                            "{}: its SHA256 is {sha}, but published.json says {want}",
                            store::join_uri(&purl, &s.keyring)
                        ),
                    )
                    .hint("the keyring was changed after it was published; nothing was used"));
                }
            }
            let path = keyrings.join(format!("{}.gpg", s.name));
            std::fs::write(&path, key).map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
            let uri = if s.uri.contains("://") {
                s.uri.clone()
            } else {
                store::join_uri(&purl, crate::publish::relative(&s.uri)?)
            };
            st.add_source(&store::SourceConfig {
                name: s.name.clone(),
                uri,
                suite: s.suite.clone(),
                components: s.components.clone(),
                architectures: s.architectures.clone(),
                keyring: path,
                priority: None,
            })?;
        }
        for o in st.update(crate::machine::now())? {
            if let store::UpdateOutcome::Failed { error, .. } = o {
                return Err(error.into());
            }
        }
        fetch_recorded(&st, journal.records(), dry_run, obs)?
    };
    drop(journal);
    if dry_run {
        return Ok(RemoteReplay {
            published,
            signature_checked: fetched.signature_checked,
            replayed: Vec::new(),
            fetch,
            into: into.to_owned(),
            _scratch: scratch,
        });
    }
    let session = crate::Session::read(&root)?;
    let replayed = session.replay(None, None, into, &mut |r| {
        obs.note(&format!(
            "transaction {:>4} {:<10} {} {}",
            r.seq,
            r.variant,
            r.rebuilt,
            if r.identical() {
                "identical"
            } else {
                "DIFFERS"
            }
        ))
    })?;
    Ok(RemoteReplay {
        published,
        signature_checked: fetched.signature_checked,
        replayed,
        fetch,
        into: into.to_owned(),
        _scratch: scratch,
    })
}

/// Fetches every `.deb` the records' states name that the store lacks, from the pinned
/// sources, each the one with the recorded name, version, architecture and SHA256 (with
/// `dry_run`, only finds them there).
fn fetch_recorded(
    st: &store::Store,
    records: journal::Records<'_>,
    dry_run: bool,
    obs: &dyn crate::Observer,
) -> Result<FetchPlan> {
    let pinned = crate::pinned::Pinned::load_packages(st)?;
    let view = pinned.view()?;
    let mut seen = std::collections::BTreeSet::new();
    let mut wanted = Vec::new();
    let mut missing = Vec::new();
    let mut bytes = 0;
    let mut total = 0;
    for p in &journal::recorded_packages(records) {
        if !seen.insert(p.sha256) {
            continue;
        }
        total += 1;
        if st.deb_by_sha256(&p.sha256)?.is_some() {
            continue;
        }
        let found = view.named(&p.name).into_iter().find(|&r| {
            let i = view.record(r);
            i.version == p.version && i.arch == p.arch && i.sha256 == p.sha256
        });
        match found {
            Some(r) => {
                bytes += view.record(r).size;
                wanted.push((view.package(r), view.origin(r)));
            }
            None => missing.push(format!("{} {} ({})", p.name, p.version, p.arch)),
        }
    }
    if !missing.is_empty() {
        return Err(Error::new(
            ErrorKind::MissingDeb,
            format!(
                "{} recorded package(s) are in no published source with their recorded SHA256: {}",
                missing.len(),
                missing.join(", ")
            ),
        )
        .hint(
            "the archive dropped them; replay against a snapshot of the archive the build used",
        ));
    }
    let plan = FetchPlan {
        packages: total,
        fetched: wanted.len(),
        bytes,
    };
    if dry_run {
        return Ok(plan);
    }
    let wanted: Vec<(&store::Package, &store::PackageOrigin)> =
        wanted.iter().map(|(p, o)| (p.as_ref(), *o)).collect();
    obs.fetch_started(total, wanted.len(), bytes);
    let fetched = st.fetch_debs(&wanted, 4, &|done, all, size| obs.fetched(done, all, size));
    obs.fetch_finished(fetched.is_ok());
    fetched?;
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification_names_the_first_rebuild_that_differs() {
        let commit = |b: u8| CommitId(store::Sha256([b; 32]));
        let replayed = |seq, rebuilt| Replayed {
            seq,
            variant: "base".into(),
            recorded: commit(1),
            rebuilt: commit(rebuilt),
        };
        assert!(verify_replayed(&[replayed(1, 1), replayed(2, 1)], "the journal").is_ok());
        let e = verify_replayed(
            &[replayed(1, 1), replayed(2, 2), replayed(3, 3)],
            "the journal",
        )
        .expect_err("differs");
        assert_eq!(e.kind(), ErrorKind::NotReproducible);
        assert_eq!(
            e.message(),
            format!(
                "transaction 2 rebuilt as {}, but the journal records {}",
                commit(2),
                commit(1)
            )
        );
    }
}
