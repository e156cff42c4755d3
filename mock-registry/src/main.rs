//! `mock-registry`: the command-line front end of the mock registry.
#![forbid(unsafe_code)]

fn main() {
    eprintln!("mock-registry: no subcommands yet");
    std::process::exit(2);
}
