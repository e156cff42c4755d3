//! Scenario files: one TOML file per scenario under `scenarios/`, read strictly.
//!
//! Reading happens in two stages (like ripgrep's low-level and high-level arguments):
//! [`file`] is the format as written, checked by serde (unknown keys, bad values, bad
//! durations); [`plan`] resolves references (registrars, domains, check ids, faults) and fills
//! in defaults, giving a [`Scenario`]. Every error names the file and the line.
//!
//! The format is documented with examples in `scenarios/README.md`.

use std::path::{Path, PathBuf};

mod file;
pub mod plan;
mod scale;

pub use plan::{
    ChainExpectation, DEFAULT_POLL_INTERVAL, DenialKind, DomainSpec, Dur, Expect, Fault, KeyScheme,
    OperatorFault, OperatorSpec, PlayedBy, RegistrarSpec, Scenario, ScenarioError, Software, Step,
    WorldChaos, WorldSpec,
};

/// Reads and checks one scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        path: path.display().to_string(),
        line: None,
        message: format!("cannot read: {e}"),
    })?;
    parse(path, &text)
}

/// Checks scenario text (the path is only for messages and the report).
pub fn parse(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let f: file::File = toml::from_str(text).map_err(|e| ScenarioError {
        path: path.display().to_string(),
        line: e
            .span()
            .and_then(|s| text.get(..s.start))
            .map(|before| before.matches('\n').count() + 1),
        message: e.message().to_string(),
    })?;
    plan::plan(path, text, f)
}

/// Discovers and loads every scenario `paths` names (see [`discover`]), refusing two files
/// with the same id. Every problem is reported, one message each, not just the first.
pub fn load_all(paths: &[PathBuf]) -> Result<Vec<Scenario>, Vec<String>> {
    let files = discover(paths).map_err(|e| vec![e.to_string()])?;
    if files.is_empty() {
        let named: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(vec![format!(
            "no scenario files found in {}",
            if named.is_empty() {
                default_dir().display().to_string()
            } else {
                named.join(", ")
            }
        )]);
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match load(&f) {
            Ok(s) => out.push(s),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let mut ids = std::collections::BTreeMap::new();
    for s in &out {
        if let Some(other) = ids.insert(s.id.clone(), s.path.clone()) {
            errors.push(format!(
                "{}: id {:?} is also used by {}",
                s.path.display(),
                s.id,
                other.display()
            ));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The scenario files named by `paths`: files as given, directories searched for `*.toml`
/// (not recursively), in name order. No paths means the `scenarios/` directory.
pub fn discover(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let default = [default_dir()];
    let roots: &[PathBuf] = if paths.is_empty() { &default } else { paths };
    let mut out = Vec::new();
    for root in roots {
        if root.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(root)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            files.sort();
            out.extend(files);
        } else if root.exists() {
            out.push(root.clone());
        } else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{}: no such file or directory", root.display()),
            ));
        }
    }
    Ok(out)
}

/// `scenarios/` in the workspace when run from a checkout (the embedded default), else
/// `./scenarios`.
pub fn default_dir() -> PathBuf {
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    if built_in.is_dir() {
        built_in
    } else {
        PathBuf::from("scenarios")
    }
}

#[cfg(test)]
mod tests;
