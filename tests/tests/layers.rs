//! The architecture's two structural invariants, checked on every run so they cannot rot:
//!
//! 1. Crates depend on each other only downwards, along the layers ARCHITECTURE.md draws
//!    (`cargo metadata`, normal dependencies only: test support may reach across).
//! 2. No crate has a cycle among its modules: module `a` naming `crate::b…` while `b` names
//!    `crate::a…` (test code excluded), read from the sources as a reviewer would.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The workspace crates each crate may depend on (normal dependencies).
fn allowed() -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    let layers: [(&str, &[&str]); 8] = [
        ("clock", &[]),
        ("epp", &[]),
        ("dnssec", &["clock"]),
        ("mock-registry", &["clock", "epp", "dnssec"]),
        ("checker", &["dnssec"]),
        ("real-dns", &["dnssec"]),
        (
            "harness",
            &[
                "clock",
                "epp",
                "dnssec",
                "mock-registry",
                "checker",
                "real-dns",
            ],
        ),
        (
            "e2e-tests",
            &[
                "clock",
                "epp",
                "dnssec",
                "mock-registry",
                "checker",
                "harness",
            ],
        ),
    ];
    layers
        .into_iter()
        .map(|(c, deps)| (c, deps.iter().copied().collect()))
        .collect()
}

#[test]
fn crates_depend_only_downwards() {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let members: BTreeSet<String> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| p["name"].as_str().unwrap_or_default().to_string())
        .collect();
    let allowed = allowed();
    let mut wrong = Vec::new();
    for p in meta["packages"].as_array().expect("packages") {
        let name = p["name"].as_str().unwrap_or_default();
        let Some(ok) = allowed.get(name) else {
            wrong.push(format!("{name}: a crate the layer list does not know"));
            continue;
        };
        for d in p["dependencies"].as_array().expect("dependencies") {
            let dep = d["name"].as_str().unwrap_or_default();
            let normal = d["kind"].is_null();
            if normal && members.contains(dep) && dep != name && !ok.contains(dep) {
                wrong.push(format!("{name} → {dep} runs against the layers"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Drops `#[cfg(test)] mod name { … }` blocks and line comments, so test code and prose do
/// not count as imports.
fn without_tests(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        match (after.find('{'), after.find(';')) {
            (Some(open), semi) if semi.is_none_or(|s| s > open) => {
                let mut depth = 0usize;
                let mut end = after.len();
                for (i, c) in after[open..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = open + i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                rest = &after[end..];
            }
            (_, Some(semi)) => rest = &after[semi + 1..],
            _ => rest = "",
        }
    }
    out.push_str(rest);
    out.lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The module a source file defines, as a path below the crate root (`a::b`).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("readable source directory") {
        let p = e.expect("a directory entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs")
            && p.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(p);
        }
    }
}

/// The known module a path names: the longest prefix of `path` that is a module.
fn resolve(modules: &BTreeSet<Vec<String>>, path: &[String]) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| modules.contains(p))
}

/// Whether one module contains the other (a parent declares and re-exports its children, a
/// child reads its parent's items: containment, not a cycle).
fn nested(a: &[String], b: &[String]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// Every cycle between two modules of one crate that do not contain each other: (a, b) with
/// a naming b and b naming a, through `crate::` or `super::` paths outside `pub use`
/// re-exports and test code.
fn module_cycles(src: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(src, f)).collect();
    let mut edges: BTreeSet<(Vec<String>, Vec<String>)> = BTreeSet::new();
    for f in &files {
        let from = module_of(src, f);
        // `super` of a file module `a::b` (from a/b.rs) is `a`; of `a` (a.rs or a/mod.rs),
        // the crate root.
        let parent: Vec<String> = from[..from.len().saturating_sub(1)].to_vec();
        let text = without_tests(&std::fs::read_to_string(f).expect("readable source"));
        for line in text
            .lines()
            .filter(|l| !l.trim_start().starts_with("pub use"))
        {
            for (base, word) in [(Vec::new(), "crate::"), (parent.clone(), "super::")] {
                for (i, _) in line.match_indices(word) {
                    if word == "crate::" && line[..i].ends_with("super::") {
                        continue;
                    }
                    let mut path = base.clone();
                    path.extend(
                        line[i + word.len()..]
                            .split("::")
                            .map(|seg| {
                                seg.chars()
                                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                                    .collect::<String>()
                            })
                            .take_while(|seg| !seg.is_empty()),
                    );
                    if let Some(to) = resolve(&modules, &path)
                        && !nested(&from, &to)
                    {
                        edges.insert((from.clone(), to));
                    }
                }
            }
        }
    }
    edges
        .iter()
        .filter(|(a, b)| a < b && edges.contains(&(b.clone(), a.clone())))
        .map(|(a, b)| (a.join("::"), b.join("::")))
        .collect()
}

#[test]
fn no_crate_has_a_module_cycle() {
    let root = workspace();
    let mut found = Vec::new();
    for krate in [
        "mock-registry/clock",
        "mock-registry/epp",
        "mock-registry/dnssec",
        "mock-registry/registry",
        "harness/checker",
        "harness/harness",
        "harness/real-dns",
    ] {
        for (a, b) in module_cycles(&root.join(krate).join("src")) {
            found.push(format!("{krate}: {a} ⇄ {b}"));
        }
    }
    assert!(found.is_empty(), "module cycles:\n{}", found.join("\n"));
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let src = dir.path();
    std::fs::create_dir(src.join("c")).expect("mkdir");
    std::fs::write(src.join("lib.rs"), "mod a; mod b; mod c;").expect("write");
    std::fs::write(src.join("a.rs"), "use crate::b::B; pub struct A;").expect("write");
    std::fs::write(
        src.join("b.rs"),
        "use crate::a::A;\n#[cfg(test)]\nmod tests { use crate::c; }\npub struct B;",
    )
    .expect("write");
    std::fs::write(src.join("c.rs"), "mod x; mod y; pub use x::X;").expect("write");
    std::fs::write(src.join("c/x.rs"), "use super::y::Y; use super::C;").expect("write");
    std::fs::write(src.join("c/y.rs"), "use super::x::X;").expect("write");
    assert_eq!(
        module_cycles(src),
        [
            ("a".to_string(), "b".to_string()),
            ("c::x".to_string(), "c::y".to_string())
        ]
    );
    std::fs::write(
        src.join("b.rs"),
        "// crate::a is mentioned only here\npub struct B;",
    )
    .expect("write");
    std::fs::write(src.join("c/y.rs"), "pub struct Y;").expect("write");
    assert!(module_cycles(src).is_empty());
}
