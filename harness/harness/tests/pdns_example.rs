//! The production-style example registrar (harness/examples/pdns-registrar/) is certified on
//! the wall clock: it starts its own PowerDNS, keeps the domains it gains there through the
//! HTTP API, acts on its own timers, and passes `harness certify --clock wall` on a profile of
//! four scenarios. Together they show each thing it must do with its own stack: gain a domain
//! from a KSK+ZSK signer and from a CSK signer (importing either data-signing key), lose one
//! from its own PowerDNS (publishing the relayed key with `direct-dnskey`, retiring the zone
//! once caches forgot it), lose one from the hosted operator, and give up safely (revoke the
//! relay, remove its zone) when the losing side ignores the relayed key; the there-and-back
//! scenario runs through registry chaos (2400s, dropped connections, logins refused for the
//! session limit), which its EPP client rides out. Every PowerDNS it started is stopped and its
//! directory removed. Its EPP client's retries are also unit-tested (`test_epp.py`).
//!
//! Skipped, saying so, only when PowerDNS (Debian `pdns-server`, `pdns-backend-sqlite3`) is
//! not installed; ci/test installs it.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_harness");

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether the example can start PowerDNS here: `pdns_server` where it looks for it (PATH,
/// then /usr/sbin and /usr/local/sbin) and the gsqlite3 schema it loads.
fn powerdns_installed() -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.extend(["/usr/sbin", "/usr/local/sbin"].map(PathBuf::from));
    dirs.iter().any(|d| d.join("pdns_server").is_file())
        && Path::new("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql").is_file()
}

/// The certification profile of this test: three scenarios of `scenarios/certify/` and the
/// example's there-and-back scenario, copied into `dir`. There and back runs through registry
/// chaos (`scenarios/registry-chaos.toml`'s rates: 2400 for three commands in ten, a dropped
/// connection after one in ten, a login refused 2502 for the session limit three times in
/// ten), which the example's EPP client must ride out as the Python example's does.
fn profile(dir: &Path) {
    let certify = workspace().join("scenarios/certify");
    for file in [
        "gaining.toml",
        "losing.toml",
        "gaining-vs-relayed-key-ignored.toml",
    ] {
        std::fs::copy(certify.join(file), dir.join(file)).unwrap();
    }
    let there_and_back = std::fs::read_to_string(
        workspace().join("harness/examples/pdns-registrar/there-and-back.toml"),
    )
    .unwrap();
    let chaos = "[world]\ntransient_failure_rate = 0.3\ndrop_connection_rate = 0.1\n\
                 session_limit_rate = 0.3\n\n[registrars.A]";
    assert!(there_and_back.contains("[registrars.A]") && !there_and_back.contains("[world]"));
    std::fs::write(
        dir.join("there-and-back.toml"),
        there_and_back.replacen("[registrars.A]", chaos, 1),
    )
    .unwrap();
}

/// The transcript lines of scenario `id` in a certification report.
fn transcript(report: &serde_json::Value, id: &str) -> Vec<String> {
    let scenario = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no scenario {id} in the report"));
    scenario["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

/// The pid and directory of the PowerDNS the example announced in its log line
/// "PowerDNS (pid N, directory D) answers at …".
fn powerdns_started(lines: &[String]) -> Option<(u32, PathBuf)> {
    lines.iter().find_map(|l| {
        let rest = l.split("PowerDNS (pid ").nth(1)?;
        let (pid, rest) = rest.split_once(", directory ")?;
        let (dir, _) = rest.split_once(") answers at ")?;
        Some((pid.parse().ok()?, PathBuf::from(dir)))
    })
}

fn said(lines: &[String], who: &str, what: &str) -> bool {
    lines.iter().any(|l| l.contains(who) && l.contains(what))
}

/// The example's EPP client survives what a registry may do to any command, as the Python
/// example's does: it sends a command answered 2400 again, logs in again after a dropped
/// connection or a session ended with 2500-2502 (also when that login is refused 2502 for the
/// session limit), gives up with EppUnavailable after six tries and passes any other refusal
/// on at once. Its unit tests (`test_epp.py`, standard-library `unittest` against a scripted
/// registry) need only Python, not PowerDNS.
#[test]
fn the_example_s_epp_client_retries_what_a_registry_may_do_to_any_command() {
    let script = workspace().join("harness/examples/pdns-registrar/test_epp.py");
    let run = Command::new("python3")
        .arg(&script)
        .arg("-v")
        // Nothing written into the source tree.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("Ran 9 tests") && stderr.contains("OK"),
        "{stderr}"
    );
}

#[test]
fn the_powerdns_example_registrar_is_certified_on_the_wall_clock() {
    if !powerdns_installed() {
        eprintln!(
            "SKIPPED: PowerDNS is not installed (Debian packages pdns-server and \
             pdns-backend-sqlite3; ci/test installs them)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let profile_dir = dir.path().join("profile");
    std::fs::create_dir(&profile_dir).unwrap();
    profile(&profile_dir);
    let out = dir.path().join("report");
    let adapter = workspace().join("harness/examples/pdns-registrar/adapter.py");
    let started = Instant::now();
    let run = Command::new(BIN)
        .args(["certify", "--clock", "wall", "--jobs", "4", "--profile"])
        .arg(&profile_dir)
        .arg("--subject")
        .arg(format!("python3 {}", adapter.display()))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    eprintln!(
        "certify --clock wall, 4 scenarios at once: {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("certified:"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("certification.json")).unwrap())
            .unwrap();
    assert_eq!(report["certified"], true);
    assert_eq!(report["scenarios"].as_array().unwrap().len(), 4);
    for s in report["scenarios"].as_array().unwrap() {
        assert_eq!(s["clock"], "wall", "{}", s["id"]);
    }

    // Gaining into its own PowerDNS from a KSK+ZSK signer: the losing ZSK (flags 256) is
    // imported, and the domain is delegated to the example's own name servers.
    let gaining = transcript(&report, "certify-gaining");
    assert!(
        said(
            &gaining,
            "[B info]",
            "imported the losing data-signing key(s)"
        ) && said(&gaining, "[B info]", "flags 256"),
        "{gaining:#?}"
    );
    assert!(
        said(
            &gaining,
            "[B info]",
            "switched NS to ns1.registrar-b.pdns-registrar.example"
        ),
        "{gaining:#?}"
    );

    // There and back: it imports a CSK (flags 257), then loses the domain from its own
    // PowerDNS: publishes the key A relays and retires its zone once caches forgot it.
    let back = transcript(&report, "certify-there-and-back");
    assert!(said(&back, "[B info]", "flags 257"), "{back:#?}");
    assert!(
        said(&back, "[B info]", "publishing key") && said(&back, "[B info]", "relayed by"),
        "{back:#?}"
    );
    assert!(said(&back, "[B info]", "retired the zone"), "{back:#?}");
    // ... through registry chaos: commands answered 2400 and sent again, sessions the registry
    // dropped logged in again.
    let count = |what: &str| {
        back.iter()
            .filter(|l| l.contains("[B EPP]") && l.contains(what))
            .count()
    };
    assert!(count("→ 2400") > 0, "{back:#?}");
    assert!(count("login  → 1000") > 1, "{back:#?}");

    // Losing from the hosted operator: the domains it sponsors at the start stay there.
    let losing = transcript(&report, "certify-losing");
    assert!(
        powerdns_started(&losing).is_none(),
        "a registrar sponsoring a domain at the start keeps the hosted operator: {losing:#?}"
    );
    assert!(said(&losing, "[A info]", "retired the zone"), "{losing:#?}");

    // Giving up: the relay is revoked and the half-built zone removed from its PowerDNS.
    let ignored = transcript(&report, "certify-gaining-vs-relayed-key-ignored");
    assert!(said(&ignored, "[B error]", "giving up"), "{ignored:#?}");
    assert!(
        said(&ignored, "[B info]", "revoked our key relay"),
        "{ignored:#?}"
    );
    assert!(
        said(&ignored, "[B info]", "removed our zone"),
        "{ignored:#?}"
    );

    // Every PowerDNS it started is gone, and so is its directory.
    for (id, lines) in [
        ("certify-gaining", &gaining),
        ("certify-there-and-back", &back),
        ("certify-gaining-vs-relayed-key-ignored", &ignored),
    ] {
        let (pid, pdns_dir) =
            powerdns_started(lines).unwrap_or_else(|| panic!("{id}: no PowerDNS: {lines:#?}"));
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&cmdline).contains("pdns_server"),
            "{id}: PowerDNS (pid {pid}) still runs"
        );
        assert!(
            !pdns_dir.exists(),
            "{id}: {} left behind",
            pdns_dir.display()
        );
    }
}
