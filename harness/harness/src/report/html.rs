//! HTML pages for people: `harness run --html DIR` (an index of every scenario, then each one
//! with its timeline picture, its checks and its transcript) and the per-scenario sections
//! the certification page shares.
//!
//! Each page is one self-contained file: the style is inline, the pictures are inline SVG
//! (see [`svg`](super::svg)), there is no script and nothing is fetched, so a CI artifact
//! opens anywhere. Each picture is also written beside the page as `<scenario-id>.svg`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::report::svg::{scenario_svg, standalone_svg};
use crate::report::{Outcome, ScenarioReport, SuiteReport, esc, human, transcript_text};

/// The run page's name in the output directory.
pub const RUN_PAGE: &str = "index.html";

/// The style every page uses.
pub const STYLE: &str = "body{font-family:sans-serif;max-width:78em;margin:2em auto;padding:0 1em}\
table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .5em;\
text-align:left;vertical-align:top}.pass{color:#060}.fail{color:#a00}\
pre{background:#f4f4f4;padding:.5em;overflow-x:auto;font-size:85%}\
svg.timeline{max-width:100%;height:auto;border:1px solid #ccc;margin:.5em 0}";

/// A report file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct WriteError {
    /// The file or directory.
    pub path: PathBuf,
    /// The I/O error that stopped the write.
    #[source]
    pub source: std::io::Error,
}

/// Writes `contents` to `path`, naming the path on failure.
pub fn write_file(path: &Path, contents: &str) -> Result<(), WriteError> {
    std::fs::write(path, contents).map_err(|source| WriteError {
        path: path.to_path_buf(),
        source,
    })
}

/// Creates `dir` (and its parents) if missing.
pub fn create_dir(dir: &Path) -> Result<(), WriteError> {
    std::fs::create_dir_all(dir).map_err(|source| WriteError {
        path: dir.to_path_buf(),
        source,
    })
}

/// The file name of a scenario's standalone picture: `<id>.svg`, any character other than
/// a letter, digit, `-`, `_` or `.` replaced (ids are `[a-z0-9-]+`, but a file name must
/// never leave the directory).
pub fn svg_file_name(id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{}.svg", safe.trim_start_matches('.'))
}

/// Writes every scenario's picture as `DIR/<id>.svg`; returns the paths.
pub fn write_svgs(dir: &Path, scenarios: &[ScenarioReport]) -> Result<Vec<PathBuf>, WriteError> {
    create_dir(dir)?;
    scenarios
        .iter()
        .map(|s| {
            let path = dir.join(svg_file_name(&s.id));
            write_file(&path, &standalone_svg(s))?;
            Ok(path)
        })
        .collect()
}

/// Writes the run page `DIR/index.html` and every picture beside it; returns the page's path.
pub fn write_run_html(dir: &Path, suite: &SuiteReport) -> Result<PathBuf, WriteError> {
    write_svgs(dir, &suite.scenarios)?;
    let page = dir.join(RUN_PAGE);
    write_file(&page, &run_page(suite))?;
    Ok(page)
}

/// The page of a whole run: verdict, an index with each scenario's failing or caught checks,
/// then every scenario's section.
pub fn run_page(suite: &SuiteReport) -> String {
    let passed = suite.scenarios.iter().filter(|s| s.passed).count();
    let total = suite.scenarios.len();
    let ok = suite.passed();
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Harness run: {passed} of {total} scenarios passed</title>\n\
         <style>{STYLE}</style></head><body>\n<h1>Harness run</h1>\n\
         <p class=\"{class}\"><strong>{passed} of {total} scenarios passed</strong></p>\n\
         <table>\n<tr><th>Harness version</th><td>{version}</td></tr>\n\
         <tr><th>Started</th><td>{started}</td></tr>\n\
         <tr><th>Wall time</th><td>{wall:.1} s</td></tr>\n</table>\n",
        class = if ok { "pass" } else { "fail" },
        version = esc(suite.harness_version),
        started = suite.started,
        wall = suite.wall_seconds,
    );
    h.push_str(
        "<h2>Scenarios</h2>\n<table><tr><th>Verdict</th><th>Scenario</th><th>Virtual time</th>\
         <th>Failed or caught</th></tr>\n",
    );
    for s in &suite.scenarios {
        let notable: Vec<String> = s
            .checks
            .iter()
            .filter(|c| c.fails_scenario() || c.outcome == Outcome::ExpectedFail)
            .map(|c| {
                let tag = match c.outcome {
                    Outcome::ExpectedFail => "caught",
                    Outcome::UnexpectedPass => "MISSED",
                    _ => "failed",
                };
                format!("{tag} {}", c.check.id())
            })
            .collect();
        let _ = writeln!(
            h,
            "<tr><td class=\"{c}\">{v}</td><td><a href=\"#{id}\">{id}</a><br>{title}</td>\
             <td>{virt}</td><td>{notable}</td></tr>",
            c = if s.passed { "pass" } else { "fail" },
            v = if s.passed { "PASS" } else { "FAIL" },
            id = esc(&s.id),
            title = esc(&s.title),
            virt = human(s.virtual_duration()),
            notable = esc(&notable.join(", ")),
        );
    }
    h.push_str("</table>\n");
    for s in &suite.scenarios {
        h.push_str(&scenario_section(s));
    }
    h.push_str("</body></html>\n");
    h
}

/// One scenario's section: heading, the timeline picture, every check, then the timeline
/// table and transcript folded away.
pub fn scenario_section(s: &ScenarioReport) -> String {
    let mut h = String::new();
    let _ = writeln!(
        h,
        "<section id=\"{id}\">\n<h2>{id}: <span class=\"{c}\">{v}</span></h2>\n<p>{title}<br>\
         File <code>{path}</code>, SHA-256 <code>{sha}</code>; picture also in \
         <a href=\"{svg}\"><code>{svg}</code></a></p>",
        id = esc(&s.id),
        c = if s.passed { "pass" } else { "fail" },
        v = if s.passed { "PASS" } else { "FAIL" },
        title = esc(&s.title),
        path = esc(&s.path),
        sha = esc(&s.sha256),
        svg = esc(&svg_file_name(&s.id)),
    );
    if let Some(e) = &s.error {
        let _ = writeln!(h, "<p class=\"fail\">Stopped: {}</p>", esc(e));
    }
    h.push_str(&scenario_svg(s));
    h.push_str("<table><tr><th>Check</th><th>Severity</th><th>Outcome</th><th>Message</th></tr>\n");
    for c in &s.checks {
        let (class, outcome) = match c.outcome {
            Outcome::Pass => ("pass", "pass"),
            Outcome::ExpectedFail => ("pass", "failed as the scenario expects"),
            Outcome::Fail if c.fails_scenario() => ("fail", "FAIL"),
            Outcome::Fail => ("", "noted"),
            Outcome::UnexpectedPass => ("fail", "held, but was expected to fail"),
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"{class}\">{outcome}</td><td>{}</td></tr>",
            c.check.id(),
            c.severity,
            esc(&c.message)
        );
    }
    h.push_str("</table>\n");
    let _ = writeln!(
        h,
        "<details><summary>Timeline and transcript</summary><pre>{}</pre></details>\n</section>",
        esc(&transcript_text(s))
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_names_stay_in_the_directory() {
        assert_eq!(svg_file_name("fault-ns-x"), "fault-ns-x.svg");
        assert_eq!(svg_file_name("../etc/x"), "-etc-x.svg");
    }
}
