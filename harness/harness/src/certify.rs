//! `harness certify`: the certification profile and the report a registry can accept.
//!
//! The profile is the set of scenario files under `scenarios/certify/`, built into the binary
//! (each marked `certify = true`, each with at least one `subject` role): the subject as the
//! gaining side, as the losing side, on both sides, and against counterparts that misbehave.
//! `--profile DIR` reads another profile from disk instead. The report is
//! two files: `certification.json` (machine-readable: harness and protocol versions, the
//! SHA-256 of every scenario file, every verdict, every check, the transcripts) and
//! `certification.html` (the same for a person, self-contained, with a timeline picture per
//! scenario), and beside them each picture as `<scenario-id>.svg`. With `--junit FILE` the
//! command also writes JUnit XML, for CI systems that show test results.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::Serialize;

use crate::report::html;
use crate::report::{ScenarioReport, SuiteReport, esc};
use crate::scenario::PlayedBy;
use crate::scenario::{self, Scenario};

/// The JSON file's name in the output directory.
pub const JSON_FILE: &str = "certification.json";
/// The page's name in the output directory.
pub const HTML_FILE: &str = "certification.html";

/// How reports name the built-in profile (a relative path, never where the harness was built).
pub const BUILT_IN_PROFILE: &str = "scenarios/certify (built in)";

/// Loads the profile: the built-in one (`None`), or the scenario files in `dir`; refuses
/// files that are not certification scenarios.
pub fn load_profile(dir: Option<&Path>) -> Result<Vec<Scenario>, String> {
    let all = match dir {
        None => scenario::library::load_dir(scenario::library::CERTIFY_DIR),
        Some(dir) => scenario::load_all(&[dir.to_path_buf()]),
    }
    .map_err(|e| e.join("\n"))?;
    let errors: Vec<String> = all
        .iter()
        .filter_map(|s| {
            if !s.certify {
                Some(format!(
                    "{}: not a certification scenario (it lacks `certify = true`)",
                    s.path.display()
                ))
            } else if !s
                .registrars
                .iter()
                .any(|r| r.played_by == PlayedBy::Subject)
            {
                Some(format!(
                    "{}: no registrar is played by the subject",
                    s.path.display()
                ))
            } else {
                None
            }
        })
        .collect();
    if errors.is_empty() {
        Ok(all)
    } else {
        Err(errors.join("\n"))
    }
}

/// How the report names the profile: [`BUILT_IN_PROFILE`], or the directory as given.
pub fn profile_label(dir: Option<&Path>) -> String {
    dir.map_or_else(|| BUILT_IN_PROFILE.to_string(), |d| d.display().to_string())
}

/// The certification report.
#[derive(Debug, Clone, Serialize)]
pub struct Certification {
    /// Always `harness-certification`.
    pub kind: &'static str,
    /// The harness version that made it.
    pub harness_version: &'static str,
    /// The adapter protocol version the subject spoke.
    pub protocol_version: u32,
    /// The registrar under test, as the command that started it.
    pub subject: String,
    /// The profile: [`BUILT_IN_PROFILE`], or the directory given with `--profile`.
    pub profile: String,
    /// Whether every scenario passed.
    pub certified: bool,
    /// When the run started (wall clock).
    pub started: Timestamp,
    /// Wall time, seconds (merged: from the first part's start to the last part's end).
    pub wall_seconds: f64,
    /// In a partial report (`--partition K/N`): which part, and the ids of the whole profile;
    /// none in a whole or merged certification. A partial report never certifies.
    pub partition: Option<crate::partition::PartitionInfo>,
    /// One entry per scenario, with its file hash, verdict, checks and transcript.
    pub scenarios: Vec<ScenarioReport>,
}

impl Certification {
    /// The report of a profile run (`profile` as [`profile_label`] names it).
    pub fn new(subject: &str, profile: &str, suite: SuiteReport) -> Self {
        Self {
            kind: "harness-certification",
            harness_version: suite.harness_version,
            protocol_version: crate::registrar::protocol::VERSION,
            subject: subject.to_string(),
            profile: profile.to_string(),
            // Part of a profile certifies nothing; the merged report decides.
            certified: suite.passed() && !suite.scenarios.is_empty() && suite.partition.is_none(),
            started: suite.started,
            wall_seconds: suite.wall_seconds,
            partition: suite.partition,
            scenarios: suite.scenarios,
        }
    }

    /// The JSON file.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self)
            .expect("invariant: reports contain only serialisable data")
    }

    /// The page.
    pub fn to_html(&self) -> String {
        let mut h = String::new();
        let passed = self.scenarios.iter().all(|s| s.passed);
        let verdict = match &self.partition {
            Some(p) if passed => format!(
                "PARTIAL: every scenario of partition {} passed; merge all {} parts' reports \
                 (harness report merge) for the verdict",
                p.partition(),
                p.count
            ),
            Some(p) => format!(
                "NOT CERTIFIED: a scenario of partition {} failed",
                p.partition()
            ),
            None if self.certified => "CERTIFIED: every scenario passed".to_string(),
            None => "NOT CERTIFIED: at least one scenario failed".to_string(),
        };
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>Secure transfer certification: {subject}</title>\n<style>{style}</style>\
             </head><body>\n<h1>Secure transfer certification</h1>\n\
             <p class=\"{class}\"><strong>{verdict}</strong></p>\n<table>\n\
             <tr><th>Registrar under test</th><td><code>{subject}</code></td></tr>\n\
             <tr><th>Harness version</th><td>{version}</td></tr>\n\
             <tr><th>Adapter protocol</th><td>{protocol}</td></tr>\n\
             <tr><th>Profile</th><td><code>{profile}</code></td></tr>\n{partition}\
             <tr><th>Started</th><td>{started}</td></tr>\n\
             <tr><th>Wall time</th><td>{wall:.1} s</td></tr>\n</table>\n",
            subject = esc(&self.subject),
            style = html::STYLE,
            class = if passed { "pass" } else { "fail" },
            version = esc(self.harness_version),
            protocol = self.protocol_version,
            profile = esc(&self.profile),
            partition = self.partition.as_ref().map_or(String::new(), |p| format!(
                "<tr><th>Partition</th><td>{} ({} of the profile's {} scenarios)</td></tr>\n",
                p.partition(),
                self.scenarios.len(),
                p.scenarios.len()
            )),
            started = self.started,
            wall = self.wall_seconds,
        );
        h.push_str(
            "<h2>Scenarios</h2>\n<table><tr><th>Verdict</th><th>Scenario</th><th>Roles</th>\
             <th>File SHA-256</th><th>Virtual time</th></tr>\n",
        );
        for s in &self.scenarios {
            let roles: Vec<String> = s.roles.iter().map(|(l, w)| format!("{l}: {w}")).collect();
            let _ = writeln!(
                h,
                "<tr><td class=\"{c}\">{v}</td><td><a href=\"#{id}\">{id}</a><br>{title}</td>\
                 <td>{roles}</td><td><code>{sha}</code></td><td>{virt}</td></tr>",
                c = if s.passed { "pass" } else { "fail" },
                v = if s.passed { "PASS" } else { "FAIL" },
                id = esc(&s.id),
                title = esc(&s.title),
                roles = esc(&roles.join("; ")),
                sha = esc(&s.sha256),
                virt = crate::report::human(s.virtual_duration()),
            );
        }
        h.push_str("</table>\n");
        for s in &self.scenarios {
            h.push_str(&html::scenario_section(s));
        }
        h.push_str("</body></html>\n");
        h
    }

    /// JUnit XML: one test case per scenario, as `harness run --junit` writes it.
    pub fn to_junit(&self) -> String {
        crate::report::junit(&self.scenarios, self.wall_seconds)
    }

    /// Writes both files and every scenario's picture (`<id>.svg`) into `dir` (created if
    /// missing); returns the paths of the JSON file and the page.
    pub fn write(&self, dir: &Path) -> Result<(PathBuf, PathBuf), String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let json = dir.join(JSON_FILE);
        let html = dir.join(HTML_FILE);
        std::fs::write(&json, self.to_json()).map_err(|e| format!("{}: {e}", json.display()))?;
        std::fs::write(&html, self.to_html()).map_err(|e| format!("{}: {e}", html.display()))?;
        html::write_svgs(dir, &self.scenarios).map_err(|e| e.to_string())?;
        Ok((json, html))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn the_built_in_profile_loads_and_is_named_relatively() {
        let all = load_profile(None).expect("the profile is valid");
        assert!(all.len() >= 5, "{} scenarios", all.len());
        for s in &all {
            assert!(
                s.path.starts_with("scenarios/certify"),
                "{}",
                s.path.display()
            );
        }
        assert_eq!(profile_label(None), BUILT_IN_PROFILE);
    }

    #[test]
    fn a_library_scenario_is_not_certification() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = scenario::library::text("secure-transfer-13-13.toml").expect("built in");
        std::fs::write(dir.path().join("x.toml"), text).expect("write");
        let e = load_profile(Some(dir.path())).expect_err("refused");
        assert!(e.contains("subject") || e.contains("certify"), "{e}");
    }
}
