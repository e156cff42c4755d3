//! The `harness` binary as users call it: lint names the line of a misspelt key; run writes
//! JUnit and JSON and exits non-zero when a scenario fails.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::process::Command;

fn harness() -> Command {
    Command::new(env!("CARGO_BIN_EXE_harness"))
}

#[test]
fn lint_accepts_the_library_and_names_the_line_of_a_misspelt_key() {
    let out = harness().arg("lint").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(
        harness::scenario::default_dir().join("secure-transfer-13-13.toml"),
    )
    .unwrap();
    let bad = good.replace("sponsor = \"A\"", "sponsr = \"A\"");
    let line = bad.lines().position(|l| l.starts_with("sponsr")).unwrap() + 1;
    let path = dir.path().join("misspelt.toml");
    std::fs::write(&path, bad).unwrap();
    let out = harness().arg("lint").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("misspelt.toml:{line}:")), "{err}");
    assert!(
        err.contains("unknown field `sponsr`") && err.contains("sponsor"),
        "{err}"
    );
}

#[test]
fn run_writes_junit_and_json_and_fails_on_a_failing_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(
        harness::scenario::default_dir().join("fault-ns-switched-too-early.toml"),
    )
    .unwrap();
    // The same faulty variant, now expected to be secure: it must fail.
    let bad = good
        .replace("failures = [\"DNSSEC-CHAIN-BOGUS\"]", "")
        .replace(
            "id = \"fault-ns-switched-too-early\"",
            "id = \"expects-secure\"",
        );
    std::fs::write(dir.path().join("expects-secure.toml"), bad).unwrap();
    std::fs::write(dir.path().join("caught.toml"), good).unwrap();
    let junit = dir.path().join("report.xml");
    let json = dir.path().join("report.json");
    let out = harness()
        .args(["run", "--junit"])
        .arg(&junit)
        .arg("--json")
        .arg(&json)
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("PASS fault-ns-switched-too-early"),
        "{stdout}"
    );
    assert!(stdout.contains("FAIL expects-secure"), "{stdout}");
    assert!(stdout.contains("DNSSEC-CHAIN-BOGUS"), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase").count(), 2, "{xml}");
    assert!(xml.contains("type=\"DNSSEC-CHAIN-BOGUS\""), "{xml}");
    assert!(xml.contains("<system-out>"), "{xml}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["scenarios"].as_array().unwrap().len(), 2);
}

#[test]
fn real_dns_software_needs_the_wall_clock_and_the_loader_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(
        harness::scenario::default_dir().join("secure-transfer-13-13.toml"),
    )
    .unwrap();
    let real = good.replacen(
        "operator = { algorithm = 13, denial = \"nsec\" }",
        "operator = { algorithm = 13, denial = \"nsec\", software = \"knot\" }",
        1,
    );
    assert_ne!(real, good);
    let line = real.lines().position(|l| l.contains("\"knot\"")).unwrap() + 1;
    let path = dir.path().join("knot.toml");
    std::fs::write(&path, &real).unwrap();
    // lint checks the file, whatever the clock: it is valid.
    let out = harness().arg("lint").arg(&path).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // run on the virtual clock refuses it before starting anything, naming file and line.
    let out = harness().arg("run").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("knot.toml:{line}:")), "{err}");
    assert!(err.contains("--clock wall"), "{err}");

    // What the software cannot do is refused at load, on any clock.
    let nsec3 = real.replacen(
        "software = \"knot\" }",
        "software = \"knot\", nsec3 = { iterations = 5 } }",
        1,
    );
    std::fs::write(&path, &nsec3).unwrap();
    let out = harness().arg("lint").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("knot.toml:{line}:")) && err.contains("RFC 9276"),
        "{err}"
    );
    let typo = real.replacen("\"knot\"", "\"bind\"", 1);
    std::fs::write(&path, &typo).unwrap();
    let out = harness().arg("lint").arg(&path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("expected builtin, powerdns or knot"), "{err}");
}
