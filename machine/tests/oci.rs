//! `machine::oci::export` on small commits made here with the `ostree` command: the layout
//! (`oci-layout`, `index.json`, blobs named by the sha256 of their bytes and pointing at each
//! other), the layer's listing (`/usr/etc` as `/etc`), the same bytes for the same commit
//! whatever the repository mode, and the errors as `machine::Error`s of kind `export`.

use machine::oci::{export, Exported, ImageInfo, OciError};
use machine::ErrorKind;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

fn ostree(args: &[&str]) -> String {
    let out = Command::new("ostree").args(args).output().expect("ostree");
    assert!(
        out.status.success(),
        "ostree {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Writes `files` (path → contents; a path ending in `/` is an empty directory) under `dir`.
fn write_tree(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = dir.join(path);
        if path.ends_with('/') {
            std::fs::create_dir_all(&p).expect("mkdir");
        } else {
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, text).expect("write");
        }
    }
}

/// A repository of `mode` (`bare-user`, `archive`) at `repo` with one commit of `tree`.
fn commit(repo: &Path, mode: &str, tree: &Path) -> String {
    let r = format!("--repo={}", repo.display());
    ostree(&["init", &format!("--mode={mode}"), &r]);
    ostree(&[
        &r,
        "commit",
        "--branch=particle-os/base",
        "--no-xattrs",
        "--owner-uid=0",
        "--owner-gid=0",
        "--timestamp=@1700000000",
        tree.to_str().expect("utf-8"),
    ])
}

const FILES: &[(&str, &str)] = &[
    ("usr/bin/tool", "#!/bin/sh\necho tool\n"),
    ("usr/lib/os-release", "ID=particle\n"),
    ("usr/lib/copy-of-os-release", "ID=particle\n"),
    ("usr/etc/hostname", "particle\n"),
    ("usr/etc/motd", "hello\n"),
    ("usr/share/empty/", ""),
    ("var/", ""),
];

fn info() -> ImageInfo {
    ImageInfo {
        labels: BTreeMap::from([
            ("org.particle-os.variant".to_owned(), "base".to_owned()),
            ("ostree.bootable".to_owned(), "false".to_owned()),
        ]),
        architecture: "arm64".into(),
        ref_name: "base".into(),
        compression_level: 6,
    }
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("read")).expect("JSON")
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The bytes of the blob `sha256:HEX`, checked to be what its name says.
fn blob(dir: &Path, digest: &str) -> Vec<u8> {
    let hex = digest
        .strip_prefix("sha256:")
        .unwrap_or_else(|| panic!("{digest} is not a sha256 digest"));
    let bytes = std::fs::read(dir.join("blobs/sha256").join(hex)).expect("blob");
    assert_eq!(
        sha256_hex(&bytes),
        hex,
        "blob {hex} is not named by its sha256"
    );
    bytes
}

/// Every file in the layout (relative path → bytes).
fn tree_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let p = e.path();
            if e.file_type().expect("type").is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).expect("under root");
                out.insert(rel.display().to_string(), std::fs::read(&p).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Exports `commit` of `repo` into a new directory `name` under `base`.
fn export_to(base: &Path, name: &str, repo: &Path, commit: &str) -> (PathBuf, Exported) {
    let dir = base.join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let out = export(repo, commit, &info(), &dir).expect("export");
    (dir, out)
}

/// A layer entry: path, type, link target.
type Entry = (String, tar::EntryType, Option<String>);

/// Every entry of the gzip tar `layer`, and the uncompressed bytes.
fn listing(layer: &[u8]) -> (Vec<Entry>, Vec<u8>) {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(layer)
        .read_to_end(&mut raw)
        .expect("gunzip");
    let mut entries = Vec::new();
    let mut archive = tar::Archive::new(raw.as_slice());
    for entry in archive.entries().expect("entries") {
        let entry = entry.expect("entry");
        let h = entry.header();
        assert_eq!(h.mtime().expect("mtime"), 1_700_000_000);
        entries.push((
            entry.path().expect("path").display().to_string(),
            h.entry_type(),
            entry
                .link_name()
                .expect("link name")
                .map(|l| l.display().to_string()),
        ));
    }
    (entries, raw)
}

#[test]
fn the_layout_is_complete_content_addressed_and_the_same_every_time() {
    let t = tempfile::tempdir().expect("tempdir");
    let tree = t.path().join("tree");
    write_tree(&tree, FILES);
    let repo = t.path().join("repo");
    let c = commit(&repo, "bare-user", &tree);

    let (dir, out) = export_to(t.path(), "oci", &repo, &c);

    // oci-layout and index.json.
    assert_eq!(
        std::fs::read_to_string(dir.join("oci-layout")).expect("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#
    );
    let index = read_json(&dir.join("index.json"));
    assert_eq!(index["schemaVersion"], 2);
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let manifests = index["manifests"].as_array().expect("manifests");
    assert_eq!(manifests.len(), 1);
    let m = &manifests[0];
    assert_eq!(m["digest"], out.manifest_digest.as_str());
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(
        m["annotations"]["org.opencontainers.image.ref.name"],
        "base"
    );

    // The manifest, named by its digest, points at the config and the layer by digest and size.
    let manifest_bytes = blob(&dir, &out.manifest_digest);
    assert_eq!(m["size"], manifest_bytes.len() as u64);
    let manifest: Value = serde_json::from_slice(&manifest_bytes).expect("manifest JSON");
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(manifest["config"]["digest"], out.config_digest.as_str());
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    assert_eq!(manifest["annotations"]["org.particle-os.variant"], "base");
    let layers = manifest["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["digest"], out.layer_digest.as_str());
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    assert_eq!(layers[0]["size"], out.layer_size);

    let config_bytes = blob(&dir, &out.config_digest);
    assert_eq!(manifest["config"]["size"], config_bytes.len() as u64);
    let config: Value = serde_json::from_slice(&config_bytes).expect("config JSON");
    assert_eq!(config["architecture"], "arm64");
    assert_eq!(config["os"], "linux");
    assert_eq!(config["created"], "2023-11-14T22:13:20Z");
    assert_eq!(out.created, "2023-11-14T22:13:20Z");
    assert_eq!(config["config"]["Labels"]["ostree.bootable"], "false");
    assert_eq!(config["rootfs"]["type"], "layers");
    assert_eq!(config["rootfs"]["diff_ids"][0], out.diff_id.as_str());

    // The layer: its size, its uncompressed digest (the diff id) and what it lists.
    let layer = blob(&dir, &out.layer_digest);
    assert_eq!(layer.len() as u64, out.layer_size);
    let (entries, raw) = listing(&layer);
    assert_eq!(format!("sha256:{}", sha256_hex(&raw)), out.diff_id);
    use tar::EntryType as E;
    let expected: Vec<Entry> = vec![
        ("etc/".into(), E::Directory, None),
        ("etc/hostname".into(), E::Regular, None),
        ("etc/motd".into(), E::Regular, None),
        ("usr/".into(), E::Directory, None),
        ("usr/bin/".into(), E::Directory, None),
        ("usr/bin/tool".into(), E::Regular, None),
        ("usr/lib/".into(), E::Directory, None),
        ("usr/lib/copy-of-os-release".into(), E::Regular, None),
        (
            "usr/lib/os-release".into(),
            E::Link,
            Some("usr/lib/copy-of-os-release".into()),
        ),
        ("usr/share/".into(), E::Directory, None),
        ("usr/share/empty/".into(), E::Directory, None),
        ("var/".into(), E::Directory, None),
    ];
    assert_eq!(entries, expected);
    assert_eq!(out.entries, expected.len() as u64);
    assert_eq!(out.hardlinks, 1);

    // Nothing else in the layout: the temporary layer file is gone.
    let mut names: Vec<String> = tree_bytes(&dir).into_keys().collect();
    names.sort();
    let mut want = vec![
        "index.json".to_owned(),
        "oci-layout".to_owned(),
        format!("blobs/sha256/{}", &out.manifest_digest[7..]),
        format!("blobs/sha256/{}", &out.config_digest[7..]),
        format!("blobs/sha256/{}", &out.layer_digest[7..]),
    ];
    want.sort();
    assert_eq!(names, want);

    // The same commit again, and from an archive-mode repository (compressed objects): the same
    // digests and the same bytes.
    let (again, out2) = export_to(t.path(), "oci2", &repo, &c);
    let archive = t.path().join("archive");
    let c3 = commit(&archive, "archive", &tree);
    assert_eq!(c3, c, "same tree, owners and timestamp: same commit");
    let (from_archive, out3) = export_to(t.path(), "oci3", &archive, &c3);
    for other in [&out2, &out3] {
        assert_eq!(other.manifest_digest, out.manifest_digest);
        assert_eq!(other.config_digest, out.config_digest);
        assert_eq!(other.layer_digest, out.layer_digest);
        assert_eq!(other.diff_id, out.diff_id);
    }
    let bytes = tree_bytes(&dir);
    assert!(bytes == tree_bytes(&again), "two exports differ");
    assert!(
        bytes == tree_bytes(&from_archive),
        "the archive export differs"
    );

    // Other labels give another config and manifest, but the same layer.
    let other_dir = t.path().join("oci4");
    std::fs::create_dir_all(&other_dir).expect("mkdir");
    let mut other_info = info();
    other_info
        .labels
        .insert("org.opencontainers.image.version".into(), "2".into());
    let out4 = export(&repo, &c, &other_info, &other_dir).expect("export");
    assert_ne!(out4.manifest_digest, out.manifest_digest);
    assert_ne!(out4.config_digest, out.config_digest);
    assert_eq!(out4.layer_digest, out.layer_digest);
}

#[test]
fn a_commit_without_usr_etc_keeps_its_tree_as_it_is() {
    let t = tempfile::tempdir().expect("tempdir");
    let tree = t.path().join("tree");
    write_tree(&tree, &[("usr/bin/tool", "x"), ("opt/etc/conf", "y")]);
    let repo = t.path().join("repo");
    let c = commit(&repo, "bare-user", &tree);
    let (dir, out) = export_to(t.path(), "oci", &repo, &c);
    let (entries, _) = listing(&blob(&dir, &out.layer_digest));
    let paths: Vec<&str> = entries.iter().map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "opt/",
            "opt/etc/",
            "opt/etc/conf",
            "usr/",
            "usr/bin/",
            "usr/bin/tool"
        ]
    );
}

#[test]
fn failures_are_export_errors_with_their_messages() {
    let t = tempfile::tempdir().expect("tempdir");
    let tree = t.path().join("tree");
    // Both /etc and /usr/etc: /usr/etc cannot go out as /etc.
    write_tree(&tree, &[("etc/a", "1"), ("usr/etc/b", "2")]);
    let repo = t.path().join("repo");
    let c = commit(&repo, "bare-user", &tree);
    let dir = t.path().join("oci");
    std::fs::create_dir_all(&dir).expect("mkdir");

    let e = export(&repo, &c, &info(), &dir).expect_err("both /etc and /usr/etc");
    assert!(matches!(e, OciError::Malformed { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!("commit {c}: /etc exists, so /usr/etc cannot be exported as /etc")
    );
    let m = machine::Error::from(e);
    assert_eq!(m.kind(), ErrorKind::Export);
    assert_eq!(m.kind().as_str(), "export");
    assert_eq!(
        m.message(),
        format!("commit {c}: /etc exists, so /usr/etc cannot be exported as /etc")
    );
    assert!(
        std::error::Error::source(&m).is_some_and(|s| s.is::<OciError>()),
        "the OciError is the source"
    );

    // A commit the repository does not have: libostree's error is the source.
    let missing = "0".repeat(64);
    let e = export(&repo, &missing, &info(), &dir).expect_err("no such commit");
    assert!(matches!(e, OciError::Repo { .. }), "{e:?}");
    assert!(
        e.to_string().starts_with(&format!(
            "could not load commit {missing} in the OSTree repository {}: ",
            repo.display()
        )),
        "{e}"
    );
    assert!(std::error::Error::source(&e).is_some());
    assert_eq!(machine::Error::from(e).kind(), ErrorKind::Export);

    // No repository at all.
    let nowhere = t.path().join("nowhere");
    let e = export(&nowhere, &c, &info(), &dir).expect_err("no repository");
    assert!(
        e.to_string().starts_with(&format!(
            "could not open in the OSTree repository {}: ",
            nowhere.display()
        )),
        "{e}"
    );
}
