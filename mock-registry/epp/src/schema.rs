//! Schema validation of frames with `xmllint`, the independent validator the workspace's tests
//! cross-check the codec against (feature `test-support`).
//!
//! `ci/test` installs xmllint (Debian `libxml2-utils`); a missing xmllint is an error, never a
//! silently skipped check. These helpers panic with a message on a failed step: they serve
//! tests, where a panic is the failure report.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// Which schema entry point to validate against (see `mock-registry/epp/xsd/README.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// `epp-all.xsd`: every element must have a schema.
    Strict,
    /// `epp-all-lax.xsd`: `<extension>` and `<resData>` content without a schema (SIDN's) is
    /// skipped; the rest is checked strictly.
    Lax,
}

/// Directory of the schemas shipped with the repository.
pub(crate) fn xsd_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("xsd")
}

/// Validates each `(name, xml)` with xmllint in one process; returns the names that failed
/// with xmllint's complaint. Panics with a clear message when xmllint is not installed.
pub fn xmllint_failures(frames: &[(String, String)], schema: Schema) -> Vec<(String, String)> {
    static BATCH: AtomicU64 = AtomicU64::new(0);
    if frames.is_empty() {
        return Vec::new();
    }
    let dir = std::env::temp_dir().join(format!(
        "epp-xmllint-{}-{}",
        std::process::id(),
        BATCH.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create a temporary directory for xmllint");
    let mut paths = Vec::new();
    for (i, (_, xml)) in frames.iter().enumerate() {
        let p = dir.join(format!("f{i}.xml"));
        std::fs::write(&p, xml).expect("write a frame for xmllint");
        paths.push(p);
    }
    let entry = match schema {
        Schema::Strict => "epp-all.xsd",
        Schema::Lax => "epp-all-lax.xsd",
    };
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(xsd_dir().join(entry))
        .args(&paths)
        .output()
        .unwrap_or_else(|e| {
            panic!("xmllint is required for the schema tests (Debian: libxml2-utils): {e}")
        });
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut failures = Vec::new();
    for (i, (name, xml)) in frames.iter().enumerate() {
        let p = paths[i].display().to_string();
        if !stderr.contains(&format!("{p} validates")) {
            let complaint: Vec<&str> = stderr.lines().filter(|l| l.starts_with(&p)).collect();
            failures.push((name.clone(), format!("{}\n{xml}", complaint.join("\n"))));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    failures
}

/// Asserts that every frame validates.
pub fn assert_schema_valid(frames: &[(String, String)], schema: Schema) {
    let failures = xmllint_failures(frames, schema);
    assert!(
        failures.is_empty(),
        "{} of {} frames fail schema validation:\n{}",
        failures.len(),
        frames.len(),
        failures
            .iter()
            .map(|(n, why)| format!("--- {n}\n{why}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xmllint_catches_invalid_frames() {
        let good = r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><hello/></epp>"#;
        let bad = r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><hello/><hello/></epp>"#;
        let unknown_ext = r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><logout/><extension><x:y xmlns:x="http://rxsd.domain-registry.nl/sidn-ext-epp-1.0"/></extension></command></epp>"#;
        let frames = vec![
            ("good".to_string(), good.to_string()),
            ("bad".to_string(), bad.to_string()),
            ("sidn".to_string(), unknown_ext.to_string()),
        ];
        let strict: Vec<String> = xmllint_failures(&frames, Schema::Strict)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(strict, ["bad", "sidn"]);
        let lax: Vec<String> = xmllint_failures(&frames, Schema::Lax)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(lax, ["bad"]);
    }
}
