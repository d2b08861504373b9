//! `replay`: every recorded commit rebuilt from the journal alone into a fresh state directory,
//! each checked against the checksum the journal recorded. This is how a build is proven
//! reproducible.

use crate::session::{ostree_error, staging_dir, Session};
use crate::txn::{build_input, query_err, Header};
use crate::{Error, ErrorKind, Result};
use journal::{CommitId, Record};
use std::path::Path;

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
