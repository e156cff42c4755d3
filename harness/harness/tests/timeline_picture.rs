//! The timeline picture (issue 16): `harness run --html DIR` writes a page with an inline SVG
//! per scenario and `DIR/<scenario-id>.svg` beside it. For faulty scenarios the picture must
//! have the lanes of every source (parent, operator A, operator B) and the failure band where
//! the fault broke the domain, lined up with the change that caused it; it must be well-formed
//! XML (checked by quick-xml here and by xmllint); and headless Chromium must render the page.
//!
//! The screenshot is kept as a CI artifact at `target/harness-artifacts/report.png` (with the
//! page and pictures beside it in `target/harness-artifacts/report/`). `xmllint` and
//! `chromium` are required (`ci/test` installs them): a missing tool fails the test, it never
//! skips it.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};

const BIN: &str = env!("CARGO_BIN_EXE_harness");

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios")
}

/// `target/harness-artifacts`, beside the build's `debug`/`release` directory, so CI can
/// keep it under a stable path whatever CARGO_TARGET_DIR is.
fn artifacts() -> PathBuf {
    let dir = Path::new(BIN)
        .parent()
        .and_then(Path::parent)
        .expect("the binary is in <target>/<profile>/")
        .join("harness-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An element of the parsed picture.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: BTreeMap<String, String>,
    /// Text directly inside it.
    text: String,
    children: Vec<Self>,
}

impl Node {
    fn walk<'a>(&'a self, out: &mut Vec<&'a Self>) {
        out.push(self);
        for c in &self.children {
            c.walk(out);
        }
    }

    fn all(&self) -> Vec<&Self> {
        let mut out = Vec::new();
        self.walk(&mut out);
        out
    }

    fn attr(&self, k: &str) -> Option<&str> {
        self.attrs.get(k).map(String::as_str)
    }

    /// The text of its `<title>` child (hover text).
    fn title(&self) -> String {
        self.children
            .iter()
            .find(|c| c.name == "title")
            .map(|c| c.text.clone())
            .unwrap_or_default()
    }

    fn num(&self, k: &str) -> f64 {
        self.attr(k).unwrap().parse().unwrap()
    }
}

/// Parses an SVG file into a tree; fails on anything that is not well-formed.
fn parse(svg: &str) -> Node {
    let mut reader = Reader::from_str(svg);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => stack.push(node(&e)),
            Event::Empty(e) => {
                let n = node(&e);
                stack.last_mut().unwrap().children.push(n);
            }
            Event::End(_) => {
                let n = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(n);
            }
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let name = r.xml10_content();
                let v = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&name)
                        .expect("only the five XML entities")
                        .to_string(),
                };
                stack.last_mut().unwrap().text.push_str(&v);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut doc = stack.pop().unwrap();
    assert_eq!(doc.children.len(), 1, "one root element");
    doc.children.pop().unwrap()
}

fn node(e: &quick_xml::events::BytesStart<'_>) -> Node {
    let mut attrs = BTreeMap::new();
    for a in e.attributes().with_checks(true) {
        let a = a.expect("well-formed attribute");
        let k = a.key.as_ref().to_string();
        let v = a.normalized_value(XmlVersion::Implicit1_0).unwrap();
        attrs.insert(k, v.into_owned());
    }
    Node {
        name: e.name().as_ref().to_string(),
        attrs,
        ..Node::default()
    }
}

fn xmllint(path: &Path) {
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("xmllint is required (Debian libxml2-utils): {e}"));
    assert!(
        out.status.success(),
        "{} is not well-formed:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The lanes a picture of one domain moving from A to B must have.
const LANES: [(&str, &str); 6] = [
    ("parent", "DS"),
    ("parent", "NS"),
    ("operator A", "DNSKEY"),
    ("operator A", "NS"),
    ("operator B", "DNSKEY"),
    ("operator B", "NS"),
];

/// Checks one faulty scenario's picture: every lane, the failure band with the witness of
/// `check` in its hover title, starting where `lane`'s set changed, and the tick rows.
fn check_picture(svg_path: &Path, failure: &str, check: &str, lane: (&str, &str)) -> Node {
    xmllint(svg_path);
    let svg = parse(&std::fs::read_to_string(svg_path).unwrap());
    assert_eq!(svg.name, "svg");
    assert_eq!(svg.attr("xmlns"), Some("http://www.w3.org/2000/svg"));
    let all = svg.all();
    for (source, rrtype) in LANES {
        let found = all.iter().find(|n| {
            n.attr("data-lane") == Some(source)
                && n.attr("data-rrtype") == Some(rrtype)
                && n.attr("data-domain") == Some("example.nl")
        });
        let lane = found.unwrap_or_else(|| panic!("no lane {source} {rrtype}"));
        assert!(
            lane.children.iter().any(|g| g.title().contains(rrtype)),
            "lane {source} {rrtype} has no stretch with a title"
        );
    }
    let band = all
        .iter()
        .find(|n| n.attr("data-verdict") == Some(failure))
        .unwrap_or_else(|| panic!("no {failure} band"));
    let title = band.title();
    assert!(
        title.contains(&format!("example.nl: {failure} from +")) && title.contains(check),
        "the {failure} band's title lacks the finding and witness: {title}"
    );
    let rect = band.children.iter().find(|c| c.name == "rect").unwrap();
    let band_x = rect.num("x");
    assert!(rect.num("width") > 5.0, "the {failure} band is visible");
    // The band starts where the faulty change appears in the lane that shows it.
    let marker = all
        .iter()
        .filter(|n| n.attr("data-change") == Some(&format!("{} {}", lane.0, lane.1)))
        .map(|n| {
            n.children
                .iter()
                .find(|c| c.name == "line")
                .unwrap()
                .num("x1")
        })
        .find(|x| (x - band_x).abs() < 1.0);
    assert!(
        marker.is_some(),
        "no change of {lane:?} lines up with the {failure} band at x={band_x}"
    );
    assert!(
        all.iter().any(|n| n.attr("data-verdict") == Some("secure")),
        "the secure stretches are drawn too"
    );
    assert!(
        all.iter().any(|n| n.attr("data-tint") == Some(failure)),
        "the {failure} stretch is marked across the lanes"
    );
    for row in ["steps", "actions A", "epp A", "actions B", "epp B"] {
        let r = all
            .iter()
            .find(|n| n.attr("data-row") == Some(row))
            .unwrap_or_else(|| panic!("no tick row {row}"));
        assert!(
            r.children.iter().any(|g| !g.title().is_empty()),
            "tick row {row} has no tick with a title"
        );
    }
    // The axis reads as offsets of virtual time.
    assert!(all.iter().any(|n| n.name == "text" && n.text == "+0s"));
    assert!(all.iter().any(|n| {
        n.name == "text"
            && n.text.len() > 2
            && n.text.starts_with('+')
            && n.text[1..].starts_with(|c: char| c.is_ascii_digit())
            && n.text.ends_with(['h', 'd'])
    }));
    svg
}

/// Runs Chromium headless on `page` into `png`, with a deadline.
fn screenshot(page: &Path, png: &Path) {
    let profile = tempfile::tempdir().unwrap();
    let _ = std::fs::remove_file(png);
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1400,1000")
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("chromium is required (Debian chromium): {e}"));
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    assert!(status.success(), "chromium failed: {err}");
}

#[test]
fn the_report_shows_lanes_and_the_failure_band_and_renders_in_chromium() {
    let out = artifacts().join("report");
    let _ = std::fs::remove_dir_all(&out);
    let run = Command::new(BIN)
        .arg("run")
        .arg(scenarios().join("fault-ns-host-misspelt.toml"))
        .arg(scenarios().join("fault-ns-switched-too-early.toml"))
        .arg("--html")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );

    // A misspelt name server: unreachable from the parent's switch to the misspelt hosts.
    let misspelt = check_picture(
        &out.join("fault-ns-host-misspelt.svg"),
        "unreachable",
        "DNS-UNREACHABLE",
        ("parent", "NS"),
    );
    let parent_ns: Vec<String> = misspelt
        .all()
        .iter()
        .filter(|n| n.attr("data-lane") == Some("parent") && n.attr("data-rrtype") == Some("NS"))
        .flat_map(|n| n.children.iter().map(Node::title))
        .collect();
    assert!(
        parent_ns
            .iter()
            .any(|t| t.contains("ns1x.operator-b.example")),
        "the parent's NS lane shows the misspelt hosts: {parent_ns:?}"
    );
    // NS switched too early: bogus from the moment resolvers can reach B's servers with A's
    // DNSKEY set still cached; the parent's NS change is where it starts.
    check_picture(
        &out.join("fault-ns-switched-too-early.svg"),
        "bogus",
        "DNSSEC-CHAIN-BOGUS",
        ("parent", "NS"),
    );

    // The page embeds both pictures inline and names the standalone files.
    let page = out.join("index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(
        html.matches("<svg xmlns=").count(),
        2,
        "two inline pictures"
    );
    assert!(html.contains("href=\"fault-ns-host-misspelt.svg\""));
    assert!(!html.contains("<script"), "no script");

    let png = artifacts().join("report.png");
    screenshot(&page, &png);
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (1400, 1000));
    // A blank page of this size compresses to a few kilobytes; text, lanes and bands do not.
    assert!(bytes.len() > 40_000, "{} bytes: a blank page?", bytes.len());
    println!("screenshot: {}", png.display());
    println!("page: {}", page.display());
}
