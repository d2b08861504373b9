//! Writes a synthetic journal for scale measurements (`benches/journal-scale.sh`):
//! `synth DIR N [FORMAT]` makes `DIR/records`, N transactions of a long-lived machine in the
//! given journal format (2, the default, or 1): a 200-package base, then security updates of one
//! to three packages, installs and removes of a package, and now and then a kernel argument.

use std::collections::BTreeMap;

use journal::{
    Actor, CommitId, FaultyStorage, Journal, NewRecord, PackageEntry, PackageSpec, Profile,
    Request, State, Value,
};
use store::Sha256;

fn pkg(name: &str, version: &str) -> PackageEntry {
    PackageEntry {
        sha256: Sha256::of(format!("{name}_{version}").as_bytes()),
        name: name.to_string(),
        version: version.to_string(),
        arch: "amd64".into(),
    }
}

fn base() -> State {
    let mut packages: Vec<PackageEntry> = (0..200)
        .map(|i| {
            pkg(
                &format!("lib{}-{i}", ["ssl", "systemd", "x11", "gtk-3"][i % 4]),
                "1.0-1",
            )
        })
        .collect();
    packages.sort_by(|a, b| a.key().cmp(&b.key()));
    State {
        indices: BTreeMap::from([("bookworm".into(), Sha256::of(b"main"))]),
        packages,
        profile: Profile {
            kargs: vec!["quiet".into(), "console=ttyS0,115200".into()],
            initramfs: BTreeMap::new(),
            sysctl: BTreeMap::new(),
            hardware: Value::Null,
        },
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (dir, n) = match (args.get(1), args.get(2).and_then(|s| s.parse::<u64>().ok())) {
        (Some(d), Some(n)) => (std::path::PathBuf::from(d), n),
        _ => {
            eprintln!("usage: synth DIR N [FORMAT]");
            std::process::exit(2);
        }
    };
    let format = args
        .get(3)
        .map_or(journal::FORMAT_VERSION, |f| f.parse().expect("format"));
    let disk = FaultyStorage::new();
    let (j, _) = Journal::open_with(disk.clone()).expect("open");
    let mut j = j.with_format(format);
    let mut state = base();
    for i in 0..n {
        let mut request = Request::Upgrade;
        if i > 0 {
            let len = state.packages.len();
            match i % 10 {
                // An install of a new package.
                0 => {
                    let name = format!("tool-{i}");
                    state.packages.push(pkg(&name, "2.1-3"));
                    state.packages.sort_by(|a, b| a.key().cmp(&b.key()));
                    request = Request::Install {
                        packages: vec![PackageSpec {
                            name,
                            version: None,
                        }],
                        no_recommends: false,
                    };
                }
                // A remove of the package installed ten transactions ago.
                5 if len > 200 => {
                    let name = format!("tool-{}", i - 5);
                    state.packages.retain(|p| p.name != name);
                    request = Request::Remove {
                        packages: vec![name],
                    };
                }
                7 => {
                    let kargs = &mut state.profile.kargs;
                    let delete: Vec<String> = kargs
                        .iter()
                        .filter(|k| k.starts_with("mitigations="))
                        .cloned()
                        .collect();
                    kargs.retain(|k| !k.starts_with("mitigations="));
                    kargs.push(format!("mitigations={}", ["auto", "off"][i as usize % 2]));
                    request = Request::Kargs {
                        append: vec![kargs[kargs.len() - 1].clone()],
                        delete,
                    };
                }
                // A security update of one to three packages.
                k => {
                    for c in 0..(1 + k % 3) as usize {
                        let at = (i as usize * 31 + c * 67) % len;
                        let name = state.packages[at].name.clone();
                        state.packages[at] = pkg(&name, &format!("1.0-1+deb12u{i}"));
                    }
                }
            }
        }
        j.append(NewRecord {
            time: 1_700_000_000 + i as i64 * 3600,
            actor: Actor {
                user: "root".into(),
                host: "fleet-0042".into(),
            },
            reason: String::new(),
            variant: "base".into(),
            request,
            state: state.clone(),
            commit: CommitId(Sha256::of(&i.to_le_bytes())),
            base: None,
        })
        .expect("append");
    }
    let bytes = disk.durable();
    let len = journal::scan(&bytes).valid_len as usize;
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("records"), &bytes[..len]).expect("write");
    println!("{} records, {len} bytes, format {format}", n);
}
