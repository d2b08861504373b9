//! `particle-full`: every command of `particle`, run by it for those it does not answer
//! itself (see the `particle_cli` crate documentation).

fn main() -> std::process::ExitCode {
    particle_cli::full()
}
