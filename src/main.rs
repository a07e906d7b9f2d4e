//! The `buzon` binary: parse the command line and dispatch (src/cli).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    buzon::cli::main()
}
