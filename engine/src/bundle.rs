//! Offline updates: `bundle FROM TO FILE` writes one file holding the static delta between two
//! transactions' commits, the journal segment that records what happened between them and an
//! index (signed with `--sign-key`); `upgrade --bundle FILE` applies it on a machine without a
//! network when it continues the machine's chain. See docs/delivery.md, "Bundles".
//!
//! The file is a tar archive of exactly four members: `bundle.json`, `bundle.json.sig` (empty
//! when unsigned), `delta` (ostree's single-file static delta, parts inline, its SHA256 in the
//! index) and `records`
//! (the journal's frames of the records after FROM up to TO, byte for byte: a segment, read on
//! the machine against its own record of FROM; `journal::read_segment`).

use crate::publish::{PublishedJournal, PublishedVariant};
use crate::session::Session;
use crate::txn::Observer;
use crate::upgrade::{Remote, UpgradeCheck, Upgraded};
use crate::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One end of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleEnd {
    pub txn: u64,
    pub txn_id: String,
    pub commit: String,
}

/// `bundle.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleIndex {
    /// [`FORMAT`].
    pub format: u32,
    pub variant: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub from: BundleEnd,
    pub to: BundleEnd,
    /// The segment: `records` is how many records it holds (TO's seq minus FROM's), `head`
    /// TO's id.
    pub journal: PublishedJournal,
    /// The `delta` member, checked before ostree reads it.
    pub delta: BundleDelta,
}

/// What the index says of the `delta` member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleDelta {
    pub sha256: String,
    pub bytes: u64,
}

/// The bundle format this particle writes and reads. Format 1 (the sixteenth session's)
/// carried the whole journal up to TO; format 2 the segment after FROM.
pub const FORMAT: u32 = 2;

const MEMBERS: [&str; 4] = ["bundle.json", "bundle.json.sig", "delta", "records"];

fn bad(message: String) -> Error {
    Error::new(ErrorKind::BadBundle, message).hint("nothing was changed")
}

fn io(path: &Path, action: &str, e: std::io::Error) -> Error {
    Error::classify(
        ErrorKind::Io,
        format!("could not {action} {}: {e}", path.display()),
        e,
    )
}

impl Session {
    /// Writes `out`: the update from transaction `from` to `to` of one variant.
    pub fn bundle(
        &self,
        from: u64,
        to: u64,
        out: &Path,
        sign_key: Option<&Path>,
        obs: &dyn Observer,
    ) -> Result<BundleIndex> {
        let h = self.history();
        let record = |seq: u64| {
            h.record(seq)
                .cloned()
                .ok_or_else(|| Error::new(ErrorKind::UnknownTxn, format!("no transaction {seq}")))
        };
        let (a, b) = (record(from)?, record(to)?);
        if a.variant != b.variant || !h.in_lineage(&b.variant, a.seq) || a.seq >= b.seq {
            return Err(Error::usage(format!(
                "transaction {} ({}) is not an earlier state of {} transaction {}",
                a.seq, a.variant, b.variant, b.seq
            )));
        }
        let signer = sign_key
            .map(crate::gpg::Signer::from_key_file)
            .transpose()?;
        let work = tempfile::Builder::new()
            .prefix("particle-bundle-")
            .tempdir()
            .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
        let delta = work.path().join("delta");
        self.delta(a.seq, b.seq, Some(&delta), obs)?;
        let delta_bytes = std::fs::read(&delta).map_err(|e| io(&delta, "read", e))?;
        let records_path = self.state.root.join("journal/records");
        let file = std::fs::read(&records_path).map_err(|e| io(&records_path, "read", e))?;
        let records = self
            .journal
            .segment(a.seq + 1, b.seq, &file)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Internal,
                    format!("the journal file lacks records {}..={}", a.seq + 1, b.seq),
                )
            })?
            .to_vec();
        let index = BundleIndex {
            format: FORMAT,
            variant: b.variant.clone(),
            reference: materializer::variant_ref(&b.variant),
            from: BundleEnd {
                txn: a.seq,
                txn_id: a.id.to_hex(),
                commit: a.commit.to_hex(),
            },
            to: BundleEnd {
                txn: b.seq,
                txn_id: b.id.to_hex(),
                commit: b.commit.to_hex(),
            },
            journal: PublishedJournal {
                path: "records".into(),
                records: b.seq - a.seq,
                head: b.id.to_hex(),
                sha256: store::Sha256::of(&records).to_hex(),
                bytes: records.len() as u64,
            },
            delta: BundleDelta {
                sha256: store::Sha256::of(&delta_bytes).to_hex(),
                bytes: delta_bytes.len() as u64,
            },
        };
        let index_path = work.path().join("bundle.json");
        let text = serde_json::to_vec_pretty(&index)
            .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
        std::fs::write(&index_path, &text).map_err(|e| io(&index_path, "write", e))?;
        let sig = match &signer {
            Some(s) => {
                let p = s.sign_detached(&index_path)?;
                std::fs::read(&p).map_err(|e| io(&p, "read", e))?
            }
            None => Vec::new(),
        };
        // Written beside OUT, synced, renamed: OUT is complete or absent.
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut tmp =
            tempfile::NamedTempFile::new_in(parent).map_err(|e| io(parent, "write in", e))?;
        {
            let mut t = tar::Builder::new(tmp.as_file_mut());
            for (name, bytes) in MEMBERS.iter().zip([&text, &sig, &delta_bytes, &records]) {
                let mut header = tar::Header::new_gnu();
                header.set_size(bytes.len() as u64);
                header.set_mode(0o644);
                header.set_mtime(b.time.max(0) as u64);
                header.set_cksum();
                t.append_data(&mut header, name, bytes.as_slice())
                    .map_err(|e| io(out, "write", e))?;
            }
            t.finish().map_err(|e| io(out, "write", e))?;
        }
        tmp.as_file().sync_all().map_err(|e| io(out, "sync", e))?;
        tmp.persist(out)
            .map_err(|e| io(out, "rename into", e.error))?;
        Ok(index)
    }

    /// `upgrade --bundle FILE`: applies a bundle on a machine. Its index must carry a good
    /// signature by `keyring` or, without one, by the keyring of one of the machine's remotes
    /// (a machine with no keyring at all takes it unchecked, and says so); it must be for the
    /// variant the machine runs, and its journal segment must continue the machine's last
    /// origin (the transaction it names, by id).
    pub fn upgrade_bundle(
        &mut self,
        file: &Path,
        keyring: Option<&Path>,
        allow_downgrade: bool,
        obs: &dyn Observer,
    ) -> Result<Upgraded> {
        let m = self.state.machine.clone().ok_or_else(|| {
            Error::usage(
                "`upgrade --bundle` acts on a machine; this is a build host's state directory",
            )
        })?;
        let work = tempfile::Builder::new()
            .prefix("particle-bundle-")
            .tempdir()
            .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
        let files = unpack(file, work.path())?;
        let [index_path, sig_path, delta, records] = files;
        let index_bytes = std::fs::read(&index_path).map_err(|e| io(&index_path, "read", e))?;
        let mut keyrings: Vec<PathBuf> = keyring.map(Path::to_owned).into_iter().collect();
        if keyrings.is_empty() {
            keyrings.extend(self.remotes()?.into_iter().filter_map(|r| r.keyring));
        }
        let signature_checked = if keyrings.is_empty() {
            obs.note("this machine has no keyring (no --keyring, no remote with one): the bundle is not signature-checked");
            false
        } else {
            let mut last = None;
            for k in &keyrings {
                match crate::gpg::verify_detached(k, &index_path, &sig_path) {
                    Ok(()) => {
                        last = None;
                        break;
                    }
                    Err(e) => last = Some(e),
                }
            }
            if let Some(e) = last {
                return Err(e);
            }
            true
        };
        #[derive(Deserialize)]
        struct Format {
            format: u32,
        }
        let parse_error = |e: serde_json::Error| {
            bad(format!(
                "{}: bundle.json does not parse: {e}",
                file.display()
            ))
        };
        let format = serde_json::from_slice::<Format>(&index_bytes)
            .map_err(parse_error)?
            .format;
        if format != FORMAT {
            return Err(bad(format!(
                "{} is a bundle of format {format}; this particle reads format {FORMAT}",
                file.display()
            ))
            .hint("make the bundle again with this particle's `particle bundle`"));
        }
        let index: BundleIndex = serde_json::from_slice(&index_bytes).map_err(parse_error)?;
        let variant = self
            .journal
            .last()
            .map(|r| r.variant.clone())
            .ok_or_else(|| Error::new(ErrorKind::MachineState, "the machine's journal is empty"))?;
        if index.variant != variant {
            return Err(bad(format!(
                "{} is a bundle for {}, but this machine runs {variant}",
                file.display(),
                index.variant
            )));
        }
        let (current, seq, txn) = self
            .journal
            .records()
            .iter()
            .rev()
            .find_map(|r| match r.request {
                journal::Request::Origin { seq, txn, .. } => Some((r.clone(), seq, txn)),
                _ => None,
            })
            .ok_or_else(|| {
                bad(format!(
                    "this machine has no origin (it was not deployed from a build host's transaction): {} cannot continue it",
                    file.display()
                ))
            })?;
        if current.commit.to_hex() == index.to.commit {
            return Err(Error::new(
                ErrorKind::SameCommit,
                format!(
                    "this machine already runs transaction {} of {variant}, where the bundle leads",
                    index.to.txn
                ),
            ));
        }
        if (seq, txn.to_hex()) != (index.from.txn, index.from.txn_id.clone()) {
            return Err(bad(format!(
                "the bundle leads from transaction {} ({}), but this machine runs transaction {seq} ({}): it does not continue the machine's chain",
                index.from.txn,
                // Unchecked text (a bundle of a machine without a keyring): no slicing that
                // could split a character.
                index.from.txn_id.get(..12).unwrap_or(&index.from.txn_id),
                txn.short(12)
            )));
        }
        let bytes = std::fs::read(&records).map_err(|e| io(&records, "read", e))?;
        let what = format!("{}: the journal segment", file.display());
        crate::publish::check_journal_bytes(&bytes, &index.journal, &what)?;
        let anchor = journal::Anchor {
            seq,
            id: txn,
            variant: &variant,
            state: &current.state,
        };
        let segment = journal::read_segment(&bytes, anchor).map_err(|e| {
            let kind = match e {
                journal::SegmentError::NotLinked { .. } => ErrorKind::BadBundle,
                _ => ErrorKind::JournalCorrupt,
            };
            Error::new(kind, format!("{what}: {e}")).hint("nothing was changed")
        })?;
        if segment.head.to_hex() != index.journal.head || segment.len != index.journal.records {
            return Err(Error::new(
                ErrorKind::JournalCorrupt,
                format!(
                    "{what} ends at {} after {} records, but its index says {} after {}",
                    segment.head, segment.len, index.journal.head, index.journal.records
                ),
            ));
        }
        let to = segment
            .records
            .into_iter()
            .rfind(|r| {
                r.seq == index.to.txn
                    && r.id.to_hex() == index.to.txn_id
                    && r.commit.to_hex() == index.to.commit
            })
            .ok_or_else(|| {
                bad(format!(
                    "the bundle's journal segment has no {variant} transaction {} with commit {}",
                    index.to.txn, index.to.commit
                ))
            })?;
        let check = UpgradeCheck {
            remote: Remote {
                name: "bundle".into(),
                url: format!("file://{}", file.display()),
                keyring: None,
            },
            offered: PublishedVariant {
                variant: variant.clone(),
                reference: index.reference.clone(),
                txn: index.to.txn,
                txn_id: index.to.txn_id.clone(),
                commit: index.to.commit.clone(),
                previous: Some(index.from.commit.clone()),
                delta: None,
            },
            diff: journal::diff(&current.state, &to.state),
            record: to,
            current: Some(current),
            up_to_date: false,
            signature_checked,
            definitions: None,
        };
        // Refused before the delta writes anything into the repository, and the delta is
        // the one the index names before ostree reads it.
        crate::upgrade::refuse_downgrade(&check, allow_downgrade)?;
        let delta_bytes = std::fs::read(&delta).map_err(|e| io(&delta, "read", e))?;
        crate::publish::check_bytes(
            &delta_bytes,
            &index.delta.sha256,
            index.delta.bytes,
            &format!("{}: the delta", file.display()),
        )
        .map_err(|e| e.hint("the bundle was changed after it was written; nothing was applied"))?;
        drop(delta_bytes);
        obs.note(&format!(
            "applying the bundle: {} transaction {} -> {}",
            variant, index.from.txn, index.to.txn
        ));
        let mut repo = std::ffi::OsString::from("--repo=");
        repo.push(m.repo());
        machine::run_ostree(
            machine::ErrorKind::Delta,
            &machine::ostree_args(&[&repo, &"static-delta", &"apply-offline", &delta]),
            &[],
        )?;
        if !materializer::commit_exists(&m.repo(), &index.to.commit).unwrap_or(false) {
            return Err(bad(format!(
                "applying the bundle's delta did not give commit {}",
                index.to.commit
            )));
        }
        self.stage_offer(&m, check, obs)
    }
}

/// Unpacks the four members of a bundle into `dir`, refusing anything else.
fn unpack(file: &Path, dir: &Path) -> Result<[PathBuf; 4]> {
    let f = std::fs::File::open(file).map_err(|e| io(file, "open", e))?;
    let mut archive = tar::Archive::new(f);
    let mut seen = [false; 4];
    for entry in archive
        .entries()
        .map_err(|e| bad(format!("{}: not a bundle: {e}", file.display())))?
    {
        let mut entry = entry.map_err(|e| bad(format!("{}: not a bundle: {e}", file.display())))?;
        let name = entry
            .path()
            .map_err(|e| bad(format!("{}: not a bundle: {e}", file.display())))?
            .to_string_lossy()
            .into_owned();
        let Some(i) = MEMBERS.iter().position(|m| *m == name) else {
            return Err(bad(format!(
                "{}: unexpected member {name:?} (a bundle holds {})",
                file.display(),
                MEMBERS.join(", ")
            )));
        };
        if seen[i] || !entry.header().entry_type().is_file() {
            return Err(bad(format!(
                "{}: member {name} is not one regular file",
                file.display()
            )));
        }
        seen[i] = true;
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("{}: {name}: {e}", file.display())))?;
        let path = dir.join(&name);
        std::fs::write(&path, bytes).map_err(|e| io(&path, "write", e))?;
    }
    if let Some(i) = seen.iter().position(|s| !s) {
        return Err(bad(format!(
            "{}: the bundle lacks {}",
            file.display(),
            MEMBERS[i]
        )));
    }
    Ok(MEMBERS.map(|m| dir.join(m)))
}
