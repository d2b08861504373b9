//! Integration tests of the materializer on the real bookworm pool and on hostile packages.
//! Needs root, bubblewrap, dpkg-deb and the ostree CLI (for independent checks).

mod common;
mod compose;
mod hostile;
mod incremental;
