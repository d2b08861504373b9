//! `particle`: answers the commands that only read the state directory, runs `particle-full`
//! for every other (see the `particle_cli` crate documentation).

fn main() -> std::process::ExitCode {
    particle_cli::front()
}
