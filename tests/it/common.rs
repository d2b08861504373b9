//! Helpers shared by the end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The shared Debian mirror.
pub(crate) fn mirror() -> PathBuf {
    if let Some(m) = std::env::var_os("PARTICLE_MIRROR") {
        return PathBuf::from(m);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/debian-mirror")
}

pub(crate) fn debian_keyring() -> PathBuf {
    mirror().join("keyring/debian-archive-keyring.gpg")
}

/// A temporary state directory and a way to run particle in it.
pub(crate) struct Env {
    pub(crate) dir: tempfile::TempDir,
}

/// What one particle run did.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
    #[track_caller]
    pub(crate) fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "particle failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    #[track_caller]
    pub(crate) fn fails(self, kind: &str) -> Self {
        assert_eq!(
            self.code, 1,
            "expected exit 1:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        let j = self.json();
        assert_eq!(j["error"]["kind"], kind, "wrong error kind: {j}");
        self
    }
}

/// Deployment roots that `ostree admin deploy` made immutable (a test that did not ask for
/// mutable deployments) would keep the temporary directory, gigabytes each, from being removed:
/// their immutable bit is cleared first.
impl Drop for Env {
    fn drop(&mut self) {
        let mut dirs = vec![(self.dir.path().to_path_buf(), 0)];
        while let Some((d, depth)) = dirs.pop() {
            let deploy = d.join("ostree/deploy");
            if deploy.is_dir() {
                let _ = Command::new("chattr")
                    .args(["-R", "-f", "-i"])
                    .arg(&deploy)
                    .status();
            }
            if depth < 3 {
                for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                    if e.file_type().is_ok_and(|t| t.is_dir()) {
                        dirs.push((e.path(), depth + 1));
                    }
                }
            }
        }
    }
}

impl Env {
    pub(crate) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }
    pub(crate) fn root(&self) -> PathBuf {
        self.dir.path().join("state")
    }
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_env(&[], args)
    }
    /// `run` with extra environment variables.
    pub(crate) fn run_env(&self, vars: &[(&str, &str)], args: &[&str]) -> Run {
        let out: Output = Command::new(env!("CARGO_BIN_EXE_particle"))
            .arg("--root")
            .arg(self.root())
            .args(args)
            .env_remove("PARTICLE_ROOT")
            .envs(vars.iter().copied())
            .output()
            .expect("run particle");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
    /// `init` plus a source for `uri` with `keyring`.
    pub(crate) fn with_source(uri: &str, keyring: &Path) -> Self {
        let env = Self::new();
        env.run(&["init"]).ok();
        env.add_source("debian", uri, keyring);
        env
    }

    /// `init` plus the shared mirror as one source with every component (main, contrib,
    /// non-free, non-free-firmware) and both architectures (amd64, i386), updated.
    pub(crate) fn with_every_component() -> Self {
        let env = Self::new();
        env.run(&["init"]).ok();
        let uri = file_uri(&mirror());
        let keyring = debian_keyring().to_string_lossy().into_owned();
        let mut add = vec![
            "repo", "add", "debian", "--uri", &uri, "--suite", "bookworm",
        ];
        add.extend(["--arch", "amd64", "--arch", "i386"]);
        for c in ["main", "contrib", "non-free", "non-free-firmware"] {
            add.extend(["--component", c]);
        }
        add.extend(["--keyring", &keyring]);
        env.run(&add).ok();
        env
    }

    /// Adds the source `name` (suite bookworm) to an initialized state directory.
    pub(crate) fn add_source(&self, name: &str, uri: &str, keyring: &Path) {
        self.run(&[
            "repo",
            "add",
            name,
            "--uri",
            uri,
            "--suite",
            "bookworm",
            "--keyring",
            &keyring.to_string_lossy(),
        ])
        .ok();
    }
}

/// A copy of the mirror's `dists/` (pool linked, never copied) that a test may break.
pub(crate) fn mirror_copy(into: &Path) -> PathBuf {
    let m = into.join("mirror");
    std::fs::create_dir_all(m.join("dists/bookworm/main/binary-amd64")).expect("mkdir");
    for f in [
        "dists/bookworm/InRelease",
        "dists/bookworm/main/binary-amd64/Packages.xz",
    ] {
        std::fs::copy(mirror().join(f), m.join(f)).expect("copy");
    }
    std::os::unix::fs::symlink(mirror().join("pool"), m.join("pool")).expect("symlink pool");
    m
}

pub(crate) fn file_uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

/// A throwaway OpenPGP key (gpg in a temp home) to sign test archives with.
pub(crate) struct TestKey {
    pub(crate) home: tempfile::TempDir,
    pub(crate) keyring: PathBuf,
}

impl TestKey {
    pub(crate) fn generate() -> Self {
        let home = tempfile::tempdir().expect("tempdir");
        let gpg = |args: &[&str]| {
            let out = Command::new("gpg")
                .arg("--homedir")
                .arg(home.path())
                .args([
                    "--batch",
                    "--quiet",
                    "--pinentry-mode",
                    "loopback",
                    "--passphrase",
                    "",
                ])
                .args(args)
                .output()
                .expect("run gpg");
            assert!(
                out.status.success(),
                "gpg {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        };
        gpg(&[
            "--quick-gen-key",
            "particle test <test@particle.invalid>",
            "ed25519",
            "sign",
            "never",
        ]);
        let keyring = home.path().join("test-keyring.gpg");
        let exported = gpg(&["--export"]);
        std::fs::write(&keyring, exported).expect("write keyring");
        Self { home, keyring }
    }

    /// Signs `file`, the detached signature written to `sig`.
    pub(crate) fn detach_sign(&self, file: &Path, sig: &Path) {
        let out = Command::new("gpg")
            .arg("--homedir")
            .arg(self.home.path())
            .args(["--batch", "--quiet", "--yes", "--detach-sign", "--output"])
            .arg(sig)
            .arg(file)
            .output()
            .expect("gpg");
        assert!(out.status.success(), "gpg --detach-sign: {out:?}");
    }

    /// The secret key in a file, as `publish --sign-key` takes it.
    pub(crate) fn secret_key_file(&self, into: &Path) -> PathBuf {
        let out = Command::new("gpg")
            .arg("--homedir")
            .arg(self.home.path())
            .args(["--batch", "--export-secret-keys"])
            .output()
            .expect("gpg");
        assert!(out.status.success() && !out.stdout.is_empty());
        let path = into.join("signing.key");
        std::fs::write(&path, out.stdout).expect("write the key");
        path
    }

    /// Clearsigns `text` with `digest` (e.g. SHA256).
    pub(crate) fn clearsign(&self, text: &str, digest: &str) -> Vec<u8> {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("Release");
        std::fs::write(&input, text).expect("write");
        let output = dir.path().join("InRelease");
        let out = Command::new("gpg")
            .arg("--homedir")
            .arg(self.home.path())
            .args([
                "--batch",
                "--quiet",
                "--yes",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--digest-algo",
                digest,
            ])
            .arg("--output")
            .arg(&output)
            .arg("--clearsign")
            .arg(&input)
            .output()
            .expect("run gpg");
        assert!(
            out.status.success(),
            "gpg --clearsign: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(output).expect("read InRelease")
    }
}

/// Writes a small signed archive under `dir`: `count` stanzas of the real index, a Release with
/// the given Date and extra fields, signed by `key`. Returns the archive root.
pub(crate) fn signed_archive(
    dir: &Path,
    key: &TestKey,
    date: &str,
    extra: &str,
    count: usize,
) -> PathBuf {
    let raw = std::fs::read(mirror().join("dists/bookworm/main/binary-amd64/Packages.xz"))
        .expect("read index");
    let text = store::decompress(&raw, store::Compression::Xz, 1 << 30).expect("decompress");
    let text = String::from_utf8(text).expect("utf8");
    let packages: String = text
        .split("\n\n")
        .take(count)
        .map(|s| format!("{s}\n\n"))
        .collect();
    let root = dir.join("archive");
    let idx = root.join("dists/bookworm/main/binary-amd64");
    std::fs::create_dir_all(&idx).expect("mkdir");
    std::fs::write(idx.join("Packages"), &packages).expect("write");
    let sha = store::Sha256::of(packages.as_bytes());
    let release = format!(
        "Origin: Test\nSuite: stable\nCodename: bookworm\nDate: {date}\n{extra}Architectures: amd64\nComponents: main\nSHA256:\n {sha} {} main/binary-amd64/Packages\n",
        packages.len()
    );
    std::fs::write(
        root.join("dists/bookworm/InRelease"),
        key.clearsign(&release, "SHA256"),
    )
    .expect("write");
    root
}

/// A tmpfs mounted at a path for the life of the guard.
pub(crate) struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    pub(crate) fn mount(path: &Path, size: &str) -> Self {
        std::fs::create_dir_all(path).expect("mkdir mount point");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "mount tmpfs on {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Self {
            path: path.to_owned(),
        }
    }

    pub(crate) fn resize(&self, size: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.path)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "remount {}: {}",
            self.path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// An ext4 file system in a sparse image file, loop-mounted at a path for the life of the
/// guard (unmounted when it drops, also on a panic). Mounting needs root: a test that is not
/// run as root fails here, loudly.
pub(crate) struct LoopFs {
    path: PathBuf,
}

impl LoopFs {
    /// `size` as `truncate -s` takes it; no blocks reserved for root, so what `df` shows as
    /// available is all there is.
    pub(crate) fn mount(image: &Path, path: &Path, size: &str) -> Self {
        let run = |cmd: &mut Command| {
            let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
            assert!(
                out.status.success(),
                "{cmd:?} (the test must run as root): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(Command::new("truncate").args(["-s", size]).arg(image));
        run(Command::new("mkfs.ext4")
            .args(["-q", "-F", "-m", "0"])
            .arg(image));
        std::fs::create_dir_all(path).expect("mkdir mount point");
        run(Command::new("mount")
            .args(["-o", "loop"])
            .arg(image)
            .arg(path));
        Self {
            path: path.to_owned(),
        }
    }

    /// `(total, available, block size)` in blocks, from statfs.
    pub(crate) fn blocks(&self) -> (u64, u64, u64) {
        let out = Command::new("stat")
            .args(["-f", "-c", "%b %a %S"])
            .arg(&self.path)
            .output()
            .expect("stat -f");
        let text = String::from_utf8_lossy(&out.stdout);
        let n: Vec<u64> = text
            .split_whitespace()
            .map(|n| n.parse().expect("a number"))
            .collect();
        (n[0], n[1], n[2])
    }
}

impl Drop for LoopFs {
    fn drop(&mut self) {
        // Lazy: a mount still held open is detached now and released when it is closed; the
        // loop device goes with it (mount -o loop sets autoclear).
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// A loopback HTTP server (`support/flaky_http.py`) serving a directory with `Range` support;
/// files with `flaky` in their path are cut off the first time (empty: none). Every request is
/// logged to `log`, and every response sent whole as `SENT PATH`.
pub(crate) struct HttpServer {
    child: std::process::Child,
    pub(crate) port: u16,
}

impl HttpServer {
    pub(crate) fn start(root: &Path, flaky: &str, log: &Path) -> Self {
        Self::spawn(root, flaky, log, None, 0)
    }

    /// A server on `port` (0: any) that dies like a killed one: it sends the first `after`
    /// responses whose path contains `on` whole, then half of the next one, and exits.
    pub(crate) fn dying(root: &Path, log: &Path, port: u16, after: usize, on: &str) -> Self {
        Self::spawn(root, "", log, Some((after, on)), port)
    }

    /// A server on `port` (where a dead one listened).
    pub(crate) fn on_port(root: &Path, log: &Path, port: u16) -> Self {
        Self::spawn(root, "", log, None, port)
    }

    fn spawn(root: &Path, flaky: &str, log: &Path, die: Option<(usize, &str)>, port: u16) -> Self {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/it/support/flaky_http.py");
        let (after, on) = die.map_or((String::new(), ""), |(n, on)| (n.to_string(), on));
        let mut child = Command::new("python3")
            .arg(script)
            .arg(root)
            .arg(flaky)
            .arg(log)
            .arg(after)
            .arg(on)
            .arg(port.to_string())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the test HTTP server");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
            &mut line,
        )
        .expect("port");
        Self {
            child,
            port: line.trim().parse().expect("a port number"),
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `(name, version)` of every package in a JSON list of packages (a transaction's state or
/// changes).
pub(crate) fn name_versions(list: &serde_json::Value) -> Vec<(String, String)> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list of packages: {list}"))
        .iter()
        .map(|p| {
            (
                p["name"].as_str().expect("name").to_owned(),
                p["version"].as_str().expect("version").to_owned(),
            )
        })
        .collect()
}

/// Runs `program` with `args`, its output captured.
pub(crate) fn program_output(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"))
}

/// Runs `program`, which must succeed; its stdout.
#[track_caller]
pub(crate) fn ok(program: &str, args: &[&str]) -> String {
    let out = program_output(program, args);
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The objects a server's log shows requested (`GET`) or sent whole (`SENT`), named as
/// `machine::staged_objects` names them (an archive repository's `.filez` is a bare one's
/// `.file`).
pub(crate) fn objects_in_log(log: &Path, verb: &str) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{verb} /objects/")))
        .map(|rest| {
            let path = rest.split(' ').next().unwrap_or("").replace('/', "");
            path.strip_suffix(".filez")
                .map_or(path.clone(), |c| format!("{c}.file"))
        })
        .collect()
}
