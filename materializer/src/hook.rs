//! Named points of a build for crash tests. The CLI's fault injection (`PARTICLE_CRASH_AT`, see
//! `cli/src/faults.rs`) installs a function that may kill the process at one of them; nothing is
//! installed otherwise, so every point is a no-op in normal use.

use std::sync::OnceLock;

static HOOK: OnceLock<fn(&'static str)> = OnceLock::new();

/// Installs `hook`, called with the point's name at each named point of every later build
/// (`unpack` after each package, `scripts` while a sandboxed step runs, `commit` before the OSTree
/// commit, `ostree-objects` after the tree's objects are written but before the commit object,
/// `committed` after the OSTree transaction). Only the first call has an effect.
pub fn set_crash_hook(hook: fn(&'static str)) {
    let _ = HOOK.set(hook);
}

pub(crate) fn point(name: &'static str) {
    if let Some(hook) = HOOK.get() {
        hook(name);
    }
}
