//! The DNS side of key relay receipts: asks every name server of a watched relay's delegation
//! for the domain's DNSKEY RRset and judges what it serves ([`dnssec::verify`]).
//!
//! The registry's rules ([`crate::registry::receipts`]) never touch the network; this module
//! is the one that does, between [`Registry::receipt_probes`] and [`Registry::record_probe`].
//! Where name servers answer is the world's business, not the registry's: a [`HostResolver`]
//! injected by whoever runs the registry (the harness passes its directory of loopback
//! servers, `mock-registry serve` a static map and the registry's glue) says it. Time is the
//! caller's `now`, the same injected clock the publisher runs on.
//!
//! [`Registry::receipt_probes`]: crate::registry::Registry::receipt_probes
//! [`Registry::record_probe`]: crate::registry::Registry::record_probe

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use dnssec::query::{QueryOptions, query_with};
use dnssec::server::Transport;
use dnssec::verify::{DnskeyVerdict, check_dnskey_rrset};
use epp::receipt::{HostProbe, HostResult};
use hickory_proto::dnssec::rdata::DNSKEY;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::Name;
use jiff::Timestamp;

use crate::registry::{ProbeReport, ProbeRequest};
use crate::server::SharedRegistry;

/// Where name server hosts answer: the one thing about the world the receipts need.
pub trait HostResolver: Send + Sync {
    /// The addresses (with port) where `host` (no trailing dot, lower case) answers; empty
    /// when unknown.
    fn resolve(&self, host: &str) -> Vec<SocketAddr>;
}

/// A fixed map of host names to addresses (tests, `mock-registry serve --ns-addr`, the
/// harness's directory).
impl HostResolver for BTreeMap<String, SocketAddr> {
    fn resolve(&self, host: &str) -> Vec<SocketAddr> {
        self.get(host).copied().into_iter().collect()
    }
}

/// How to ask.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// The port glue addresses are asked on (53 in the real world).
    pub glue_port: u16,
    /// How long to wait for each server.
    pub timeout: Duration,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        Self {
            glue_port: 53,
            timeout: Duration::from_secs(2),
        }
    }
}

/// Asks every host of `request` and judges each: every address of a host must serve every
/// key in a DNSKEY RRset signed, valid at `now`, by a key of that RRset (the worst address
/// counts).
pub async fn probe(
    request: &ProbeRequest,
    resolver: &dyn HostResolver,
    options: &ProbeOptions,
    now: Timestamp,
) -> ProbeReport {
    let wanted: Vec<DNSKEY> = request
        .keys
        .iter()
        .filter_map(|k| crate::keydata::dnskey_of(k).ok())
        .collect();
    let zone = Name::from_ascii(format!("{}.", request.domain.trim_end_matches('.'))).ok();
    let mut hosts = Vec::new();
    let mut dnskey_ttl = 0;
    for host in &request.hosts {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let mut addrs: Vec<SocketAddr> = request
            .glue
            .iter()
            .filter(|(h, _)| *h == host)
            .map(|(_, ip): &(String, IpAddr)| SocketAddr::new(*ip, options.glue_port))
            .collect();
        addrs.extend(resolver.resolve(&host));
        addrs.sort();
        addrs.dedup();
        let result = match (&zone, addrs.is_empty()) {
            (_, true) => HostResult::Unresolved,
            (None, false) => HostResult::Unreachable,
            (Some(zone), false) => {
                let mut worst = HostResult::Published;
                for addr in addrs {
                    let (r, ttl) = ask(
                        addr,
                        zone,
                        &wanted,
                        wanted.len() != request.keys.len(),
                        options,
                        now,
                    )
                    .await;
                    dnskey_ttl = dnskey_ttl.max(ttl);
                    worst = worst.min(r);
                }
                worst
            }
        };
        hosts.push(HostProbe { host, result });
    }
    ProbeReport {
        watch: request.watch,
        at: now,
        hosts,
        dnskey_ttl,
    }
}

/// One server: its verdict on the DNSKEY RRset of `zone`, and the RRset's TTL.
async fn ask(
    addr: SocketAddr,
    zone: &Name,
    wanted: &[DNSKEY],
    unreadable_key: bool,
    options: &ProbeOptions,
    now: Timestamp,
) -> (HostResult, u32) {
    let query = QueryOptions {
        transport: Transport::Udp,
        dnssec_ok: true,
        tcp_on_truncation: true,
        timeout: options.timeout,
        ..QueryOptions::default()
    };
    let Ok(answer) = query_with(addr, zone, hickory_proto::rr::RecordType::DNSKEY, &query).await
    else {
        return (HostResult::Unreachable, 0);
    };
    if answer.metadata.response_code != ResponseCode::NoError || !answer.metadata.authoritative {
        return (HostResult::Unreachable, 0);
    }
    let check = check_dnskey_rrset(zone, &answer.answers, wanted, now);
    let result = match check.verdict {
        // A key that is no DNSKEY at all can never be found published.
        _ if unreadable_key => HostResult::Missing,
        DnskeyVerdict::Missing => HostResult::Missing,
        DnskeyVerdict::Unsigned => HostResult::Unsigned,
        DnskeyVerdict::Invalid => HostResult::Invalid,
        DnskeyVerdict::Published => HostResult::Published,
    };
    (result, check.ttl)
}

/// Does the receipts' work that is due at `now`: takes the probes from the registry, asks the
/// name servers without holding the registry's lock, and hands the findings back. Returns how
/// many delegations it probed.
pub async fn run_due(
    registry: &SharedRegistry,
    resolver: &dyn HostResolver,
    options: &ProbeOptions,
    now: Timestamp,
) -> usize {
    let requests = {
        let mut reg = registry.lock().unwrap_or_else(|e| e.into_inner());
        if !reg.offers_receipts() {
            return 0;
        }
        reg.receipt_probes(now)
    };
    let mut reports = Vec::with_capacity(requests.len());
    for r in &requests {
        reports.push(probe(r, resolver, options, now).await);
    }
    let mut reg = registry.lock().unwrap_or_else(|e| e.into_inner());
    for report in reports {
        reg.record_probe(report);
    }
    requests.len()
}
