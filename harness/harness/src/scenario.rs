//! Scenario files: one TOML file per scenario under `scenarios/`, read strictly. The library
//! is built into the binary ([`library`]); files named on the command line are read from disk.
//!
//! Reading happens in two stages (like ripgrep's low-level and high-level arguments):
//! [`file`] is the format as written, checked by serde (unknown keys, bad values, bad
//! durations); [`plan`] resolves references (registrars, domains, check ids, faults) and fills
//! in defaults, giving a [`Scenario`]. Every error names the file and the line.
//!
//! The format is documented with examples in `scenarios/README.md`.

use std::path::{Path, PathBuf};

mod file;
pub mod library;
pub mod plan;
mod scale;

pub use plan::{
    ChainExpectation, DEFAULT_POLL_INTERVAL, DenialKind, DomainSpec, Dur, Expect, Fault, KeyScheme,
    MAX_TTL, MAX_WORLD_TTL, OperatorFault, OperatorSpec, PlayedBy, ReceiptFault, ReceiptSpec,
    RegistrarSpec, Scenario, ScenarioError, SecondarySpec, Software, Step, WorldChaos, WorldSpec,
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

/// Loads every scenario `paths` names (see [`discover`]), or with no paths the built-in
/// library's top level ([`library::load_dir`]), refusing two files with the same id. A path
/// that does not exist on disk but names a file or folder of the built-in library
/// (`scenarios/certify/gaining.toml`, `scenarios/certify`) loads the built-in one, so the
/// documented examples work from any directory. Every problem is reported, one message each,
/// not just the first.
pub fn load_all(paths: &[PathBuf]) -> Result<Vec<Scenario>, Vec<String>> {
    if paths.is_empty() {
        return library::load_dir("");
    }
    let mut loaded = Vec::new();
    for p in paths {
        if !p.exists()
            && let Some(files) = library::named(p)
        {
            loaded.extend(files.iter().map(library::LibraryFile::load));
            continue;
        }
        let files = discover(std::slice::from_ref(p)).map_err(|e| {
            vec![if e.kind() == std::io::ErrorKind::NotFound {
                format!("{e} (nor a file of the built-in library: see `harness scenarios list`)")
            } else {
                e.to_string()
            }]
        })?;
        loaded.extend(files.iter().map(|f| load(f)));
    }
    if loaded.is_empty() {
        let named: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(vec![format!(
            "no scenario files found in {}",
            named.join(", ")
        )]);
    }
    checked(loaded)
}

/// The loaded scenarios, or every error: the files' own, and one per id used twice.
fn checked(loaded: Vec<Result<Scenario, ScenarioError>>) -> Result<Vec<Scenario>, Vec<String>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for l in loaded {
        match l {
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

/// The scenario files on disk named by `paths`: files as given, directories searched for
/// `*.toml` (not recursively), in name order. (The built-in library is in [`library`].)
pub fn discover(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for root in paths {
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

#[cfg(test)]
mod tests;
