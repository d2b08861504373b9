//! `publish`: variants' head commits into an archive-mode OSTree repository that any static web
//! server can serve, with what a machine or an auditor needs to trust and rebuild them. See
//! docs/delivery.md, "Publishing".
//!
//! ```text
//! DIR/                      archive-mode OSTree repository (ostree pull reads it)
//!   refs/heads/particle-os/V, objects/ (each head with its history), deltas/ (static deltas
//!   from the previously published commit), summary + summary.sig (GPG, when signed; commits
//!   carry their own signatures)
//!   particle/
//!     published.json           what is published: each variant's transaction and commit, the
//!                              journal's path, length, head and SHA256, the sources
//!     signatures/SHA.sig       the index's signature, named by the index's SHA256
//!     journal/SHA.records      the journal up to the published transactions, byte for byte
//!     keyrings/NAME-SHA.gpg    each source's keyring
//!     self/ID/                 particle's own package archive (no Debian mirror has it)
//!     signing-key.gpg          the publisher's public key (trust it from elsewhere)
//! ```
//!
//! Publishing is atomic for every reader. Every file a client reads after `published.json` is
//! named by its content and never replaced; the index is renamed into place after them, the
//! refs and the summary (which ostree replaces atomically) after it, and what neither this
//! index nor the previous one names is removed last. See docs/delivery.md, "Publishing".

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
    /// The keyring's SHA256 (indexes published before it was recorded lack it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyring_sha256: Option<String>,
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

/// Reads a published repository's current `published.json`, if it has one, and its bytes.
fn read_published(dir: &Path) -> Result<Option<(Published, Vec<u8>)>> {
    let path = dir.join(PARTICLE_DIR).join(PUBLISHED_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(p) => Ok(Some((p, bytes))),
            Err(e) => Err(Error::new(
                ErrorKind::BadIndex,
                format!("{}: not a published index: {e}", path.display()),
            )),
        },
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

/// The detached signature of the index `text`, relative to `particle/`: named by the index's
/// SHA256, so that the index and its signature switch together.
pub fn signature_path(text: &[u8]) -> String {
    format!("signatures/{}.sig", store::Sha256::of(text).to_hex())
}

/// Writes `bytes` as `rel` under `pdir` unless a file is there already: for names that change
/// with their content.
fn write_named(pdir: &Path, rel: &str, bytes: &[u8]) -> Result<()> {
    let path = pdir.join(rel);
    if path.exists() {
        return Ok(());
    }
    write_file(&path, bytes)
}

fn sync(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| io(path, "sync", e))
}

/// Every file under `dir` (GnuPG's home, which holds the archive's secret key, left out), as
/// paths relative to it, sorted.
fn archive_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let at = dir.join(&rel);
        for e in std::fs::read_dir(&at).map_err(|e| io(&at, "read", e))? {
            let e = e.map_err(|e| io(&at, "read", e))?;
            let kind = e.file_type().map_err(|err| io(&e.path(), "read", err))?;
            let rel = rel.join(e.file_name());
            if kind.is_dir() && e.file_name() != "gnupg" {
                stack.push(rel);
            } else if kind.is_file() {
                files.push(rel);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Publishes particle's own archive (`from`, the state directory's `self/`) as
/// `self/<ID>/` under `pdir`, ID a digest of its files' names and contents, and returns that
/// URI. A generation that is there already is left alone; a new one is built beside and
/// renamed into place whole.
fn publish_archive(from: &Path, pdir: &Path) -> Result<String> {
    let files = archive_files(from)?;
    let mut digest = Vec::new();
    for rel in &files {
        let path = from.join(rel);
        let bytes = std::fs::read(&path).map_err(|e| io(&path, "read", e))?;
        digest.extend_from_slice(rel.as_os_str().as_encoded_bytes());
        digest.push(0);
        digest.extend_from_slice(&store::Sha256::of(&bytes).0);
    }
    let uri = format!("self/{}", &store::Sha256::of(&digest).to_hex()[..16]);
    let to = pdir.join(&uri);
    if to.exists() {
        return Ok(uri);
    }
    let staging = pdir.join(format!("self/.new-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    for rel in &files {
        let (src, dst) = (from.join(rel), staging.join(rel));
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, "create", e))?;
        }
        std::fs::copy(&src, &dst).map_err(|e| io(&src, "copy", e))?;
    }
    // Synced before the rename: a name that is there is never a half-written generation.
    for rel in &files {
        sync(&staging.join(rel))?;
    }
    let mut dirs: Vec<PathBuf> = files
        .iter()
        .flat_map(|f| f.ancestors().skip(1).map(|d| staging.join(d)))
        .collect();
    dirs.sort();
    dirs.dedup();
    for d in &dirs {
        sync(d)?;
    }
    std::fs::rename(&staging, &to).map_err(|e| io(&to, "rename into", e))?;
    Ok(uri)
}

/// Removes from `journal/`, `signatures/`, `keyrings/` and `self/` under `pdir` every entry
/// that `named` (paths relative to `pdir`) neither names nor leads to: what older publishes
/// and interrupted ones left.
fn sweep(pdir: &Path, named: &[String]) -> Result<()> {
    for dir in ["journal", "signatures", "keyrings", "self"] {
        let at = pdir.join(dir);
        let Ok(entries) = std::fs::read_dir(&at) else {
            continue;
        };
        for e in entries {
            let e = e.map_err(|e| io(&at, "read", e))?;
            let rel = format!("{dir}/{}", e.file_name().to_string_lossy());
            let kept = named.iter().any(|n| {
                n == &rel || n.starts_with(&format!("{rel}/")) || rel.starts_with(&format!("{n}/"))
            });
            if kept {
                continue;
            }
            let path = e.path();
            let gone = if e.file_type().is_ok_and(|t| t.is_dir()) {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            gone.map_err(|err| io(&path, "remove", err))?;
        }
    }
    Ok(())
}

impl Published {
    /// The files under `particle/` this index names (the journal, the keyrings, particle's
    /// own archive).
    pub fn files(&self) -> Vec<String> {
        let mut files = vec![self.journal.path.clone()];
        for s in &self.sources {
            files.push(s.keyring.clone());
            if !s.uri.contains("://") {
                files.push(s.uri.clone());
            }
        }
        files
    }
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
            .map(|(p, _)| {
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
                .and_then(|(p, _)| p.variants.iter().find(|v| v.variant == head.variant))
                .map(|v| v.commit.clone());
            obs.note(&format!(
                "publishing {reference}: transaction {} ({}), commit {}",
                head.seq,
                head.id.short(12),
                &commit[..12]
            ));
            // With its history: every parent the build host still has (`gc` prunes the
            // commits of old transactions; the pull stops where the chain does).
            ostree(&[
                &repo_flag(dir),
                &"pull-local",
                &"--untrusted",
                &"--depth=-1",
                &source_repo,
                &commit,
            ])?;
            if let Some(s) = &signer {
                sign_history(dir, &commit, s)?;
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

        crate::faults::point("publish-objects");

        // 2. Under names that change with their content (never replaced, so an index a client
        // already read keeps naming files that are there): the journal, the sources' keyrings,
        // particle's own archive.
        let records_path = self.state.root.join("journal/records");
        let mut bytes = std::fs::read(&records_path).map_err(|e| io(&records_path, "read", e))?;
        bytes.truncate(self.journal.valid_len() as usize);
        let journal_sha = store::Sha256::of(&bytes).to_hex();
        let journal_path = format!("journal/{journal_sha}.records");
        write_named(&pdir, &journal_path, &bytes)?;
        let last = self
            .journal
            .last()
            .ok_or_else(|| Error::new(ErrorKind::Internal, "a journal with heads has records"))?;
        let mut sources = Vec::new();
        for s in crate::session::read_store(&self.state)?.sources()? {
            let key = std::fs::read(&s.keyring).map_err(|e| io(&s.keyring, "read", e))?;
            let key_sha = store::Sha256::of(&key).to_hex();
            let keyring = format!("keyrings/{}-{}.gpg", s.name, &key_sha[..16]);
            write_named(&pdir, &keyring, &key)?;
            let own = s.name == crate::own_package::SOURCE;
            let uri = if own {
                publish_archive(&self.state.root.join("self"), &pdir)?
            } else {
                s.uri
            };
            sources.push(PublishedSource {
                uri,
                name: s.name,
                suite: s.suite,
                components: s.components,
                architectures: s.architectures,
                keyring,
                keyring_sha256: Some(key_sha),
            });
        }
        if let Some(s) = &signer {
            write_file(&pdir.join("signing-key.gpg"), &s.public_keyring()?)?;
        }
        crate::faults::point("publish-files");

        // 3. The index: its signature under the index's own SHA256 first, then the index
        // renamed into place, the one switch a client of `particle/` sees.
        let published = Published {
            format: 1,
            time: crate::machine::now(),
            journal: PublishedJournal {
                path: journal_path,
                records: self.journal.records().len() as u64,
                head: last.id.to_hex(),
                sha256: journal_sha,
                bytes: bytes.len() as u64,
            },
            variants,
            sources,
        };
        let index = pdir.join(PUBLISHED_FILE);
        let text = serde_json::to_vec_pretty(&published)
            .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
        if let Some(s) = &signer {
            let staged = pdir.join(format!(".{PUBLISHED_FILE}.new"));
            write_file(&staged, &text)?;
            let sig = s.sign_detached(&staged)?;
            let sig_bytes = std::fs::read(&sig).map_err(|e| io(&sig, "read", e))?;
            let _ = std::fs::remove_file(&sig);
            let _ = std::fs::remove_file(&staged);
            write_named(&pdir, &signature_path(&text), &sig_bytes)?;
        }
        write_file(&index, &text)?;
        crate::faults::point("publish-index");

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
        crate::faults::point("publish-summary");

        // 4. What neither this index nor the previous one names: a client that read the
        // previous index a moment ago still finds its files.
        let mut named = published.files();
        if let Some((old, old_text)) = &old {
            named.extend(old.files());
            named.push(signature_path(old_text));
        }
        named.push(signature_path(&text));
        sweep(&pdir, &named)?;
        drop(lock);
        Ok(published)
    }
}

/// Signs `commit` and each of its ancestors in `dir` that `signer` has not signed yet, from the
/// newest; stops at the first it has signed (a previous publish signed the rest) or where the
/// chain ends in the repository.
fn sign_history(dir: &Path, commit: &str, signer: &Signer) -> Result<()> {
    let mut next = Some(commit.to_owned());
    while let Some(c) = next.take() {
        if !materializer::commit_exists(dir, &c).map_err(ostree_error)? {
            break;
        }
        let shown = ostree(&[
            &repo_flag(dir),
            &"show",
            &"--gpg-homedir",
            &signer.homedir(),
            &c,
        ])
        .unwrap_or_default();
        let fpr = signer.fingerprint();
        if shown.contains(fpr) || shown.contains(&fpr[24..]) {
            break;
        }
        ostree(&[
            &repo_flag(dir),
            &"gpg-sign",
            &format!("--gpg-homedir={}", signer.homedir().display()),
            &c,
            &fpr,
        ])?;
        next = materializer::commit_parent(dir, &c).map_err(ostree_error)?;
    }
    Ok(())
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
        let rel = signature_path(&index);
        let sig = get(&rel, 1 << 20).map_err(|e| {
            Error::new(
                ErrorKind::Signature,
                format!(
                    "{} has no signature ({rel}): {}",
                    store::join_uri(&purl, PUBLISHED_FILE),
                    e.message()
                ),
            )
            .hint("a repository published without --sign-key cannot be checked with a keyring")
        })?;
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
    let journal = get(
        relative(&published.journal.path)?,
        published.journal.bytes + 1,
    )?;
    Ok(Fetched {
        journal_uri: store::join_uri(&purl, &published.journal.path),
        published,
        signature_checked: keyring.is_some(),
        journal,
    })
}

/// `path`, named by an index, if it stays inside the published directory (relative, without
/// `..`); else `bad_index`.
pub fn relative(path: &str) -> Result<&str> {
    let inside = !path.is_empty()
        && !path.starts_with('/')
        && !path.contains("://")
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..");
    if inside {
        Ok(path)
    } else {
        Err(Error::new(
            ErrorKind::BadIndex,
            format!("published.json names {path:?}, which is not a path inside its directory"),
        ))
    }
}

/// Checks that `bytes` are the journal (or bundle segment) `expect` describes: its length and
/// SHA256 (`hash_mismatch`). `what` names the source.
pub(crate) fn check_journal_bytes(
    bytes: &[u8],
    expect: &PublishedJournal,
    what: &str,
) -> Result<()> {
    check_bytes(bytes, &expect.sha256, expect.bytes, what).map_err(|e| {
        e.hint("the journal or its index was changed after it was written; nothing was used")
    })
}

/// Checks that `bytes` have the length and SHA256 an index says (`hash_mismatch`, naming
/// `what`).
pub(crate) fn check_bytes(bytes: &[u8], sha256: &str, len: u64, what: &str) -> Result<()> {
    let sha = store::Sha256::of(bytes).to_hex();
    if sha != sha256 || bytes.len() as u64 != len {
        return Err(Error::new(
            ErrorKind::HashMismatch,
            format!(
                "{what}: {} bytes with SHA256 {sha}, but its index says {len} bytes with {sha256}",
                bytes.len(),
            ),
        ));
    }
    Ok(())
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
    check_journal_bytes(bytes, expect, what)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_names_only_paths_inside_its_directory() {
        for good in [
            "journal/x.records",
            "keyrings/debian-0123.gpg",
            "self/ab/pool/p.deb",
        ] {
            assert_eq!(relative(good).expect(good), good);
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "journal/../../x",
            "journal//x",
            "./x",
            "journal/.",
            "http://elsewhere/x",
            "journal/",
        ] {
            let e = relative(bad).expect_err(bad);
            assert_eq!(e.kind(), ErrorKind::BadIndex, "{bad}");
        }
    }
}
