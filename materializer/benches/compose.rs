//! `cargo bench -p materializer --bench compose -- MIRROR NAMES_FILE REPO WORK_DIR [TIME]`
//!
//! Composes the packages named in NAMES_FILE (one name per line; each looked up in MIRROR's
//! bookworm Packages.xz, the .deb taken from MIRROR's pool) into REPO (created bare-user if
//! missing), staging under WORK_DIR. Prints `commit <checksum>`, each phase's time and
//! `total <seconds>`. Used by benches/compose-vs-mmdebstrap.sh for the side-by-side run.
//! With `COMPOSE_BASE=<commit>` in the environment the build starts from that commit (already in
//! REPO) instead of from nothing, as the CLI builds every transaction after a variant's first.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [mirror, names, repo, work, rest @ ..] = args.as_slice() else {
        eprintln!("usage: compose MIRROR NAMES_FILE REPO WORK_DIR [TIME]");
        std::process::exit(2);
    };
    let time: u64 = rest
        .first()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1_700_000_000);
    let mirror = PathBuf::from(mirror);
    let xz = std::fs::read(mirror.join("dists/bookworm/main/binary-amd64/Packages.xz"))
        .expect("read Packages.xz");
    let text = store::decompress(&xz, store::Compression::Xz, 1 << 30).expect("decompress");
    let universe = store::parse_packages_bytes(&text).expect("parse");
    let wanted = std::fs::read_to_string(names).expect("read names");
    let mut packages = Vec::new();
    for name in wanted.split_whitespace() {
        let p = universe
            .packages
            .iter()
            .find(|p| p.name == name && mirror.join(&p.filename).is_file())
            .unwrap_or_else(|| panic!("{name} is not in the pool"));
        packages.push(materializer::PackageInput {
            package: p.entry(),
            deb_path: Some(mirror.join(&p.filename)),
        });
    }
    let base = std::env::var("COMPOSE_BASE")
        .ok()
        .map(|c| store::CommitId::from_hex(&c).expect("COMPOSE_BASE: a commit checksum"));
    let input = materializer::BuildInput {
        variant: "bench".to_owned(),
        description: None,
        parent_variant: None,
        seq: 1,
        journal_head: store::TxnId::GENESIS,
        time,
        packages,
        profile: materializer::Profile::default(),
        inrelease: BTreeMap::new(),
        parent_commit: base,
        base_commit: base,
        architectures: Vec::new(),
    };
    let repo = PathBuf::from(repo);
    materializer::init_repo(&repo).expect("init repo");
    let start = Instant::now();
    let built =
        materializer::materialize(&repo, &PathBuf::from(work), &input).unwrap_or_else(|e| {
            eprintln!("compose failed: {e}");
            let mut s = std::error::Error::source(&e);
            while let Some(c) = s {
                eprintln!("  caused by: {c}");
                s = c.source();
            }
            std::process::exit(1);
        });
    println!("commit {}", built.commit);
    for (phase, t) in &built.timings {
        println!("phase {phase} {:.3}", t.as_secs_f64());
    }
    println!("total {:.3}", start.elapsed().as_secs_f64());
}
