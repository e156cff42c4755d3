//! The differential test (issue 5, item 6; design.md §3): every case of the generated corpus
//! (`checker::corpus`) is served over real DNS on loopback and judged by four real
//! validators, hickory-resolver, `unbound-host`, `delv` and `drill`; each must reach the pure
//! validator's verdict, or the divergence must be listed with its cause in the checked-in
//! `harness/harness/known-divergences.toml`. The test fails on a divergence not listed, and on a listed
//! one that no longer diverges (so the list stays honest).
//!
//! # How the cases are served
//!
//! Every corpus case has the same zone names (`.`, `test.`, `example.test.`), so cases cannot
//! share a server. A few workers each own one project server ([`DnsServer`], root, TLD and
//! child together) and one [`Router`] in front of it; a worker serves its cases one after the
//! other, swapping the three snapshots in and setting the case's overrides (canned broken
//! denials) on the router. All four validators ask the router: delv and drill send every query
//! to the one server they are given, unbound-host gets one stub zone per zone (all at the
//! router, and `local-zone: "test." nodefault`: by default Unbound answers the RFC 6761 `test.`
//! names itself), hickory-resolver gets the router as its only name server. The router forwards
//! bytes unchanged, so what the validators see is what the project's server answers.
//!
//! The corpus is signed at the wall clock's now, since the three command-line validators and
//! hickory-resolver check signature validity against the real time.
//!
//! # Reading each validator (Debian 12 packages)
//!
//! - hickory-resolver: see `harness::live::hickory`.
//! - unbound-host `-v`: `(secure)`, `(insecure)` or `(BOGUS (security failure))` after the
//!   answer.
//! - delv: `; fully validated` (also after `; negative response,`) is secure, `; unsigned
//!   answer` insecure, `resolution failed` (a broken chain) bogus. When an NSEC3 child's data
//!   does not validate (`signer-not-in-dnskey-set`, `dnskey-missing` with NSEC3), BIND tries
//!   to prove the name insecure by fetching DS at the NSEC3 owner names, and gives up after
//!   about 12 seconds ("shut down hung fetch", "resolution failed: operation canceled"): still
//!   a failed resolution, read as bogus, but those nine cases set the test's duration.
//! - drill `-S` (chase the signatures from the trust anchor): `;; Chase successful` with exit
//!   status 0 is secure. drill cannot tell insecure from bogus: for an insecure delegation it
//!   looks for a trusted key above the child's own DNSKEY, finds none and reports a failed
//!   chase, as it does for a broken chain. So drill is only compared on secure versus not
//!   secure (`not-secure`), for every case.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use checker::Status;
use checker::corpus::{self, Case, CorpusOptions};
use clock::VirtualClock;
use dnssec::keys::ds_from_dnskey;
use dnssec::{DnsServer, DnsServerConfig, DsDigest};
use harness::live::{HICKORY, KnownDivergences, LiveStatus, Router, Routes, hickory};
use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData};
use hickory_proto::rr::RData;
use jiff::Timestamp;
use mock_registry::publish::TrustAnchor;

/// The longest a command-line validator may take on one case (they take tens of
/// milliseconds; this only stops a hang).
const TOOL_TIMEOUT: Duration = Duration::from_secs(20);

/// Workers serving cases at once. The validators mostly wait (process start, delv's 12-second
/// give-up above), so many more workers than cores keep both cores busy.
const WORKERS: usize = 10;

/// What the validators are called in reports and in the known-divergences list.
const UNBOUND: &str = "unbound-host";
const DELV: &str = "delv";
const DRILL: &str = "drill";
const ALL: [&str; 4] = [HICKORY, UNBOUND, DELV, DRILL];

/// One validator's answer on one case.
#[derive(Debug, Clone)]
struct Observation {
    case: String,
    validator: &'static str,
    /// What it should say (the pure validator's lenient verdict, in the validator's
    /// vocabulary).
    expected: &'static str,
    /// What it said.
    observed: &'static str,
    /// Its output, for the failure message.
    raw: String,
}

/// The root KSK of a case, the trust anchor every validator gets.
fn root_ksk(case: &Case) -> DNSKEY {
    let anchors = case.anchors.get(&hickory_proto::rr::Name::root()).unwrap();
    case.root
        .dnskeys()
        .unwrap()
        .records()
        .iter()
        .find_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::DNSKEY(k)) if k.secure_entry_point() => {
                let ds = ds_from_dnskey(case.root.origin(), k, DsDigest::Sha256).ok()?;
                anchors
                    .iter()
                    .any(|a| matches!(a, checker::Anchor::Ds(d) if *d == ds))
                    .then(|| k.clone())
            }
            _ => None,
        })
        .expect("every corpus root has a KSK matching its anchor")
}

/// Runs a command-line validator, failing the test clearly when it is not installed
/// (`ci/test` installs unbound-host, bind9-dnsutils and ldnsutils).
async fn run_tool(tool: &str, args: &[String]) -> (bool, String) {
    let child = tokio::process::Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let Ok(output) = tokio::time::timeout(TOOL_TIMEOUT, child).await else {
        return (false, format!("{tool} timed out after {TOOL_TIMEOUT:?}"));
    };
    let output = output.unwrap_or_else(|e| {
        panic!(
            "{tool} is needed for this test and could not be run ({e}); install it \
             (Debian: unbound-host, bind9-dnsutils, ldnsutils) or run ci/test"
        )
    });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

fn read_unbound(out: &str) -> &'static str {
    if out.contains("(BOGUS") {
        "bogus"
    } else if out.contains("(insecure)") {
        "insecure"
    } else if out.contains("(secure)") {
        "secure"
    } else {
        "failed"
    }
}

fn read_delv(out: &str) -> &'static str {
    if out.contains("fully validated") {
        "secure"
    } else if out.contains("; unsigned answer") {
        "insecure"
    } else if out.contains("resolution failed") && !out.contains("timed out") {
        "bogus"
    } else {
        "failed"
    }
}

fn read_drill(success: bool, out: &str) -> &'static str {
    if success && out.contains("Chase successful") {
        "secure"
    } else {
        "not-secure"
    }
}

/// Whether drill can judge the case in reasonable time. Not when the child publishes no
/// DNSKEY RRset although the TLD has a DS for it (`dnskey-missing`): drill -S then asks for the
/// child's DNSKEY RRset again and again (thousands of identical queries, half a minute) before
/// it reports a failed chase. It does end up "not secure", as expected, but too slowly for CI;
/// the other three validators judge those cases.
fn drill_supports(case: &Case) -> bool {
    case.family != "dnskey-missing"
}

/// One worker's server and router.
struct Worker {
    server: DnsServer,
    router: Router,
    dir: PathBuf,
}

impl Worker {
    async fn start(dir: &Path, index: usize, now: Timestamp) -> Self {
        let server = DnsServer::start(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(VirtualClock::new(now)),
            DnsServerConfig::default(),
        )
        .await
        .unwrap();
        let router = Router::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let dir = dir.join(format!("worker-{index}"));
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            server,
            router,
            dir,
        }
    }

    /// Serves `case` and asks every validator.
    async fn judge(&self, case: &Case) -> Vec<Observation> {
        for z in [&case.root, &case.tld, &case.child] {
            self.server.set_zone(Arc::clone(z));
        }
        let at = self.server.local_addr();
        let mut routes = Routes::new(case.zones().map(|z| (z.origin().clone(), at)));
        routes.overrides = case.overrides.clone();
        self.router.set_routes(routes);
        let router = self.router.local_addr();

        let ksk = root_ksk(case);
        let anchor = TrustAnchor {
            ds: ds_from_dnskey(case.root.origin(), &ksk, DsDigest::Sha256).unwrap(),
            dnskey: ksk.clone(),
        };
        let files = anchor.write_files(&self.dir).unwrap();
        let unbound_conf = self.dir.join("unbound.conf");
        let mut conf = format!(
            "server:\n  do-not-query-localhost: no\n  trust-anchor-file: \"{}\"\n  \
             chroot: \"\"\n  username: \"\"\n  use-syslog: no\n  verbosity: 0\n  \
             val-log-level: 2\n  local-zone: \"test.\" nodefault\n",
            files.dnskey.display()
        );
        for z in case.zones() {
            conf.push_str(&format!(
                "stub-zone:\n  name: \"{}\"\n  stub-addr: {}@{}\n",
                z.origin(),
                router.ip(),
                router.port()
            ));
        }
        std::fs::write(&unbound_conf, conf).unwrap();

        let qname = case.qname.to_string();
        let qtype = case.qtype.to_string();
        let port = router.port().to_string();
        let server = format!("@{}", router.ip());
        let unbound_args: Vec<String> = vec![
            "-C".into(),
            unbound_conf.display().to_string(),
            "-v".into(),
            "-t".into(),
            qtype.clone(),
            qname.clone(),
        ];
        let delv_args: Vec<String> = vec![
            "-a".into(),
            files.bind.display().to_string(),
            server.clone(),
            "-p".into(),
            port.clone(),
            qname.clone(),
            qtype.clone(),
        ];
        let drill_args: Vec<String> = vec![
            "-S".into(),
            "-k".into(),
            files.dnskey.display().to_string(),
            "-p".into(),
            port,
            server,
            qname.clone(),
            qtype.clone(),
        ];
        let resolver = hickory::resolver(router, &[ksk], Duration::from_secs(2)).unwrap();
        let (h, u, d, r) = tokio::join!(
            hickory::ask(&resolver, &case.qname, case.qtype),
            run_tool(UNBOUND, &unbound_args),
            run_tool(DELV, &delv_args),
            async {
                if drill_supports(case) {
                    Some(run_tool(DRILL, &drill_args).await)
                } else {
                    None
                }
            },
        );
        let expected = case.expected.lenient.as_str();
        let not_secure = if case.expected.lenient == Status::Secure {
            "secure"
        } else {
            "not-secure"
        };
        let observe = |validator, expected, observed, raw: String| Observation {
            case: case.id.clone(),
            validator,
            expected,
            observed,
            raw,
        };
        let hickory_word = match &h.status {
            LiveStatus::Status(s) => s.as_str(),
            LiveStatus::Failed(_) => "failed",
        };
        let mut out = vec![
            observe(HICKORY, expected, hickory_word, h.detail.clone()),
            observe(UNBOUND, expected, read_unbound(&u.1), u.1.clone()),
            observe(DELV, expected, read_delv(&d.1), d.1.clone()),
        ];
        if let Some((ok, raw)) = r {
            out.push(observe(DRILL, not_secure, read_drill(ok, &raw), raw));
        }
        out
    }
}

/// The last lines of a tool's output, for failure messages.
fn tail(raw: &str) -> String {
    let lines: Vec<&str> = raw.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(4)..].join(" | ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_validators_agree_with_the_pure_validator_on_the_corpus() {
    let started = Instant::now();
    // Real validators read the wall clock, so the corpus is signed around it.
    let now = Timestamp::now();
    let mut cases = corpus::generate(&CorpusOptions {
        now,
        ..CorpusOptions::default()
    });
    // DIFFERENTIAL_ONLY=<part of a case id> runs only matching cases and prints every
    // validator's output, for investigating a divergence.
    let only = std::env::var("DIFFERENTIAL_ONLY").ok();
    if let Some(only) = &only {
        cases.retain(|c| c.id.contains(only.as_str()));
    }
    let generated = started.elapsed();
    let dir = tempfile::tempdir().unwrap();
    let cases = Arc::new(cases);
    // Workers take the next case as they become free, so the few slow cases spread out.
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let (cases, next) = (cases.clone(), next.clone());
        let dir = dir.path().to_path_buf();
        tasks.push(tokio::spawn(async move {
            let worker = Worker::start(&dir, w, now).await;
            let mut out = Vec::new();
            while let Some(case) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                out.extend(worker.judge(case).await);
            }
            out
        }));
    }
    let mut observations = Vec::new();
    for t in tasks {
        observations.extend(t.await.unwrap());
    }

    let known = KnownDivergences::builtin();
    let mut compared: BTreeMap<&str, usize> = BTreeMap::new();
    let mut unexplained = Vec::new();
    let mut explained = 0;
    let mut diverged: Vec<(String, &str)> = Vec::new();
    for o in &observations {
        if only.is_some() {
            println!(
                "== {} {}: expected {}, observed {}\n{}",
                o.validator, o.case, o.expected, o.observed, o.raw
            );
        }
        *compared.entry(o.validator).or_default() += 1;
        if o.observed == o.expected {
            continue;
        }
        diverged.push((o.case.clone(), o.validator));
        match known.for_case(o.validator, &o.case) {
            Some(d) if d.observed == o.observed && d.expected == o.expected => explained += 1,
            _ => unexplained.push(format!(
                "{} {}: expected {}, observed {}: {}",
                o.validator,
                o.case,
                o.expected,
                o.observed,
                tail(&o.raw)
            )),
        }
    }
    // A listed divergence that no longer happens (or names a case that no longer exists) is
    // a stale entry: the list must say exactly what diverges.
    let stale: Vec<String> = known
        .entries()
        .iter()
        .filter_map(|d| {
            let stale: Vec<&String> = d
                .cases
                .iter()
                .filter(|case| {
                    !diverged
                        .iter()
                        .any(|(c, v)| c == *case && *v == d.validator)
                })
                .collect();
            (!stale.is_empty()).then(|| {
                format!(
                    "{}: listed as {} but no longer diverges: {stale:?}",
                    d.validator, d.observed
                )
            })
        })
        .collect();
    println!(
        "{} cases, {} validators: {} comparisons ({:?}), {explained} known divergence(s); \
         generated in {generated:?}, all in {:?}",
        cases.len(),
        ALL.len(),
        observations.len(),
        compared,
        started.elapsed()
    );
    if only.is_some() {
        return;
    }
    for v in ALL {
        assert!(
            compared.get(v).copied().unwrap_or(0) >= 200,
            "{v}: only {:?} cases compared",
            compared.get(v)
        );
    }
    assert!(
        unexplained.is_empty(),
        "{} divergence(s) not in harness/harness/known-divergences.toml (fix them or list them with \
         their cause):\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    assert!(
        stale.is_empty(),
        "stale entries in harness/harness/known-divergences.toml:\n{}",
        stale.join("\n")
    );
}
