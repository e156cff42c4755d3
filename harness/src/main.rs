//! `harness`: runs transfer scenarios against registrar implementations.
#![forbid(unsafe_code)]

fn main() {
    eprintln!("harness: no subcommands yet");
    std::process::exit(2);
}
