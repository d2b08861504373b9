//! The arguments other modules take as they are: the global options, `solve`'s action,
//! `upgrade`'s options (the rest of the command line is in `cmd`).

use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub(crate) struct Global {
    /// State directory (default: $PARTICLE_ROOT, else /var/lib/particle)
    #[arg(
        long,
        global = true,
        env = "PARTICLE_ROOT",
        default_value = "/var/lib/particle",
        value_name = "DIR"
    )]
    pub(crate) root: PathBuf,
    /// The OSTree sysroot to act on, as on a booted Particle-OS (where it is /): `status`
    /// lists its deployments, `deploy` deploys into it (initialized if needed)
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) sysroot: Option<PathBuf>,
    /// Print exactly one JSON document on stdout (errors too)
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// More detail on stderr (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SolveAction {
    /// Install packages (PKG or PKG=VERSION)
    Install {
        #[arg(required = true)]
        packages: Vec<String>,
    },
    /// Remove packages
    Remove {
        #[arg(required = true)]
        packages: Vec<String>,
    },
    /// Upgrade everything installed
    Upgrade,
}

/// `upgrade`'s arguments.
#[derive(Debug, Args)]
pub(crate) struct UpgradeArgs {
    /// Only say whether an update is available: exit 0 if so, 77 if not
    #[arg(long)]
    pub(crate) check: bool,
    /// Print the package and profile changes from the published journal, download nothing
    #[arg(long)]
    pub(crate) preview: bool,
    /// Pull the new commit into the sysroot's repository, record and deploy nothing
    #[arg(long, conflicts_with_all = ["check", "preview"])]
    pub(crate) download_only: bool,
    /// The remote (default: the machine's only one)
    #[arg(long, value_name = "NAME")]
    pub(crate) remote: Option<String>,
    /// Take an offer older than what the machine runs
    #[arg(long)]
    pub(crate) allow_downgrade: bool,
    /// Apply an update bundle (`particle bundle`) instead of pulling: for machines without
    /// a network
    #[arg(long, value_name = "FILE", conflicts_with_all = ["check", "preview", "download_only", "remote"])]
    pub(crate) bundle: Option<PathBuf>,
    /// With --bundle: the publisher's keyring (default: the keyrings of the machine's remotes)
    #[arg(long, value_name = "FILE", requires = "bundle")]
    pub(crate) keyring: Option<PathBuf>,
    /// What particle-upgrade.timer runs: act on the policy of /etc/particle/updates.conf
    /// (`policy = none|check|stage`, optional `remote = NAME`; none when missing)
    #[arg(long, conflicts_with_all = ["check", "preview", "download_only", "bundle", "remote"])]
    pub(crate) auto: bool,
}
