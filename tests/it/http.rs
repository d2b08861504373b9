//! `http://` sources: indices and .debs fetched from a loopback server, with a connection that
//! drops mid-file to exercise retry and `Range` resumption.

use crate::common::*;

#[test]
fn http_source_with_a_dropped_connection_resumes() {
    // Every .deb of the pool is served; `hello` is cut off the first time it is requested.
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("requests.log");
    let server = HttpServer::start(&mirror(), "hello_", &log);
    let uri = format!("http://127.0.0.1:{}", server.port);
    let env = Env::with_source(&uri, &debian_keyring());
    let up = env.run(&["--json", "repo", "update"]).ok().json();
    assert_eq!(up["sources"][0]["packages"], 63440);
    // The dry run of a small install lists what to download; the store then fetches over HTTP.
    let dry = env
        .run(&[
            "--json",
            "txn",
            "install",
            "--dry-run",
            "--no-recommends",
            "hello",
        ])
        .ok()
        .json();
    assert!(dry["download_bytes"].as_u64().expect("bytes") > 0);
    let fetched = env.run(&["--json", "store", "fetch", "hello"]).ok().json();
    assert_eq!(
        fetched["fetched"].as_array().expect("list").len(),
        1,
        "{fetched}"
    );
    // The object is verified and stored.
    env.run(&["--json", "store", "verify"]).ok();
    // The first response was cut; the client resumed with a Range request for the rest.
    let requests = std::fs::read_to_string(&log).expect("request log");
    let hello: Vec<&str> = requests
        .lines()
        .filter(|l| l.starts_with("GET ") && l.contains("/hello_"))
        .collect();
    assert_eq!(hello.len(), 2, "{requests}");
    assert!(
        hello[0].ends_with("range=None") && hello[1].contains("range=bytes="),
        "{hello:?}"
    );
    drop(server);
}
