//! What `status` and `variant list` show of a state directory: each variant with its head
//! transaction and, for `status`, where its ref points.

use crate::session::{ostree_error, Session};
use crate::Result;

/// A variant's head transaction: the state it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantHead {
    pub txn: u64,
    pub txn_id: journal::TxnId,
    pub commit: journal::CommitId,
    /// Unix seconds, UTC.
    pub time: i64,
    /// How many packages its state has.
    pub packages: usize,
    /// The variant it was built on, for a child.
    pub parent: Option<String>,
    pub profile: journal::Profile,
}

impl VariantHead {
    fn of(r: &journal::Record) -> Self {
        VariantHead {
            txn: r.seq,
            txn_id: r.id,
            commit: r.commit,
            time: r.time,
            packages: r.state.packages.len(),
            parent: r.base.as_ref().map(|b| b.variant.clone()),
            profile: r.state.profile.clone(),
        }
    }
}

/// A variant and its head (`None` before its first transaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantSummary {
    pub name: String,
    pub head: Option<VariantHead>,
}

/// A variant as `status` shows it: its head, its ref, and the commit the ref points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantStatus {
    pub name: String,
    pub head: Option<VariantHead>,
    /// The OSTree ref (`particle/VARIANT`).
    pub reference: String,
    /// The commit the ref points at in the repository, if it exists.
    pub ref_commit: Option<String>,
}

impl VariantSummary {
    /// One variant of `variant list --json` (docs/cli.md).
    pub fn to_json(&self) -> serde_json::Value {
        let head = self.head.as_ref();
        serde_json::json!({
            "name": self.name, "parent": head.and_then(|h| h.parent.clone()),
            "txn": head.map(|h| h.txn), "commit": head.map(|h| h.commit.to_hex()),
        })
    }
}

impl VariantStatus {
    /// The head's commit, in hex.
    pub fn commit(&self) -> Option<String> {
        self.head.as_ref().map(|h| h.commit.to_hex())
    }

    /// Whether the ref points at the journal head's commit (both absent before the first
    /// transaction); the next transaction repairs it when not.
    pub fn ref_matches_journal(&self) -> bool {
        self.ref_commit == self.commit()
    }

    /// `status --json` (docs/cli.md): the fields of `variant` (else base, else the first) at
    /// the top level, every variant under `variants`, and the build `staging` directory.
    pub fn document(
        all: &[VariantStatus],
        variant: Option<&str>,
        staging: &std::path::Path,
    ) -> serde_json::Value {
        let list: Vec<_> = all.iter().map(VariantStatus::to_json).collect();
        let primary = list
            .iter()
            .find(|v| v["variant"] == variant.unwrap_or("base"))
            .or(list.first())
            .cloned();
        let mut j = primary.unwrap_or_else(|| serde_json::json!({}));
        j["variants"] = serde_json::Value::Array(list);
        j["staging"] = serde_json::Value::String(staging.display().to_string());
        j
    }

    /// One variant of `status --json` (docs/cli.md).
    pub fn to_json(&self) -> serde_json::Value {
        let head = self.head.as_ref();
        serde_json::json!({
            "variant": self.name, "txn": head.map(|h| h.txn),
            "txn_id": head.map(|h| h.txn_id.to_hex()), "commit": self.commit(),
            "ref": self.reference, "ref_commit": self.ref_commit,
            "ref_matches_journal": self.ref_matches_journal(),
            "packages": head.map_or(0, |h| h.packages), "time": head.map(|h| h.time),
            "parent": head.and_then(|h| h.parent.clone()),
            "profile": head.map(|h| serde_json::to_value(&h.profile).unwrap_or_default()),
        })
    }
}

impl Session {
    /// Every variant ([`Session::variant_names`]) with its head transaction.
    pub fn variant_list(&self) -> Result<Vec<VariantSummary>> {
        let h = self.history();
        Ok(self
            .variant_names()?
            .into_iter()
            .map(|name| VariantSummary {
                head: h.head(&name).map(VariantHead::of),
                name,
            })
            .collect())
    }

    /// Every variant, or only `only` (`unknown_variant` if there is none of that name), with
    /// its head transaction and where its ref points.
    pub fn variant_status(&self, only: Option<&str>) -> Result<Vec<VariantStatus>> {
        let h = self.history();
        let mut names = self.variant_names()?;
        if let Some(v) = only {
            if !names.iter().any(|n| n == v) {
                self.check_variant_known(v)?;
            }
            names = vec![v.to_owned()];
        }
        let repo = self.repo();
        names
            .into_iter()
            .map(|name| {
                let ref_commit = materializer::resolve_ref(&repo, &name).map_err(ostree_error)?;
                Ok(VariantStatus {
                    head: h.head(&name).map(VariantHead::of),
                    reference: materializer::variant_ref(&name),
                    ref_commit,
                    name,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::{ErrorKind, Session};

    #[test]
    fn a_new_state_directory_has_its_first_variant_without_a_head() {
        let d = tempfile::tempdir().expect("tempdir");
        let root = d.path().join("state");
        Session::init(&root, "base").expect("init");
        let s = Session::read(&root).expect("read");
        let list = s.variant_list().expect("list");
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].name.as_str(), &list[0].head), ("base", &None));
        let status = s.variant_status(None).expect("status");
        assert_eq!(status.len(), 1);
        let base = &status[0];
        assert_eq!(base.reference, materializer::variant_ref("base"));
        assert_eq!((base.commit(), &base.ref_commit), (None, &None));
        assert!(base.ref_matches_journal());
        assert_eq!(s.variant_status(Some("base")).expect("base"), status);
        let e = s.variant_status(Some("nope")).expect_err("unknown");
        assert_eq!(e.kind(), ErrorKind::UnknownVariant);
    }
}
