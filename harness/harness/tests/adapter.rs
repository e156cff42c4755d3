//! The adapter protocol end to end: the reference registrar as an external process gives the
//! same verdicts as in-process over the whole library; a registrar with its own DNS servers;
//! the Python example registrar; `harness certify`; and every way a registrar process can
//! fail is reported as REGISTRAR-FAILURE, with its stderr, never as a hang.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use harness::checks::CheckId;
use harness::report::{Outcome, ScenarioReport};
use harness::runner::{RunOptions, run_scenario, run_suite};
use harness::scenario::{self, Scenario};

const BIN: &str = env!("CARGO_BIN_EXE_harness");

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(rel: &str) -> Scenario {
    scenario::load(&workspace().join(rel)).unwrap()
}

fn library() -> Vec<Scenario> {
    scenario::load_all(&[]).unwrap()
}

/// A scenario's verdict: pass/fail and every check with its outcome and message, except the
/// adapter's own check (which only a process can fail).
fn verdict(r: &ScenarioReport) -> (bool, Vec<(CheckId, Outcome, String)>) {
    let mut checks: Vec<(CheckId, Outcome, String)> = r
        .checks
        .iter()
        .filter(|c| c.check != CheckId::RegistrarFailure)
        .map(|c| (c.check, c.outcome, without_sig_times(&c.message)))
        .collect();
    checks.sort_by(|a, b| (a.0, &a.2).cmp(&(b.0, &b.2)));
    (r.passed, checks)
}

/// Messages quote RRSIGs, whose validity also covers the wall clock of the run (so real
/// validators accept them): their 14-digit times differ between runs, the rest must not.
fn without_sig_times(m: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    for c in m.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if digits.len() == 14 {
            out.push_str("<time>");
        } else {
            out.push_str(&digits);
        }
        digits.clear();
        out.push(c);
    }
    out.pop();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_gives_identical_verdicts_in_process_and_as_processes() {
    let in_process = run_suite(library(), &RunOptions::default(), 2, |_| {}).await;
    let options = RunOptions {
        reference_process: Some(format!("{BIN} reference-registrar")),
        ..RunOptions::default()
    };
    let as_processes = run_suite(library(), &options, 2, |_| {}).await;
    assert_eq!(in_process.len(), as_processes.len());
    assert!(in_process.len() >= 15);
    let mut differ = Vec::new();
    for (a, b) in in_process.iter().zip(&as_processes) {
        assert_eq!(a.id, b.id);
        if verdict(a) != verdict(b) {
            differ.push(format!(
                "{}:\n  in-process:  {:?}\n  as process:  {:?}",
                a.id,
                verdict(a),
                verdict(b)
            ));
        }
        // Every process followed the protocol.
        let rf: Vec<_> = b
            .checks
            .iter()
            .filter(|c| c.check == CheckId::RegistrarFailure)
            .collect();
        assert_eq!(rf.len(), 1, "{}", b.id);
        assert_eq!(rf[0].outcome, Outcome::Pass, "{}: {}", b.id, rf[0].message);
        assert!(b.roles.values().all(|r| r.contains("as a process")));
    }
    assert!(differ.is_empty(), "verdicts differ:\n{}", differ.join("\n"));
    // The library passes both ways.
    assert!(as_processes.iter().all(|r| r.passed));
    // The operator role went through the protocol: the process drove both signers of the
    // operator change by `operator` requests naming them.
    let change = as_processes
        .iter()
        .find(|r| r.id == "ds-automation-operator-change")
        .unwrap();
    for label in ["A", "B"] {
        assert!(
            change
                .transcript
                .iter()
                .any(|l| l.contains(&format!("[A controls operator {label}] set CSYNC"))),
            "{:#?}",
            change.transcript
        );
    }
    // And RFC 9615 signals, with which the `ch` registry bootstraps at once.
    let signals = as_processes
        .iter()
        .find(|r| r.id == "ds-automation-bootstrap-ch-signals")
        .unwrap();
    assert!(
        signals
            .transcript
            .iter()
            .any(|l| l.contains("[A controls operator A] set RFC 9615 signals")),
        "{:#?}",
        signals.transcript
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gaining_registrar_with_its_own_dns_servers_passes() {
    let options = RunOptions {
        subject: Some(format!("{BIN} reference-registrar --own-dns")),
        ..RunOptions::default()
    };
    for file in [
        "scenarios/certify/gaining.toml",
        "scenarios/certify/gaining-vs-slow-poller.toml",
    ] {
        let r = run_scenario(Arc::new(load(file)), &options).await;
        assert!(
            r.passed,
            "{file}: {:?} {:?}",
            r.error,
            r.failures().collect::<Vec<_>>()
        );
        // The chain was checked on the subject's own servers: the final DS is its KSK as
        // they serve it, and the timeline shows their keys.
        let final_ds = r
            .checks
            .iter()
            .find(|c| c.check == CheckId::FinalDs)
            .unwrap();
        assert_eq!(final_ds.outcome, Outcome::Pass, "{}", final_ds.message);
        assert!(
            r.timeline.iter().any(|row| row.dnskey.contains("B: ")),
            "{:?}",
            r.timeline
        );
    }
}

/// A domain moves to a registrar with its own servers and back: the registrar it returns to
/// must find those servers, although it was set up in the same run. Registrars that sponsor
/// nothing at the start are started first, so the servers they announce are in the others'
/// `hello` and directory (before, the way back gave up: "cannot reach any of ns1…").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_moves_back_from_a_registrar_with_its_own_dns_servers() {
    let mut s = load("scenarios/secure-transfer-a-b-a.toml");
    let b = s.registrars.iter().position(|r| r.label == "B").unwrap();
    s.registrars[b].played_by = scenario::PlayedBy::Subject;
    let options = RunOptions {
        subject: Some(format!("{BIN} reference-registrar --own-dns")),
        ..RunOptions::default()
    };
    let r = run_scenario(Arc::new(s), &options).await;
    assert!(r.passed, "{:?}", r.failures().collect::<Vec<_>>());
    // B delegated the domain to its own servers, and A took it back from them.
    let said = |who: &str, what: &str| {
        r.transcript
            .iter()
            .any(|l| l.contains(who) && l.contains(what))
    };
    assert!(
        said("[B info]", "switched NS to ns1.own-b"),
        "{:#?}",
        r.transcript
    );
    assert!(
        said("[A]", "switched NS to ns1.operator-a"),
        "{:#?}",
        r.transcript
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_dns_for_a_domain_the_registrar_sponsors_at_the_start_is_refused() {
    // The losing side starts with its zone on the hosted operator: announcing other servers
    // is a registrar failure with a clear message, not a silently wrong run.
    let s = Arc::new(load("scenarios/certify/losing.toml"));
    let own =
        r#"{"type":"ready","id":1,"dns":{"own":{"servers":{"ns1.own.example":"127.0.0.1:9"}}}}"#;
    let options = RunOptions {
        subject: Some(format!("read l; echo '{own}'; sleep 5")),
        ..RunOptions::default()
    };
    let r = run_scenario(s.clone(), &options).await;
    assert!(!r.passed);
    let f = r.failures().next().unwrap();
    assert_eq!(f.check, CheckId::RegistrarFailure);
    assert!(
        f.message.contains("sponsors example.nl at the start"),
        "{}",
        f.message
    );

    // The reference registrar asked for its own DNS keeps the hosted operator for such
    // domains (hello lists them), so it passes.
    let options = RunOptions {
        subject: Some(format!("{BIN} reference-registrar --own-dns")),
        ..RunOptions::default()
    };
    let r = run_scenario(s, &options).await;
    assert!(r.passed, "{:?}", r.failures().collect::<Vec<_>>());
}

/// The example registrar developers copy first is certified: `harness certify` on the whole
/// profile (gaining, losing, both sides, a losing side that ignores the relayed key, slow
/// pollers on either side) passes, and its log lines reach the transcripts.
#[test]
fn the_python_example_registrar_is_certified() {
    let script = workspace().join("harness/examples/python-registrar/registrar.py");
    let out = tempfile::tempdir().unwrap();
    // The profile only: random worlds are tested with the reference registrar.
    let run = Command::new(BIN)
        .env("HARNESS_CERTIFY_EXPLORE", "0")
        .arg("certify")
        .arg("--subject")
        .arg(format!("python3 {}", script.display()))
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("certified:"), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("certification.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["certified"], true);
    let scenarios = report["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 6, "{}", scenarios.len());
    let gaining = scenarios
        .iter()
        .find(|s| s["id"] == "certify-gaining")
        .unwrap();
    assert!(
        gaining["transcript"].as_array().unwrap().iter().any(|l| l
            .as_str()
            .unwrap()
            .contains("[B info] example.nl: switched NS")),
        "its log lines reach the transcript"
    );
}

/// Runs the gaining scenario with a misbehaving subject; returns the REGISTRAR-FAILURE message.
async fn failure_of(subject: &str) -> String {
    let options = RunOptions {
        subject: Some(subject.to_string()),
        timeout: Some(Duration::from_secs(3)),
        ..RunOptions::default()
    };
    let r = run_scenario(Arc::new(load("scenarios/certify/gaining.toml")), &options).await;
    assert!(!r.passed, "{subject} passed");
    let f = r
        .checks
        .iter()
        .find(|c| c.check == CheckId::RegistrarFailure && c.outcome == Outcome::Fail)
        .unwrap_or_else(|| panic!("{subject}: no REGISTRAR-FAILURE in {:?}", r.checks));
    assert!(
        !r.checks.iter().any(|c| c.check == CheckId::HarnessFault),
        "a registrar's failure is not the harness's"
    );
    f.message.clone()
}

const READY: &str = r#"{"type":"ready","id":1,"dns":"hosted"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_way_a_registrar_process_fails_is_reported_with_its_stderr() {
    let crash = failure_of("read l; echo 'fatal: no config file' >&2; exit 3").await;
    assert!(crash.contains("closed its output"), "{crash}");
    assert!(crash.contains("fatal: no config file"), "{crash}");

    let garbage = failure_of("read l; echo 'hello, harness'").await;
    assert!(garbage.contains("not a protocol message"), "{garbage}");

    // Writing without end, or bytes that are not text: refused at once, memory bounded.
    let endless = failure_of("read l; cat /dev/zero").await;
    assert!(endless.contains("a line longer than"), "{endless}");
    let binary = failure_of(r"read l; printf '\377\376\n'; sleep 5").await;
    assert!(binary.contains("not UTF-8"), "{binary}");

    let hang = failure_of("read l; sleep 60").await;
    assert!(hang.contains("no answer to message 1 within"), "{hang}");

    let wrong_id =
        failure_of(r#"read l; echo '{"type":"ready","id":7,"dns":"hosted"}'; sleep 5"#).await;
    assert!(wrong_id.contains("while 1 was due"), "{wrong_id}");

    let unknown = failure_of(&format!(
        r#"read l; echo '{READY}'; read l; echo '{{"type":"wibble","id":2}}'; sleep 5"#
    ))
    .await;
    assert!(unknown.contains("unknown variant `wibble`"), "{unknown}");

    let crash_later = failure_of(&format!(
        "read l; echo '{READY}'; read l; echo 'panic: index out of range' >&2; exit 2"
    ))
    .await;
    assert!(
        crash_later.contains("panic: index out of range"),
        "{crash_later}"
    );
    assert!(crash_later.contains("exited"), "{crash_later}");

    // What a registrar is told: the hello, as its stderr shows it.
    let hello = failure_of(r#"read l; echo "$l" >&2; exit 1"#).await;
    for part in [
        r#""type":"hello""#,
        r#""protocol":1"#,
        r#""label":"B""#,
        r#""roles":["gaining"]"#,
        r#""domains":[]"#,
        r#""ca_file":"#,
        r#""trust_anchor":". IN DNSKEY 257 3 13 "#,
    ] {
        assert!(hello.contains(part), "{part} not in {hello}");
    }

    let missing = failure_of("/nonexistent/registrar --flag").await;
    assert!(missing.contains("closed its output"), "{missing}");
}

#[test]
fn certify_with_the_reference_registrar_passes_and_writes_both_reports() {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(BIN)
        .args([
            "certify",
            "--subject",
            &format!("{BIN} reference-registrar"),
            "--out",
        ])
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("certification.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["kind"], "harness-certification");
    assert_eq!(json["certified"], true);
    assert_eq!(json["protocol_version"], 1);
    assert_eq!(json["harness_version"], env!("CARGO_PKG_VERSION"));
    // By default a certification meets ten random worlds too, all passed, seed recorded.
    let worlds = json["explore"]["worlds"].as_array().unwrap();
    assert_eq!(worlds.len(), 10, "{}", json["explore"]);
    assert!(worlds.iter().all(|w| w["passed"] == true));
    assert!(json["explore"]["seed"].is_u64());
    let scenarios = json["scenarios"].as_array().unwrap();
    let profile = harness::certify::load_profile(None).unwrap();
    assert_eq!(scenarios.len(), profile.len());
    assert_eq!(json["profile"], harness::certify::BUILT_IN_PROFILE);
    for s in scenarios {
        // Built-in files are named by their path in the repository, and hashed as embedded.
        let path = s["path"].as_str().unwrap();
        assert!(path.starts_with("scenarios/certify/"), "{path}");
        let bytes = std::fs::read(workspace().join(path)).unwrap();
        assert_eq!(
            scenario::library::file(path).map(|f| f.contents),
            Some(&bytes[..])
        );
        let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(s["sha256"], hex, "{path}");
        assert_eq!(s["passed"], true, "{path}");
        assert!(!s["checks"].as_array().unwrap().is_empty());
        assert!(!s["transcript"].as_array().unwrap().is_empty());
        assert!(
            s["roles"]
                .as_object()
                .unwrap()
                .values()
                .any(|r| r == "subject")
        );
    }
    // The misbehaving counterparts are in the profile.
    let roles = json.to_string();
    assert!(roles.contains("fault relayed-key-ignored"));
    assert!(roles.contains("polls every 12h"));
    let html = std::fs::read_to_string(out.path().join("certification.html")).unwrap();
    assert!(html.contains("CERTIFIED: every scenario passed"));
    for s in &profile {
        assert!(html.contains(&s.id), "{}", s.id);
        assert!(html.contains(&s.sha256));
    }
}

#[test]
fn certify_of_a_broken_registrar_fails_and_still_writes_the_reports() {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(BIN)
        .args([
            "certify",
            "--timeout",
            "2",
            "--subject",
            "echo nonsense",
            "--out",
        ])
        .arg(out.path())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("certification.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["certified"], false);
    let html = std::fs::read_to_string(out.path().join("certification.html")).unwrap();
    assert!(html.contains("NOT CERTIFIED"));
    assert!(html.contains("REGISTRAR-FAILURE"));
}
