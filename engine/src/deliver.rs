//! Delivery from a state directory: `deploy` into an OSTree sysroot, `image` (a bootable disk),
//! `export oci`, `push` (to a registry, signed), static deltas between transactions, and what a
//! sysroot runs (`status` of a machine). See docs/delivery.md, docs/registry.md and docs/boot.md.
//!
//! `deploy`, `image` and `export oci` read only the state directory and its journal, not the
//! store: its database is held by a running transaction, and delivering the current head while
//! the next transaction builds must work.

use crate::session::{ostree_error, Session};
use crate::txn::Observer;
use crate::{Error, ErrorKind, Result};
use journal::Record;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// A state directory opened to deliver its heads: its journal, without the store or the lock.
pub struct Delivery {
    state: crate::state::StateDir,
    journal: journal::Journal,
}

impl Delivery {
    pub fn open(root: &Path) -> Result<Self> {
        let state = crate::state::StateDir::open(root)?;
        let (journal, _) = journal::Journal::open(&state.root.join("journal")).map_err(|e| {
            Error::new(
                ErrorKind::Journal,
                format!("could not open the journal: {e}"),
            )
            .with_source(e)
        })?;
        Ok(Self { state, journal })
    }

    fn repo(&self) -> PathBuf {
        self.state.repo()
    }

    /// What a machine deployed from here records as its origin: this state directory, and the
    /// sources it pins (none when the store is held by a running transaction: the machine then
    /// adds its own with `repo add`).
    fn origin(&self) -> Result<(String, Vec<store::SourceConfig>)> {
        let from = std::fs::canonicalize(&self.state.root)
            .unwrap_or_else(|_| self.state.root.clone())
            .display()
            .to_string();
        let sources = match crate::session::read_store(&self.state) {
            Ok(st) => st.sources()?,
            Err(e) => {
                tracing::warn!("the machine gets no sources: {e}");
                Vec::new()
            }
        };
        Ok((from, sources))
    }

    /// The head record of `variant`, or a clear error.
    pub fn head(&self, variant: &str) -> Result<&Record> {
        if let Some(r) = self.journal.history().head(variant) {
            return Ok(r);
        }
        if crate::state::variants(&self.state)?
            .iter()
            .any(|v| v == variant)
        {
            return Err(Error::new(
                ErrorKind::NoTransactions,
                format!("variant {variant} has no transactions yet, so it has no commit"),
            )
            .hint(format!(
                "build it first, e.g. `particle txn install --variant {variant} linux-image-amd64 initramfs-tools`"
            )));
        }
        Err(Error::new(
            ErrorKind::UnknownVariant,
            format!("no variant named {variant:?}"),
        )
        .hint("see `particle variant list`; create one with `particle variant create`"))
    }

    /// Deploys `variant`'s head into `sysroot` under `stateroot` and seeds the machine's own
    /// state directory there (docs/delivery.md, "A machine's journal").
    pub fn deploy(
        &self,
        sysroot: &Path,
        variant: &str,
        stateroot: &str,
        obs: &dyn Observer,
    ) -> Result<DeployReport> {
        machine::check_stateroot(stateroot)?;
        let record = self.head(variant)?;
        let commit = record.commit.to_hex();
        let grub_mkconfig = machine::grub_mkconfig_program();
        let deployed = machine::deploy(
            sysroot,
            &machine::DeployRequest {
                repo: &self.repo(),
                commit: &commit,
                variant,
                what: &describe(variant, record),
                stateroot,
                kargs: &record.state.profile.kargs,
                host_kargs: None,
                env: &[],
                grub_mkconfig: grub_mkconfig.as_deref(),
                stage: false,
            },
            &|m| obs.note(m),
        )?;
        let (from, sources) = self.origin()?;
        let machine_root =
            crate::machine::seed(&deployed.sysroot, stateroot, &from, record, &sources)?;
        let definitions = crate::variants::definitions_at(&self.journal.history(), record);
        crate::variants::write_machine_definitions(&machine_root, &definitions)?;
        Ok(DeployReport {
            record: record.clone(),
            deployed,
            machine_root,
        })
    }

    /// Writes a bootable disk image of `variant`'s head (docs/boot.md).
    pub fn image(&self, o: &ImageOptions<'_>, obs: &dyn Observer) -> Result<ImageReport> {
        let record = self.head(o.variant)?;
        let commit = record.commit.to_hex();
        let (from, sources) = self.origin()?;
        let definitions = crate::variants::definitions_at(&self.journal.history(), record);
        let report = machine::build_image(
            &machine::ImageRequest {
                repo: &self.repo(),
                commit: &commit,
                variant: o.variant,
                what: &describe(o.variant, record),
                stateroot: "particle-os",
                kargs: &record.state.profile.kargs,
                host_kargs: o.kargs,
                firmware: o.firmware,
                format: o.format,
                size: o.size,
                root_password_hash: o.root_password_hash,
                time: record.time.max(0) as u64,
                out: o.out,
                seed: Some(&|sysroot: &Path| {
                    crate::machine::seed(sysroot, "particle-os", &from, record, &sources)
                        .and_then(|root| {
                            crate::variants::write_machine_definitions(&root, &definitions)
                        })
                        .map_err(|e| e.message().to_owned())
                }),
            },
            &|m| obs.note(m),
        )?;
        Ok(ImageReport {
            record: record.clone(),
            report,
        })
    }

    /// Exports `variant`'s head as an OCI image layout in `o.dir` (new or empty), written
    /// beside it and renamed into place, so that it is either complete or absent.
    pub fn export_oci(&self, o: &ExportOptions<'_>, obs: &dyn Observer) -> Result<OciReport> {
        let (variant, dir) = (o.variant, o.dir);
        let record = self.head(variant)?;
        let commit = record.commit.to_hex();
        let repo_path = self.repo();
        if dir.exists()
            && std::fs::read_dir(dir)
                .map(|mut d| d.next().is_some())
                .unwrap_or(true)
        {
            return Err(Error::new(
                ErrorKind::Exists,
                format!("{} exists and is not empty", dir.display()),
            )
            .hint("export into a new or empty directory"));
        }
        let bootable = !machine::kernels(&repo_path, &commit)?.is_empty();
        let repo_url = match o.repo_url {
            Some(u) => u.to_owned(),
            None => format!(
                "file://{}",
                std::fs::canonicalize(&repo_path)
                    .unwrap_or(repo_path.clone())
                    .display()
            ),
        };
        let meta = materializer::commit_metadata(&repo_path, &commit).map_err(ostree_error)?;
        let version = meta
            .get("version")
            .cloned()
            .unwrap_or_else(|| format!("{variant}.{}", record.seq));
        // bootc takes an image as bootable when either key is there, whatever its value: a
        // variant without a kernel gets neither.
        let boot_labels = [("ostree.bootable", "true"), ("containers.bootc", "1")]
            .into_iter()
            .filter(|_| bootable)
            .map(|(k, v)| (k, v.to_owned()));
        let labels: BTreeMap<String, String> = [
            ("org.osbuild.ostree.repo", repo_url),
            ("org.osbuild.ostree.ref", materializer::variant_ref(variant)),
            ("org.osbuild.ostree.commit", commit.clone()),
            ("ostree.commit", commit.clone()),
            ("org.particle-os.variant", variant.to_owned()),
            ("org.particle-os.txn-id", record.id.to_hex()),
            ("org.particle-os.txn-seq", record.seq.to_string()),
            ("org.opencontainers.image.version", version),
            (
                "org.opencontainers.image.created",
                machine::oci::rfc3339(record.time.max(0) as u64),
            ),
        ]
        .into_iter()
        .chain(boot_labels)
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let info = machine::oci::ImageInfo {
            labels: labels.clone(),
            architecture: oci_arch(record),
            ref_name: variant.to_owned(),
            compression_level: o.compression_level,
        };
        let io = |p: &Path, action: &str, e: std::io::Error| {
            Error::new(
                ErrorKind::Io,
                format!("could not {action} {}: {e}", p.display()),
            )
            .with_source(e)
        };
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| io(parent, "create", e))?;
        let name = dir
            .file_name()
            .ok_or_else(|| Error::usage(format!("{} is not a directory name", dir.display())))?;
        let tmp: PathBuf = parent.join(format!(
            ".{}.particle-tmp-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|e| io(&tmp, "create", e))?;
        obs.note(&format!(
            "exporting {} (transaction {}, commit {}) to {}",
            materializer::variant_ref(variant),
            record.seq,
            &commit[..12],
            dir.display()
        ));
        let t = std::time::Instant::now();
        let exported = match machine::oci::export(&repo_path, &commit, &info, &tmp) {
            Ok(o) => o,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(machine::Error::from(e).into());
            }
        };
        if dir.exists() {
            std::fs::remove_dir(dir).map_err(|e| io(dir, "replace", e))?;
        }
        std::fs::rename(&tmp, dir).map_err(|e| io(dir, "rename into", e))?;
        tracing::info!("exported in {:?}", t.elapsed());
        Ok(OciReport {
            record: record.clone(),
            exported,
            labels,
        })
    }
}

/// What `push` is asked for.
#[derive(Debug, Clone)]
pub struct PushOptions<'a> {
    /// The variant, the labels' repository URL and the compression level, as `export oci`
    /// takes them (`dir` is ignored: the layout is written to a temporary directory).
    pub export: ExportOptions<'a>,
    /// `REGISTRY/NAME`: the image goes to `REGISTRY/NAME/VARIANT`.
    pub target: &'a str,
    /// A sigstore private key to sign with, and the file holding its passphrase (default empty).
    pub sign_key: Option<(&'a Path, Option<&'a Path>)>,
    pub tls_verify: bool,
}

/// What [`Delivery::push`] pushed.
#[derive(Debug)]
pub struct PushReport {
    pub record: Record,
    /// `REGISTRY/NAME/VARIANT:TAG` for `latest` and the transaction id.
    pub references: Vec<String>,
    pub manifest_digest: String,
    pub signed: bool,
    pub labels: BTreeMap<String, String>,
}

impl Delivery {
    /// Pushes `variant`'s head to `REGISTRY/NAME/VARIANT:latest` and `:TXN_ID` (the head
    /// record's full id), exported as `export oci` does and signed with the sigstore key when
    /// one is given. The key is opened before anything is exported (docs/registry.md).
    pub fn push(&self, o: &PushOptions<'_>, obs: &dyn Observer) -> Result<PushReport> {
        let variant = o.export.variant;
        let record = self.head(variant)?;
        let repository = machine::registry::repository(o.target, variant)?;
        let tags = vec!["latest".to_owned(), record.id.to_hex()];
        if let Some(bad) = tags.iter().find(|t| !machine::registry::valid_tag(t)) {
            return Err(Error::new(
                ErrorKind::Push,
                format!("transaction id {bad} of {variant}'s head is not an OCI tag"),
            ));
        }
        let signer = match o.sign_key {
            Some((key, passphrase_file)) => {
                let passphrase = match passphrase_file {
                    Some(f) => {
                        machine::sigstore::read_passphrase_file(f).map_err(machine::Error::from)?
                    }
                    None => Default::default(),
                };
                Some(
                    machine::sigstore::open_private_key(key, &passphrase)
                        .map_err(machine::Error::from)?,
                )
            }
            None => None,
        };
        let tmp = tempfile::tempdir().map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("could not create a temporary directory: {e}"),
            )
            .with_source(e)
        })?;
        let layout = tmp.path().join("layout");
        let exported = self.export_oci(
            &ExportOptions {
                dir: &layout,
                ..o.export.clone()
            },
            obs,
        )?;
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let pushed = machine::registry::push(
            &machine::registry::PushRequest {
                layout: &layout,
                repository: &repository,
                tags: &tags,
                signer: signer.as_ref(),
                creator: concat!("particle ", env!("CARGO_PKG_VERSION")),
                timestamp,
                tls_verify: o.tls_verify,
            },
            &|m| obs.note(m),
        )?;
        Ok(PushReport {
            record: exported.record,
            references: pushed.references,
            manifest_digest: pushed.manifest_digest,
            signed: signer.is_some(),
            labels: exported.labels,
        })
    }
}

/// Writes a new sigstore key pair `PREFIX.key` (encrypted with the first line of
/// `passphrase_file`, or an empty passphrase) and `PREFIX.pub` (docs/registry.md).
pub fn generate_sigstore_key(
    prefix: &Path,
    passphrase_file: Option<&Path>,
) -> Result<machine::sigstore::KeyFiles> {
    let passphrase = match passphrase_file {
        Some(f) => machine::sigstore::read_passphrase_file(f).map_err(machine::Error::from)?,
        None => Default::default(),
    };
    Ok(machine::sigstore::write_key_pair(prefix, &passphrase).map_err(machine::Error::from)?)
}

/// What `pull` is asked for.
#[derive(Debug, Clone)]
pub struct PullOptions<'a> {
    /// `[docker://]REGISTRY/NAME[:TAG|@DIGEST]`.
    pub reference: &'a str,
    /// The containers-policy.json(5) file; default: containers/image's
    /// (`~/.config/containers/policy.json`, else `/etc/containers/policy.json`).
    pub policy: Option<&'a Path>,
    /// The OCI image layout to write (new or empty); `None`: verify only (`--check`).
    pub dest: Option<&'a Path>,
    pub tls_verify: bool,
}

/// What [`pull`] verified (and copied).
#[derive(Debug)]
pub struct PullReport {
    /// The policy file that decided.
    pub policy: PathBuf,
    pub pulled: machine::registry::Pulled,
}

/// Copies the image `o.reference` from its registry into `o.dest` only if the signature policy
/// accepts it, particle verifying its sigstore signatures (docs/registry.md); with no `dest`,
/// only whether the policy accepts it. Needs no state directory.
pub fn pull(o: &PullOptions<'_>, obs: &dyn Observer) -> Result<PullReport> {
    let policy = o
        .policy
        .map_or_else(machine::registry::default_policy_path, Path::to_path_buf);
    let pulled = machine::registry::pull(
        &machine::registry::PullRequest {
            reference: o.reference,
            policy: &policy,
            dest: o.dest,
            tls_verify: o.tls_verify,
        },
        &|m| obs.note(m),
    )?;
    Ok(PullReport { policy, pulled })
}

impl PullReport {
    /// `pull --json`: `{"reference", "manifest_digest", "accepted": true, "policy", "scope",
    /// "requirements": [{"type", "signature"}], "signatures", "dir"}`; `signature` is the
    /// accepted one (`{"index", "docker_reference", "manifest_digest"}`) for `sigstoreSigned`,
    /// else null; `signatures` how many the image has (null when no requirement needed them).
    pub fn to_json(&self) -> serde_json::Value {
        let p = &self.pulled;
        let requirements: Vec<serde_json::Value> = p
            .met
            .iter()
            .map(|m| {
                let signature = m.signature.as_ref().map(|(index, c)| {
                    serde_json::json!({ "index": index, "docker_reference": c.reference,
                                        "manifest_digest": c.manifest_digest })
                });
                serde_json::json!({ "type": m.kind, "signature": signature })
            })
            .collect();
        serde_json::json!({
            "reference": p.reference, "manifest_digest": p.manifest_digest, "accepted": true,
            "policy": self.policy, "scope": p.scope, "requirements": requirements,
            "signatures": p.signatures, "dir": p.dest,
        })
    }

    /// For people: what was accepted, by what (and the layout written, on a second line).
    pub fn summary(&self) -> String {
        let p = &self.pulled;
        let how: Vec<String> = p
            .met
            .iter()
            .map(|m| match &m.signature {
                Some((i, c)) => format!("{} (signature {i}, for {})", m.kind, c.reference),
                None => m.kind.clone(),
            })
            .collect();
        let wrote = p.dest.as_ref().map(|d| format!("\nwrote {}", d.display()));
        format!(
            "accepted {} ({}) under {} of {}: {}{}",
            p.reference,
            p.manifest_digest,
            p.scope,
            self.policy.display(),
            how.join(", "),
            wrote.unwrap_or_default()
        )
    }
}

/// What [`Delivery::deploy`] did.
#[derive(Debug)]
pub struct DeployReport {
    /// The transaction deployed.
    pub record: Record,
    pub deployed: machine::Deployed,
    /// The machine's own state directory in the sysroot.
    pub machine_root: PathBuf,
}

/// What `image` is asked for.
#[derive(Debug, Clone)]
pub struct ImageOptions<'a> {
    pub variant: &'a str,
    pub format: machine::Format,
    pub firmware: machine::Firmware,
    pub size: Option<u64>,
    /// Kernel arguments of this image's machine (beside the variant's).
    pub kargs: &'a [String],
    pub root_password_hash: Option<&'a str>,
    pub out: &'a Path,
}

/// What [`Delivery::image`] wrote.
#[derive(Debug)]
pub struct ImageReport {
    pub record: Record,
    pub report: machine::ImageReport,
}

/// What `export oci` is asked for.
#[derive(Debug, Clone)]
pub struct ExportOptions<'a> {
    pub variant: &'a str,
    pub dir: &'a Path,
    /// The repository URL the image's labels name (default: this state directory's).
    pub repo_url: Option<&'a str>,
    pub compression_level: u32,
}

/// What [`Delivery::export_oci`] wrote.
#[derive(Debug)]
pub struct OciReport {
    pub record: Record,
    pub exported: machine::oci::Exported,
    pub labels: BTreeMap<String, String>,
}

/// "variant V (transaction N, commit C…)": how refusals name a head commit.
fn describe(variant: &str, record: &Record) -> String {
    let commit = record.commit.to_hex();
    format!(
        "variant {variant} (transaction {}, commit {})",
        record.seq,
        &commit[..12]
    )
}

/// The OCI architecture of a package set (its first architecture-specific package).
fn oci_arch(record: &Record) -> String {
    let dpkg = record
        .state
        .packages
        .iter()
        .map(|p| p.arch.as_str())
        .find(|a| *a != "all")
        .unwrap_or(store::native_architecture());
    match dpkg {
        "i386" => "386",
        "armhf" | "armel" => "arm",
        "ppc64el" => "ppc64le",
        "mips64el" => "mips64le",
        other => other,
    }
    .to_owned()
}

/// A sysroot's deployments in boot order, each with the transaction its commit was built from,
/// and whether the machine's journal head is what boots next.
#[derive(Debug)]
pub struct SysrootStatus {
    pub deployments: Vec<machine::DeploymentStatus>,
    /// The machine's own state directory, when it has one.
    pub machine_root: Option<PathBuf>,
    /// Why the machine's journal head is not what boots next, if it is not.
    pub problem: Option<String>,
}

impl SysrootStatus {
    /// `--sysroot DIR status --json` (the contract's `status` shape): the default
    /// deployment's fields at the top level, every deployment under `deployments`.
    pub fn to_json(&self, sysroot: &Path) -> serde_json::Value {
        let first = self.deployments.first();
        serde_json::json!({
            "sysroot": sysroot, "machine_root": self.machine_root, "problem": self.problem,
            "variant": first.and_then(|d| d.variant.clone()), "txn": first.and_then(|d| d.txn),
            "txn_id": first.and_then(|d| d.txn_id.clone()),
            "commit": first.map(|d| d.commit.clone()),
            "ref": first.and_then(|d| d.variant.as_deref()).map(materializer::variant_ref),
            "packages": first.and_then(|d| d.packages), "deployments": self.deployments,
        })
    }
}

/// What `sysroot` runs. A commit records the sequence number of its transaction but cannot hold
/// the record's id (the id covers the commit checksum): the journal names the record that
/// committed each deployment's checksum: the machine's own journal when it has one (its
/// numbering), else the one of the state directory `root`.
pub fn sysroot_status(root: &Path, sysroot: &Path) -> Result<SysrootStatus> {
    let mut list = machine::deployments(sysroot)?;
    let machine_root = crate::state::root_for(sysroot)
        .ok()
        .filter(|r| r.join("journal").exists());
    let machine = match &machine_root {
        Some(r) => crate::state::detect(r)?,
        None => None,
    };
    let journal_dir = machine_root.as_deref().unwrap_or(root).join("journal");
    let journal = journal::Journal::open_read_only(&journal_dir)
        .ok()
        .map(|(j, _)| j);
    let problem = match (&machine, &journal) {
        (Some(_), Some(j)) if crate::upgrade::interrupted_upgrade(j).is_some() => Some(format!(
            "an upgrade was interrupted after recording the new base (transaction {}) and before re-applying this machine's own packages and settings: `particle upgrade` finishes it",
            j.last().map_or(0, |r| r.seq)
        )),
        (Some(m), Some(j)) => crate::machine::drift(m, j, &list),
        _ => None,
    };
    if let Some(journal) = &journal {
        for d in &mut list {
            let record = journal
                .records()
                .iter()
                .rev()
                .find(|r| r.commit.to_hex() == d.commit);
            if let Some(r) = record {
                d.txn = Some(r.seq);
                d.txn_id = Some(r.id.to_hex());
                d.variant = Some(r.variant.clone());
            }
        }
    }
    for d in &mut list {
        if d.txn_id.as_deref().is_some_and(|id| id.starts_with("seq-")) {
            d.txn_id = None;
        }
    }
    Ok(SysrootStatus {
        deployments: list,
        machine_root,
        problem,
    })
}

/// The error of a machine whose journal head is not what boots next ([`SysrootStatus`]'s
/// `problem`): `not_deployed`, with what to do.
pub fn not_deployed(problem: &str) -> Error {
    Error::new(ErrorKind::NotDeployed, problem)
        .hint("the next particle transaction deploys the journal's head again; `particle txn rollback --to TXN` records the running state instead")
}

/// Which sysroot `status` shows, if any rather than the state directory at `root`: the one
/// named (`--sysroot`); without a variant named, the running system's on a booted Particle-OS
/// with no state directory at `root`, or the machine's whose state directory `root` is.
pub fn status_sysroot(
    root: &Path,
    sysroot: Option<&Path>,
    variant_named: bool,
) -> Result<Option<PathBuf>> {
    if let Some(s) = sysroot {
        return Ok(Some(s.to_owned()));
    }
    if !variant_named && machine::booted_system() && !root.exists() {
        return Ok(Some(PathBuf::from("/")));
    }
    let machine = crate::state::detect(root)?;
    Ok(machine.filter(|_| !variant_named).map(|m| m.sysroot))
}

/// A disk size: `4G`, `1500M`, `512K`, `1T` (powers of 1024) or plain bytes.
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let s = s.trim();
    let (num, shift) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("{s:?}: the unit is one of K, M, G, T")),
            };
            (&s[..i], shift)
        }
        _ => (s, 0),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 4G, 1500M)"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// What [`Session::delta`] generated.
#[derive(Debug)]
pub struct DeltaReport {
    pub from: Record,
    pub to: Record,
    /// `FROM-TO`, as `ostree static-delta list` names it.
    pub name: String,
    /// The delta's superblock in the repository (one file: the parts are inline).
    pub superblock: PathBuf,
    /// The size of the copy written to the requested output file.
    pub output_size: Option<u64>,
}

/// Objects bigger than this many MB would be left out of the delta as "fallback" objects for a
/// separate HTTP fetch; a delta meant to be applied offline must contain everything.
const NO_FALLBACK_MB: &str = "--min-fallback-size=4096";

impl Session {
    /// Generates the static delta between the commits of transactions `a` and `b` in the
    /// repository (and copies it to `output` as one file when given).
    pub fn delta(
        &self,
        a: u64,
        b: u64,
        output: Option<&Path>,
        obs: &dyn Observer,
    ) -> Result<DeltaReport> {
        let record = |seq: u64| {
            self.history()
                .record(seq)
                .cloned()
                .ok_or_else(|| Error::new(ErrorKind::UnknownTxn, format!("no transaction {seq}")))
        };
        let (ra, rb) = (record(a)?, record(b)?);
        let (ca, cb) = (ra.commit.to_hex(), rb.commit.to_hex());
        if ca == cb {
            return Err(Error::new(
                ErrorKind::SameCommit,
                format!(
                    "transactions {} and {} have the same commit {ca}; there is no delta between them",
                    ra.seq, rb.seq
                ),
            ));
        }
        let repo_path = self.repo();
        for (r, c) in [(&ra, &ca), (&rb, &cb)] {
            if !materializer::commit_exists(&repo_path, c).map_err(ostree_error)? {
                return Err(Error::new(
                    ErrorKind::MissingCommit,
                    format!(
                        "commit {c} of transaction {} is missing from the repository",
                        r.seq
                    ),
                )
                .hint("rebuild it with `particle replay`"));
            }
        }
        let repo_flag = OsString::from(format!("--repo={}", repo_path.display()));
        let from = OsString::from(format!("--from={ca}"));
        let to = OsString::from(format!("--to={cb}"));
        obs.note(&format!(
            "generating the static delta {}..{} (transactions {} -> {})",
            &ca[..12],
            &cb[..12],
            ra.seq,
            rb.seq
        ));
        // `--inline`: the parts live inside the superblock, so the stored delta is one file that
        // `output` can copy as it is (generating twice would double the cost).
        machine::run_ostree(
            machine::ErrorKind::Delta,
            &machine::ostree_args(&[
                &repo_flag,
                &"static-delta",
                &"generate",
                &"--inline",
                &from,
                &to,
                &NO_FALLBACK_MB,
            ]),
            &[],
        )?;
        let name = format!("{ca}-{cb}");
        let listed = machine::run_ostree(
            machine::ErrorKind::Delta,
            &machine::ostree_args(&[&repo_flag, &"static-delta", &"list"]),
            &[],
        )?;
        if !listed.lines().any(|l| l.trim() == name) {
            return Err(Error::new(
                ErrorKind::Delta,
                format!(
                    "ostree generated no delta named {name} in {}",
                    repo_path.display()
                ),
            ));
        }
        let superblock = repo_path.join(delta_superblock(&ca, &cb)?);
        let output_size = match output {
            Some(out) => Some(copy_durably(&superblock, out)?),
            None => None,
        };
        Ok(DeltaReport {
            from: ra,
            to: rb,
            name,
            superblock,
            output_size,
        })
    }
}

/// Copies `from` to `out` through a temporary file beside it, synced and renamed into place.
fn copy_durably(from: &Path, out: &Path) -> Result<u64> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fname = out
        .file_name()
        .ok_or_else(|| Error::usage(format!("{} is not a file name", out.display())))?;
    let tmp = parent.join(format!(
        ".{}.particle-tmp-{}",
        fname.to_string_lossy(),
        std::process::id()
    ));
    let copy = std::fs::create_dir_all(parent)
        .and_then(|()| std::fs::copy(from, &tmp))
        .and_then(|_| std::fs::File::open(&tmp).and_then(|f| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, out))
        .and_then(|()| std::fs::metadata(out));
    match copy {
        Ok(m) => Ok(m.len()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(Error::new(
                ErrorKind::Io,
                format!(
                    "could not copy {} to {}: {e}",
                    from.display(),
                    out.display()
                ),
            )
            .with_source(e))
        }
    }
}

/// OSTree's "modified base64" of a checksum: standard base64 of the 32 bytes, `=` padding
/// dropped, `/` written as `_` (`_ostree_get_relative_static_delta_path`).
fn mbase64(checksum: &str) -> Result<String> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+_";
    let bytes = store::Sha256::from_hex(checksum)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("bad checksum {checksum}: {e}")))?
        .0;
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    Ok(out)
}

/// `deltas/XX/REST-TO/superblock` of the delta from `from` to `to`, relative to the repository.
fn delta_superblock(from: &str, to: &str) -> Result<PathBuf> {
    let f = mbase64(from)?;
    let t = mbase64(to)?;
    Ok(PathBuf::from(format!(
        "deltas/{}/{}-{t}/superblock",
        &f[..2],
        &f[2..]
    )))
}

#[cfg(test)]
mod tests {
    use super::{delta_superblock, parse_size};

    #[test]
    fn sizes_are_powers_of_1024() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size(" 1500M "), Ok(1500 << 20));
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("1T"), Ok(1 << 40));
        assert!(parse_size("4X").is_err());
        assert!(parse_size("G").is_err());
        assert!(parse_size("99999999999T").is_err());
    }

    #[test]
    fn delta_path_matches_ostree() {
        // Seen in a repository after `ostree static-delta generate --from A --to B`.
        let p = delta_superblock(
            "18a2edaad19fb97a575f125bd8c22426e65e2aec134b9810dc9d1f9fa70d57a0",
            "05517c6f45bf54cdc6585189dd3841967830592fc3fbceb0a1aeeed595fd4bee",
        )
        .expect("valid checksums");
        assert_eq!(
            p.to_str(),
            Some("deltas/GK/LtqtGfuXpXXxJb2MIkJuZeKuwTS5gQ3J0fn6cNV6A-BVF8b0W_VM3GWFGJ3ThBlngwWS_D+86woa7u1ZX9S+4/superblock")
        );
    }
}
