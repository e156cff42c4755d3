//! hickory-resolver as a real validating resolver (design.md §3, layer 3).
//!
//! # How it is set up, and why
//!
//! hickory-resolver 0.26 is a stub resolver: it sends each question to its configured name
//! servers and, with DNSSEC on, wraps them in hickory-net's `DnssecDnsHandle`, which validates
//! every answer *itself*. For every RRSIG signer it asks the same upstream for that zone's
//! DNSKEY RRset, for the zone's DS at the parent and, to find zone cuts, for NS RRsets, and
//! walks up until a key is in its trust anchors; denials are checked against the NSEC/NSEC3
//! records of the answer. It never needs the upstream to recurse or validate: it only needs
//! one upstream that answers authoritatively for every zone on the path, and DS questions from
//! the parent side. That is exactly what the [router](super::router) gives it, so no recursor
//! (hickory's `recursor` feature) is needed, and the router stays a dumb forwarder.
//!
//! The configuration:
//! - one name server, the router, over UDP and TCP (`try_tcp_on_error`, TCP after TC);
//! - trust anchors: only the scenario's root DNSKEY (`TrustAnchors::empty()` + insert; the
//!   built-in IANA root keys are not used), which also switches validation on;
//! - no cache: `cache_size` 0 and a new resolver (hence a new validation cache) per check, so
//!   every verdict is about what is served now;
//! - no recursion desired, no hosts file, no search domains (names are absolute);
//! - hickory validates signatures against the real time (its timer's `current_time`), so the
//!   zones must be signed to cover the wall clock (`also_valid_at`).
//!
//! The verdict is read the way hickory's caching client reads it: a lookup that succeeds is
//! Secure when every answer record's proof is Secure, else Insecure; `DnssecBogus` is Bogus;
//! a negative answer carries the proof of its NSEC/NSEC3 records (`Nsec { proof }` when it is
//! not secure, `NoRecordsFound` with proven authority records when it is). Anything else (a
//! timeout, SERVFAIL from upstream) is [`LiveStatus::Failed`] with the error.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::dnssec::rdata::DNSKEY;
use hickory_proto::dnssec::{DnssecSummary, Proof, TrustAnchors};
use hickory_proto::rr::{Name, RData, RecordType};
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::{Resolver, TokioResolver};

use checker::Status;

/// What a real validator concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveStatus {
    /// A DNSSEC status (RFC 4035 §4.3).
    Status(Status),
    /// No verdict: the resolver failed for a reason other than validation (timeout, an error
    /// RCODE from upstream). Kept with the error text.
    Failed(String),
}

impl LiveStatus {
    /// The status, if there is one.
    pub fn status(&self) -> Option<Status> {
        match self {
            Self::Status(s) => Some(*s),
            Self::Failed(_) => None,
        }
    }

    /// `secure`, `insecure`, `bogus`, `indeterminate` or `failed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Status(s) => s.as_str(),
            Self::Failed(_) => "failed",
        }
    }
}

impl fmt::Display for LiveStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(s) => f.write_str(s.as_str()),
            Self::Failed(e) => write!(f, "failed ({e})"),
        }
    }
}

/// hickory-resolver's verdict and what it said, for evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HickoryVerdict {
    /// The live status hickory's answer or error maps to, compared with the pure validator's.
    pub status: LiveStatus,
    /// The answer or error, in a line.
    pub detail: String,
    /// What it resolved to: the records of the question's type (or the CNAME) at the name,
    /// `Some(empty)` for a denial (NXDOMAIN or NODATA), None when it did not resolve.
    pub answer: Option<Vec<RData>>,
}

/// A validating hickory-resolver pointed at one upstream, trusting only `anchors` (root
/// DNSKEYs). See the module documentation for the configuration.
pub fn resolver(
    upstream: SocketAddr,
    anchors: &[DNSKEY],
    timeout: Duration,
) -> Result<TokioResolver, String> {
    let mut udp = ConnectionConfig::udp();
    udp.port = upstream.port();
    let mut tcp = ConnectionConfig::tcp();
    tcp.port = upstream.port();
    let config = ResolverConfig::from_name_servers(vec![NameServerConfig::new(
        upstream.ip(),
        true,
        vec![udp, tcp],
    )]);
    let mut options = ResolverOpts::default();
    options.cache_size = 0;
    options.use_hosts_file = ResolveHosts::Never;
    options.recursion_desired = false;
    options.try_tcp_on_error = true;
    options.timeout = timeout;
    options.attempts = 1;
    options.ndots = 0;
    let mut trust = TrustAnchors::empty();
    for k in anchors {
        trust.insert(k.public_key());
    }
    Resolver::builder_with_config(config, TokioRuntimeProvider::default())
        .with_options(options)
        .with_trust_anchor(Arc::new(trust))
        // The harness's validator's policy for costly NSEC3 chains (RFC 9276 §3.2: above the
        // limit, insecure), so that a comparison judges validation rather than two policies.
        // hickory-resolver would otherwise allow 100.
        .nsec3_iteration_limits(Some(checker::NSEC3_ITERATION_LIMIT), None)
        .build()
        .map_err(|e| format!("hickory-resolver: {e}"))
}

/// Asks `resolver` one question and reads its DNSSEC verdict.
pub async fn ask(resolver: &TokioResolver, qname: &Name, qtype: RecordType) -> HickoryVerdict {
    let secure_or_insecure = |s: DnssecSummary| match s {
        DnssecSummary::Secure => Status::Secure,
        DnssecSummary::Insecure => Status::Insecure,
        DnssecSummary::Bogus => Status::Bogus,
    };
    match resolver.lookup(qname.clone(), qtype).await {
        Ok(lookup) => {
            let status = secure_or_insecure(DnssecSummary::from_records(lookup.answers().iter()));
            let at_name = |t: RecordType| -> Vec<RData> {
                lookup
                    .answers()
                    .iter()
                    .filter(|r| r.name == *qname && r.record_type() == t)
                    .map(|r| r.data.clone())
                    .collect()
            };
            let mut answer = at_name(qtype);
            if answer.is_empty() {
                answer = at_name(RecordType::CNAME);
            }
            let detail = lookup
                .answers()
                .iter()
                .filter(|r| r.record_type() != RecordType::RRSIG)
                .map(|r| format!("{} {}", r.record_type(), r.proof))
                .collect::<Vec<_>>()
                .join(", ");
            HickoryVerdict {
                status: LiveStatus::Status(status),
                detail: format!("answer [{detail}]"),
                answer: Some(answer),
            }
        }
        Err(NetError::Dns(DnsError::DnssecBogus)) => HickoryVerdict {
            status: LiveStatus::Status(Status::Bogus),
            detail: "DNSSEC validation failed (bogus)".into(),
            answer: None,
        },
        Err(NetError::Dns(DnsError::Nsec { proof, .. })) => HickoryVerdict {
            status: LiveStatus::Status(proof_status(proof)),
            detail: format!("negative answer, denial proof {proof}"),
            answer: Some(Vec::new()),
        },
        Err(NetError::Dns(DnsError::NoRecordsFound(no))) => {
            let records = no.authorities.as_deref().unwrap_or_default();
            let status = if records.is_empty() {
                // Nothing to prove anything with: a negative answer without NSEC/NSEC3 is
                // only acceptable to hickory from an insecure zone.
                Status::Insecure
            } else {
                secure_or_insecure(DnssecSummary::from_records(records.iter()))
            };
            HickoryVerdict {
                status: LiveStatus::Status(status),
                answer: Some(Vec::new()),
                detail: format!(
                    "negative answer ({}), authority proofs [{}]",
                    no.response_code,
                    records
                        .iter()
                        .filter(|r| r.record_type() != RecordType::RRSIG)
                        .map(|r| format!("{} {}", r.record_type(), r.proof))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
        Err(e) => HickoryVerdict {
            status: LiveStatus::Failed(e.to_string()),
            detail: e.to_string(),
            answer: None,
        },
    }
}

fn proof_status(p: Proof) -> Status {
    match p {
        Proof::Secure => Status::Secure,
        Proof::Insecure => Status::Insecure,
        Proof::Bogus => Status::Bogus,
        Proof::Indeterminate => Status::Indeterminate,
    }
}
