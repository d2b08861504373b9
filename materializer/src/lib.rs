//! materializer: (in progress)
