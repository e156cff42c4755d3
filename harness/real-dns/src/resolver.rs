//! Real recursive, validating resolvers: Unbound, BIND `named`, Knot Resolver (`kresd`) and
//! PowerDNS Recursor, each started in the foreground in its own temporary directory on a free
//! loopback port, with one root trust anchor and root hints that point at a simulated root.
//!
//! A resolver here is the thing users meet: it follows delegations itself from the root hints
//! (so every authoritative server it must reach has to answer on port 53: give each its own
//! loopback address, `127.x.y.z`), caches what it learns for the TTLs it is given, and
//! validates against the one anchor. Its caching is set to follow TTLs as they are, which a
//! scaled-down world needs: no minimum cache TTL (Knot Resolver's is 5 s by default, PowerDNS
//! Recursor's 1 s), no serve-stale (RFC 8767 is off in all four unless asked), and the time a
//! failure itself is cached (`val-bogus-ttl`, `servfail-ttl`, `packetcache-servfail-ttl`) set
//! by the caller. Everything else (prefetch, retries, QNAME minimisation, aggressive NSEC) is
//! the software's default: that behaviour is what is being observed.
//!
//! ```no_run
//! # async fn demo() -> real_dns::Result<()> {
//! use real_dns::resolver::{Resolver, ResolverKind, ResolverSetup, RootAnchor};
//! let setup = ResolverSetup::new(
//!     vec![("ns1.dns.nl.".into(), std::net::Ipv4Addr::new(127, 20, 30, 1).into())],
//!     RootAnchor { key_tag: 12345, algorithm: 13, digest_type: 2, digest_hex: "AB…".into() },
//! );
//! let unbound = Resolver::start(ResolverKind::Unbound, &setup).await?;
//! let answer = unbound.ask("www.example.nl", hickory_proto::rr::RecordType::A).await?;
//! println!("{} AD={}", answer.rcode, answer.authentic);
//! unbound.stop().await?;
//! # Ok(()) }
//! ```
//!
//! **Architecture invariant:** a resolver is stopped by its process id (dropping it kills it
//! too, also when a test panics); nothing here stops a process it did not start.

use std::ffi::OsString;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::rdata::opt::EdnsCode;
use hickory_proto::rr::{Name, RecordType};

use crate::dns::{exchange_tcp, exchange_udp};
use crate::error::{Error, Result};
use crate::process::{self, ServerProcess, find_binary};

/// Which resolver software.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResolverKind {
    /// Unbound 1.17 (`unbound`).
    Unbound,
    /// BIND 9.18 (`named`).
    Bind,
    /// Knot Resolver 5.6 (`kresd`).
    Kresd,
    /// PowerDNS Recursor 4.8 (`pdns_recursor`).
    PdnsRecursor,
}

impl ResolverKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [Self; 4] = [Self::Unbound, Self::Bind, Self::Kresd, Self::PdnsRecursor];

    /// The name used on command lines and in reports (`unbound`, `bind`, `kresd`,
    /// `pdns-recursor`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Unbound => "unbound",
            Self::Bind => "bind",
            Self::Kresd => "kresd",
            Self::PdnsRecursor => "pdns-recursor",
        }
    }

    /// The program started.
    pub fn program(self) -> &'static str {
        match self {
            Self::Unbound => "unbound",
            Self::Bind => "named",
            Self::Kresd => "kresd",
            Self::PdnsRecursor => "pdns_recursor",
        }
    }

    /// The Debian package that ships it (named in the error when it is missing).
    pub fn package(self) -> &'static str {
        match self {
            Self::Unbound => "unbound",
            Self::Bind => "bind9",
            Self::Kresd => "knot-resolver",
            Self::PdnsRecursor => "pdns-recursor",
        }
    }

    /// Whether its program can be found (PATH, then /usr/sbin and /sbin).
    pub fn installed(self) -> bool {
        find_binary(Path::new(self.program()), None, self.package()).is_ok()
    }

    /// The installed kinds, in [`ALL`](Self::ALL) order.
    pub fn installed_kinds() -> Vec<Self> {
        Self::ALL.into_iter().filter(|k| k.installed()).collect()
    }
}

impl fmt::Display for ResolverKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ResolverKind {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "unbound" => Ok(Self::Unbound),
            "bind" | "named" | "bind9" => Ok(Self::Bind),
            "kresd" | "knot-resolver" => Ok(Self::Kresd),
            "pdns-recursor" | "pdns_recursor" | "powerdns-recursor" => Ok(Self::PdnsRecursor),
            other => Err(format!(
                "unknown resolver {other:?}; known: unbound, bind, kresd, pdns-recursor"
            )),
        }
    }
}

/// The root's DS, the only trust anchor a resolver gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootAnchor {
    /// Key tag of the root KSK.
    pub key_tag: u16,
    /// Its algorithm number.
    pub algorithm: u8,
    /// The digest type (2: SHA-256).
    pub digest_type: u8,
    /// The digest, hexadecimal.
    pub digest_hex: String,
}

impl RootAnchor {
    /// `. 3600 IN DS tag alg type digest`, as Unbound and Knot Resolver read it.
    pub fn ds_record(&self) -> String {
        format!(
            ". 3600 IN DS {} {} {} {}",
            self.key_tag, self.algorithm, self.digest_type, self.digest_hex
        )
    }
}

/// What every resolver of a world gets.
#[derive(Debug, Clone)]
pub struct ResolverSetup {
    /// The root's name servers and their addresses (the root hints; each must answer on
    /// port 53).
    pub root_hints: Vec<(String, IpAddr)>,
    /// The one trust anchor.
    pub anchor: RootAnchor,
    /// How long, in seconds, a failure itself (a bogus answer, a SERVFAIL) may be cached:
    /// scaled down like every TTL of the world. At least 1 (the software's floors).
    pub failure_ttl: u32,
    /// How long a resolver may take to answer securely for the root after it is started.
    pub start_timeout: Duration,
    /// How long one client question may take.
    pub question_timeout: Duration,
    /// The PATH to look programs up in; `None` for this process's PATH (and /usr/sbin).
    pub search_path: Option<OsString>,
}

impl ResolverSetup {
    /// A setup with the defaults: failures cached for 1 s, 20 s to start, 3 s per question.
    pub fn new(root_hints: Vec<(String, IpAddr)>, anchor: RootAnchor) -> Self {
        Self {
            root_hints,
            anchor,
            failure_ttl: 1,
            start_timeout: Duration::from_secs(20),
            question_timeout: Duration::from_secs(3),
            search_path: None,
        }
    }

    fn hints_file(&self) -> String {
        let mut out = String::new();
        for (host, _) in &self.root_hints {
            out.push_str(&format!(".  3600000  IN  NS  {}\n", fqdn(host)));
        }
        for (host, ip) in &self.root_hints {
            let t = if ip.is_ipv4() { "A" } else { "AAAA" };
            out.push_str(&format!("{}  3600000  IN  {t}  {ip}\n", fqdn(host)));
        }
        out
    }
}

fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

/// What a resolver answered one client question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverAnswer {
    /// The response code.
    pub rcode: ResponseCode,
    /// The AD bit: the resolver validated the answer as secure.
    pub authentic: bool,
    /// The answer section, one record per line in presentation format (owner, TTL, class,
    /// type, data), RRSIGs left out.
    pub records: Vec<String>,
    /// Extended DNS errors (RFC 8914) the resolver attached: `code: text`.
    pub extended_errors: Vec<String>,
}

impl fmt::Display for ResolverAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.rcode)?;
        if self.authentic {
            f.write_str(" AD")?;
        }
        for e in &self.extended_errors {
            write!(f, " (EDE {e})")?;
        }
        if !self.records.is_empty() {
            write!(f, ": {}", self.records.join("; "))?;
        }
        Ok(())
    }
}

/// A running resolver. See the module documentation.
#[derive(Debug)]
pub struct Resolver {
    kind: ResolverKind,
    addr: SocketAddr,
    question_timeout: Duration,
    process: ServerProcess,
}

impl Resolver {
    /// Starts `kind` with `setup` on a free loopback port and waits until it answers the
    /// root's SOA validated (AD), so its trust anchor and root hints are known to work. A
    /// start whose log says the port was taken is retried on another port.
    pub async fn start(kind: ResolverKind, setup: &ResolverSetup) -> Result<Self> {
        let program = find_binary(
            Path::new(kind.program()),
            setup.search_path.as_deref(),
            kind.package(),
        )?;
        let mut last = None;
        for _ in 0..3 {
            match Self::start_once(kind, &program, setup).await {
                Ok(r) => return Ok(r),
                Err(e) if process::is_port_conflict(&e) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::Unexpected {
            software: kind.program(),
            what: "no start attempt was made".into(),
        }))
    }

    async fn start_once(kind: ResolverKind, program: &Path, setup: &ResolverSetup) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("real-dns-{}-", kind.name()))
            .tempdir()
            .map_err(|e| Error::io("creating a temporary directory", e))?;
        let path = dir.path().to_path_buf();
        let port = process::free_port()?;
        write(&path.join("root.hints"), &setup.hints_file())?;
        let args = configure(kind, &path, port, setup)?;
        let process = ServerProcess::spawn(kind.program(), program, &args, dir, vec![port])?;
        let resolver = Self {
            kind,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            question_timeout: setup.question_timeout,
            process,
        };
        resolver.wait_ready(setup.start_timeout).await?;
        Ok(resolver)
    }

    async fn wait_ready(&self, waited: Duration) -> Result<()> {
        let start = Instant::now();
        let mut last;
        loop {
            self.process.check_alive().await?;
            match self.ask(".", RecordType::SOA).await {
                Ok(a) if a.rcode == ResponseCode::NoError && a.authentic => return Ok(()),
                Ok(a) => last = a.to_string(),
                Err(e) => last = e.to_string(),
            }
            if start.elapsed() >= waited {
                return Err(Error::StartTimeout {
                    software: self.kind.program(),
                    zone: format!(". (validated; last: {last})"),
                    waited,
                    log_tail: self.process.log_tail(),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Which software.
    pub fn kind(&self) -> ResolverKind {
        self.kind
    }

    /// Where it answers clients (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Its log (stdout and stderr).
    pub fn log_path(&self) -> &Path {
        self.process.log_path()
    }

    /// The log lines written after byte `offset`, and the offset to read on from: a caller
    /// sampling the resolver keeps the offset and attaches what was logged in between.
    pub fn log_since(&self, offset: u64) -> (Vec<String>, u64) {
        match std::fs::read(self.process.log_path()) {
            Ok(bytes) => {
                let from = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                // Only whole lines: a line still being written waits for the next read.
                let end = bytes[from..]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(from, |p| from + p + 1);
                let text = String::from_utf8_lossy(&bytes[from..end]);
                (
                    text.lines().map(str::to_string).collect(),
                    u64::try_from(end).unwrap_or(u64::MAX),
                )
            }
            Err(_) => (Vec::new(), offset),
        }
    }

    /// Asks one question as a stub client would (RD, and AD to ask for the validation
    /// status, RFC 6840 §5.7), over UDP and again over TCP when truncated.
    pub async fn ask(&self, name: &str, rtype: RecordType) -> Result<ResolverAnswer> {
        let question = format!("{name} {rtype}");
        let err = |reason: String| Error::Dns {
            question: question.clone(),
            server: self.addr,
            reason,
        };
        let qname = Name::from_ascii(fqdn(name)).map_err(|e| err(e.to_string()))?;
        let mut request = Message::query();
        request.metadata.recursion_desired = true;
        request.metadata.authentic_data = true;
        request.add_query(Query::query(qname, rtype));
        let mut edns = hickory_proto::op::Edns::new();
        edns.set_max_payload(1232);
        request.set_edns(edns);
        let bytes = request.to_vec().map_err(|e| err(e.to_string()))?;
        let timeout = self.question_timeout;
        let answer = tokio::time::timeout(timeout, async {
            let raw = exchange_udp(self.addr, &bytes).await?;
            let m = Message::from_vec(&raw).map_err(std::io::Error::other)?;
            if m.metadata.truncation {
                let raw = exchange_tcp(self.addr, &bytes).await?;
                return Message::from_vec(&raw).map_err(std::io::Error::other);
            }
            Ok(m)
        })
        .await
        .map_err(|_| err(format!("no answer within {timeout:?}")))?
        .map_err(|e| err(e.to_string()))?;
        if answer.metadata.id != request.metadata.id {
            return Err(err("answer ID does not match".into()));
        }
        Ok(read_answer(&answer))
    }

    /// Kills the process and waits until it is gone. Idempotent.
    pub async fn stop(&self) -> Result<()> {
        self.process.stop().await
    }
}

fn read_answer(m: &Message) -> ResolverAnswer {
    let records = m
        .answers
        .iter()
        .filter(|r| r.record_type() != RecordType::RRSIG)
        .map(|r| {
            format!(
                "{} {} IN {} {}",
                r.name.to_ascii().to_ascii_lowercase(),
                r.ttl,
                r.record_type(),
                // Faithful text: hickory's own loses the quotes of TXT and HINFO strings.
                dnssec::presentation::rdata_text(&r.data)
            )
        })
        .collect();
    // EDE (RFC 8914, option 15): a 16-bit info code, then UTF-8 text.
    let extended_errors = m
        .edns
        .as_ref()
        .map(|edns| {
            edns.options()
                .get_all(EdnsCode::from(15u16))
                .into_iter()
                .map(|opt| {
                    let data = Vec::<u8>::try_from(opt).unwrap_or_default();
                    match data.split_first_chunk::<2>() {
                        Some((code, text)) => format!(
                            "{}: {}",
                            u16::from_be_bytes(*code),
                            String::from_utf8_lossy(text)
                        ),
                        None => "malformed".to_string(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    ResolverAnswer {
        rcode: m.metadata.response_code,
        authentic: m.metadata.authentic_data,
        records,
        extended_errors,
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

/// Writes the software's configuration into `dir` and returns its command line.
fn configure(
    kind: ResolverKind,
    dir: &Path,
    port: u16,
    setup: &ResolverSetup,
) -> Result<Vec<OsString>> {
    let d = dir.display();
    let fail_ttl = setup.failure_ttl.max(1);
    let a = &setup.anchor;
    match kind {
        ResolverKind::Unbound => {
            // val-log-level 2 logs every validation failure with its reason and the server;
            // infra-host-ttl bounds how long a server's lameness or RTT is remembered (900 s
            // by default: days in a scaled world).
            let conf = format!(
                "server:\n    interface: 127.0.0.1@{port}\n    port: {port}\n    do-ip6: no\n    \
                 do-not-query-localhost: no\n    username: \"\"\n    chroot: \"\"\n    \
                 directory: \"{d}\"\n    pidfile: \"\"\n    use-syslog: no\n    logfile: \"\"\n    \
                 verbosity: 1\n    val-log-level: 2\n    log-servfail: yes\n    num-threads: 1\n    \
                 outgoing-range: 64\n    so-reuseport: no\n    access-control: 127.0.0.0/8 allow\n    \
                 root-hints: \"{d}/root.hints\"\n    trust-anchor: \"{ds}\"\n    \
                 cache-min-ttl: 0\n    serve-expired: no\n    val-bogus-ttl: {fail_ttl}\n    \
                 infra-host-ttl: {fail_ttl}\n    minimal-responses: yes\n    \
                 module-config: \"validator iterator\"\n\
                 remote-control:\n    control-enable: no\n",
                ds = a.ds_record(),
            );
            let path = dir.join("unbound.conf");
            write(&path, &conf)?;
            Ok(vec!["-d".into(), "-c".into(), path.into_os_string()])
        }
        ResolverKind::Bind => {
            // -f: foreground, logging as configured (to stderr, with categories), so the
            // validator's reasons (category dnssec) reach the log.
            let conf = format!(
                "options {{\n  directory \"{d}\";\n  pid-file none;\n  session-keyfile none;\n  \
                 managed-keys-directory \"{d}\";\n  listen-on port {port} {{ 127.0.0.1; }};\n  \
                 listen-on-v6 {{ none; }};\n  recursion yes;\n  allow-recursion {{ 127.0.0.0/8; }};\n  \
                 allow-query {{ 127.0.0.0/8; }};\n  dnssec-validation yes;\n  min-cache-ttl 0;\n  \
                 min-ncache-ttl 0;\n  servfail-ttl {fail_ttl};\n  lame-ttl 0;\n  \
                 stale-answer-enable no;\n  stale-cache-enable no;\n  notify no;\n  \
                 max-cache-size 32m;\n}};\n\
                 trust-anchors {{\n  . static-ds {} {} {} \"{}\";\n}};\n\
                 zone \".\" {{ type hint; file \"{d}/root.hints\"; }};\n\
                 controls {{ }};\n\
                 logging {{\n  channel to_stderr {{ stderr; severity info; print-time yes; \
                 print-category yes; print-severity yes; }};\n  category default {{ to_stderr; }};\n  \
                 category dnssec {{ to_stderr; }};\n  category lame-servers {{ to_stderr; }};\n}};\n",
                a.key_tag, a.algorithm, a.digest_type, a.digest_hex,
            );
            let path = dir.join("named.conf");
            write(&path, &conf)?;
            Ok(vec!["-f".into(), "-c".into(), path.into_os_string()])
        }
        ResolverKind::Kresd => {
            if setup.root_hints.is_empty() {
                return Err(Error::invalid(
                    "root hints",
                    "",
                    "a resolver needs at least one root server",
                ));
            }
            let hints: Vec<String> = setup
                .root_hints
                .iter()
                .map(|(h, ip)| format!("['{}'] = {{ '{ip}' }}", fqdn(h)))
                .collect();
            // The validator's debug messages name the reason for a bogus answer.
            let conf = format!(
                "net.listen('127.0.0.1', {port}, {{ kind = 'dns' }})\n\
                 net.ipv6 = false\n\
                 modules.unload('detect_time_skew')\n\
                 cache.open(20 * MB, 'lmdb://{d}/cache')\n\
                 cache.min_ttl(0)\n\
                 trust_anchors.remove('.')\n\
                 trust_anchors.add('{ds}')\n\
                 modules.load('hints > iterate')\n\
                 policy.add(policy.all(policy.FLAGS('ALLOW_LOCAL')))\n\
                 hints.root({{ {hints} }})\n\
                 log_level('info')\n\
                 log_groups({{ 'valdtr' }})\n",
                ds = a.ds_record(),
                hints = hints.join(", "),
            );
            let path = dir.join("config.lua");
            write(&path, &conf)?;
            Ok(vec![
                "-n".into(),
                "-c".into(),
                path.into_os_string(),
                dir.as_os_str().to_os_string(),
            ])
        }
        ResolverKind::PdnsRecursor => {
            let lua = format!(
                "clearTA('.')\naddTA('.', '{} {} {} {}')\n",
                a.key_tag, a.algorithm, a.digest_type, a.digest_hex
            );
            write(&dir.join("anchors.lua"), &lua)?;
            // dont-query is emptied: by default it refuses to ask servers on 127.0.0.0/8.
            let conf = format!(
                "local-address=127.0.0.1\nlocal-port={port}\nsocket-dir={d}\ndaemon=no\n\
                 write-pid=no\ndisable-syslog=yes\nlog-timestamp=yes\nloglevel=6\n\
                 dnssec=validate\ndnssec-log-bogus=yes\nlua-config-file={d}/anchors.lua\n\
                 hint-file={d}/root.hints\ndont-query=\nminimum-ttl-override=0\n\
                 packetcache-servfail-ttl={fail_ttl}\nserve-stale-extensions=0\n\
                 server-down-throttle-time={fail_ttl}\nthreads=1\npdns-distributes-queries=no\n\
                 query-local-address=127.0.0.1\n"
            );
            write(&dir.join("recursor.conf"), &conf)?;
            Ok(vec![OsString::from(format!("--config-dir={d}"))])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_by_their_names_and_aliases() {
        for k in ResolverKind::ALL {
            assert_eq!(k.name().parse::<ResolverKind>().unwrap(), k);
        }
        assert_eq!("named".parse::<ResolverKind>().unwrap(), ResolverKind::Bind);
        assert!("dnsmasq".parse::<ResolverKind>().is_err());
    }

    #[test]
    fn root_hints_name_every_server_with_its_address() {
        let setup = ResolverSetup::new(
            vec![("ns1.dns.nl".into(), "127.9.8.1".parse().unwrap())],
            RootAnchor {
                key_tag: 1,
                algorithm: 13,
                digest_type: 2,
                digest_hex: "AA".into(),
            },
        );
        let hints = setup.hints_file();
        assert!(hints.contains(".  3600000  IN  NS  ns1.dns.nl."), "{hints}");
        assert!(
            hints.contains("ns1.dns.nl.  3600000  IN  A  127.9.8.1"),
            "{hints}"
        );
    }
}
