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
    let good = harness::scenario::library::text("secure-transfer-13-13.toml").unwrap();
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
    let good = harness::scenario::library::text("fault-ns-switched-too-early.toml").unwrap();
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
    let good = harness::scenario::library::text("secure-transfer-13-13.toml").unwrap();
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

#[test]
fn the_built_in_library_is_listed_linted_and_partitioned_by_id() {
    let out = harness().args(["scenarios", "list"]).output().unwrap();
    assert!(out.status.success());
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        list.contains("scenarios/secure-transfer-13-13.toml") && list.contains("certify-gaining"),
        "{list}"
    );
    // Linting with no paths checks the built-in library, named by relative path.
    let out = harness().arg("lint").output().unwrap();
    let lint = String::from_utf8_lossy(&out.stdout);
    assert!(
        lint.contains("ok scenarios/secure-transfer-13-13.toml (secure-transfer-13-13)"),
        "{lint}"
    );
    for bad in ["0/3", "4/3", "1-3"] {
        let out = harness()
            .args(["run", "--partition", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("expected K/N with 1 <= K <= N"), "{err}");
    }
}

#[test]
fn report_merge_names_a_missing_partition_and_needs_an_output() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let out = harness()
        .args(["scenarios", "export"])
        .arg(&lib)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Sorted ids: keyrelay-refusals-and-revocation (1/2), unsigned-domain (2/2).
    let part = dir.path().join("part-2.json");
    let out = harness()
        .args(["run", "--partition", "2/2", "--progress", "lines", "--json"])
        .arg(&part)
        .arg(lib.join("unsigned-domain.toml"))
        .arg(lib.join("keyrelay-refusals-and-revocation.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("1 of 1 scenarios passed (partition 2/2 of a run of 2)"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[1/1] PASS unsigned-domain  (0 failed, "),
        "{stderr}"
    );

    let out = harness()
        .args(["report", "merge"])
        .arg(&part)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("say where to write"));
    let out = harness()
        .args(["report", "merge", "--json"])
        .arg(dir.path().join("merged.json"))
        .arg(&part)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "partition(s) 1 of 2 missing (their scenarios: keyrelay-refusals-and-revocation)"
        ),
        "{err}"
    );
    assert!(!dir.path().join("merged.json").exists(), "nothing written");
}

#[test]
fn a_start_too_far_from_today_for_any_signature_is_the_harness_fault_not_a_bogus_chain() {
    // Signatures must be valid at the virtual start and today; RRSIG times order only within
    // 2^31 seconds (RFC 4034 §3.1.5), so a world a century ahead cannot be signed. Before the
    // check, such a run blamed the registrar with DNSSEC-CHAIN-BOGUS ("not valid yet").
    let dir = tempfile::tempdir().unwrap();
    let good = harness::scenario::library::text("secure-transfer-13-13.toml").unwrap();
    let far = good.replacen(
        "\n[registrars.A]\n",
        "\n[world]\nstart = \"2126-01-01T00:00:00Z\"\n\n[registrars.A]\n",
        1,
    );
    assert_ne!(far, good, "the library file has a registrar A");
    let path = dir.path().join("far.toml");
    std::fs::write(&path, far).unwrap();
    let out = harness().arg("run").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("HARNESS-FAULT"), "{stdout}");
    assert!(
        stdout.contains("move the start closer to today or shorten signature_validity"),
        "{stdout}"
    );
    assert!(!stdout.contains("DNSSEC-CHAIN-BOGUS"), "{stdout}");

    // The same limit reached by a signature validity of 67.6 years from a start near today:
    // the message names the validity, not only the start.
    let long = good.replacen(
        "\n[registrars.A]\n",
        "\n[world]\nsignature_validity = \"24700d\"\n\n[registrars.A]\n",
        1,
    );
    std::fs::write(&path, long).unwrap();
    let out = harness().arg("run").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("the signature_validity of 24700d"),
        "{stdout}"
    );
}

#[test]
fn explore_refuses_what_could_not_work_before_running_any_world() {
    for args in [&["explore", "--jobs", "0"][..], &["run", "--jobs", "0"][..]] {
        let out = harness().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("must be at least 1"), "{args:?}: {stderr}");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = harness()
        .args(["explore", "--cases", "2", "--seed", "1", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not a directory"), "{stderr}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("worlds passed"),
        "no world ran"
    );
}

#[test]
fn a_failure_explored_without_a_shrink_budget_says_it_was_not_shrunk() {
    let dir = tempfile::tempdir().unwrap();
    let out = harness()
        .args([
            "explore",
            "--cases",
            "1",
            "--seed",
            "3",
            "--role",
            "gaining",
            "--fault",
            "fixed-one-hour-waits",
            "--shrink-budget",
            "0",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let written = std::fs::read_to_string(dir.path().join("shrunk-3-0.toml")).unwrap();
    assert!(
        written.contains("# Not shrunk (a shrink budget of 0 runs)"),
        "{written}"
    );
    assert!(!written.contains("every setting is needed"), "{written}");
}
