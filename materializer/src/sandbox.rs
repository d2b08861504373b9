//! Running a command inside the staged tree: bubblewrap without a user namespace (so `chown` to
//! other users works as root), new PID/IPC/UTS/network/cgroup namespaces, no network, a fixed
//! hostname, the staged tree bound at `/` with fresh `/proc`, `/dev`, `/run` and `/tmp`, a
//! cleared environment, umask 022, dangerous capabilities dropped, a time limit (the sandbox is killed on
//! timeout; `--die-with-parent` and the PID namespace take every descendant with it) and all
//! output appended to a log file.
//!
//! As root this isolates but is not a security boundary; the extractor is what keeps archive
//! contents inside the tree.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Why a sandboxed command did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("could not start bwrap for {what} (is bubblewrap installed?)")]
    Spawn {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("could not write the log {path}")]
    Log {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{what} failed ({status})")]
    Failed { what: String, status: ExitStatus },
    #[error("{what} did not finish within {seconds} s and was killed")]
    TimedOut { what: String, seconds: u64 },
}

/// Capabilities no maintainer script needs.
const DROPPED_CAPS: &[&str] = &[
    "CAP_SYS_ADMIN",
    "CAP_SYS_MODULE",
    "CAP_SYS_BOOT",
    "CAP_SYS_TIME",
    "CAP_SYS_RAWIO",
    "CAP_SYS_PTRACE",
    "CAP_NET_ADMIN",
    "CAP_MAC_ADMIN",
    "CAP_MAC_OVERRIDE",
    "CAP_SYSLOG",
    "CAP_MKNOD",
    "CAP_AUDIT_CONTROL",
    "CAP_BPF",
    "CAP_PERFMON",
];

/// A sandbox over one staged tree.
#[derive(Debug, Clone)]
pub(crate) struct Sandbox {
    pub(crate) root: PathBuf,
    pub(crate) source_date_epoch: u64,
    pub(crate) log: PathBuf,
    pub(crate) timeout: Duration,
    /// Host files made visible read-only inside the sandbox: `(host path, absolute path inside)`.
    /// The inside paths must be beneath `/run` (a fresh tmpfs, so nothing lands in the tree).
    pub(crate) ro_binds: Vec<(PathBuf, String)>,
}

impl Sandbox {
    /// Runs `argv` inside the tree with the base environment plus `env`.
    pub(crate) fn run(
        &self,
        what: &str,
        argv: &[&str],
        env: &[(&str, &str)],
    ) -> Result<(), SandboxError> {
        let log_err = |source| SandboxError::Log {
            path: self.log.clone(),
            source,
        };
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(log_err)?;
        writeln!(log, "==> {what}: {}", argv.join(" ")).map_err(log_err)?;
        let mut cmd = Command::new("bwrap");
        cmd.args([
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-net",
            "--unshare-cgroup",
            "--die-with-parent",
            "--new-session",
            "--hostname",
            "localhost",
        ]);
        cmd.arg("--bind").arg(&self.root).arg("/");
        cmd.args([
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/run", "--tmpfs", "/tmp", "--chdir",
            "/",
        ]);
        for (host, inside) in &self.ro_binds {
            cmd.arg("--ro-bind").arg(host).arg(inside);
        }
        for cap in DROPPED_CAPS {
            cmd.args(["--cap-drop", cap]);
        }
        // A fixed umask: the caller's must not leak into file modes the scripts create.
        cmd.args(["--", "/bin/sh", "-c", "umask 022 && exec \"$@\"", "sh"])
            .args(argv);
        cmd.env_clear()
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .env("SOURCE_DATE_EPOCH", self.source_date_epoch.to_string())
            .env("LC_ALL", "C.UTF-8")
            .env("LANG", "C.UTF-8")
            .env("TZ", "UTC")
            .env("HOME", "/root")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .env("DEBCONF_NONINTERACTIVE_SEEN", "true")
            .env("DEBIAN_PRIORITY", "critical");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = log.try_clone().map_err(log_err)?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(log);
        let mut child = cmd.spawn().map_err(|source| SandboxError::Spawn {
            what: what.to_owned(),
            source,
        })?;
        let deadline = Instant::now() + self.timeout;
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(SandboxError::Failed {
                        what: what.to_owned(),
                        status,
                    })
                }
                Ok(None) if Instant::now() >= deadline => {
                    // Killing bwrap kills the namespace's init (die-with-parent), hence everything in it.
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(SandboxError::TimedOut {
                        what: what.to_owned(),
                        seconds: self.timeout.as_secs(),
                    });
                }
                Ok(None) => {
                    crate::hook::point("scripts");
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(source) => {
                    return Err(SandboxError::Spawn {
                        what: what.to_owned(),
                        source,
                    })
                }
            }
        }
    }
}

/// The log's text after byte `from` (for naming what failed).
pub(crate) fn log_since(log: &Path, from: u64) -> String {
    let text = std::fs::read(log).unwrap_or_default();
    let from = usize::try_from(from).unwrap_or(0).min(text.len());
    String::from_utf8_lossy(&text[from..]).into_owned()
}
