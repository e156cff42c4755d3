//! The JSON reports (`harness run --json`, `certification.json`) validate against the
//! checked-in schema `harness/harness/report.schema.json`, checked by an independent validator
//! (`check-jsonschema`, from PyPI; `ci/test` installs it: a missing validator fails the test,
//! it never skips it). The schema names every check id the harness has.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::path::{Path, PathBuf};
use std::process::Command;

use harness::checks::CheckId;

const BIN: &str = env!("CARGO_BIN_EXE_harness");

fn crate_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn schema() -> PathBuf {
    crate_dir().join("report.schema.json")
}

fn validate(report: &Path) {
    let out = Command::new("check-jsonschema")
        .arg("--schemafile")
        .arg(schema())
        .arg(report)
        .output()
        .unwrap_or_else(|e| {
            panic!("check-jsonschema is required (pip install check-jsonschema): {e}")
        });
    assert!(
        out.status.success(),
        "{} does not validate:\n{}{}",
        report.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_schema_names_every_check_id() {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema()).unwrap()).unwrap();
    let mut listed: Vec<String> = schema["$defs"]["check_id"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let mut known: Vec<String> = CheckId::ALL.iter().map(|c| c.id().to_string()).collect();
    listed.sort();
    known.sort();
    assert_eq!(listed, known);
}

#[test]
fn run_and_certification_reports_validate() {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = crate_dir().join("../../scenarios");
    // A caught fault (checks failing as expected, a verdict band that is not secure), an
    // EPP-only scenario (no chain checks) and key relay receipts.
    // Run as two partitions (each part's report records its partition) and merged.
    let mut parts = Vec::new();
    for k in 1..=2 {
        let part = dir.path().join(format!("part-{k}.json"));
        let out = Command::new(BIN)
            .arg("run")
            .arg(scenarios.join("fault-ns-host-misspelt.toml"))
            .arg(scenarios.join("keyrelay-refusals-and-revocation.toml"))
            .arg(scenarios.join("keyrelay-receipts.toml"))
            .args(["--partition", &format!("{k}/2"), "--json"])
            .arg(&part)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        validate(&part);
        parts.push(part);
    }
    let json = dir.path().join("run.json");
    let out = Command::new(BIN)
        .args(["report", "merge", "--json"])
        .arg(&json)
        .args(&parts)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    validate(&json);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["partition"], serde_json::Value::Null);
    let first = &report["scenarios"][0];
    assert!(
        first["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["check"] == "DNS-UNREACHABLE" && c["outcome"] == "expected-fail"),
        "{first:#}"
    );
    assert!(
        first["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["verdict"] == "unreachable" && !r["event"].as_str().unwrap().is_empty()),
        "{first:#}"
    );
    let receipts = &report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "keyrelay-receipts")
        .unwrap()["receipts"];
    assert_eq!(receipts[1]["state"], "published", "{receipts:#}");
    assert_eq!(
        receipts[1]["hosts"]["ns2.operator-a.example"], "published",
        "{receipts:#}"
    );

    let profile = dir.path().join("profile");
    std::fs::create_dir(&profile).unwrap();
    std::fs::copy(
        scenarios.join("certify/gaining.toml"),
        profile.join("gaining.toml"),
    )
    .unwrap();
    let out_dir = dir.path().join("cert");
    let out = Command::new(BIN)
        .arg("certify")
        .arg("--subject")
        .arg(format!("{BIN} reference-registrar"))
        .arg("--profile")
        .arg(&profile)
        .arg("--out")
        .arg(&out_dir)
        .arg("--junit")
        .arg(dir.path().join("junit.xml"))
        .args(["--explore", "3", "--explore-seed", "9"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    validate(&out_dir.join("certification.json"));
    // --explore: the seed and every world, with its settings and verdict, in both files.
    let cert: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("certification.json")).unwrap())
            .unwrap();
    assert_eq!(cert["explore"]["seed"], 9);
    let worlds = cert["explore"]["worlds"].as_array().unwrap();
    assert_eq!(worlds.len(), 3);
    assert!(
        worlds
            .iter()
            .all(|w| w["passed"] == true && w["params"]["seed"].is_u64())
    );
    let page = std::fs::read_to_string(out_dir.join("certification.html")).unwrap();
    assert!(page.contains("Random worlds") && page.contains("--explore-seed 9"));
    for w in worlds {
        assert!(
            page.contains(&format!("<tr><td>{}</td>", w["index"])),
            "{page}"
        );
    }
    // --junit: one test case per certification scenario, none failing.
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(
        junit.contains("<testcase name=\"certify-gaining\"") && !junit.contains("<failure"),
        "{junit}"
    );
    // Each scenario's picture beside the page.
    assert!(out_dir.join("certify-gaining.svg").is_file());
}

/// `harness explore --json` validates too, and `--junit` has one test case per world.
#[test]
fn an_exploration_report_validates() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("explore.json");
    let junit = dir.path().join("explore.xml");
    let out = Command::new(BIN)
        .args(["explore", "--cases", "2", "--seed", "3", "--out"])
        .arg(dir.path().join("explored"))
        .arg("--json")
        .arg(&json)
        .arg("--junit")
        .arg(&junit)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("explore: seed 3, 2 worlds"), "{stdout}");
    assert!(stdout.contains("2 of 2 worlds passed (seed 3)"), "{stdout}");
    validate(&json);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["kind"], "harness-explore");
    assert_eq!(report["worlds"].as_array().unwrap().len(), 2);
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 2, "{junit}");
}

#[test]
fn a_wall_clock_report_validates_and_states_the_clock() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("wall.json");
    let out = Command::new(BIN)
        .args([
            "run",
            "--clock",
            "wall",
            "--time-scale",
            "4320",
            "--sample-ms",
            "100",
        ])
        .arg(crate_dir().join("../../scenarios/fault-keyrelay-wrong-token.toml"))
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("x4320"), "{stdout}");
    validate(&json);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let s = &report["scenarios"][0];
    assert_eq!(s["clock"], "wall");
    assert_eq!(s["time_scale"], 4320);
    assert_eq!(s["sample_ms"], 100);
}
