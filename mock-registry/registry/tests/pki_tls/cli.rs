//! `mock-registry pki …`, run as the real binary.

use std::path::Path;
use std::process::{Command, Output};

use mock_registry::pki::Pki;

fn mock_registry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mock-registry"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn pki_init_writes_every_file_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pki");
    let out_arg = out.to_str().unwrap();
    // Both forms: a repeated flag, and several values after one flag.
    let output = mock_registry(&[
        "pki",
        "init",
        "--out",
        out_arg,
        "--registrar",
        "registrar-a",
        "registrar-b",
        "--registrar",
        "1234",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));

    let expected: Vec<String> = [
        "ca.pem",
        "ca.key",
        "server.pem",
        "server.key",
        "1234.pem",
        "1234.key",
        "1234.password",
        "registrar-a.pem",
        "registrar-a.key",
        "registrar-a.password",
        "registrar-b.pem",
        "registrar-b.key",
        "registrar-b.password",
    ]
    .iter()
    .map(|f| out.join(f).display().to_string())
    .collect();
    let printed = stdout(&output);
    let printed_paths: Vec<&str> = printed
        .lines()
        .map(|line| {
            let rest = line
                .strip_prefix("wrote ")
                .expect("every line starts `wrote `");
            rest.split(" (").next().unwrap()
        })
        .collect();
    assert_eq!(printed_paths, expected, "{printed}");

    let mut on_disk: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    on_disk.sort();
    let mut wanted = expected.clone();
    wanted.sort();
    assert_eq!(on_disk, wanted);

    // What the binary wrote is a complete, consistent PKI.
    let pki = Pki::load(&out).unwrap();
    let names: Vec<_> = pki.registrars().map(|r| r.clid().to_string()).collect();
    assert_eq!(names, ["1234", "registrar-a", "registrar-b"]);
}

#[test]
fn pki_init_refuses_a_bad_name_before_writing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pki");
    let output = mock_registry(&[
        "pki",
        "init",
        "--out",
        out.to_str().unwrap(),
        "--registrar",
        "good-name",
        "--registrar",
        "xy",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("\"xy\" is not a valid EPP clID"),
        "{message}"
    );
    assert!(!out.exists());
}

#[test]
fn pki_init_refuses_to_overwrite_and_add_registrar_extends() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    assert!(
        mock_registry(&["pki", "init", "--out", out, "--registrar", "registrar-a"])
            .status
            .success()
    );
    let again = mock_registry(&["pki", "init", "--out", out]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );

    let added = mock_registry(&[
        "pki",
        "add-registrar",
        "--dir",
        out,
        "--registrar",
        "registrar-b",
    ]);
    assert!(added.status.success(), "{}", stderr(&added));
    assert_eq!(stdout(&added).lines().count(), 3);
    let pki = Pki::load(Path::new(out)).unwrap();
    assert!(pki.registrar("registrar-b").is_some());
}

#[test]
fn pki_without_a_subcommand_is_a_usage_error() {
    let output = mock_registry(&["pki"]);
    assert_eq!(output.status.code(), Some(2));
}
