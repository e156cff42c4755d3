//! The differential test (issue 5, item 6; issue 17, item 4; design.md §3): every case of the
//! generated corpus (`checker::corpus`, over 1,000 chains) is served over real DNS on loopback
//! and judged by five real validators, hickory-resolver, Knot Resolver (`kresd`),
//! `unbound-host`, `delv` and `drill`; each must reach the pure validator's verdict, or the
//! divergence must be listed with its cause in the checked-in
//! `harness/harness/known-divergences.toml`. The test fails on a divergence not listed, and on
//! a listed one that no longer diverges (so the list stays honest).
//!
//! # How the cases are served
//!
//! Every corpus case has the same zone names (`.`, `test.`, `example.test.`, and for CNAME
//! and DNAME chains `other.test.` and `sub.example.test.`), so cases cannot share a server. A
//! few workers each own one project server ([`DnsServer`], every zone of the case together),
//! one [`Router`] in front of it and one `kresd`; a worker serves its cases one after the
//! other, swapping the snapshots in and setting the case's overrides (canned broken answers)
//! on the router. Every validator asks the router: delv and drill send every query to the one
//! server they are given, unbound-host gets one stub zone per zone (all at the router, and
//! `local-zone: "test." nodefault`: by default Unbound answers the RFC 6761 `test.` names
//! itself), hickory-resolver gets the router as its only name server, and kresd forwards every
//! question to it (`policy.FORWARD`; `policy.STUB` would not validate). The router forwards
//! bytes unchanged, so what the validators see is what the project's server answers.
//!
//! The corpus is signed at the wall clock's now, since the command-line validators, kresd and
//! hickory-resolver check signature validity against the real time.
//!
//! # Reusing processes, and what each validator sees
//!
//! `kresd` serves many questions: each worker starts one (Knot Resolver 5.6 in the foreground,
//! its working directory a temporary one, its Lua prompt on stdin) and, before each case, tells
//! it on stdin to drop its trust anchors, take the case's root DS, and clear its cache.
//! unbound-host, delv and drill are one process per question. The validators of a case run at
//! once, and the workers (many more than cores: the validators mostly wait) take cases as they
//! become free. hickory-resolver and kresd see every case, unbound-host and delv too; drill
//! sees every case but those it cannot judge in time (below).
//!
//! # Reading each validator (Debian 12 packages)
//!
//! - hickory-resolver: see `harness::live::hickory`.
//! - kresd 5.6: AD set on a NOERROR or NXDOMAIN answer is secure, no AD insecure, SERVFAIL
//!   with an extended DNS error (RFC 8914) of the DNSSEC kind bogus; anything else failed.
//! - unbound-host `-v`: `(secure)`, `(insecure)` or `(BOGUS (security failure))` after the
//!   answer.
//! - delv: `; fully validated` (also after `; negative response,`) is secure, `; unsigned
//!   answer` insecure, `resolution failed` (a broken chain) bogus; it says so per RRset of a
//!   CNAME chain, and the weakest counts. When an NSEC3 child's data
//!   does not validate (`signer-not-in-dnskey-set`, `dnskey-missing` with NSEC3), BIND tries
//!   to prove the name insecure by fetching DS at the NSEC3 owner names, and gives up after
//!   about 12 seconds ("shut down hung fetch", "resolution failed: operation canceled"): still
//!   a failed resolution, read as bogus, but those cases set the test's duration.
//! - drill `-S` (chase the signatures from the trust anchor): `;; Chase successful` with exit
//!   status 0 is secure. drill cannot tell insecure from bogus: for an insecure delegation it
//!   looks for a trusted key above the child's own DNSKEY, finds none and reports a failed
//!   chase, as it does for a broken chain. So drill is only compared on secure versus not
//!   secure (`not-secure`).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use checker::Status;
use checker::corpus::{self, Case, CorpusOptions};
use clock::VirtualClock;
use dnssec::keys::ds_from_dnskey;
use dnssec::{DnsServer, DnsServerConfig, DsDigest, QueryOptions, query_with};
use harness::live::{HICKORY, KnownDivergences, LiveStatus, Router, Routes, hickory};
use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};
use hickory_proto::rr::{Name, RData, RecordType};
use jiff::Timestamp;
use mock_registry::publish::TrustAnchor;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// The longest a command-line validator may take on one case (they take tens of
/// milliseconds; this only stops a hang).
const TOOL_TIMEOUT: Duration = Duration::from_secs(20);

/// Workers serving cases at once. The validators mostly wait (process start, delv's 12-second
/// give-up above), so many more workers than cores keep both cores busy.
const WORKERS: usize = 10;

/// What the validators are called in reports and in the known-divergences list.
const KRESD: &str = "kresd";
const UNBOUND: &str = "unbound-host";
const DELV: &str = "delv";
const DRILL: &str = "drill";
const ALL: [&str; 5] = [HICKORY, KRESD, UNBOUND, DELV, DRILL];

/// How long kresd may take on one question (its own upstream timeouts are shorter).
const KRESD_TIMEOUT: Duration = Duration::from_secs(15);

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
    /// How long it took (for the time report: which validator sets the test's duration).
    took: Duration,
}

/// Runs `f` and says how long it took.
async fn timed<T>(f: impl std::future::Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let out = f.await;
    (out, started.elapsed())
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

/// One Knot Resolver process: it forwards every question to a worker's router, and takes its
/// trust anchor and a cache flush per case on its Lua prompt (stdin).
struct Kresd {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    addr: SocketAddr,
    marker: u64,
}

impl Kresd {
    /// Starts kresd in `dir`, forwarding to `upstream`, on a free loopback port (tried a few
    /// times: the port is found free, then handed to kresd, and another process may take it
    /// in between).
    async fn start(dir: &Path, upstream: SocketAddr) -> Self {
        let mut last = String::new();
        for attempt in 0..5 {
            let port = free_port();
            let run = dir.join(format!("kresd-{attempt}"));
            std::fs::create_dir_all(&run).unwrap();
            // Validation against the case's anchor only: no root priming, no clock-skew
            // check, no cache floor (every case starts from an empty cache anyway).
            let config = format!(
                "net.listen('127.0.0.1', {port}, {{ kind = 'dns' }})\n\
                 modules.unload('priming')\n\
                 modules.unload('detect_time_skew')\n\
                 cache.size = 20 * MB\n\
                 cache.min_ttl(0)\n\
                 trust_anchors.remove('.')\n\
                 policy.add(policy.all(policy.FORWARD('{}@{}')))\n",
                upstream.ip(),
                upstream.port()
            );
            std::fs::write(run.join("config.lua"), config).unwrap();
            let log = std::fs::File::create(run.join("kresd.log")).unwrap();
            let mut child = Command::new(kresd_program())
                .arg("-c")
                .arg("config.lua")
                .arg("-q")
                .arg(&run)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::from(log))
                .kill_on_drop(true)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "kresd is needed for this test and could not be run ({e}); install it \
                         (Debian: knot-resolver) or run ci/test"
                    )
                });
            let stdin = child.stdin.take().unwrap();
            let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
            let mut k = Self {
                child,
                stdin,
                stdout,
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                marker: 0,
            };
            if k.command("").await.is_ok() {
                return k;
            }
            last = std::fs::read_to_string(run.join("kresd.log")).unwrap_or_default();
            let _ = k.child.kill().await;
        }
        panic!("kresd did not start: {last}");
    }

    /// Sends Lua commands and waits until kresd has run them (it prints a marker after).
    async fn command(&mut self, lua: &str) -> Result<(), String> {
        self.marker += 1;
        let marker = format!("differential-ready-{}", self.marker);
        let text = format!("{lua}print('{marker}')\n");
        self.stdin
            .write_all(text.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        self.stdin.flush().await.map_err(|e| e.to_string())?;
        let wait = async {
            while let Some(line) = self.stdout.next_line().await.map_err(|e| e.to_string())? {
                if line.trim() == marker {
                    return Ok(());
                }
            }
            Err("kresd exited".to_string())
        };
        tokio::time::timeout(KRESD_TIMEOUT, wait)
            .await
            .map_err(|_| "kresd did not answer on its prompt".to_string())?
    }

    /// Forgets everything of the last case and trusts only this case's root DS records.
    async fn prepare(&mut self, anchor_text: &str) {
        let mut lua = String::from("trust_anchors.remove('.')\n");
        for line in anchor_text.lines().filter(|l| !l.trim().is_empty()) {
            lua.push_str(&format!("trust_anchors.add('{}')\n", line.trim()));
        }
        lua.push_str("cache.clear()\n");
        self.command(&lua).await.unwrap();
    }

    /// Asks one question (RD and DO set) and reads the verdict.
    async fn ask(&self, qname: &Name, qtype: RecordType) -> (&'static str, String) {
        let options = QueryOptions {
            recursion_desired: true,
            dnssec_ok: true,
            tcp_on_truncation: true,
            timeout: KRESD_TIMEOUT,
            ..QueryOptions::default()
        };
        match query_with(self.addr, qname, qtype, &options).await {
            Ok(m) => read_kresd(&m),
            Err(e) => ("failed", e.to_string()),
        }
    }
}

/// The kresd program: on the PATH, or in /usr/sbin where Debian puts it (a non-root PATH may
/// not have it).
fn kresd_program() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(KRESD))
            .find(|p| p.is_file())
    });
    on_path.unwrap_or_else(|| PathBuf::from("/usr/sbin").join(KRESD))
}

/// A loopback port that is free for UDP and TCP now.
fn free_port() -> u16 {
    loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// kresd's verdict: AD on an answer is secure, no AD insecure, SERVFAIL with a DNSSEC extended
/// error (RFC 8914 codes 1-12) bogus.
fn read_kresd(m: &Message) -> (&'static str, String) {
    let ede = m
        .edns
        .as_ref()
        .and_then(|e| match e.option(EdnsCode::from(15)) {
            Some(EdnsOption::Unknown(_, data)) if data.len() >= 2 => Some((
                u16::from_be_bytes([data[0], data[1]]),
                String::from_utf8_lossy(&data[2..]).to_string(),
            )),
            _ => None,
        });
    let answers: Vec<String> = m
        .answers
        .iter()
        .filter(|r| r.record_type() != RecordType::RRSIG)
        .map(|r| format!("{} {}", r.name, r.record_type()))
        .collect();
    let raw = format!(
        "{} ad={} ede={:?} answers=[{}]",
        m.metadata.response_code,
        m.metadata.authentic_data,
        ede,
        answers.join(", ")
    );
    let word = match m.metadata.response_code {
        ResponseCode::NoError | ResponseCode::NXDomain if m.metadata.authentic_data => "secure",
        ResponseCode::NoError | ResponseCode::NXDomain => "insecure",
        ResponseCode::ServFail if ede.as_ref().is_some_and(|(c, _)| (1..=12).contains(c)) => {
            "bogus"
        }
        _ => "failed",
    };
    (word, raw)
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

/// delv prints a status per RRset of the answer (a CNAME chain gives several): the answer is
/// as weak as its weakest part.
fn read_delv(out: &str) -> &'static str {
    // "resolution failed: ncache nxdomain" (or "nxrrset") only announces a negative answer,
    // whose status follows on the next line.
    let failures: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split("resolution failed: ").nth(1))
        .filter(|why| !why.starts_with("ncache"))
        .collect();
    if let Some(why) = failures.first() {
        if why.contains("timed out") {
            "failed"
        } else {
            "bogus"
        }
    } else if out.contains("unsigned answer") {
        "insecure"
    } else if out.contains("fully validated") {
        "secure"
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

/// One worker's server, router and kresd.
struct Worker {
    server: DnsServer,
    router: Router,
    kresd: Kresd,
    dir: PathBuf,
    /// The zones served for the last case (removed before the next one's go in).
    served: Vec<Name>,
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
        let kresd = Kresd::start(&dir, router.local_addr()).await;
        Self {
            server,
            router,
            kresd,
            dir,
            served: Vec::new(),
        }
    }

    /// Serves `case` and asks every validator.
    async fn judge(&mut self, case: &Case) -> Vec<Observation> {
        for z in self.served.drain(..) {
            self.server.remove_zone(&z);
        }
        for z in case.zone_arcs() {
            self.server.set_zone(Arc::clone(z));
            self.served.push(z.origin().clone());
        }
        let at = self.server.local_addr();
        let mut routes = Routes::new(case.zones().iter().map(|z| (z.origin().clone(), at)));
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
        // Over TCP: drill -S does not retry over TCP when an answer comes back truncated
        // (RSA-signed NSEC3 proofs exceed the server's 1232 octets), and gives up instead.
        let drill_args: Vec<String> = vec![
            "-t".into(),
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
        self.kresd.prepare(&case.trust_anchor_text()).await;
        let ((h, th), (k, tk), (u, tu), (d, td), r) = tokio::join!(
            timed(hickory::ask(&resolver, &case.qname, case.qtype)),
            timed(self.kresd.ask(&case.qname, case.qtype)),
            timed(run_tool(UNBOUND, &unbound_args)),
            timed(run_tool(DELV, &delv_args)),
            async {
                if drill_supports(case) {
                    Some(timed(run_tool(DRILL, &drill_args)).await)
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
        let observe = |validator, expected, observed, raw: String, took| Observation {
            case: case.id.clone(),
            validator,
            expected,
            observed,
            raw,
            took,
        };
        let hickory_word = match &h.status {
            LiveStatus::Status(s) => s.as_str(),
            LiveStatus::Failed(_) => "failed",
        };
        let mut out = vec![
            observe(HICKORY, expected, hickory_word, h.detail.clone(), th),
            observe(KRESD, expected, k.0, k.1.clone(), tk),
            observe(UNBOUND, expected, read_unbound(&u.1), u.1.clone(), tu),
            observe(DELV, expected, read_delv(&d.1), d.1.clone(), td),
        ];
        if let Some(((ok, raw), tr)) = r {
            out.push(observe(DRILL, not_secure, read_drill(ok, &raw), raw, tr));
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
            let mut worker = Worker::start(&dir, w, now).await;
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
    let mut busy: BTreeMap<&str, (Duration, Duration, String)> = BTreeMap::new();
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
        let b = busy.entry(o.validator).or_default();
        b.0 += o.took;
        if o.took > b.1 {
            b.1 = o.took;
            b.2.clone_from(&o.case);
        }
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
    for (v, (total, longest, case)) in &busy {
        println!("{v}: {total:?} in all, longest {longest:?} ({case})");
    }
    if std::env::var_os("DIFFERENTIAL_LIST").is_some() {
        // Every divergence not listed, grouped as entries of the list would be.
        let mut groups: BTreeMap<(&str, &str, &str), Vec<&str>> = BTreeMap::new();
        for o in &observations {
            if o.observed != o.expected && known.for_case(o.validator, &o.case).is_none() {
                groups
                    .entry((o.validator, o.expected, o.observed))
                    .or_default()
                    .push(&o.case);
            }
        }
        for ((v, e, ob), mut cases) in groups {
            cases.sort_unstable();
            println!(
                "== {v}: expected {e}, observed {ob} ({} cases)",
                cases.len()
            );
            for c in cases {
                println!("  \"{c}\",");
            }
        }
    }
    if only.is_some() {
        return;
    }
    assert!(cases.len() >= 1000, "only {} cases", cases.len());
    for v in ALL {
        assert!(
            compared.get(v).copied().unwrap_or(0) >= 1000,
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
