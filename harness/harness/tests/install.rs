//! The harness travels without its source tree (issue 16): the scenario library and the
//! certification profile are built into the binary, so an installed copy run from an empty
//! directory runs the whole library and certifies a registrar, and its reports name scenarios
//! by relative path, never by where the harness was built. `--partition K/N` in three runs and
//! `harness report merge` give the report one run gives.
//!
//! An installed harness is its binary and nothing else, so these tests copy this build's
//! binary to a temporary `bin/` and run it from an empty directory with a minimal
//! environment; the certification runs under `strace` to show that no file of the checkout
//! is even looked at (`ci/test` installs strace: a missing tool fails the test). The real
//! `cargo install --path harness/harness --root DIR` builds the harness from scratch in
//! release mode, which takes minutes on two cores: that test is ignored by default and runs
//! with `cargo test -p harness --test install -- --ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_harness");

/// The checkout this test runs from (canonical, as the kernel sees paths).
fn checkout() -> PathBuf {
    std::fs::canonicalize(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")).unwrap()
}

/// A harness installed as `<root>/bin/harness`, run from the empty `<root>/work`.
struct Installed {
    root: tempfile::TempDir,
}

impl Installed {
    /// This build's binary, copied out of the checkout.
    fn copy() -> Self {
        let root = tempfile::tempdir().unwrap();
        assert!(
            !root.path().starts_with(checkout()),
            "the temporary directory must be outside the checkout"
        );
        std::fs::create_dir_all(root.path().join("bin")).unwrap();
        std::fs::create_dir_all(root.path().join("work")).unwrap();
        std::fs::copy(BIN, root.path().join("bin/harness")).unwrap();
        Self { root }
    }

    fn bin(&self) -> PathBuf {
        self.root.path().join("bin/harness")
    }

    fn work(&self) -> PathBuf {
        self.root.path().join("work")
    }

    /// `harness ARGS` in the empty directory, with nothing of the checkout in its environment.
    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.current_dir(self.work())
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", self.root.path());
        c
    }

    fn harness(&self, args: &[&str]) -> Output {
        self.command(&self.bin()).args(args).output().unwrap()
    }
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every file under `dir` that mentions the checkout's path (or the `…/harness/../scenarios`
/// form the reports once had).
fn files_naming_the_checkout(dir: &Path) -> Vec<String> {
    let needles = [
        checkout().display().to_string(),
        "harness/../scenarios".to_string(),
        "harness/../../scenarios".to_string(),
    ];
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let body = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
                for n in &needles {
                    if body.contains(n.as_str()) {
                        out.push(format!("{} names {n}", p.display()));
                    }
                }
            }
        }
    }
    out
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A report with what differs from run to run taken out: the wall-clock fields (`started`,
/// `wall_seconds`), the RRSIG validity times that also cover the wall clock (14 digits), and
/// the EPP passwords of each run's fresh PKI.
fn normalized(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "started" | "wall_seconds"))
                .map(|(k, v)| (k.clone(), normalized(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalized).collect()),
        Value::String(s) => Value::String(mask(s)),
        other => other.clone(),
    }
}

fn mask(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    // <pw>…</pw> → <pw/>
    while let Some(i) = rest.find("<pw>") {
        out.push_str(&rest[..i]);
        match rest[i..].find("</pw>") {
            Some(j) => {
                out.push_str("<pw/>");
                rest = &rest[i + j + "</pw>".len()..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    // Runs of exactly 14 digits → <time>
    let mut masked = String::new();
    let mut digits = String::new();
    for c in out.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if digits.len() == 14 {
            masked.push_str("<time>");
        } else {
            masked.push_str(&digits);
        }
        digits.clear();
        if c != '\0' {
            masked.push(c);
        }
    }
    masked
}

fn ids(report: &Value) -> Vec<String> {
    report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn masking_takes_out_only_what_differs_between_runs() {
    assert_eq!(
        mask("sig{1/13 20260302080000-20261221144703} <pw>x1</pw> 123 <pw>y</pw>."),
        "sig{1/13 <time>-<time>} <pw/> 123 <pw/>."
    );
}

#[test]
fn a_copy_of_the_binary_runs_the_whole_library_anywhere_and_partitions_merge_into_the_same_report()
{
    let h = Installed::copy();
    let library: Vec<String> = harness::scenario::library::scenario_files("")
        .iter()
        .map(|f| f.load().unwrap().id)
        .collect();
    let n = library.len();
    assert!(n >= 20, "{n} scenarios in the library");

    // The whole library, as one machine runs it.
    let whole = h.harness(&[
        "run",
        "--json",
        "whole.json",
        "--junit",
        "whole.xml",
        "--html",
        "whole",
        "--progress",
        "lines",
    ]);
    let out = text(&whole);
    assert_eq!(whole.status.code(), Some(0), "{out}");
    assert!(
        out.contains(&format!("{n} of {n} scenarios passed")),
        "{out}"
    );
    // Plain progress lines on stderr (not a terminal): one per scenario, with the counts.
    let stderr = String::from_utf8_lossy(&whole.stderr);
    assert_eq!(stderr.matches(" PASS ").count(), n, "{stderr}");
    assert!(stderr.contains(&format!("[{n}/{n}] PASS ")), "{stderr}");
    assert!(stderr.contains(" (0 failed, "), "{stderr}");
    let report = json(&h.work().join("whole.json"));
    assert_eq!(ids(&report), library);
    for s in report["scenarios"].as_array().unwrap() {
        let path = s["path"].as_str().unwrap();
        assert!(
            path.starts_with("scenarios/") && !path.contains("certify"),
            "{path}"
        );
    }

    // Three parts, each from its own run, and the merge.
    let mut parts = Vec::new();
    let mut ran = Vec::new();
    for k in 1..=3 {
        let name = format!("part-{k}.json");
        let o = h.harness(&[
            "run",
            "--partition",
            &format!("{k}/3"),
            "--json",
            &name,
            "--progress",
            "off",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let part = json(&h.work().join(&name));
        assert_eq!(part["partition"]["index"], k);
        assert_eq!(part["partition"]["count"], 3);
        ran.extend(ids(&part));
        parts.push(name);
    }
    ran.sort();
    let mut all = library.clone();
    all.sort();
    assert_eq!(ran, all, "every scenario ran in exactly one part");

    let mut args = vec!["report", "merge"];
    args.extend(parts.iter().map(String::as_str));
    args.extend([
        "--json",
        "merged.json",
        "--junit",
        "merged.xml",
        "--html",
        "merged",
    ]);
    let merge = h.harness(&args);
    assert_eq!(merge.status.code(), Some(0), "{}", text(&merge));
    let merged = json(&h.work().join("merged.json"));
    assert_eq!(ids(&merged), library, "the run's order");
    assert_eq!(merged["partition"], Value::Null);
    assert!(
        normalized(&merged) == normalized(&report),
        "the merged report differs from one run's beyond wall-clock fields"
    );
    // The JUnit files have the same test cases, and the pages the same sections.
    let cases = |f: &str| -> Vec<String> {
        let xml = std::fs::read_to_string(h.work().join(f)).unwrap();
        xml.match_indices("<testcase name=\"")
            .map(|(i, _)| xml[i + 16..].split('"').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(cases("merged.xml"), cases("whole.xml"));
    assert_eq!(cases("whole.xml"), library);
    let sections = |d: &str| -> usize {
        std::fs::read_to_string(h.work().join(d).join("index.html"))
            .unwrap()
            .matches("<section id=")
            .count()
    };
    assert_eq!(sections("merged"), n);
    assert_eq!(sections("whole"), n);
    assert!(h.work().join("merged/secure-transfer-13-13.svg").is_file());

    let named = files_naming_the_checkout(&h.work());
    assert!(named.is_empty(), "{named:#?}");
}

#[test]
fn a_copy_of_the_binary_certifies_without_looking_at_the_checkout() {
    let h = Installed::copy();
    let subject = format!("{} reference-registrar", h.bin().display());
    let trace = h.root.path().join("trace");
    // Every file system call of the harness and the processes it starts.
    let out = h
        .command(Path::new("strace"))
        .arg("-f")
        .arg("-qq")
        .arg("--seccomp-bpf")
        .args(["-e", "trace=%file,%process"])
        .arg("-o")
        .arg(&trace)
        .arg(h.bin())
        .env("HARNESS_CERTIFY_EXPLORE", "0")
        .args(["certify", "--subject", &subject, "--out", "r"])
        .args(["--junit", "r/junit.xml", "--progress", "lines"])
        .output()
        .unwrap_or_else(|e| panic!("strace is required (ci/test installs it): {e}"));
    let o = text(&out);
    assert_eq!(out.status.code(), Some(0), "{o}");
    assert!(o.contains("certified: wrote r/certification.html"), "{o}");
    let trace = std::fs::read_to_string(&trace).unwrap();
    assert!(
        trace.contains("execve(") && trace.contains("reference-registrar"),
        "strace saw the harness and the registrar process:\n{}",
        &trace[..trace.len().min(2000)]
    );
    let checkout = checkout().display().to_string();
    let touched: Vec<&str> = trace.lines().filter(|l| l.contains(&checkout)).collect();
    assert!(touched.is_empty(), "{touched:#?}");

    let report = json(&h.work().join("r/certification.json"));
    assert_eq!(report["certified"], true);
    assert_eq!(report["profile"], "scenarios/certify (built in)");
    let profile: Vec<String> = harness::scenario::library::scenario_files("certify")
        .iter()
        .map(|f| f.display_path().display().to_string())
        .collect();
    let paths: Vec<String> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, profile);
    let named = files_naming_the_checkout(&h.work());
    assert!(named.is_empty(), "{named:#?}");

    // The library can be written out, edited and run from disk.
    let export = h.harness(&["scenarios", "export", "lib"]);
    assert_eq!(export.status.code(), Some(0), "{}", text(&export));
    assert!(h.work().join("lib/certify/gaining.toml").is_file());
    assert!(h.work().join("lib/README.md").is_file());
    let lint = h.harness(&["lint", "lib", "lib/certify"]);
    assert_eq!(lint.status.code(), Some(0), "{}", text(&lint));
    assert!(
        String::from_utf8_lossy(&lint.stdout).contains("ok lib/certify/gaining.toml"),
        "{}",
        text(&lint)
    );

    // The documented example (ADAPTER.md) works here too: a path under scenarios/ that is not
    // on disk names the built-in file.
    let run = h.harness(&[
        "run",
        "scenarios/certify/gaining.toml",
        "--subject",
        &subject,
        "--progress",
        "off",
    ]);
    let o = text(&run);
    assert_eq!(run.status.code(), Some(0), "{o}");
    assert!(o.contains("PASS certify-gaining"), "{o}");
    let missing = h.harness(&["lint", "scenarios/no-such.toml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing).contains("nor a file of the built-in library"),
        "{}",
        text(&missing)
    );
}

/// The real thing, by hand: `cargo install --path harness/harness --root <tmp>` (a release
/// build from scratch in its own target directory), then the installed binary in an empty
/// directory runs the whole library and certifies the reference registrar.
#[test]
#[ignore = "builds the harness from scratch in release mode (minutes); run with --ignored"]
fn cargo_install_then_run_and_certify_from_an_empty_directory() {
    let root = tempfile::tempdir().unwrap();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["install", "--locked", "--path"])
        .arg(checkout().join("harness/harness"))
        .arg("--root")
        .arg(root.path())
        .env("CARGO_TARGET_DIR", root.path().join("target"))
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::remove_dir_all(root.path().join("target")).unwrap();
    let work = root.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let bin = root.path().join("bin/harness");
    let run = |args: &[&str]| {
        Command::new(&bin)
            .args(args)
            .current_dir(&work)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .output()
            .unwrap()
    };
    let o = run(&["run", "--json", "run.json", "--html", "html"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let n = harness::scenario::library::scenario_files("").len();
    assert_eq!(ids(&json(&work.join("run.json"))).len(), n);
    let subject = format!("{} reference-registrar", bin.display());
    let o = run(&["certify", "--subject", &subject, "--out", "r"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(json(&work.join("r/certification.json"))["certified"], true);
    let named = files_naming_the_checkout(&work);
    assert!(named.is_empty(), "{named:#?}");
}
