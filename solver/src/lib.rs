//! solver: (in progress)
