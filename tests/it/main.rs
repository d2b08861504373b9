//! Workspace integration tests: run the real `particle` binary on ../shared/debian-mirror.
