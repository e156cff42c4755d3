//! The scenario library built into the binary.
//!
//! `build.rs` embeds every file under the workspace's `scenarios/` (the library, the
//! certification profile in `certify/`, any other folder, and the format's README) at build
//! time. So `harness run` with no paths and `harness certify` need no source tree: they work
//! from any directory, from a binary copied into a CI image, and after `cargo install`. Paths
//! given on the command line are still read from disk; `harness scenarios export DIR` writes
//! the built-in files out for editing.
//!
//! A built-in file is named `scenarios/<path>` (e.g. `scenarios/certify/gaining.toml`) in
//! messages and reports: the path it has in the repository, never where the binary was built.

use std::path::{Path, PathBuf};

use super::{Scenario, ScenarioError};

mod generated {
    include!(concat!(env!("OUT_DIR"), "/library.rs"));
}

/// The folder the built-in files are named under in messages and reports.
pub const ROOT: &str = "scenarios";

/// The certification profile's folder within the library.
pub const CERTIFY_DIR: &str = "certify";

/// One built-in file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LibraryFile {
    /// Its path within the library, with `/` (`certify/gaining.toml`).
    pub path: &'static str,
    /// Its bytes, exactly as checked in.
    pub contents: &'static [u8],
}

impl LibraryFile {
    /// How messages and reports name it: `scenarios/<path>`.
    pub fn display_path(&self) -> PathBuf {
        Path::new(ROOT).join(self.path)
    }

    /// Whether it is a scenario file (`*.toml`).
    pub fn is_scenario(&self) -> bool {
        self.path.ends_with(".toml")
    }

    /// The folder it is in (`""` at the top, `certify` for the profile).
    pub fn dir(&self) -> &'static str {
        self.path.rsplit_once('/').map_or("", |(dir, _)| dir)
    }

    /// Reads and checks it as a scenario.
    pub fn load(&self) -> Result<Scenario, ScenarioError> {
        let path = self.display_path();
        let text = std::str::from_utf8(self.contents).map_err(|e| ScenarioError {
            path: path.display().to_string(),
            line: None,
            message: format!("not UTF-8: {e}"),
        })?;
        super::parse(&path, text)
    }
}

/// Every built-in file, sorted by path.
pub fn files() -> impl Iterator<Item = LibraryFile> {
    generated::FILES
        .iter()
        .map(|&(path, contents)| LibraryFile { path, contents })
}

/// The built-in file at `path` (relative to the library, e.g. `certify/gaining.toml`; a
/// leading `scenarios/` is accepted too, so a report's path finds its file).
pub fn file(path: &str) -> Option<LibraryFile> {
    let rel = path
        .strip_prefix(ROOT)
        .and_then(|p| p.strip_prefix('/'))
        .unwrap_or(path);
    files().find(|f| f.path == rel)
}

/// The built-in scenario files a command-line path names, if it names any: `scenarios` (the
/// top level, as `harness run` with no paths), `scenarios/<folder>` (its `*.toml`, not
/// recursively, as for a directory on disk) or `scenarios/<file>.toml`.
pub fn named(path: &Path) -> Option<Vec<LibraryFile>> {
    let parts: Vec<String> = path
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let (root, rest) = parts.split_first()?;
    if root != ROOT {
        return None;
    }
    let rel = rest.join("/");
    if let Some(f) = file(&rel).filter(LibraryFile::is_scenario) {
        return Some(vec![f]);
    }
    let files = scenario_files(&rel);
    (!files.is_empty()).then_some(files)
}

/// The text of a built-in file, if it exists and is UTF-8.
pub fn text(path: &str) -> Option<&'static str> {
    file(path).and_then(|f| std::str::from_utf8(f.contents).ok())
}

/// The scenario files directly in folder `dir` of the library (`""` for the top, as `harness
/// run` with no paths runs; [`CERTIFY_DIR`] for the profile), in name order.
pub fn scenario_files(dir: &str) -> Vec<LibraryFile> {
    files()
        .filter(|f| f.is_scenario() && f.dir() == dir.trim_matches('/'))
        .collect()
}

/// Reads and checks one built-in scenario (`secure-transfer-13-13.toml`).
pub fn load(path: &str) -> Result<Scenario, ScenarioError> {
    file(path)
        .ok_or_else(|| ScenarioError {
            path: Path::new(ROOT).join(path).display().to_string(),
            line: None,
            message: "no such file in the built-in scenario library".into(),
        })?
        .load()
}

/// Loads every scenario directly in folder `dir` of the library (see [`scenario_files`]),
/// refusing two with one id; every problem is reported.
pub fn load_dir(dir: &str) -> Result<Vec<Scenario>, Vec<String>> {
    let files = scenario_files(dir);
    if files.is_empty() {
        return Err(vec![format!(
            "the built-in library has no scenario files in {}",
            Path::new(ROOT).join(dir).display()
        )]);
    }
    super::checked(files.iter().map(LibraryFile::load).collect())
}

/// A built-in file could not be written out.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The file system refused to create a folder or write a file.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error that stopped the export.
        #[source]
        source: std::io::Error,
    },
    /// A different file is already there (export never overwrites edits unless forced).
    #[error("{} exists and differs from the built-in file (use --force to overwrite)", path.display())]
    Exists {
        /// The file on disk that differs from the built-in one.
        path: PathBuf,
    },
}

/// Writes every built-in file under `dir`, keeping the folders (`DIR/certify/gaining.toml`,
/// `DIR/README.md`), so the copy can be edited and run with `harness run DIR` or
/// `harness certify --profile DIR/certify`. A file already there with the same contents is
/// left alone; one with other contents is an error unless `force`. Returns the files written.
pub fn export(dir: &Path, force: bool) -> Result<Vec<PathBuf>, ExportError> {
    // Decide first, so a refusal leaves the directory as it was.
    let mut todo = Vec::new();
    for f in files() {
        let path = f.path.split('/').fold(dir.to_path_buf(), |p, c| p.join(c));
        match std::fs::read(&path) {
            Ok(old) if old == f.contents => continue,
            Ok(_) if !force => return Err(ExportError::Exists { path }),
            _ => todo.push((path, f.contents)),
        }
    }
    for (path, contents) in &todo {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| ExportError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(path, contents).map_err(|source| ExportError::Io {
            path: path.clone(),
            source,
        })?;
    }
    Ok(todo.into_iter().map(|(path, _)| path).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_and_the_profile_are_built_in() {
        let top = scenario_files("");
        assert!(top.len() >= 20, "{} top-level scenarios", top.len());
        assert!(top.iter().any(|f| f.path == "secure-transfer-13-13.toml"));
        assert!(top.iter().all(|f| !f.path.contains('/')));
        let profile = scenario_files(CERTIFY_DIR);
        assert!(
            profile.len() >= 5,
            "{} certification scenarios",
            profile.len()
        );
        assert!(profile.iter().all(|f| f.path.starts_with("certify/")));
        assert!(
            file("README.md").is_some(),
            "the format's README travels too"
        );
        // Sorted, as a directory listing is.
        let paths: Vec<&str> = files().map(|f| f.path).collect();
        let mut sorted = paths.clone();
        sorted.sort_unstable();
        assert_eq!(paths, sorted);
    }

    #[test]
    fn built_in_scenarios_are_named_by_their_relative_path() {
        let s = load("certify/gaining.toml").expect("loads");
        assert_eq!(s.path, Path::new("scenarios/certify/gaining.toml"));
        assert_eq!(
            file("scenarios/certify/gaining.toml").map(|f| f.path),
            Some("certify/gaining.toml")
        );
        let e = load("no-such.toml").expect_err("missing");
        assert_eq!(e.path, "scenarios/no-such.toml");
    }

    #[test]
    fn command_line_paths_name_built_in_files_and_folders() {
        let names = |p: &str| -> Option<Vec<&str>> {
            named(Path::new(p)).map(|v| v.iter().map(|f| f.path).collect())
        };
        assert_eq!(
            names("scenarios/certify/gaining.toml"),
            Some(vec!["certify/gaining.toml"])
        );
        assert_eq!(
            names("./scenarios/certify/gaining.toml"),
            Some(vec!["certify/gaining.toml"])
        );
        assert_eq!(
            names("scenarios/certify").map(|v| v.len()),
            Some(scenario_files("certify").len())
        );
        assert_eq!(
            names("scenarios").map(|v| v.len()),
            Some(scenario_files("").len())
        );
        assert_eq!(names("scenarios/README.md"), None, "not a scenario");
        assert_eq!(names("scenarios/nope.toml"), None);
        assert_eq!(
            names("certify/gaining.toml"),
            None,
            "built-in names start with scenarios/"
        );
        assert_eq!(
            names("/scenarios/certify"),
            None,
            "absolute paths are files on disk"
        );
    }

    #[test]
    fn the_embedded_files_are_the_checked_in_ones() {
        // In a checkout the build embedded the files beside it; they must be identical.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        for f in files() {
            let on_disk = std::fs::read(dir.join(f.path)).expect("checked in");
            assert_eq!(on_disk, f.contents, "{}", f.path);
        }
    }

    #[test]
    fn export_writes_every_file_and_keeps_edits_unless_forced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let written = export(dir.path(), false).expect("export");
        assert_eq!(written.len(), files().count());
        assert!(dir.path().join("certify/gaining.toml").is_file());
        // Again: nothing to write.
        assert!(export(dir.path(), false).expect("again").is_empty());
        let edited = dir.path().join("secure-transfer-13-13.toml");
        std::fs::write(&edited, "# mine\n").expect("edit");
        assert!(matches!(
            export(dir.path(), false),
            Err(ExportError::Exists { path }) if path == edited
        ));
        assert_eq!(export(dir.path(), true).expect("forced"), vec![edited]);
    }
}
