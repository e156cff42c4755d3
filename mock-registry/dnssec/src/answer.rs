//! The responder: one request's bytes in, the response's bytes (or nothing) out.
//!
//! A pure function of the zones served, the faults switched on and the request, so it can be
//! tested without sockets and fuzzed with arbitrary bytes. The rules, in the order applied:
//!
//! - fewer than 12 octets (no header) or the QR bit set (a response, not a query): no answer,
//!   so the server never talks back to garbage or joins a reflection loop;
//! - an opcode other than QUERY: NOTIMP (RFC 1035 §4.1.1);
//! - not exactly one question, or a message hickory cannot decode: FORMERR (RFC 1035, RFC 6891
//!   §6.1.1 for a duplicate OPT); an OPT with a version above 0: BADVERS (RFC 6891 §6.1.3);
//! - class other than IN, zone transfers, or a name in none of the zones: REFUSED;
//! - otherwise the zone with the longest origin containing the name answers, except that a DS
//!   query for the apex of a served zone goes to the closest served ancestor zone, the parent
//!   side of the cut (RFC 4035 §3.1.4.1).
//!
//! Answers follow RFC 1034 §4.3.2 and RFC 4035 §3.1: AA on authoritative data (answers, NODATA,
//! NXDOMAIN, DS from the parent), clear on referrals; a referral carries the NS RRset in the
//! authority section, the DS RRset or the NSEC/NSEC3 proof that there is none, and glue in the
//! additional section; negative answers carry the SOA (TTL lowered to the negative TTL, RFC 2308
//! §3) and the denial proof. RRSIGs and NSEC/NSEC3 go out only when the query set DO (RFC 3225).
//! Over UDP an answer larger than the client's EDNS payload size (512 without EDNS, capped by
//! the server's own limit) is replaced by an empty one with TC set, so the client retries over
//! TCP (RFC 1035 §4.2.1, RFC 6891 §7).

use std::sync::Arc;

use hickory_proto::op::{Edns, Message, MessageType, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, Record, RecordType};

use crate::signed::{Lookup, SignedRrset, SignedZone, synthesised_cname};

/// How a request arrived; decides whether size limits apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP: one datagram each way, answers limited by the EDNS payload size.
    Udp,
    /// TCP with RFC 7766 two-octet length framing: no size limit below 65,535 octets.
    Tcp,
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
        })
    }
}

/// What the responder needs besides the request: the zones (most specific first) and the
/// faults that change answers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Served {
    /// Zones in decreasing label count, so the first that contains a name is the most specific.
    pub(crate) zones: Vec<Arc<SignedZone>>,
    /// Leave every RRSIG out, even when DO is set.
    pub(crate) strip_rrsigs: bool,
    /// Answer nothing at all.
    pub(crate) drop_queries: bool,
    /// Send the apex's NSEC/NSEC3 as the proof of every negative answer.
    pub(crate) wrong_denial: bool,
    /// The zones the three faults above apply to (empty: all).
    pub(crate) fault_scope: Vec<Name>,
    /// The largest UDP response the server sends, whatever the client advertises.
    pub(crate) max_udp_payload: u16,
}

impl Served {
    /// Whether the faults apply to answers from `zone`.
    pub(crate) fn faulty(&self, zone: &Name) -> bool {
        self.fault_scope.is_empty() || self.fault_scope.contains(zone)
    }

    pub(crate) fn new(mut zones: Vec<Arc<SignedZone>>, max_udp_payload: u16) -> Self {
        zones.sort_by(|a, b| {
            b.origin()
                .num_labels()
                .cmp(&a.origin().num_labels())
                .then_with(|| a.origin().cmp(b.origin()))
        });
        Self {
            zones,
            strip_rrsigs: false,
            drop_queries: false,
            wrong_denial: false,
            fault_scope: Vec::new(),
            max_udp_payload,
        }
    }
}

/// What the responder did with one request, for the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Handled {
    /// The response's bytes; None when the request gets no answer.
    pub(crate) reply: Option<Vec<u8>>,
    pub(crate) id: Option<u16>,
    pub(crate) qname: Option<Name>,
    pub(crate) qtype: Option<RecordType>,
    pub(crate) dnssec_ok: bool,
    pub(crate) rcode: Option<ResponseCode>,
    pub(crate) authoritative: bool,
    pub(crate) truncated: bool,
    pub(crate) kind: AnswerKind,
    /// The zone that answered and its serial.
    pub(crate) zone: Option<(Name, u32)>,
}

/// What sort of answer a query got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AnswerKind {
    /// Authoritative data (possibly after following CNAMEs).
    Answer,
    /// A referral to a child zone.
    Referral,
    /// The name exists without the type asked for.
    NoData,
    /// The name does not exist.
    NxDomain,
    /// Not in any zone served, not class IN, or a zone transfer.
    Refused,
    /// A malformed query (FORMERR), an unknown EDNS version (BADVERS) or opcode (NOTIMP).
    Error,
    /// No answer: not a query, too short to answer, or the drop fault is on.
    Dropped,
}

impl Handled {
    pub(crate) fn dropped() -> Self {
        Self {
            reply: None,
            id: None,
            qname: None,
            qtype: None,
            dnssec_ok: false,
            rcode: None,
            authoritative: false,
            truncated: false,
            kind: AnswerKind::Dropped,
            zone: None,
        }
    }
}

/// The payload size the server advertises and the upper bound it uses by default: RFC 9715
/// (DNS flag day 2020) recommends 1232 octets to avoid IP fragmentation.
pub(crate) const DEFAULT_MAX_UDP_PAYLOAD: u16 = 1232;

/// Most CNAMEs (and DNAMEs) followed inside one zone before giving up (loops are also
/// detected).
const MAX_CNAME_CHAIN: usize = 8;

/// Answers `request` from `zones` exactly as the authoritative server would with no faults
/// switched on (the UDP size limit is the server's default). None: the request gets no
/// answer. For callers that need an authoritative answer without a socket: in-memory views of
/// a zone, routers, tests.
pub fn respond(zones: &[Arc<SignedZone>], request: &[u8], transport: Transport) -> Option<Vec<u8>> {
    handle(
        &Served::new(zones.to_vec(), DEFAULT_MAX_UDP_PAYLOAD),
        request,
        transport,
    )
    .reply
}

/// Answers one request. Never panics; see the module documentation for the rules.
pub(crate) fn handle(served: &Served, request: &[u8], transport: Transport) -> Handled {
    if request.len() < 12 || request[2] & 0x80 != 0 {
        return Handled::dropped();
    }
    let id = u16::from_be_bytes([request[0], request[1]]);
    let mut handled = Handled {
        id: Some(id),
        ..Handled::dropped()
    };
    if served.drop_queries && served.fault_scope.is_empty() {
        // Still decode what we can, so the history shows what was ignored.
        if let Ok(m) = Message::from_vec(request)
            && let Some(q) = m.queries.first()
        {
            handled.qname = Some(q.name().clone());
            handled.qtype = Some(q.query_type());
        }
        return handled;
    }
    let op_code = OpCode::from_u8((request[2] >> 3) & 0x0f);
    let recursion_desired = request[2] & 0x01 != 0;
    let qdcount = u16::from_be_bytes([request[4], request[5]]);
    // Check the question count before decoding: a count of 65,535 would otherwise make the
    // decoder reserve room for that many questions.
    if qdcount != 1 {
        return error_reply(
            handled,
            id,
            op_code,
            recursion_desired,
            ResponseCode::FormErr,
        );
    }
    let request = match Message::from_vec(request) {
        Ok(m) => m,
        Err(_) => {
            return error_reply(
                handled,
                id,
                op_code,
                recursion_desired,
                ResponseCode::FormErr,
            );
        }
    };
    let Some(query) = request.queries.first().cloned() else {
        return error_reply(
            handled,
            id,
            op_code,
            recursion_desired,
            ResponseCode::FormErr,
        );
    };
    handled.qname = Some(query.name().clone());
    handled.qtype = Some(query.query_type());
    let mut response = Message::new(id, MessageType::Response, request.metadata.op_code);
    response.metadata = Metadata::response_from_request(&request.metadata);
    response.add_query(query.clone());
    let client_edns = request.edns.as_ref();
    handled.dnssec_ok = client_edns.is_some_and(|e| e.flags().dnssec_ok);
    if let Some(e) = client_edns {
        let mut edns = Edns::new();
        edns.set_max_payload(served.max_udp_payload);
        edns.set_version(0);
        edns.set_dnssec_ok(e.flags().dnssec_ok);
        response.set_edns(edns);
        if e.version() > 0 {
            return finish(
                handled,
                response,
                ResponseCode::BADVERS,
                AnswerKind::Error,
                0,
            );
        }
    }
    let limit = match transport {
        Transport::Tcp => u16::MAX,
        Transport::Udp => client_edns
            .map_or(512, |e| e.max_payload().max(512))
            .min(served.max_udp_payload.max(512)),
    };
    if request.metadata.op_code != OpCode::Query {
        return finish(
            handled,
            response,
            ResponseCode::NotImp,
            AnswerKind::Error,
            limit,
        );
    }
    let qtype = query.query_type();
    if qtype == RecordType::OPT {
        return finish(
            handled,
            response,
            ResponseCode::FormErr,
            AnswerKind::Error,
            limit,
        );
    }
    if query.query_class() != DNSClass::IN || matches!(qtype, RecordType::AXFR | RecordType::IXFR) {
        return finish(
            handled,
            response,
            ResponseCode::Refused,
            AnswerKind::Refused,
            limit,
        );
    }
    let qname = query.name().to_lowercase();
    let Some(zone) = select_zone(served, &qname, qtype) else {
        return finish(
            handled,
            response,
            ResponseCode::Refused,
            AnswerKind::Refused,
            limit,
        );
    };
    handled.zone = Some((zone.origin().clone(), zone.serial()));
    let faulty = served.faulty(zone.origin());
    if served.drop_queries && faulty {
        return handled;
    }
    let dnssec = handled.dnssec_ok;
    let options = FillOptions {
        dnssec,
        sigs: dnssec && !(served.strip_rrsigs && faulty),
        wrong_denial: served.wrong_denial && faulty,
    };
    let (rcode, kind) = fill(&mut response, zone, &qname, qtype, options);
    finish(handled, response, rcode, kind, limit)
}

/// The zone that answers: the most specific one containing the name, except DS at a served
/// apex, which the closest served ancestor answers.
fn select_zone<'s>(served: &'s Served, qname: &Name, qtype: RecordType) -> Option<&'s SignedZone> {
    let mut containing = served.zones.iter().filter(|z| z.origin().zone_of(qname));
    let best = containing.next()?;
    if qtype == RecordType::DS
        && best.origin() == qname
        && !qname.is_root()
        && let Some(parent) = containing.next()
    {
        return Some(parent);
    }
    Some(best)
}

/// What goes into an answer besides the data.
#[derive(Debug, Clone, Copy)]
struct FillOptions {
    /// The query set DO: DS and denial records go out.
    dnssec: bool,
    /// RRSIGs go out (DO set and not stripped).
    sigs: bool,
    /// The wrong-denial fault.
    wrong_denial: bool,
}

/// Fills the sections from the zone; returns the RCODE and the kind of answer.
///
/// CNAMEs (also from a wildcard) and DNAMEs are followed inside the zone (RFC 1034 §4.3.2 step
/// 3.a, RFC 6672 §3.2); a target outside the zone ends the answer, and the resolver asks on. A
/// wildcard expansion carries, with DO, the denial that no closer name exists in the authority
/// section (RFC 4035 §3.1.3.3, RFC 5155 §7.2.6); a DNAME carries the CNAME the server
/// synthesises, unsigned (RFC 6672 §3.1).
fn fill(
    response: &mut Message,
    zone: &SignedZone,
    qname: &Name,
    qtype: RecordType,
    options: FillOptions,
) -> (ResponseCode, AnswerKind) {
    let FillOptions { dnssec, sigs, .. } = options;
    let mut name = qname.clone();
    let mut seen = vec![name.clone()];
    // Where the chain goes next, if it stays in this zone and does not loop.
    let next = |target: Option<Name>, seen: &mut Vec<Name>| -> Option<Name> {
        let target = target?.to_lowercase();
        if !zone.origin().zone_of(&target) || seen.contains(&target) {
            return None;
        }
        seen.push(target.clone());
        Some(target)
    };
    for _ in 0..=MAX_CNAME_CHAIN {
        let lookup = zone.lookup(&name, qtype);
        // RFC 8482 allows any subset for ANY; give every RRset at the name.
        if qtype == RecordType::ANY
            && matches!(lookup, Lookup::NoData { .. } | Lookup::Cname(_))
            && let Some(node) = zone.node(&name)
            && !node.rrsets().is_empty()
        {
            response.metadata.authoritative = true;
            for rrset in node.rrsets() {
                push(&mut response.answers, rrset, sigs, None);
            }
            return (ResponseCode::NoError, AnswerKind::Answer);
        }
        match lookup {
            Lookup::Answer(rrset) => {
                response.metadata.authoritative = true;
                push(&mut response.answers, rrset, sigs, None);
                return (ResponseCode::NoError, AnswerKind::Answer);
            }
            Lookup::Cname(cname) => {
                response.metadata.authoritative = true;
                push(&mut response.answers, cname, sigs, None);
                let target = zone.node(&name).and_then(SignedZone::cname_target).cloned();
                match next(target, &mut seen) {
                    Some(t) => name = t,
                    None => return (ResponseCode::NoError, AnswerKind::Answer),
                }
            }
            Lookup::Wildcard { rrset, proof } => {
                response.metadata.authoritative = true;
                push(&mut response.answers, &rrset.expanded(&name), sigs, None);
                if dnssec {
                    for p in proof {
                        push(&mut response.authorities, p, sigs, None);
                    }
                }
                if rrset.record_type() != RecordType::CNAME || qtype == RecordType::CNAME {
                    return (ResponseCode::NoError, AnswerKind::Answer);
                }
                let target = rrset.records().first().and_then(|r| match &r.data {
                    hickory_proto::rr::RData::CNAME(c) => Some(c.0.clone()),
                    _ => None,
                });
                match next(target, &mut seen) {
                    Some(t) => name = t,
                    None => return (ResponseCode::NoError, AnswerKind::Answer),
                }
            }
            Lookup::Dname(dname) => {
                response.metadata.authoritative = true;
                push(&mut response.answers, dname, sigs, None);
                let Some(cname) = synthesised_cname(dname, &name) else {
                    // RFC 6672 §2.2: the substituted name would be too long.
                    return (ResponseCode::YXDomain, AnswerKind::Answer);
                };
                let target = match &cname.data {
                    hickory_proto::rr::RData::CNAME(c) => Some(c.0.clone()),
                    _ => None,
                };
                response.answers.push(cname);
                match next(target, &mut seen) {
                    Some(t) => name = t,
                    None => return (ResponseCode::NoError, AnswerKind::Answer),
                }
            }
            Lookup::NoData { proof } => {
                response.metadata.authoritative = true;
                negative(response, zone, &proof, options);
                return (ResponseCode::NoError, AnswerKind::NoData);
            }
            Lookup::NxDomain { proof } => {
                response.metadata.authoritative = true;
                negative(response, zone, &proof, options);
                return (ResponseCode::NXDomain, AnswerKind::NxDomain);
            }
            Lookup::Referral(referral) => {
                if !response.answers.is_empty() {
                    // A CNAME led below a cut: the answer so far is what this zone knows.
                    return (ResponseCode::NoError, AnswerKind::Answer);
                }
                push(&mut response.authorities, referral.ns, false, None);
                if dnssec {
                    match referral.ds {
                        Some(ds) => push(&mut response.authorities, ds, sigs, None),
                        None => {
                            for p in referral.no_ds_proof {
                                push(&mut response.authorities, p, sigs, None);
                            }
                        }
                    }
                }
                for g in referral.glue {
                    push(&mut response.additionals, g, false, None);
                }
                return (ResponseCode::NoError, AnswerKind::Referral);
            }
            Lookup::NotInZone => {
                return if response.answers.is_empty() {
                    (ResponseCode::Refused, AnswerKind::Refused)
                } else {
                    (ResponseCode::NoError, AnswerKind::Answer)
                };
            }
        }
    }
    (ResponseCode::NoError, AnswerKind::Answer)
}

/// SOA and, with DO, the denial proof, in the authority section.
fn negative(
    response: &mut Message,
    zone: &SignedZone,
    proof: &[&SignedRrset],
    options: FillOptions,
) {
    let negative_ttl = zone.negative_ttl().min(zone.soa().ttl());
    push(
        &mut response.authorities,
        zone.soa(),
        options.sigs,
        Some(negative_ttl),
    );
    if !options.dnssec {
        return;
    }
    if options.wrong_denial {
        // Genuine, signed records that prove something else: the apex exists.
        let apex = zone
            .apex()
            .nsec()
            .or_else(|| zone.nsec3_matching(zone.origin()).map(|e| e.rrset()));
        if let Some(p) = apex {
            push(&mut response.authorities, p, options.sigs, None);
        }
        return;
    }
    for p in proof {
        push(&mut response.authorities, p, options.sigs, None);
    }
}

/// Appends an RRset (and its RRSIGs when `sigs`), with an optional lower TTL.
fn push(section: &mut Vec<Record>, rrset: &SignedRrset, sigs: bool, ttl: Option<u32>) {
    let with_ttl = |r: &Record| {
        let mut r = r.clone();
        if let Some(t) = ttl {
            r.ttl = r.ttl.min(t);
        }
        r
    };
    section.extend(rrset.records().iter().map(with_ttl));
    if sigs {
        section.extend(rrset.rrsigs().iter().map(with_ttl));
    }
}

/// A reply to a request that could not be decoded: the header only, echoing what the first
/// octets said.
fn error_reply(
    mut handled: Handled,
    id: u16,
    op_code: OpCode,
    recursion_desired: bool,
    rcode: ResponseCode,
) -> Handled {
    let mut response = Message::error_msg(id, op_code, rcode);
    response.metadata.recursion_desired = recursion_desired;
    handled.rcode = Some(rcode);
    handled.kind = AnswerKind::Error;
    handled.reply = response.to_vec().ok();
    if handled.reply.is_none() {
        handled.kind = AnswerKind::Dropped;
        handled.rcode = None;
    }
    handled
}

/// Sets the RCODE, encodes, and truncates to `limit` octets (0: no limit) over UDP.
fn finish(
    mut handled: Handled,
    mut response: Message,
    rcode: ResponseCode,
    kind: AnswerKind,
    limit: u16,
) -> Handled {
    response.metadata.response_code = rcode;
    handled.rcode = Some(rcode);
    handled.kind = kind;
    handled.authoritative = response.metadata.authoritative;
    let bytes = match response.to_vec() {
        Ok(b) => b,
        Err(_) => {
            // Nothing served should fail to encode; if it does, say so rather than go silent.
            let mut failed = Message::error_msg(
                response.metadata.id,
                response.metadata.op_code,
                ResponseCode::ServFail,
            );
            failed.add_queries(response.queries.iter().cloned());
            handled.rcode = Some(ResponseCode::ServFail);
            handled.kind = AnswerKind::Error;
            handled.authoritative = false;
            handled.reply = failed.to_vec().ok();
            return handled;
        }
    };
    if limit == 0 || bytes.len() <= usize::from(limit) {
        handled.reply = Some(bytes);
        return handled;
    }
    // RFC 2181 §9: the client must retry over TCP; send the question and OPT only.
    let mut truncated = response.truncate();
    truncated.metadata.truncation = true;
    handled.truncated = true;
    handled.reply = truncated.to_vec().ok();
    handled
}
