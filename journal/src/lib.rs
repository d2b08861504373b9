//! journal: (in progress)
