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

use crate::explore::Exploration;
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
    /// The random worlds run besides the profile (`--explore N`): the seed, every world's
    /// settings and verdict, and each failure shrunk to a scenario. None when none were run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explore: Option<Exploration>,
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
            explore: None,
        }
    }

    /// Adds the random worlds: the registrar is certified only if every world passed too.
    pub fn add_exploration(&mut self, exploration: Exploration) {
        self.certified &= exploration.passed();
        self.wall_seconds += exploration.wall_seconds + exploration.shrink_seconds;
        self.explore = Some(exploration);
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
        if let Some(e) = &self.explore {
            h.push_str(&exploration_section(e));
        }
        for s in &self.scenarios {
            h.push_str(&html::scenario_section(s));
        }
        if let Some(e) = &self.explore {
            for f in &e.failures {
                h.push_str(&html::scenario_section(&f.report));
            }
        }
        h.push_str("</body></html>\n");
        h
    }

    /// JUnit XML: one test case per scenario, as `harness run --junit` writes it, and one
    /// per shrunk random world that failed.
    pub fn to_junit(&self) -> String {
        // A random world that failed appears as its shrunk scenario.
        let mut all = self.scenarios.clone();
        if let Some(e) = &self.explore {
            all.extend(e.failures.iter().map(|f| f.report.clone()));
        }
        crate::report::junit(&all, self.wall_seconds)
    }

    /// Writes both files and every scenario's picture (`<id>.svg`, the shrunk random worlds'
    /// too) into `dir` (created if missing); returns the paths of the JSON file and the page.
    pub fn write(&self, dir: &Path) -> Result<(PathBuf, PathBuf), String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let json = dir.join(JSON_FILE);
        let html = dir.join(HTML_FILE);
        std::fs::write(&json, self.to_json()).map_err(|e| format!("{}: {e}", json.display()))?;
        std::fs::write(&html, self.to_html()).map_err(|e| format!("{}: {e}", html.display()))?;
        html::write_svgs(dir, &self.scenarios).map_err(|e| e.to_string())?;
        if let Some(e) = &self.explore {
            let shrunk: Vec<ScenarioReport> = e.failures.iter().map(|f| f.report.clone()).collect();
            html::write_svgs(dir, &shrunk).map_err(|e| e.to_string())?;
        }
        Ok((json, html))
    }
}

/// The random worlds of a certification: the seed, a table of every world (verdict, roles,
/// the settings that differ from the defaults) and each failure's shrunk scenario.
fn exploration_section(e: &Exploration) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<h2 id=\"random-worlds\">Random worlds</h2>\n<p class=\"{class}\"><strong>{passed} of {cases} \
         worlds passed</strong></p>\n<table>\n<tr><th>Seed</th><td><code>{seed}</code> (repeat: \
         <code>harness certify … --explore {cases} --explore-seed {seed}</code>)</td></tr>\n\
         <tr><th>Roles</th><td>{roles}, in turn</td></tr>\n\
         <tr><th>Live check</th><td>{live}</td></tr>\n\
         <tr><th>Wall time</th><td>{wall:.1} s ({rate:.1} worlds/s), shrinking {shrink:.1} s</td></tr>\n\
         </table>\n",
        class = if e.passed() { "pass" } else { "fail" },
        passed = e.worlds.len() - e.failed(),
        cases = e.cases,
        seed = e.seed,
        roles = esc(&e
            .roles
            .iter()
            .map(|r| r.name())
            .collect::<Vec<_>>()
            .join(", ")),
        live = if e.live_check { "on" } else { "off" },
        wall = e.wall_seconds,
        rate = e.worlds_per_second,
        shrink = e.shrink_seconds,
    );
    for f in &e.failures {
        let _ = write!(
            h,
            "<h3>World {world}, shrunk ({runs} runs): <a href=\"#{id}\">{id}</a></h3>\n\
             <p>Failed {checks}; {repro}.</p>\n<pre>{text}</pre>\n",
            world = f.world,
            runs = f.runs,
            id = esc(&f.id),
            checks = esc(&f
                .checks
                .iter()
                .map(|c| c.id())
                .collect::<Vec<_>>()
                .join(", ")),
            repro = if f.reproduced {
                "the scenario reproduces the failure"
            } else {
                "the scenario did not reproduce the failure"
            },
            text = esc(&f.scenario),
        );
    }
    h.push_str(
        "<table><tr><th>World</th><th>Verdict</th><th>Subject plays</th><th>Failed checks</th>\
         <th>Settings (other than the defaults)</th></tr>\n",
    );
    for w in &e.worlds {
        let _ = writeln!(
            h,
            "<tr><td>{index}</td><td class=\"{c}\">{v}</td><td>{role}</td><td>{checks}</td>\
             <td>{desc}</td></tr>",
            index = w.index,
            c = if w.passed { "pass" } else { "fail" },
            v = if w.passed { "PASS" } else { "FAIL" },
            role = w.role.name(),
            checks = esc(&w
                .failed_checks
                .iter()
                .map(|c| c.id())
                .collect::<Vec<_>>()
                .join(", ")),
            desc = esc(&w.description),
        );
    }
    h.push_str("</table>\n");
    h
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
