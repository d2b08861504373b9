//! The command tree (clap derive) and the dispatch to each command.

use crate::args::{Global, SolveAction, UpgradeArgs};
use crate::error::CliError;
use crate::output::{print_json, table};
use crate::txn;
use clap::{Args, Parser, Subcommand};
use engine::Change;
use std::path::{Path, PathBuf};

/// Transactional package management for Debian-based OSTree systems.
///
/// Every change is an immutable, hash-chained transaction in a journal; OSTree commits are
/// deterministic projections of it.
#[derive(Debug, Parser)]
#[command(
    name = "particle",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create the state directory and the first variant
    Init {
        /// Name of the first variant
        #[arg(long, default_value = "base")]
        variant: String,
    },
    /// Archive sources: add, import from apt, list, update
    #[command(subcommand)]
    Repo(RepoCmd),
    /// The content-addressed package store
    #[command(subcommand)]
    Store(StoreCmd),
    /// Transactions: install, remove, upgrade, rollback, profiles, history
    #[command(subcommand)]
    Txn(TxnCmd),
    /// Variants: the OS flavours built from this state directory
    #[command(subcommand)]
    Variant(VariantCmd),
    /// Build every defined variant, parents first (apply each definition, rebase children)
    Compose {
        /// A directory of variant definitions (*.toml); default: the definitions last applied
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Why: recorded in the journal
        #[arg(long)]
        reason: Option<String>,
    },
    /// Deploy a variant's commit into an OSTree sysroot (--sysroot DIR) with its recorded
    /// kernel arguments and the machine's own
    Deploy {
        #[arg(long, default_value = "base")]
        variant: String,
        /// The OSTree stateroot (os name) to deploy into
        #[arg(long, default_value = "particle-os")]
        stateroot: String,
    },
    /// Write a bootable disk image of a variant's head commit (GRUB for BIOS and UEFI, an
    /// OSTree sysroot with the commit deployed); OUT is complete or absent
    Image {
        #[arg(long, default_value = "base")]
        variant: String,
        #[arg(long, value_enum, default_value = "raw")]
        format: ImageFormat,
        /// The firmware the disk boots with (default: both BIOS and UEFI)
        #[arg(long, value_enum, default_value = "both")]
        firmware: ImageFirmware,
        /// Disk size (bytes, or with K, M, G, T); default: twice the tree plus 512 MiB
        #[arg(long, value_parser = engine::deliver::parse_size)]
        size: Option<u64>,
        /// A host kernel argument (e.g. console=ttyS0,115200), kept in the image's
        /// /etc/particle/host-kargs and never in the variant's journal; repeatable
        #[arg(long = "karg", value_name = "ARG")]
        kargs: Vec<String>,
        /// root's password in the image, as a crypt(3) hash (`openssl passwd -6`); default:
        /// locked, as Debian ships it
        #[arg(long, value_name = "HASH")]
        root_password_hash: Option<String>,
        #[arg(value_name = "OUT")]
        out: PathBuf,
    },
    /// Export a variant's commit
    #[command(subcommand)]
    Export(ExportCmd),
    /// Push a variant's head as an OCI image to a registry with skopeo, tagged latest and with
    /// its transaction id, signed with a sigstore key when given
    Push {
        #[command(flatten)]
        oci: OciArgs,
        /// A sigstore private key (`particle key generate --sigstore`) to sign the image with
        #[arg(long, value_name = "FILE")]
        sign_key: Option<PathBuf>,
        /// The key's passphrase: the first line of FILE (default: empty)
        #[arg(long, value_name = "FILE", requires = "sign_key")]
        passphrase_file: Option<PathBuf>,
        /// Require HTTPS with a verified certificate (--tls-verify=false: plain HTTP too)
        #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
        tls_verify: bool,
        /// The image goes to REGISTRY/NAME/V:latest and REGISTRY/NAME/V:<txn id>
        #[arg(value_name = "REGISTRY/NAME")]
        target: String,
    },
    /// Copy an image from a registry into an OCI image layout DIR only if the signature policy
    /// (containers-policy.json) accepts it; particle verifies sigstore signatures itself
    Pull {
        /// The policy (default: ~/.config/containers/policy.json, else /etc/containers/policy.json)
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// Only verify: exit 0 if the policy accepts the image, 1 if not; copy nothing
        #[arg(long, conflicts_with = "dir")]
        check: bool,
        /// Require HTTPS with a verified certificate (--tls-verify=false: plain HTTP too)
        #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
        tls_verify: bool,
        /// REGISTRY/NAME[:TAG] (default tag: latest) or REGISTRY/NAME@DIGEST
        reference: String,
        /// The OCI image layout directory to write (new or empty)
        #[arg(required_unless_present = "check")]
        dir: Option<PathBuf>,
    },
    /// Signing keys
    #[command(subcommand)]
    Key(KeyCmd),
    /// Generate a static delta between two transactions' commits
    Delta {
        /// The transaction the delta starts from (sequence number or id prefix)
        #[arg(value_name = "TXN_A")]
        a: String,
        /// The transaction the delta leads to
        #[arg(value_name = "TXN_B")]
        b: String,
        /// Also write the delta as one self-contained file
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Each variant's head transaction, commit, package count and profile
    Status {
        #[arg(long)]
        variant: Option<String>,
    },
    /// A machine's remotes: the repositories `publish` wrote that it upgrades from
    #[command(subcommand)]
    Remote(RemoteCmd),
    /// Pull the variant this machine runs from its remote, verify it, and stage it (deploy it
    /// offline) with the machine's own packages re-applied
    Upgrade(UpgradeArgs),
    /// Write an update bundle: the static delta between two transactions' commits of one
    /// variant, the journal's records after FROM up to TO, and a signed index, in one file
    Bundle {
        /// The transaction the machine runs (sequence number or id prefix)
        #[arg(value_name = "FROM")]
        from: String,
        /// The transaction to update it to
        #[arg(value_name = "TO")]
        to: String,
        /// The bundle file to write (complete or absent)
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// An OpenPGP secret key file (no passphrase) to sign the bundle's index with
        #[arg(long, value_name = "FILE")]
        sign_key: Option<PathBuf>,
    },
    /// Remove commits and cached .debs that no variant head, deployment or recent transaction
    /// needs (the journal is never pruned: any state is rebuilt from it)
    Gc {
        /// Also keep what the last N transactions need
        #[arg(long, default_value_t = 3, value_name = "N")]
        keep: u64,
        /// Only say what would be removed
        #[arg(long)]
        dry_run: bool,
    },
    /// The space used: journal, cached .debs, repository objects; on a machine also /boot and
    /// what each deployment holds of its own
    Du,
    /// Why a package is installed: the request and the dependency chain
    Why {
        package: String,
        /// The variant (default: base; on a machine, the variant it runs)
        #[arg(long)]
        variant: Option<String>,
    },
    /// Rebuild every commit from the journal and the store into a fresh state directory, or
    /// from a published journal (--from) on any machine
    Replay {
        #[arg(long, conflicts_with = "from")]
        variant: Option<String>,
        /// Stop at this transaction (sequence number or id prefix)
        #[arg(long, value_name = "TXN", conflicts_with = "from")]
        upto: Option<String>,
        /// The fresh state directory to build into (with --from: a temporary one by default)
        #[arg(long, value_name = "DIR2", required_unless_present = "from")]
        into: Option<PathBuf>,
        /// A repository `publish` wrote (file://, http://, https:// or a path): its journal is
        /// replayed, its .debs fetched from its sources by their recorded SHA256
        #[arg(long, value_name = "URL")]
        from: Option<String>,
        /// With --from: the publisher's keyring; published.json must carry a good signature
        #[arg(long, value_name = "FILE", requires = "from")]
        keyring: Option<PathBuf>,
        /// Exit 1 unless every rebuilt commit equals the recorded one
        #[arg(long)]
        verify: bool,
        /// With --from: check the index, its signature, the journal, the commits and the
        /// sources, find every recorded package in them; fetch and build nothing
        #[arg(long, requires = "from", conflicts_with_all = ["verify", "into"])]
        dry_run: bool,
    },
    /// Publish variants' heads to an archive-mode OSTree repository any static web server can
    /// serve: commits, static deltas, the summary, signatures, and the journal behind them
    Publish {
        /// A variant to publish (repeatable; default every variant with a transaction)
        #[arg(long = "variant", value_name = "V")]
        variants: Vec<String>,
        /// The repository (created when missing or empty)
        #[arg(long, value_name = "DIR")]
        repo: PathBuf,
        /// An OpenPGP secret key file (no passphrase): commits, summary and journal index are
        /// signed with it; stock `ostree pull` verifies them with gpg-verify=true
        #[arg(long, value_name = "FILE")]
        sign_key: Option<PathBuf>,
    },
    /// Solve a request over Debian indices, or over the pinned sources of the state directory
    Solve {
        /// Packages files (plain, .xz or .gz); without any, the pinned universe of --root
        #[arg(long = "index", value_name = "FILE")]
        index: Vec<PathBuf>,
        /// A dpkg status file: the installed set
        #[arg(long)]
        installed: Option<PathBuf>,
        /// Do not install Recommends
        #[arg(long)]
        no_recommends: bool,
        #[command(subcommand)]
        action: SolveAction,
    },
    /// Be apt's external solver: EDSP 0.5 on stdin, the answer on stdout (docs/solver.md)
    Edsp,
    /// Write man pages and shell completions into DIR (for packaging; docs/ holds a copy)
    #[command(hide = true)]
    GenerateDocs { dir: PathBuf },
    /// Check every package of the indices for installability, like dose-distcheck
    Distcheck {
        #[arg(long = "index", value_name = "FILE", required = true)]
        index: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct TxnCommon {
    /// The variant to change (default: base; on a machine, the variant it runs)
    #[arg(long)]
    variant: Option<String>,
    /// Why: recorded in the journal
    #[arg(long)]
    reason: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TxnCmd {
    /// Install packages (PKG or PKG=VERSION) and their dependencies
    Install {
        #[command(flatten)]
        common: TxnCommon,
        /// Do not install Recommends
        #[arg(long)]
        no_recommends: bool,
        /// Print what would change and stop
        #[arg(long)]
        dry_run: bool,
        /// Packages to install: NAME (the newest pinned version) or NAME=VERSION
        #[arg(required = true, value_name = "PKG[=VERSION]")]
        packages: Vec<String>,
    },
    /// Remove packages (and what depends on them)
    Remove {
        #[command(flatten)]
        common: TxnCommon,
        /// Print what would change and stop
        #[arg(long)]
        dry_run: bool,
        /// Packages to remove
        #[arg(required = true, value_name = "PKG")]
        packages: Vec<String>,
    },
    /// Upgrade every package to the newest pinned version
    Upgrade {
        #[command(flatten)]
        common: TxnCommon,
        #[arg(long)]
        dry_run: bool,
    },
    /// Append a transaction whose state equals TXN's (default: the state before the head; on a
    /// machine, the rollback deployment, made the default without a rebuild)
    Rollback {
        #[command(flatten)]
        common: TxnCommon,
        #[arg(long, value_name = "TXN")]
        to: Option<String>,
        #[arg(long)]
        dry_run: bool,
    },
    /// On a running machine: drop the deployment staged for the next boot (recorded as a
    /// return to the booted transaction)
    Cancel {
        #[command(flatten)]
        common: TxnCommon,
    },
    /// Change kernel arguments
    Kargs {
        #[command(flatten)]
        common: TxnCommon,
        #[arg(long, value_name = "ARG")]
        append: Vec<String>,
        #[arg(long, value_name = "ARG")]
        delete: Vec<String>,
    },
    /// Change initramfs-tools settings (KEY= removes a key)
    Initramfs {
        #[command(flatten)]
        common: TxnCommon,
        #[arg(long, value_name = "KEY=VALUE", required = true)]
        set: Vec<String>,
    },
    /// Change sysctl settings (KEY= removes a key)
    Sysctl {
        #[command(flatten)]
        common: TxnCommon,
        #[arg(long, value_name = "KEY=VALUE", required = true)]
        set: Vec<String>,
    },
    /// Record the hardware profile, detected from this machine or read from a JSON file
    #[command(group(clap::ArgGroup::new("hw_source").required(true).args(["detect", "from"])))]
    Hardware {
        #[command(flatten)]
        common: TxnCommon,
        /// Read PCI devices, CPU, storage, network and audio from sysfs and procfs
        #[arg(long)]
        detect: bool,
        /// A JSON profile (tests use fixtures)
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
    },
    /// The variant's transactions, oldest first (with --json: one transaction per line)
    Log {
        #[arg(long)]
        variant: Option<String>,
        /// Only transactions that changed this package
        #[arg(long)]
        package: Option<String>,
        /// Only transactions at or after this time (YYYY-MM-DD, YYYY-MM-DD HH:MM:SS UTC, or unix seconds)
        #[arg(long, value_name = "TIME", value_parser = engine::history::parse_time)]
        since: Option<i64>,
        /// Only transactions at or before this time
        #[arg(long, value_name = "TIME", value_parser = engine::history::parse_time)]
        until: Option<i64>,
        /// Only the last N of them (work and output proportional to N, not to the history)
        #[arg(long, short = 'n', value_name = "N")]
        last: Option<usize>,
    },
    /// One transaction in full
    Show {
        #[arg(value_name = "TXN")]
        txn: String,
    },
    /// What differs between two transactions' states
    Diff {
        #[arg(value_name = "TXN_A")]
        a: String,
        #[arg(value_name = "TXN_B")]
        b: String,
    },
    /// Find the first bad transaction between a good and a bad one
    Bisect {
        #[arg(long, default_value = "base")]
        variant: String,
        #[arg(long, value_name = "TXN")]
        good: String,
        #[arg(long, value_name = "TXN")]
        bad: String,
        /// Command run with PARTICLE_CHECKOUT set; exit 0 good, 125 skip, else bad
        #[arg(long, required = true, num_args = 1.., allow_hyphen_values = true, value_name = "CMD")]
        run: Vec<String>,
    },
    /// Check the hash chain and that every recorded commit exists and passes fsck
    Verify,
}

#[derive(Debug, Subcommand)]
pub(crate) enum VariantCmd {
    /// List variants
    List,
    /// Create a variant, empty or from a parent's state (at TXN, default the parent's head)
    Create {
        name: String,
        /// PARENT or PARENT@TXN
        #[arg(long, value_name = "PARENT[@TXN]")]
        from: Option<String>,
        /// Why: recorded in the journal
        #[arg(long)]
        reason: Option<String>,
    },
    /// Turn a variant definition file into transactions (applying it twice adds nothing)
    Apply {
        /// The definition (TOML; see docs/variants.md)
        file: PathBuf,
        /// Why: recorded in the journal
        #[arg(long)]
        reason: Option<String>,
        /// Print what would change and stop
        #[arg(long)]
        dry_run: bool,
    },
    /// Rebuild CHILD on its parent's head, keeping CHILD's own changes and recording provenance
    Rebase {
        child: String,
        /// Why: recorded in the journal
        #[arg(long)]
        reason: Option<String>,
        /// Print what would change and stop
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ExportCmd {
    /// Write an OCI image layout of the variant's commit (reproducible, labelled)
    Oci {
        #[command(flatten)]
        oci: OciArgs,
        /// The OCI image layout directory to write (new or empty)
        dir: PathBuf,
    },
}

/// How `export oci` and `push` make the image.
#[derive(Debug, Args)]
pub(crate) struct OciArgs {
    #[arg(long, default_value = "base")]
    variant: String,
    /// The value of the org.osbuild.ostree.repo label (default: file:// and the repository's path)
    #[arg(long, value_name = "URL")]
    repo_url: Option<String>,
    /// gzip level of the layer, 1 (fastest) to 9 (smallest); part of what makes the digest
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=9))]
    compression_level: u32,
}

impl OciArgs {
    fn options<'a>(&'a self, dir: &'a Path) -> engine::deliver::ExportOptions<'a> {
        let (variant, repo_url) = (&self.variant, self.repo_url.as_deref());
        engine::deliver::ExportOptions {
            variant,
            dir,
            repo_url,
            compression_level: self.compression_level,
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyCmd {
    /// Write a new key pair: PREFIX.key (private, encrypted) and PREFIX.pub
    Generate {
        /// A sigstore (cosign-format) P-256 pair, for `push --sign-key` and policy.json's
        /// sigstoreSigned
        #[arg(long, value_name = "PREFIX")]
        sigstore: PathBuf,
        /// The passphrase to encrypt the private key with: the first line of FILE (default: empty)
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RemoteCmd {
    /// Add (or replace) a remote: a repository `publish` wrote
    Add {
        name: String,
        /// file:///..., http://... or https://... (or a path)
        url: String,
        /// The publisher's public keyring: published indices, commits and summaries must carry
        /// good signatures by its keys (without it nothing the remote serves is checked)
        #[arg(long, value_name = "FILE")]
        sign_key: Option<PathBuf>,
    },
    /// List the remotes
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RepoCmd {
    /// Add an archive source
    Add {
        /// A short name for the source
        name: String,
        /// Archive root: file:///..., http://... or https://...
        #[arg(long)]
        uri: String,
        /// Suite or codename (e.g. bookworm)
        #[arg(long)]
        suite: String,
        /// Components (repeatable; default main)
        #[arg(long = "component", value_name = "C")]
        components: Vec<String>,
        /// Architectures (repeatable; default amd64)
        #[arg(long = "arch", value_name = "ARCH")]
        architectures: Vec<String>,
        /// OpenPGP keyring that signs the archive's InRelease
        #[arg(long, default_value = "/usr/share/keyrings/debian-archive-keyring.gpg")]
        keyring: PathBuf,
        /// apt pin priority of every index of the source (default 500, or 1 for a Release
        /// marked NotAutomatic, 100 with ButAutomaticUpgrades)
        #[arg(long, allow_hyphen_values = true)]
        priority: Option<i16>,
    },
    /// Import deb822 .sources files (default: the host's apt sources)
    ImportApt {
        /// .sources files (default: /etc/apt/sources.list.d/*.sources)
        files: Vec<PathBuf>,
    },
    /// List sources and their pinned snapshots
    List,
    /// Pin priorities: every index file's, or each package's candidate and versions (as
    /// apt-cache policy; preferences in <root>/preferences and <root>/preferences.d/)
    Policy {
        /// Packages (`name` or `name:arch`)
        packages: Vec<String>,
        #[arg(long)]
        variant: Option<String>,
    },
    /// Fetch and verify InRelease and indices for every source; pin the result
    Update,
}

#[derive(Debug, Subcommand)]
pub(crate) enum StoreCmd {
    /// Re-hash every stored object; exit 1 naming the first bad one
    Verify,
    /// Fetch and verify packages (PKG or PKG=VERSION) into the store without a transaction
    Fetch {
        #[arg(required = true, value_name = "PKG[=VERSION]")]
        packages: Vec<String>,
    },
}

/// The commands `particle` answers itself: those that only read the state directory and
/// never reach libostree (`txn log`, `txn show`, `txn diff`, `why`, `variant list`, `repo
/// list`, `remote list`), without `--sysroot` (finding a sysroot's state directory reads its
/// deployments with libostree). `status` reads the repository's refs: not here. `None`: a
/// command for `particle-full`.
pub(crate) fn run_read(cli: Cli) -> Option<anyhow::Result<()>> {
    let Cli { global, command } = cli;
    let read = global.sysroot.is_none()
        && matches!(
            command,
            Command::Txn(TxnCmd::Log { .. } | TxnCmd::Show { .. } | TxnCmd::Diff { .. })
                | Command::Why { .. }
                | Command::Variant(VariantCmd::List)
                | Command::Repo(RepoCmd::List)
                | Command::Remote(RemoteCmd::List)
        );
    if !read {
        return None;
    }
    let g = &global;
    Some(match command {
        Command::Txn(c) => txn_query(g, c),
        Command::Why { package, variant } => {
            let variant = variant.unwrap_or_else(|| engine::machine::default_variant(&g.root));
            why(&g.root, &package, &variant, g.json)
        }
        Command::Variant(VariantCmd::List) => variant_list(g),
        Command::Repo(_) => repo_list(g),
        Command::Remote(_) => crate::publish::remote_list(&g.root, g),
        _ => unreachable!("only the commands matched above run here"),
    })
}

/// On a sysroot, the machine's own state directory in it (`/var/lib/particle` of its
/// stateroot); `deploy` and `status` take the sysroot itself.
fn on_sysroot(global: &mut Global, command: &Command) -> anyhow::Result<()> {
    let Some(sysroot) = &global.sysroot else {
        return Ok(());
    };
    match command {
        Command::Deploy { .. } | Command::Status { .. } => {}
        Command::Txn(_)
        | Command::Repo(_)
        | Command::Store(_)
        | Command::Why { .. }
        | Command::Gc { .. }
        | Command::Remote(_)
        | Command::Upgrade(_)
        | Command::Du
        | Command::Solve { .. } => {
            global.root = engine::state::root_for(sysroot)?;
        }
        _ => {
            return Err(CliError::usage(
                "--sysroot is taken by txn, repo, store, why, gc, du, solve, remote, upgrade, status and deploy",
            )
            .into())
        }
    }
    Ok(())
}

pub(crate) fn run(cli: Cli) -> anyhow::Result<()> {
    let Cli {
        mut global,
        command,
    } = cli;
    on_sysroot(&mut global, &command)?;
    let g = &global;
    match command {
        Command::Init { variant } => init(g, &variant),
        Command::Repo(c) => repo(g, c),
        Command::Store(StoreCmd::Verify) => store_verify(g),
        Command::Store(StoreCmd::Fetch { packages }) => store_fetch(g, &packages),
        Command::Txn(c) => txn_cmd(g, c),
        Command::Variant(VariantCmd::List) => variant_list(g),
        Command::Variant(VariantCmd::Create { name, from, reason }) => {
            let o = txn::TxnOpts::new(g, name, reason, false);
            txn::variant_create(&g.root, &o, from.as_deref())
        }
        Command::Variant(VariantCmd::Apply {
            file,
            reason,
            dry_run,
        }) => {
            let o = txn::TxnOpts::new(g, String::new(), reason, dry_run);
            crate::variants::apply(&g.root, &file, &o)
        }
        Command::Variant(VariantCmd::Rebase {
            child,
            reason,
            dry_run,
        }) => {
            let o = txn::TxnOpts::new(g, child, reason, dry_run);
            crate::variants::rebase(&g.root, &o)
        }
        Command::Compose { dir, reason } => {
            let o = txn::TxnOpts::new(g, String::new(), reason, false);
            crate::variants::compose(&g.root, dir.as_deref(), &o)
        }
        Command::Deploy { variant, stateroot } => {
            let sysroot = g.sysroot.as_deref().ok_or_else(|| {
                CliError::usage("deploy needs --sysroot DIR (the sysroot to deploy into)")
            })?;
            crate::deliver::deploy(&g.root, sysroot, &variant, &stateroot, g.json, g.quiet)
        }
        Command::Image {
            variant,
            format,
            firmware,
            size,
            kargs,
            root_password_hash,
            out,
        } => crate::deliver::image(
            &g.root,
            &engine::deliver::ImageOptions {
                variant: &variant,
                format: match format {
                    ImageFormat::Raw => machine::Format::Raw,
                    ImageFormat::Qcow2 => machine::Format::Qcow2,
                },
                firmware: match firmware {
                    ImageFirmware::Bios => machine::Firmware::Bios,
                    ImageFirmware::Uefi => machine::Firmware::Uefi,
                    ImageFirmware::Both => machine::Firmware::Both,
                },
                size,
                kargs: &kargs,
                root_password_hash: root_password_hash.as_deref(),
                out: &out,
            },
            g.json,
            g.quiet,
        ),
        Command::Export(ExportCmd::Oci { oci, dir }) => {
            crate::deliver::export_oci(&g.root, &oci.options(&dir), g.json, g.quiet)
        }
        Command::Push {
            oci,
            sign_key,
            passphrase_file,
            tls_verify,
            target,
        } => {
            let sign_key = sign_key.as_deref().map(|k| (k, passphrase_file.as_deref()));
            let export = oci.options(Path::new(""));
            let o = engine::deliver::PushOptions {
                export,
                target: &target,
                sign_key,
                tls_verify,
            };
            crate::deliver::push(&g.root, &o, g)
        }
        Command::Pull {
            policy,
            check: _,
            tls_verify,
            reference,
            dir,
        } => crate::deliver::pull(
            &engine::deliver::PullOptions {
                reference: &reference,
                policy: policy.as_deref(),
                dest: dir.as_deref(),
                tls_verify,
            },
            g,
        ),
        Command::Key(KeyCmd::Generate {
            sigstore,
            passphrase_file,
        }) => crate::deliver::key_generate(&sigstore, passphrase_file.as_deref(), g),
        Command::Delta { a, b, output } => {
            crate::deliver::delta(&g.root, &a, &b, output.as_deref(), g.json, g.quiet)
        }
        Command::Status { variant } => {
            let sysroot = g.sysroot.as_deref();
            match engine::deliver::status_sysroot(&g.root, sysroot, variant.is_some())? {
                Some(sysroot) => crate::deliver::sysroot_status(&g.root, &sysroot, g.json),
                None => txn::status(&g.root, variant, g.json),
            }
        }
        Command::Du => crate::du::du(&g.root, g.json),
        Command::Gc { keep, dry_run } => crate::du::gc(&g.root, keep, dry_run, g.json, g.quiet),
        Command::Why { package, variant } => {
            let variant = variant.unwrap_or_else(|| engine::machine::default_variant(&g.root));
            why(&g.root, &package, &variant, g.json)
        }
        Command::Replay {
            variant,
            upto,
            into,
            from,
            keyring,
            verify,
            dry_run,
        } => match (from, into) {
            (Some(url), into) => crate::publish::replay_from(
                &url,
                into.as_deref(),
                keyring.as_deref(),
                if dry_run {
                    crate::publish::Replay::DryRun
                } else {
                    crate::publish::Replay::Build { verify }
                },
                g,
            ),
            (None, Some(into)) => {
                txn::replay(&g.root, variant, upto, &into, verify, g.json, g.quiet)
            }
            (None, None) => Err(CliError::usage("replay needs --into DIR2 or --from URL").into()),
        },
        Command::Remote(RemoteCmd::Add {
            name,
            url,
            sign_key,
        }) => crate::publish::remote_add(&g.root, &name, &url, sign_key.as_deref(), g),
        Command::Remote(RemoteCmd::List) => crate::publish::remote_list(&g.root, g),
        Command::Bundle {
            from,
            to,
            file,
            sign_key,
        } => crate::publish::bundle(&g.root, &from, &to, &file, sign_key.as_deref(), g),
        Command::Upgrade(a) => crate::publish::upgrade(&g.root, &a, g),
        Command::Publish {
            variants,
            repo,
            sign_key,
        } => crate::publish::publish(&g.root, &variants, &repo, sign_key.as_deref(), g),
        Command::Solve {
            index,
            installed,
            no_recommends,
            action,
        } => crate::plumbing::solve(
            &g.root,
            &index,
            installed.as_deref(),
            no_recommends,
            action,
            g.json,
        ),
        Command::Distcheck { index } => crate::plumbing::distcheck(&index, g.json),
        Command::GenerateDocs { dir } => generate_docs(&dir),
        Command::Edsp => crate::plumbing::edsp(),
    }
}

fn opts(g: &Global, c: TxnCommon, dry_run: bool) -> txn::TxnOpts {
    let variant = c
        .variant
        .unwrap_or_else(|| engine::machine::default_variant(&g.root));
    txn::TxnOpts::new(g, variant, c.reason, dry_run)
}

fn txn_cmd(g: &Global, c: TxnCmd) -> anyhow::Result<()> {
    let (common, dry_run, change) = match c {
        TxnCmd::Install {
            common,
            no_recommends,
            dry_run,
            packages,
        } => (
            common,
            dry_run,
            Change::Install {
                packages,
                no_recommends,
            },
        ),
        TxnCmd::Remove {
            common,
            dry_run,
            packages,
        } => (common, dry_run, Change::Remove { packages }),
        TxnCmd::Upgrade { common, dry_run } => (common, dry_run, Change::Upgrade),
        TxnCmd::Rollback {
            common,
            to,
            dry_run,
        } => (common, dry_run, Change::rollback(&g.root, to.as_deref())?),
        TxnCmd::Cancel { common } => (common, false, Change::Cancel),
        TxnCmd::Kargs {
            common,
            append,
            delete,
        } => {
            if append.is_empty() && delete.is_empty() {
                return Err(CliError::usage("give at least one --append or --delete").into());
            }
            (common, false, Change::Kargs { append, delete })
        }
        TxnCmd::Initramfs { common, set } => {
            let set = engine::parse_assignments(&set)?;
            (common, false, Change::Initramfs { set })
        }
        TxnCmd::Hardware {
            common,
            detect: _,
            from,
        } => {
            let (profile, source) = match from {
                Some(f) => (engine::hardware::from_file(&f)?, f.display().to_string()),
                None => (engine::hardware::detect(), "detect".to_owned()),
            };
            (common, false, Change::Hardware { profile, source })
        }
        TxnCmd::Sysctl { common, set } => {
            let set = engine::parse_assignments(&set)?;
            (common, false, Change::Sysctl { set })
        }
        TxnCmd::Bisect {
            variant,
            good,
            bad,
            run,
        } => return txn::bisect(&g.root, &variant, &good, &bad, &run, g.json, g.quiet),
        TxnCmd::Verify => return txn::verify(&g.root, g.json),
        other => return txn_query(g, other),
    };
    txn::transact(&g.root, &opts(g, common, dry_run), change)
}

/// `txn log`, `txn show` and `txn diff` (which `particle` answers itself).
fn txn_query(g: &Global, c: TxnCmd) -> anyhow::Result<()> {
    match c {
        TxnCmd::Log {
            variant,
            package,
            since,
            until,
            last,
        } => {
            let variant = Some(variant.unwrap_or_else(|| "base".into()));
            let filter = journal::LogFilter {
                variant,
                package,
                since,
                until,
                last,
            };
            txn::log(&g.root, filter, g.json)
        }
        TxnCmd::Show { txn: t } => txn::show(&g.root, &t, g.json),
        TxnCmd::Diff { a, b } => txn::diff(&g.root, &a, &b, g.json),
        _ => unreachable!("txn_cmd runs the others"),
    }
}

/// `why PKG`.
fn why(root: &Path, package: &str, variant: &str, json: bool) -> anyhow::Result<()> {
    let w = engine::Session::read(root)?.why(package, variant)?;
    if json {
        return print_json(&serde_json::json!({
            "package": w.package, "version": w.version, "variant": variant,
            "requested_by": w.requested_by, "root": w.root, "chain": w.chain,
        }));
    }
    let root_is = match w.requested_by {
        Some(seq) => format!("requested in transaction {seq}"),
        None if w.root == "essential" => "an essential package".to_owned(),
        None => format!("a {} package", w.root),
    };
    let (p, v) = (&w.package, &w.version);
    if w.chain.len() == 1 {
        println!("{p} {v} is installed because it is {root_is}");
    } else {
        let top = &w.chain[0];
        println!("{p} {v} is installed because {top} ({root_is}) needs it:");
        println!("  {}", w.chain.join(" -> "));
    }
    Ok(())
}

fn variant_list(g: &Global) -> anyhow::Result<()> {
    let list = engine::Session::read(&g.root)?.variant_list()?;
    if g.json {
        let list: Vec<_> = list.iter().map(engine::VariantSummary::to_json).collect();
        return print_json(&serde_json::json!({ "variants": list }));
    }
    let mut rows = vec![vec![
        "NAME".into(),
        "PARENT".into(),
        "TXN".into(),
        "COMMIT".into(),
    ]];
    for v in &list {
        let head = v.head.as_ref();
        rows.push(vec![
            v.name.clone(),
            head.and_then(|h| h.parent.clone())
                .unwrap_or_else(|| "-".into()),
            head.map_or("-".into(), |h| h.txn.to_string()),
            head.map_or("-".into(), |h| h.commit.short(12)),
        ]);
    }
    print!("{}", table(&rows));
    Ok(())
}

fn init(g: &Global, variant: &str) -> anyhow::Result<()> {
    let state = engine::Session::init(&g.root, variant)?;
    if g.json {
        print_json(&serde_json::json!({ "root": state.root, "variant": variant }))?;
    } else {
        eprintln!("initialized {} (variant {variant})", state.root.display());
    }
    Ok(())
}

/// `repo list`.
fn repo_list(g: &Global) -> anyhow::Result<()> {
    let sources = engine::sources::list(&g.root)?;
    if g.json {
        let list = engine::sources::listed(&sources);
        print_json(&serde_json::json!({ "sources": list }))?;
    } else {
        let mut rows = vec![vec![
            "NAME".into(),
            "URI".into(),
            "SUITE".into(),
            "COMPONENTS".into(),
            "PINNED".into(),
        ]];
        for (s, pin) in &sources {
            let pin = pin.as_ref().map_or("never updated".to_owned(), |p| {
                format!(
                    "{} packages, {} ({})",
                    p.packages,
                    store::format_utc(p.date),
                    p.inrelease_sha256.short(12)
                )
            });
            rows.push(vec![
                s.name.clone(),
                s.uri.clone(),
                s.suite.clone(),
                s.components.join(" "),
                pin,
            ]);
        }
        print!("{}", table(&rows));
    }
    Ok(())
}

fn repo(g: &Global, c: RepoCmd) -> anyhow::Result<()> {
    match c {
        RepoCmd::Add {
            name,
            uri,
            suite,
            components,
            architectures,
            keyring,
            priority,
        } => {
            let source = engine::sources::source_config(
                name,
                uri,
                suite,
                components,
                architectures,
                keyring,
                priority,
            )?;
            engine::sources::add(&g.root, &source)?;
            if g.json {
                print_json(&serde_json::json!({ "source": source }))?;
            } else {
                eprintln!(
                    "added source {} ({} {})",
                    source.name, source.uri, source.suite
                );
            }
            Ok(())
        }
        RepoCmd::ImportApt { files } => {
            let added = engine::sources::import_apt(&g.root, files)?;
            if g.json {
                print_json(&serde_json::json!({ "added": added }))?;
            } else {
                for s in &added {
                    eprintln!(
                        "added source {} ({} {} {})",
                        s.name,
                        s.uri,
                        s.suite,
                        s.components.join(" ")
                    );
                }
                if added.is_empty() {
                    eprintln!("no new sources");
                }
            }
            Ok(())
        }
        RepoCmd::List => repo_list(g),
        RepoCmd::Policy { packages, variant } => {
            let mut session = engine::Session::read(&g.root)?;
            if packages.is_empty() {
                let files = session.policy_files()?;
                if g.json {
                    return print_json(&serde_json::json!({ "files": files }));
                }
                files.iter().for_each(|f| println!("{f}"));
                return Ok(());
            }
            let variant = variant.unwrap_or_else(|| engine::machine::default_variant(&g.root));
            let policies = session.policy(&variant, &packages)?;
            if g.json {
                return print_json(&serde_json::json!({ "packages": policies }));
            }
            policies.iter().for_each(|p| print!("{p}"));
            Ok(())
        }
        RepoCmd::Update => {
            let (sources, outcomes) = engine::sources::update(&g.root)?;
            let mut json_sources = Vec::new();
            let mut first_error = None;
            for o in outcomes {
                match o {
                    store::UpdateOutcome::Pinned { pin, changed } => {
                        if !g.json {
                            eprintln!(
                                "{}: {} {} packages (InRelease {}, {} good signature{})",
                                pin.source,
                                if changed { "pinned" } else { "unchanged," },
                                pin.packages,
                                pin.inrelease_sha256.short(16),
                                pin.signers.len(),
                                if pin.signers.len() == 1 { "" } else { "s" }
                            );
                        }
                        json_sources.push(engine::sources::updated(&sources, &pin, changed));
                    }
                    store::UpdateOutcome::Failed {
                        source,
                        error,
                        kept,
                    } => {
                        if !g.json {
                            eprintln!("error: {error}");
                            if let Some(k) = &kept {
                                eprintln!(
                                    "  {source}: keeping the snapshot pinned {}",
                                    store::format_utc(k.pinned_at)
                                );
                            }
                        }
                        if first_error.is_none() {
                            first_error = Some(error);
                        }
                    }
                }
            }
            if let Some(e) = first_error {
                return Err(e.into());
            }
            if g.json {
                print_json(&serde_json::json!({ "sources": json_sources }))?;
            }
            Ok(())
        }
    }
}

/// Man pages (one per command and subcommand) and bash/zsh/fish completions, from the clap
/// definitions themselves so they cannot drift from the parser.
fn generate_docs(dir: &Path) -> anyhow::Result<()> {
    use clap::CommandFactory;
    let man = dir.join("man");
    let completions = dir.join("completions");
    std::fs::create_dir_all(&man)?;
    std::fs::create_dir_all(&completions)?;
    fn walk(cmd: &clap::Command, prefix: &str, man: &Path) -> anyhow::Result<()> {
        let name = if prefix.is_empty() {
            cmd.get_name().to_owned()
        } else {
            format!("{prefix}-{}", cmd.get_name())
        };
        let cmd = cmd.clone().name(name.clone());
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
        std::fs::write(man.join(format!("{name}.1")), buf)?;
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, &name, man)?;
        }
        Ok(())
    }
    let mut cmd = Cli::command();
    cmd.build();
    walk(&cmd, "", &man)?;
    for (shell, file) in [
        (clap_complete::Shell::Bash, "particle.bash"),
        (clap_complete::Shell::Zsh, "_particle"),
        (clap_complete::Shell::Fish, "particle.fish"),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "particle", &mut buf);
        std::fs::write(completions.join(file), buf)?;
    }
    Ok(())
}

fn store_fetch(g: &Global, packages: &[String]) -> anyhow::Result<()> {
    let reporter = crate::progress::Reporter::new(!g.json && !g.quiet);
    let mut session = engine::Session::write(&g.root, &reporter)?;
    let fetched = session.fetch_packages(packages, &reporter)?;
    if g.json {
        let list: Vec<_> = fetched
            .iter()
            .map(|(p, id)| serde_json::json!({ "name": p.name, "version": p.version, "arch": p.arch, "sha256": p.sha256, "object": id }))
            .collect();
        print_json(&serde_json::json!({ "fetched": list }))?;
    } else {
        for (p, id) in &fetched {
            eprintln!("{} {} -> {}", p.name, p.version, id.short(16));
        }
    }
    Ok(())
}

fn store_verify(g: &Global) -> anyhow::Result<()> {
    let (_state, st) = engine::sources::open(&g.root)?;
    let report = st.verify()?;
    if g.json {
        print_json(
            &serde_json::json!({ "objects": report.objects, "bytes": report.bytes, "ok": true }),
        )?;
    } else {
        eprintln!(
            "{} objects ({} bytes) verified",
            report.objects, report.bytes
        );
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum ImageFormat {
    Raw,
    Qcow2,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum ImageFirmware {
    Bios,
    Uefi,
    Both,
}
