//! `publish`: variants' head commits into an archive-mode OSTree repository that any static web
//! server can serve, with what a machine or an auditor needs to trust and rebuild them. See
//! docs/delivery.md, "Publishing".
//!
//! ```text
//! DIR/                      archive-mode OSTree repository (ostree pull reads it)
//!   refs/heads/particle-os/V, objects/, deltas/ (static deltas from the previously published
//!   commit), summary + summary.sig (GPG, when signed; commits carry their own signatures)
//!   particle/
//!     published.json (+ .sig)  what is published: each variant's transaction and commit, the
//!                              journal's length, head and SHA256, the sources
//!     journal/records          the journal up to the published transactions, byte for byte
//!     keyrings/NAME.gpg        each source's keyring
//!     self/                    particle's own package archive (no Debian mirror has it)
//!     signing-key.gpg          the publisher's public key (trust it from elsewhere)
//! ```
//!
//! Publishing is ordered so that a client never sees a summary naming what is not there yet:
//! objects, signatures and deltas first, then the journal and `published.json` (each renamed
//! into place), then the refs, then the summary, which ostree replaces atomically.

use crate::gpg::Signer;
use crate::session::{ostree_error, Session};
use crate::txn::Observer;
use crate::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The directory inside the published repository that holds particle's own files.
pub const PARTICLE_DIR: &str = "particle";
/// The index of what is published.
pub const PUBLISHED_FILE: &str = "published.json";

/// `published.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// This format's version.
    pub format: u32,
    /// When it was published (unix seconds).
    pub time: i64,
    pub journal: PublishedJournal,
    /// Every published variant (those not named by a later publish keep their entry).
    pub variants: Vec<PublishedVariant>,
    /// The package sources the transactions were built from (keyrings under `keyrings/`).
    pub sources: Vec<PublishedSource>,
}

/// The published journal file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedJournal {
    /// `journal/records`, relative to the `particle/` directory.
    pub path: String,
    pub records: u64,
    /// The id of its last record: the hash chain's head.
    pub head: String,
    pub sha256: String,
    pub bytes: u64,
}

/// One published variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedVariant {
    pub variant: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub txn: u64,
    pub txn_id: String,
    pub commit: String,
    /// The commit published before this one, and the static delta from it, if any.
    pub previous: Option<String>,
    pub delta: Option<String>,
}

/// One source, as a replaying machine adds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedSource {
    pub name: String,
    /// The archive's URI; relative (`self`) for particle's own archive, which is published.
    pub uri: String,
    pub suite: String,
    pub components: Vec<String>,
    pub architectures: Vec<String>,
    /// The keyring, relative to the `particle/` directory.
    pub keyring: String,
}

/// What `publish` is asked for.
#[derive(Debug, Clone)]
pub struct PublishOptions<'a> {
    /// The variants (every variant with a transaction when empty).
    pub variants: &'a [String],
    pub repo: &'a Path,
    /// A secret key file: commits, the summary and `published.json` are signed with it.
    pub sign_key: Option<&'a Path>,
}

fn ostree(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Result<String> {
    Ok(machine::run_ostree(
        machine::ErrorKind::Ostree,
        &machine::ostree_args(args),
        &[],
    )?)
}

fn io(path: &Path, action: &str, e: std::io::Error) -> Error {
    Error::classify(
        ErrorKind::Io,
        format!("could not {action} {}: {e}", path.display()),
        e,
    )
}

/// Reads a published repository's current `published.json`, if it has one.
fn read_published(dir: &Path) -> Result<Option<Published>> {
    let path = dir.join(PARTICLE_DIR).join(PUBLISHED_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Error::new(
                ErrorKind::BadIndex,
                format!("{}: not a published index: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(&path, "read", e)),
    }
}

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename, fsync the directory).
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    store::write_atomic(path, bytes).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("could not write {}: {e}", path.display()),
        )
    })
}

/// Copies the directory tree `from` into `to` (files and directories; what is there is replaced).
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| io(to, "create", e))?;
    for e in std::fs::read_dir(from).map_err(|e| io(from, "read", e))? {
        let e = e.map_err(|e| io(from, "read", e))?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let kind = e.file_type().map_err(|err| io(&src, "read", err))?;
        if kind.is_dir() {
            // GnuPG's home holds the archive's secret key: never published.
            if e.file_name() != "gnupg" {
                copy_tree(&src, &dst)?;
            }
        } else if kind.is_file() {
            std::fs::copy(&src, &dst).map_err(|err| io(&src, "copy", err))?;
        }
    }
    Ok(())
}

impl Session {
    /// Publishes the heads of `o.variants` into the archive-mode repository `o.repo` (created
    /// when missing or empty).
    pub fn publish(&self, o: &PublishOptions<'_>, obs: &dyn Observer) -> Result<Published> {
        let h = self.history();
        let names: Vec<String> = if o.variants.is_empty() {
            h.variants().iter().map(|v| (*v).to_owned()).collect()
        } else {
            o.variants.to_vec()
        };
        let mut heads = Vec::new();
        for v in &names {
            self.check_variant_known(v)?;
            let head = h.head(v).ok_or_else(|| {
                Error::new(
                    ErrorKind::NoTransactions,
                    format!("variant {v} has no transactions yet, so it has nothing to publish"),
                )
            })?;
            heads.push(head.clone());
        }
        if heads.is_empty() {
            return Err(Error::new(
                ErrorKind::NoTransactions,
                "no variant has a transaction yet: there is nothing to publish",
            ));
        }
        let signer = o.sign_key.map(Signer::from_key_file).transpose()?;
        let dir = o.repo;
        let fresh = !dir.join("config").exists();
        if fresh {
            if dir.exists()
                && std::fs::read_dir(dir)
                    .map(|mut d| d.next().is_some())
                    .unwrap_or(true)
            {
                return Err(Error::new(
                    ErrorKind::Exists,
                    format!(
                        "{} is neither empty nor an OSTree repository",
                        dir.display()
                    ),
                )
                .hint("publish into a new directory or one a previous publish made"));
            }
            std::fs::create_dir_all(dir).map_err(|e| io(dir, "create", e))?;
            obs.note(&format!(
                "creating the archive repository {}",
                dir.display()
            ));
            ostree(&[&repo_flag(dir), &"init", &"--mode=archive"])?;
        }
        let pdir = dir.join(PARTICLE_DIR);
        std::fs::create_dir_all(&pdir).map_err(|e| io(&pdir, "create", e))?;
        // One publisher at a time.
        let lock_path = pdir.join(".lock");
        let lock = std::fs::File::create(&lock_path).map_err(|e| io(&lock_path, "create", e))?;
        rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).map_err(
            |_| {
                Error::new(
                    ErrorKind::Locked,
                    format!("another publish into {} is running", dir.display()),
                )
            },
        )?;
        let old = read_published(dir)?;
        let source_repo = self.repo();
        let mut variants: Vec<PublishedVariant> = old
            .as_ref()
            .map(|p| {
                p.variants
                    .iter()
                    .filter(|v| !names.contains(&v.variant))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();

        // 1. Objects, commit signatures, deltas.
        for head in &heads {
            let commit = head.commit.to_hex();
            let reference = materializer::variant_ref(&head.variant);
            let previous = old
                .as_ref()
                .and_then(|p| p.variants.iter().find(|v| v.variant == head.variant))
                .map(|v| v.commit.clone());
            obs.note(&format!(
                "publishing {reference}: transaction {} ({}), commit {}",
                head.seq,
                head.id.short(12),
                &commit[..12]
            ));
            ostree(&[
                &repo_flag(dir),
                &"pull-local",
                &"--untrusted",
                &source_repo,
                &commit,
            ])?;
            if let Some(s) = &signer {
                let signed = ostree(&[
                    &repo_flag(dir),
                    &"show",
                    &"--gpg-homedir",
                    &s.homedir(),
                    &commit,
                ])
                .unwrap_or_default();
                if !signed.contains(s.fingerprint()) && !signed.contains(&s.fingerprint()[24..]) {
                    ostree(&[
                        &repo_flag(dir),
                        &"gpg-sign",
                        &format!("--gpg-homedir={}", s.homedir().display()),
                        &commit,
                        &s.fingerprint(),
                    ])?;
                }
            }
            let delta = match &previous {
                Some(p)
                    if *p != commit
                        && materializer::commit_exists(dir, p).map_err(ostree_error)? =>
                {
                    obs.note(&format!(
                        "  static delta from the previously published commit {}",
                        &p[..12]
                    ));
                    ostree(&[
                        &repo_flag(dir),
                        &"static-delta",
                        &"generate",
                        &format!("--from={p}"),
                        &format!("--to={commit}"),
                    ])?;
                    Some(format!("{p}-{commit}"))
                }
                _ => None,
            };
            variants.push(PublishedVariant {
                variant: head.variant.clone(),
                reference,
                txn: head.seq,
                txn_id: head.id.to_hex(),
                commit,
                previous: previous.filter(|p| *p != head.commit.to_hex()),
                delta,
            });
        }
        variants.sort_by(|a, b| a.variant.cmp(&b.variant));

        // 2. The journal, the sources, particle's own archive, published.json.
        let jdir = pdir.join("journal");
        std::fs::create_dir_all(&jdir).map_err(|e| io(&jdir, "create", e))?;
        let records_path = self.state.root.join("journal/records");
        let mut bytes = std::fs::read(&records_path).map_err(|e| io(&records_path, "read", e))?;
        bytes.truncate(self.journal.valid_len() as usize);
        write_file(&jdir.join("records"), &bytes)?;
        let last = self
            .journal
            .last()
            .ok_or_else(|| Error::new(ErrorKind::Internal, "a journal with heads has records"))?;
        let kdir = pdir.join("keyrings");
        std::fs::create_dir_all(&kdir).map_err(|e| io(&kdir, "create", e))?;
        let mut sources = Vec::new();
        for s in crate::session::read_store(&self.state)?.sources()? {
            let keyring = format!("keyrings/{}.gpg", s.name);
            let key = std::fs::read(&s.keyring).map_err(|e| io(&s.keyring, "read", e))?;
            write_file(&pdir.join(&keyring), &key)?;
            let own = s.name == crate::own_package::SOURCE;
            if own {
                copy_tree(&self.state.root.join("self"), &pdir.join("self"))?;
            }
            sources.push(PublishedSource {
                uri: if own { "self".to_owned() } else { s.uri },
                name: s.name,
                suite: s.suite,
                components: s.components,
                architectures: s.architectures,
                keyring,
            });
        }
        let published = Published {
            format: 1,
            time: crate::machine::now(),
            journal: PublishedJournal {
                path: "journal/records".to_owned(),
                records: self.journal.records().len() as u64,
                head: last.id.to_hex(),
                sha256: store::Sha256::of(&bytes).to_hex(),
                bytes: bytes.len() as u64,
            },
            variants,
            sources,
        };
        let index = pdir.join(PUBLISHED_FILE);
        let text = serde_json::to_vec_pretty(&published)
            .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
        if let Some(s) = &signer {
            // Signed before it is renamed into place: a reader sees an index and its signature
            // that belong together, or the previous pair.
            let staged = pdir.join(format!(".{PUBLISHED_FILE}.new"));
            write_file(&staged, &text)?;
            let sig = s.sign_detached(&staged)?;
            let sig_bytes = std::fs::read(&sig).map_err(|e| io(&sig, "read", e))?;
            let _ = std::fs::remove_file(&sig);
            write_file(&pdir.join(format!("{PUBLISHED_FILE}.sig")), &sig_bytes)?;
            std::fs::rename(&staged, &index).map_err(|e| io(&index, "rename into", e))?;
            write_file(&pdir.join("signing-key.gpg"), &s.public_keyring()?)?;
        } else {
            write_file(&index, &text)?;
        }

        // 3. Refs, then the summary.
        for v in &published.variants {
            if names.contains(&v.variant) {
                ostree(&[
                    &repo_flag(dir),
                    &"refs",
                    &"--force",
                    &format!("--create={}", v.reference),
                    &v.commit,
                ])?;
            }
        }
        let mut summary: Vec<OsString> = vec![repo_flag(dir), "summary".into(), "-u".into()];
        if let Some(s) = &signer {
            summary.push(format!("--gpg-sign={}", s.fingerprint()).into());
            summary.push(format!("--gpg-homedir={}", s.homedir().display()).into());
        }
        let args: Vec<&dyn AsRef<std::ffi::OsStr>> = summary
            .iter()
            .map(|a| a as &dyn AsRef<std::ffi::OsStr>)
            .collect();
        ostree(&args)?;
        drop(lock);
        Ok(published)
    }
}

fn repo_flag(dir: &Path) -> OsString {
    let mut f = OsString::from("--repo=");
    f.push(dir);
    f
}

/// A repository's URL: `file://` for a path.
pub fn repo_url(url: &str) -> String {
    if url.contains("://") {
        url.to_owned()
    } else {
        format!(
            "file://{}",
            std::fs::canonicalize(url)
                .unwrap_or_else(|_| PathBuf::from(url))
                .display()
        )
    }
}

/// `particle/` of a published repository at `url` (`file://`, `http://`, `https://` or a path).
pub fn particle_url(url: &str) -> String {
    store::join_uri(&repo_url(url), PARTICLE_DIR)
}

/// What a machine or a builder fetched of a published repository: the index, its signature
/// checked when a keyring was given, and the journal bytes (not checked yet: see
/// [`open_journal`]).
#[derive(Debug)]
pub struct Fetched {
    pub published: Published,
    pub signature_checked: bool,
    pub journal: Vec<u8>,
    /// Where the journal came from, for messages.
    pub journal_uri: String,
}

/// Fetches `published.json` of the repository at `url` (with `keyring`: its detached signature
/// must verify, else `signature`) and the journal it names. `work` holds the files gpgv reads.
pub fn fetch_published(url: &str, keyring: Option<&Path>, work: &Path) -> Result<Fetched> {
    let purl = particle_url(url);
    let fetcher = store::Fetcher::new()
        .map_err(|e| Error::new(ErrorKind::Fetch, e.to_string()).with_source(e))?;
    let get = |rel: &str, limit: u64| {
        fetcher
            .get_blocking(&store::join_uri(&purl, rel), limit)
            .map_err(|e| Error::new(ErrorKind::Fetch, e.to_string()).with_source(e))
    };
    let index = get(PUBLISHED_FILE, 64 << 20)?;
    if let Some(k) = keyring {
        let sig = get(&format!("{PUBLISHED_FILE}.sig"), 1 << 20)?;
        let (d, s) = (work.join(PUBLISHED_FILE), work.join("published.sig"));
        std::fs::write(&d, &index)
            .and_then(|()| std::fs::write(&s, &sig))
            .map_err(|e| io(work, "write in", e))?;
        crate::gpg::verify_detached(k, &d, &s)?;
    }
    let published: Published = serde_json::from_slice(&index).map_err(|e| {
        Error::new(
            ErrorKind::BadIndex,
            format!(
                "{}: not a published index: {e}",
                store::join_uri(&purl, PUBLISHED_FILE)
            ),
        )
    })?;
    let journal = get(&published.journal.path, published.journal.bytes + 1)?;
    Ok(Fetched {
        journal_uri: store::join_uri(&purl, &published.journal.path),
        published,
        signature_checked: keyring.is_some(),
        journal,
    })
}

/// Writes `bytes` as the journal in `dir` and opens it, if they are the journal `expect`
/// describes: its SHA256 and length (else `hash_mismatch`), an intact hash chain ending at its
/// head after its number of records (else `journal_corrupt`). `what` names the source.
pub fn open_journal(
    dir: &Path,
    bytes: &[u8],
    expect: &PublishedJournal,
    what: &str,
) -> Result<journal::Journal> {
    let sha = store::Sha256::of(bytes).to_hex();
    if sha != expect.sha256 || bytes.len() as u64 != expect.bytes {
        return Err(Error::new(
            ErrorKind::HashMismatch,
            format!(
                "{what}: {} bytes with SHA256 {sha}, but its index says {} bytes with {}",
                bytes.len(),
                expect.bytes,
                expect.sha256
            ),
        )
        .hint("the journal or its index was changed after it was written; nothing was used"));
    }
    std::fs::create_dir_all(dir).map_err(|e| io(dir, "create", e))?;
    let records = dir.join("records");
    std::fs::write(&records, bytes).map_err(|e| io(&records, "write", e))?;
    let corrupt = |m: String| Error::new(ErrorKind::JournalCorrupt, format!("{what}: {m}"));
    let (journal, report) = journal::Journal::open_read_only(dir)
        .map_err(|e| Error::new(ErrorKind::Journal, e.to_string()).with_source(e))?;
    if let Some(bad) = report.corruption {
        return Err(corrupt(format!("damaged: {bad}")));
    }
    journal
        .verify(|_| Ok(()))
        .map_err(|bad| corrupt(format!("does not verify: {bad}")))?;
    let head = journal.last().map(|r| r.id.to_hex());
    if head.as_deref() != Some(expect.head.as_str())
        || journal.records().len() as u64 != expect.records
    {
        return Err(corrupt(format!(
            "ends at {head:?} after {} records, but its index says {} after {}",
            journal.records().len(),
            expect.head,
            expect.records
        )));
    }
    Ok(journal)
}
