//! `repo add/update/list` and `store verify` on the real mirror and on hostile copies of it.
//! Every refusal must leave the previously pinned snapshot in force.

use crate::common::*;

fn pinned(env: &Env) -> serde_json::Value {
    let list = env.run(&["--json", "repo", "list"]).ok().json();
    list["sources"][0]["pinned"].clone()
}

#[test]
fn real_mirror_verifies_and_pins_the_whole_index() {
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    let j = env.run(&["--json", "repo", "update"]).ok().json();
    let s = &j["sources"][0];
    assert_eq!(s["name"], "debian");
    assert_eq!(s["suite"], "bookworm");
    assert_eq!(s["packages"], 63440);
    let inrelease = std::fs::read(mirror().join("dists/bookworm/InRelease")).expect("read");
    assert_eq!(
        s["inrelease_sha256"],
        store::Sha256::of(&inrelease).to_hex()
    );
    // A second update of an unchanged mirror confirms the same pin.
    let again = env.run(&["--json", "repo", "update"]).ok().json();
    assert_eq!(again["sources"][0]["changed"], false);
    let v = env.run(&["--json", "store", "verify"]).ok().json();
    assert!(v["objects"].as_u64().expect("count") >= 3, "{v}");
}

/// Pins the real mirror from a copy, breaks the copy with `breaker`, and checks that the next
/// update fails with `kind`, mentioning `needle`, and keeps the first pin.
fn refused_after_pin(breaker: impl FnOnce(&std::path::Path), kind: &str, needle: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let m = mirror_copy(tmp.path());
    let env = Env::with_source(&file_uri(&m), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    let before = pinned(&env);
    assert_eq!(before["packages"], 63440);
    breaker(&m);
    let r = env.run(&["--json", "repo", "update"]).fails(kind);
    let msg = r.json()["error"]["message"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(msg.contains(needle), "message {msg:?} lacks {needle:?}");
    assert_eq!(pinned(&env), before, "the previous pin must stay in force");
    // Human output: one `error:` line naming the problem, exit 1.
    let h = env.run(&["repo", "update"]);
    assert_eq!(h.code, 1);
    assert!(
        h.stderr
            .lines()
            .any(|l| l.starts_with("error: ") && l.contains(needle)),
        "{}",
        h.stderr
    );
}

/// Breaks a fresh copy of the mirror with `breaker`: the first update fails with `kind`,
/// mentioning `needle`, and pins nothing.
fn refused_fresh(breaker: impl FnOnce(&std::path::Path), kind: &str, needle: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let m = mirror_copy(tmp.path());
    breaker(&m);
    let env = Env::with_source(&file_uri(&m), &debian_keyring());
    let r = env.run(&["--json", "repo", "update"]).fails(kind);
    let msg = r.json()["error"]["message"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(msg.contains(needle), "message {msg:?} lacks {needle:?}");
    assert!(pinned(&env).is_null(), "nothing may be pinned");
}

fn flip_byte(path: &std::path::Path, at: usize) {
    let mut data = std::fs::read(path).expect("read");
    data[at] ^= 0x01;
    std::fs::write(path, data).expect("write");
}

#[test]
fn one_byte_changed_in_inrelease_is_refused() {
    refused_after_pin(
        |m| {
            // Inside the signed text: "Origin: Debian" becomes "Origin: Debiao".
            let p = m.join("dists/bookworm/InRelease");
            let text = std::fs::read(&p).expect("read");
            let at = text
                .windows(6)
                .position(|w| w == b"Debian")
                .expect("Origin")
                + 5;
            flip_byte(&p, at);
        },
        "signature",
        "bad signature",
    );
}

#[test]
fn one_byte_changed_in_packages_is_refused() {
    refused_fresh(
        |m| {
            flip_byte(
                &m.join("dists/bookworm/main/binary-amd64/Packages.xz"),
                5000,
            )
        },
        "hash_mismatch",
        "SHA256",
    );
}

#[test]
fn truncated_packages_is_refused() {
    refused_fresh(
        |m| {
            let p = m.join("dists/bookworm/main/binary-amd64/Packages.xz");
            let data = std::fs::read(&p).expect("read");
            std::fs::write(&p, &data[..data.len() / 2]).expect("write");
        },
        "hash_mismatch",
        "truncated",
    );
}

#[test]
fn html_error_page_instead_of_packages_is_refused() {
    refused_fresh(
        |m| {
            std::fs::write(
                m.join("dists/bookworm/main/binary-amd64/Packages.xz"),
                b"<html><body>404</body></html>\n",
            )
            .expect("write");
        },
        "hash_mismatch",
        "Packages.xz",
    );
}

#[test]
fn a_new_release_with_a_broken_index_keeps_the_previous_pin() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = TestKey::generate();
    let archive = signed_archive(tmp.path(), &key, "Sat, 11 Jul 2026 10:16:37 UTC", "", 5);
    let env = Env::with_source(&file_uri(&archive), &key.keyring);
    env.run(&["repo", "update"]).ok();
    let before = pinned(&env);
    assert_eq!(before["packages"], 5);
    // A newer, validly signed Release whose index then gets corrupted on the mirror.
    signed_archive(tmp.path(), &key, "Sun, 12 Jul 2026 10:16:37 UTC", "", 9);
    flip_byte(
        &archive.join("dists/bookworm/main/binary-amd64/Packages"),
        10,
    );
    let r = env
        .run(&["--json", "repo", "update"])
        .fails("hash_mismatch");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("SHA256"),
        "{}",
        r.stdout
    );
    assert_eq!(pinned(&env), before, "the previous pin must stay in force");
}

#[test]
fn text_appended_after_the_signature_is_refused() {
    refused_after_pin(
        |m| {
            let p = m.join("dists/bookworm/InRelease");
            let mut data = std::fs::read(&p).expect("read");
            data.extend_from_slice(b"Origin: Evil\n");
            std::fs::write(&p, data).expect("write");
        },
        "signature",
        "after the signature",
    );
}

#[test]
fn missing_inrelease_is_refused() {
    refused_after_pin(
        |m| std::fs::remove_file(m.join("dists/bookworm/InRelease")).expect("rm"),
        "fetch",
        "not found",
    );
}

#[test]
fn a_key_not_in_the_keyring_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = TestKey::generate();
    let archive = signed_archive(tmp.path(), &key, "Sat, 11 Jul 2026 10:16:37 UTC", "", 20);
    // Signed by a real key, but checked against Debian's keyring.
    let env = Env::with_source(&file_uri(&archive), &debian_keyring());
    let r = env.run(&["--json", "repo", "update"]).fails("signature");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("not in keyring"),
        "{}",
        r.stdout
    );
    assert!(pinned(&env).is_null());
    // The same archive against its own key verifies.
    let ok = Env::with_source(&file_uri(&archive), &key.keyring);
    assert_eq!(
        ok.run(&["--json", "repo", "update"]).ok().json()["sources"][0]["packages"],
        20
    );
}

#[test]
fn valid_until_in_the_past_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = TestKey::generate();
    let archive = signed_archive(
        tmp.path(),
        &key,
        "Sat, 11 Jul 2026 10:16:37 UTC",
        "Valid-Until: Sat, 18 Jul 2026 10:16:37 UTC\n",
        5,
    );
    let env = Env::with_source(&file_uri(&archive), &key.keyring);
    let r = env.run(&["--json", "repo", "update"]).fails("release");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("Valid-Until"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_release_older_than_the_pinned_one_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = TestKey::generate();
    let archive = signed_archive(tmp.path(), &key, "Sat, 11 Jul 2026 10:16:37 UTC", "", 5);
    let env = Env::with_source(&file_uri(&archive), &key.keyring);
    env.run(&["repo", "update"]).ok();
    let before = pinned(&env);
    // A validly signed, but older, Release: a replay of an old archive state.
    signed_archive(tmp.path(), &key, "Sat, 11 Jan 2025 10:16:37 UTC", "", 7);
    let r = env.run(&["--json", "repo", "update"]).fails("release");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("older than the pinned"),
        "{}",
        r.stdout
    );
    assert_eq!(pinned(&env), before);
}

#[test]
fn weak_hashes_only_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = TestKey::generate();
    let root = tmp.path().join("archive");
    std::fs::create_dir_all(root.join("dists/bookworm")).expect("mkdir");
    let release = "Origin: Test\nCodename: bookworm\nDate: Sat, 11 Jul 2026 10:16:37 UTC\nMD5Sum:\n d41d8cd98f00b204e9800998ecf8427e 0 main/binary-amd64/Packages\n";
    std::fs::write(
        root.join("dists/bookworm/InRelease"),
        key.clearsign(release, "SHA256"),
    )
    .expect("write");
    let env = Env::with_source(&file_uri(&root), &key.keyring);
    let r = env.run(&["--json", "repo", "update"]).fails("release");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("weak"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_sha1_signature_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = TestKey::generate();
    let archive = signed_archive(tmp.path(), &key, "Sat, 11 Jul 2026 10:16:37 UTC", "", 5);
    let p = archive.join("dists/bookworm/InRelease");
    let text = String::from_utf8(std::fs::read(&p).expect("read")).expect("utf8");
    let (_, rest) = text.split_once("\n\n").expect("armor header");
    let signed = rest
        .split("\n-----BEGIN PGP SIGNATURE-----")
        .next()
        .expect("text");
    std::fs::write(&p, key.clearsign(&format!("{signed}\n"), "SHA1")).expect("write");
    let env = Env::with_source(&file_uri(&archive), &key.keyring);
    let r = env.run(&["--json", "repo", "update"]).fails("signature");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("weak digest"),
        "{}",
        r.stdout
    );
}

#[test]
fn store_verify_names_a_corrupt_object() {
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    // Corrupt the smallest object (the InRelease copy).
    let objects = env.root().join("store/objects");
    let mut files: Vec<_> = walk(&objects)
        .into_iter()
        .filter(|p| !p.starts_with(objects.join("tmp")))
        .collect();
    files.sort_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0));
    let victim = &files[0];
    flip_byte(victim, 100);
    let r = env
        .run(&["--json", "store", "verify"])
        .fails("corrupt_object");
    let name = victim
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .contains(&name),
        "{}",
        r.stdout
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn usage_and_state_errors() {
    let env = Env::new();
    // Not a state directory yet.
    env.run(&["--json", "repo", "list"])
        .fails("not_a_state_dir");
    env.run(&["init"]).ok();
    // Bad URI scheme and bad names are usage errors (exit 2) with one JSON document.
    let r = env.run(&[
        "--json", "repo", "add", "x", "--uri", "ftp://h/", "--suite", "s",
    ]);
    assert_eq!(r.code, 2);
    assert_eq!(r.json()["error"]["kind"], "usage");
    let r = env.run(&["--json", "repo", "update"]).fails("no_sources");
    assert!(r.json()["error"]["hint"].is_string());
    let r = env.run(&["--json", "no-such-command"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.json()["error"]["kind"], "usage");
}

/// A `.deb` on the mirror with one byte changed, cut in half, or replaced by an HTML error page:
/// `store fetch` refuses it against the pinned stanza's SHA256 and size before it enters the
/// store, leaves no download behind, and fetches the package once the mirror is sound again.
#[test]
fn a_broken_deb_is_refused_before_it_enters_the_store() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let m = mirror_copy(tmp.path());
    // A pool of the test's own holding only hello, so that it can be broken.
    let rel = "pool/main/h/hello/hello_2.10-3_amd64.deb";
    std::fs::remove_file(m.join("pool")).expect("drop the pool link");
    std::fs::create_dir_all(m.join(rel).parent().expect("dir")).expect("mkdir");
    let good = std::fs::read(mirror().join(rel)).expect("read hello");
    let env = Env::with_source(&file_uri(&m), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    let objects =
        |env: &Env| env.run(&["--json", "store", "verify"]).ok().json()["objects"].clone();
    let before = objects(&env);
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x01;
    let cases: [(&str, &[u8], &str); 3] = [
        ("one byte changed", &flipped, "SHA256"),
        ("truncated", &good[..good.len() / 2], "truncated"),
        (
            "an HTML error page",
            b"<html><body>404 Not Found</body></html>\n",
            "truncated or replaced",
        ),
    ];
    for (what, bytes, needle) in cases {
        std::fs::write(m.join(rel), bytes).expect("break hello");
        let r = env
            .run(&["--json", "store", "fetch", "hello"])
            .fails("hash_mismatch");
        let msg = r.json()["error"]["message"]
            .as_str()
            .expect("message")
            .to_owned();
        assert!(
            msg.contains(needle) && msg.contains("hello_2.10-3_amd64.deb"),
            "{what}: {msg}"
        );
        assert_eq!(objects(&env), before, "{what}: something entered the store");
        let tmp_left: Vec<_> = std::fs::read_dir(env.root().join("store/objects/tmp"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(
            tmp_left.is_empty(),
            "{what}: download leftovers {tmp_left:?}"
        );
    }
    std::fs::write(m.join(rel), &good).expect("repair hello");
    env.run(&["store", "fetch", "hello"]).ok();
    assert_ne!(objects(&env), before, "the sound .deb is stored");
}

/// The universe snapshot is a projection of the verified indices: a damaged one is reported
/// (not silently solved over), `store verify` names it, and `repo update` rebuilds it in place
/// even though the archive has not changed.
#[test]
fn a_damaged_snapshot_is_reported_and_rebuilt_by_the_next_update() {
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    let solve = || env.run(&["--json", "solve", "install", "hello"]);
    let answer = solve().ok().json();
    let objects = env.root().join("store/objects");
    let snapshot = walk(&objects)
        .into_iter()
        .find(|p| std::fs::read(p).is_ok_and(|b| b.starts_with(b"particle-table\x00")))
        .expect("a pinned snapshot");
    // The end of the file is the name directory's root object.
    let len = std::fs::metadata(&snapshot).expect("stat").len() as usize;
    for at in len - 16..len {
        flip_byte(&snapshot, at);
    }
    let r = solve().fails("corrupt_object");
    let message = r.json()["error"]["message"]
        .as_str()
        .expect("msg")
        .to_owned();
    assert!(message.contains("name directory"), "{message}");
    assert!(message.contains("repo update"), "{message}");
    env.run(&["--json", "store", "verify"])
        .fails("corrupt_object");
    env.run(&["repo", "update"]).ok();
    env.run(&["store", "verify"]).ok();
    assert_eq!(solve().ok().json(), answer);
}
