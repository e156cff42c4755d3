//! `harness lookup NAME TYPE --server IP:PORT --anchor FILE`: resolves one question through a
//! server that answers for every zone on the path (the harness's router, or a server hosting
//! them all), prints the chain (DS, DNSKEY, RRSIG key tags and validity) and the pure
//! validator's verdict with its reason. Exit status 0 only for Secure.
//!
//! The walk: from the deepest zone with a trust anchor, ask `SOA` for each name down to the
//! question's (a positive SOA at a name makes it a zone apex), then `DNSKEY` of each zone, `DS`
//! of each zone below the top (a router sends DS to the parent), and the question itself.
//! Each answer becomes a [`Response`] with [`Response::from_message`], so the view is exactly
//! what the cache model would record, and [`validate`] judges it.
//!
//! The network is behind [`Transport`]: [`UdpTransport`] (UDP with the DO bit, TCP when
//! truncated) for the command, [`ZoneRouter`] (signed zones in memory) for tests.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use dnssec::keys::parse_dnskey;
use dnssec::{Lookup, SignedRrset, SignedZone};
use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::op::{Edns, Message, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use jiff::Timestamp;

use checker::{
    Anchor, Mode, Override, Response, Status, TrustAnchors, Validation, View, ZoneView, validate,
};

/// Why a lookup could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// The trust anchor file is unreadable or malformed.
    #[error("trust anchor: {0}")]
    Anchor(String),
    /// A bad name or type on the command line.
    #[error("{0}")]
    Usage(String),
    /// No anchor is for a zone above the name.
    #[error("no trust anchor for {0} or any zone above it")]
    NoAnchor(Name),
    /// Sending, receiving or decoding failed.
    #[error("{server}: {reason}")]
    Network {
        /// The server.
        server: String,
        /// What failed.
        reason: String,
    },
}

/// Sends one question, returns the server's message.
pub trait Transport {
    /// Asks `qname`/`qtype` (DNSSEC OK, no recursion).
    fn query(&mut self, qname: &Name, qtype: RecordType) -> Result<Message, LookupError>;
}

/// Queries one server over UDP (EDNS payload 4096, DO set), retrying over TCP when the answer
/// is truncated.
#[derive(Debug)]
pub struct UdpTransport {
    server: SocketAddr,
    timeout: Duration,
    next_id: u16,
}

impl UdpTransport {
    /// A transport to `server` with a per-query timeout.
    pub fn new(server: SocketAddr, timeout: Duration) -> Self {
        Self {
            server,
            timeout,
            next_id: 1,
        }
    }

    fn err(&self, reason: impl ToString) -> LookupError {
        LookupError::Network {
            server: self.server.to_string(),
            reason: reason.to_string(),
        }
    }

    fn tcp(&self, bytes: &[u8]) -> Result<Vec<u8>, LookupError> {
        let mut stream =
            TcpStream::connect_timeout(&self.server, self.timeout).map_err(|e| self.err(e))?;
        stream
            .set_read_timeout(Some(self.timeout))
            .map_err(|e| self.err(e))?;
        let len = u16::try_from(bytes.len()).map_err(|e| self.err(e))?;
        let mut framed = len.to_be_bytes().to_vec();
        framed.extend_from_slice(bytes);
        stream.write_all(&framed).map_err(|e| self.err(e))?;
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).map_err(|e| self.err(e))?;
        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut buf).map_err(|e| self.err(e))?;
        Ok(buf)
    }
}

/// The query message: one question, no recursion, EDNS with DO.
pub fn query_message(id: u16, qname: &Name, qtype: RecordType) -> Message {
    let mut m = Message::new(id, hickory_proto::op::MessageType::Query, OpCode::Query);
    m.add_query(Query::query(qname.clone(), qtype));
    let mut edns = Edns::new();
    edns.set_max_payload(4096);
    edns.set_dnssec_ok(true);
    m.set_edns(edns);
    m
}

impl Transport for UdpTransport {
    fn query(&mut self, qname: &Name, qtype: RecordType) -> Result<Message, LookupError> {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let bytes = query_message(id, qname, qtype)
            .to_vec()
            .map_err(|e| self.err(e))?;
        let bind: SocketAddr = if self.server.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let socket = UdpSocket::bind(bind).map_err(|e| self.err(e))?;
        socket
            .set_read_timeout(Some(self.timeout))
            .map_err(|e| self.err(e))?;
        socket
            .send_to(&bytes, self.server)
            .map_err(|e| self.err(e))?;
        let mut buf = vec![0u8; 65535];
        let message = loop {
            let (n, from) = socket
                .recv_from(&mut buf)
                .map_err(|e| self.err(format!("{qname} {qtype}: {e}")))?;
            if from != self.server {
                continue;
            }
            let m = Message::from_vec(&buf[..n]).map_err(|e| self.err(e))?;
            if m.metadata.id == id {
                break m;
            }
        };
        if !message.metadata.truncation {
            return Ok(message);
        }
        let answer = self.tcp(&bytes)?;
        Message::from_vec(&answer).map_err(|e| self.err(e))
    }
}

/// Signed zones in memory behind one "server" that answers each question from the zone with
/// the longest matching origin (DS from the parent), like the harness's router; with
/// overrides, as a corpus case is served.
#[derive(Debug, Clone)]
pub struct ZoneRouter {
    zones: Vec<Arc<SignedZone>>,
    overrides: Vec<Override>,
}

impl ZoneRouter {
    /// A router over `zones`, some answers replaced by `overrides`.
    pub fn new(zones: Vec<Arc<SignedZone>>, overrides: Vec<Override>) -> Self {
        Self { zones, overrides }
    }

    /// The zone that answers `qname`/`qtype`.
    pub fn zone_for(&self, qname: &Name, qtype: RecordType) -> Option<&SignedZone> {
        self.zones
            .iter()
            .filter(|z| {
                z.origin().zone_of(qname) && !(qtype == RecordType::DS && z.origin() == qname)
            })
            .max_by_key(|z| z.origin().num_labels())
            .map(AsRef::as_ref)
    }

    /// The message the router sends back for a query.
    pub fn answer(&self, query: &Message) -> Message {
        let mut m = Message::response(query.metadata.id, OpCode::Query);
        let Some(q) = query.queries.first() else {
            m.metadata.response_code = ResponseCode::FormErr;
            return m;
        };
        m.add_query(q.clone());
        let (qname, qtype) = (q.name().to_lowercase(), q.query_type());
        let Some(zone) = self.zone_for(&qname, qtype) else {
            m.metadata.response_code = ResponseCode::Refused;
            return m;
        };
        m.metadata.authoritative = true;
        let overridden = self
            .overrides
            .iter()
            .find(|o| o.zone == *zone.origin() && o.qname == qname && o.qtype == qtype);
        match overridden {
            Some(o) => fill_from_response(&mut m, &o.response),
            None => fill_from_zone(&mut m, zone, &qname, qtype),
        }
        m
    }
}

fn with_sigs(s: &SignedRrset) -> Vec<hickory_proto::rr::Record> {
    s.records().iter().chain(s.rrsigs()).cloned().collect()
}

/// Fills a response the way an authoritative server for `zone` answers (RFC 4035 §3.1).
pub fn fill_from_zone(m: &mut Message, zone: &SignedZone, qname: &Name, qtype: RecordType) {
    match zone.lookup(qname, qtype) {
        Lookup::Answer(s) | Lookup::Cname(s) => {
            m.add_answers(with_sigs(s));
        }
        Lookup::NoData { proof } => {
            m.add_authorities(with_sigs(zone.soa()));
            for p in proof {
                m.add_authorities(with_sigs(p));
            }
        }
        Lookup::NxDomain { proof } => {
            m.metadata.response_code = ResponseCode::NXDomain;
            m.add_authorities(with_sigs(zone.soa()));
            for p in proof {
                m.add_authorities(with_sigs(p));
            }
        }
        Lookup::Referral(r) => {
            m.metadata.authoritative = false;
            m.add_authorities(with_sigs(r.ns));
            match r.ds {
                Some(ds) => m.add_authorities(with_sigs(ds)),
                None => m.add_authorities(r.no_ds_proof.into_iter().flat_map(with_sigs)),
            };
            for g in r.glue {
                m.add_additionals(with_sigs(g));
            }
        }
        Lookup::NotInZone => m.metadata.response_code = ResponseCode::Refused,
    }
}

/// Fills a response from a [`Response`] (for overrides).
pub fn fill_from_response(m: &mut Message, response: &Response) {
    let records = |set: &checker::Rrset| {
        let mut out = set.records().to_vec();
        out.extend(set.rrsigs().iter().map(|s| {
            hickory_proto::rr::Record::from_rdata(
                set.name().clone(),
                set.ttl(),
                RData::DNSSEC(DNSSECRData::RRSIG(s.clone())),
            )
        }));
        out
    };
    match response {
        Response::Positive(set) => {
            m.add_answers(records(set));
        }
        Response::NoData(d) | Response::NxDomain(d) => {
            if matches!(response, Response::NxDomain(_)) {
                m.metadata.response_code = ResponseCode::NXDomain;
            }
            for set in d.rrsets() {
                m.add_authorities(records(set));
            }
        }
        Response::Unavailable => m.metadata.response_code = ResponseCode::ServFail,
    }
}

impl Transport for ZoneRouter {
    fn query(&mut self, qname: &Name, qtype: RecordType) -> Result<Message, LookupError> {
        Ok(self.answer(&query_message(0, qname, qtype)))
    }
}

/// Reads trust anchors: one DS or DNSKEY record per line in presentation format
/// (`owner [ttl] [class] DS|DNSKEY rdata`), `;` comments and blank lines ignored.
pub fn parse_anchors(text: &str) -> Result<TrustAnchors, LookupError> {
    let mut anchors = TrustAnchors::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split(';').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let bad = |what: String| LookupError::Anchor(format!("line {}: {what}", i + 1));
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let owner: Name = tokens[0]
            .parse()
            .map_err(|e| bad(format!("owner {:?}: {e}", tokens[0])))?;
        let Some(at) = tokens
            .iter()
            .position(|t| t.eq_ignore_ascii_case("DS") || t.eq_ignore_ascii_case("DNSKEY"))
        else {
            return Err(bad("no DS or DNSKEY record".into()));
        };
        let rdata = tokens[at + 1..].join(" ");
        let anchor = if tokens[at].eq_ignore_ascii_case("DS") {
            match RData::try_from_str(RecordType::DS, &rdata) {
                Ok(RData::DNSSEC(DNSSECRData::DS(ds))) => Anchor::Ds(ds),
                Ok(_) => return Err(bad("not a DS".into())),
                Err(e) => return Err(bad(format!("DS: {e}"))),
            }
        } else {
            Anchor::Dnskey(parse_dnskey(&rdata).map_err(|e| bad(e.to_string()))?)
        };
        anchors.add(&owner.to_lowercase(), anchor);
    }
    if anchors.zones().next().is_none() {
        return Err(LookupError::Anchor("no anchors in the file".into()));
    }
    Ok(anchors)
}

/// Collects the view for `qname`/`qtype` through `transport`. See the module documentation.
pub fn collect_view(
    transport: &mut impl Transport,
    anchors: &TrustAnchors,
    qname: &Name,
    qtype: RecordType,
) -> Result<View, LookupError> {
    let qname = qname.to_lowercase();
    let mut ask = |name: &Name, rtype: RecordType| -> Result<Response, LookupError> {
        let m = transport.query(name, rtype)?;
        Ok(Response::from_message(&m, name, rtype))
    };
    // The deepest anchored zone above the name (for DS, above its parent side).
    let deepest = if qtype == RecordType::DS && !qname.is_root() {
        qname.base_name()
    } else {
        qname.clone()
    };
    let top = anchors
        .zones()
        .filter(|z| z.zone_of(&deepest))
        .max_by_key(|z| z.num_labels())
        .cloned()
        .ok_or_else(|| LookupError::NoAnchor(qname.clone()))?;
    let mut apexes = vec![top.clone()];
    for k in usize::from(top.num_labels()) + 1..=usize::from(deepest.num_labels()) {
        let name = deepest.trim_to(k);
        if let Response::Positive(soa) = ask(&name, RecordType::SOA)?
            && soa.record_type() == RecordType::SOA
        {
            apexes.push(name);
        }
    }
    let mut zones = Vec::new();
    for (i, apex) in apexes.iter().enumerate() {
        let ds = if i == 0 {
            Response::Unavailable
        } else {
            ask(apex, RecordType::DS)?
        };
        zones.push(ZoneView {
            apex: apex.clone(),
            ds,
            dnskey: ask(apex, RecordType::DNSKEY)?,
        });
    }
    let answer = ask(&qname, qtype)?;
    Ok(View {
        qname,
        qtype,
        zones,
        answer,
    })
}

/// The chain and the verdicts, for people.
pub fn render(view: &View, validation: &Validation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} {}", view.qname, view.qtype);
    for (i, z) in view.zones.iter().enumerate() {
        let _ = writeln!(out, "zone {}", z.apex);
        if i > 0 {
            let _ = writeln!(out, "  DS      {}", z.ds.summary());
        }
        let _ = writeln!(out, "  DNSKEY  {}", z.dnskey.summary());
    }
    let _ = writeln!(out, "answer    {}", view.answer.summary());
    let _ = writeln!(out, "verdict   {} (RFC 6840, lenient)", validation.lenient);
    let _ = writeln!(
        out,
        "          {} (RFC 4035 §2.2, strict)",
        validation.strict
    );
    for w in &validation.warnings {
        let _ = writeln!(out, "warning   {w}");
    }
    out
}

/// The command's arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct LookupArgs {
    /// The name to resolve.
    pub name: String,
    /// The record type (A, DS, DNSKEY, …).
    pub rtype: String,
    /// The server that answers for every zone on the path (IP:PORT).
    #[arg(long)]
    pub server: SocketAddr,
    /// Trust anchors: DS or DNSKEY records in presentation format.
    #[arg(long)]
    pub anchor: PathBuf,
    /// Validate at this instant (RFC 3339) instead of now, e.g. a scenario's virtual time.
    #[arg(long)]
    pub now: Option<Timestamp>,
    /// Exit 0 only if the strict (RFC 4035 §2.2) verdict is Secure too.
    #[arg(long)]
    pub strict: bool,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 3)]
    pub timeout: u64,
}

/// Runs `harness lookup`: 0 for Secure, 1 for any other verdict, 2 when it cannot resolve.
pub fn run(args: &LookupArgs) -> ExitCode {
    match run_inner(args) {
        Ok(Status::Secure) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("harness lookup: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: &LookupArgs) -> Result<Status, LookupError> {
    let text = std::fs::read_to_string(&args.anchor)
        .map_err(|e| LookupError::Anchor(format!("{}: {e}", args.anchor.display())))?;
    let anchors = parse_anchors(&text)?;
    let absolute = if args.name.ends_with('.') {
        args.name.clone()
    } else {
        format!("{}.", args.name)
    };
    let qname: Name = absolute
        .parse()
        .map_err(|e| LookupError::Usage(format!("name {:?}: {e}", args.name)))?;
    let qtype: RecordType = args
        .rtype
        .to_uppercase()
        .parse()
        .map_err(|e| LookupError::Usage(format!("type {:?}: {e}", args.rtype)))?;
    let mut transport = UdpTransport::new(args.server, Duration::from_secs(args.timeout));
    let view = collect_view(&mut transport, &anchors, &qname, qtype)?;
    // The command line is the outermost layer: the one place that may read the wall clock.
    let now = args.now.unwrap_or_else(Timestamp::now);
    let validation = validate(&view, &anchors, now);
    print!("{}", render(&view, &validation));
    let mode = if args.strict {
        Mode::Strict
    } else {
        Mode::Lenient
    };
    Ok(validation.verdict(mode).status())
}

#[cfg(test)]
mod tests;
