//! The DNS side of DS automation: asks every name server of a delegation for the child's
//! DNSKEY, CDS and CDNSKEY RRsets and judges what each serves, so the registry's rules
//! ([`crate::registry::automation`]) decide on checked findings only.
//!
//! Like [`crate::feedback`], this is the one place the scanner touches the network, between
//! [`Registry::automation_scans`] and [`Registry::record_scan`]; where hosts answer comes from
//! the injected [`HostResolver`], time from the caller's `now` (the one injected clock).
//!
//! What is checked, per address and vantage point (RFC 7344 §4, RFC 8078 §3–§4):
//! - the answers are authoritative NOERROR answers;
//! - CDS digests name keys of the DNSKEY RRset (this registry stores key data, so a CDS
//!   naming an unpublished key cannot be acted on), and a delete record stands alone;
//! - for a secure delegation, the DNSKEY RRset and the CDS/CDNSKEY RRsets are signed, valid
//!   now, by a key with a DS at the parent;
//! - for an insecure one, the DNSKEY RRset is signed by a key the records name and the records
//!   by the DNSKEY RRset (the zone is ready for the DS it asks for).
//!
//! [`Registry::automation_scans`]: crate::registry::Registry::automation_scans
//! [`Registry::record_scan`]: crate::registry::Registry::record_scan

use std::net::SocketAddr;
use std::time::Duration;

use dnssec::query::{QueryOptions, query_with};
use dnssec::server::Transport;
use dnssec::verify::{same_key, signed_by};
use dnssec::{DsDigest, keys};
use epp::secdns::KeyData;
use hickory_proto::dnssec::PublicKey;
use hickory_proto::dnssec::rdata::{CDNSKEY, DNSKEY, DNSSECRData};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use jiff::Timestamp;

use crate::feedback::HostResolver;
use crate::keydata::{dnskey_of, key_data_for};
use crate::registry::automation::{
    Csync, HostScan, Reads, ScanReport, ScanRequest, ScanTransport, Signal, Wanted,
};
use crate::server::SharedRegistry;
use crate::signals::{self, LookupOptions, NoSignal, SignalRoot, SignalSets};

/// How to ask.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// The port glue addresses are asked on (53 in the real world).
    pub glue_port: u16,
    /// How long to wait for each answer.
    pub timeout: Duration,
    /// Where RFC 9615 signals are validated from (the root's servers and trust anchor);
    /// `None`: a policy that takes signals finds none.
    pub signals: Option<SignalRoot>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            glue_port: 53,
            timeout: Duration::from_secs(2),
            signals: None,
        }
    }
}

/// Scans every host of `request` and judges each (every address and vantage point must give
/// the same verdict).
pub async fn scan(
    request: &ScanRequest,
    resolver: &dyn HostResolver,
    options: &ScanOptions,
    now: Timestamp,
) -> ScanReport {
    let zone = Name::from_ascii(format!("{}.", request.domain.trim_end_matches('.'))).ok();
    let ds_keys: Vec<DNSKEY> = request
        .ds_keys
        .iter()
        .filter_map(|k| dnskey_of(k).ok())
        .collect();
    let mut hosts = Vec::new();
    // Every server's answer records, for comparing the signals with (RFC 9615 §4.1 step 4).
    let mut served: Vec<Vec<Record>> = Vec::new();
    for host in &request.hosts {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let mut addrs: Vec<SocketAddr> = request
            .glue
            .iter()
            .filter(|(h, _)| *h == host)
            .map(|(_, ip)| SocketAddr::new(*ip, options.glue_port))
            .collect();
        addrs.extend(resolver.resolve(&host));
        addrs.sort();
        addrs.dedup();
        let verdict = match &zone {
            None => HostScan::Failed("the domain is not a DNS name".into()),
            Some(_) if addrs.is_empty() => {
                HostScan::Failed("the name server's address is unknown".into())
            }
            Some(zone) => {
                let mut seen: Option<HostScan> = None;
                'ask: for addr in &addrs {
                    for _ in 0..request.vantage_points.max(1) {
                        let (v, records) =
                            judge_server(*addr, zone, &ds_keys, request, options, now).await;
                        if !matches!(v, HostScan::Failed(_)) {
                            served.push(records);
                        }
                        match &seen {
                            None => seen = Some(v),
                            Some(first) if *first == v => {}
                            Some(first) => {
                                seen = Some(HostScan::Failed(format!(
                                    "its answers differ between addresses or vantage points \
                                     ({} then {})",
                                    short(first),
                                    short(&v)
                                )));
                                break 'ask;
                            }
                        }
                    }
                }
                seen.unwrap_or_else(|| HostScan::Failed("no address answered".into()))
            }
        };
        hosts.push((host, verdict));
    }
    // RFC 9615: the signals count only for an insecure delegation whose child asks for keys.
    let asks = hosts.iter().any(|(_, h)| {
        matches!(
            h,
            HostScan::Answer {
                wanted: Wanted::Keys(_),
                ..
            }
        )
    });
    let signals = match &zone {
        Some(zone) if request.signals && asks => {
            let mut out = Vec::new();
            for (host, _) in &hosts {
                let signal = match Name::from_ascii(format!("{host}.")) {
                    Err(e) => Signal::Invalid(format!("not a host name: {e}")),
                    Ok(name) => match &options.signals {
                        None if zone.zone_of(&name) => Signal::InDomain,
                        None => Signal::Invalid(
                            "this scanner has no root to validate signals from".into(),
                        ),
                        Some(root) => {
                            let lookup = LookupOptions {
                                glue_port: options.glue_port,
                                timeout: options.timeout,
                            };
                            match signals::lookup(zone, &name, root, resolver, &lookup, now).await {
                                Err(NoSignal::InDomain { .. }) => Signal::InDomain,
                                Err(e) => Signal::Invalid(e.to_string()),
                                Ok(sets) => match judge_signal(zone, &served, &sets, request.reads)
                                {
                                    Ok(w) => Signal::Valid(w),
                                    Err(why) => Signal::Invalid(why),
                                },
                            }
                        }
                    },
                };
                out.push((host.clone(), signal));
            }
            out
        }
        _ => Vec::new(),
    };
    ScanReport {
        domain: request.domain.clone(),
        at: now,
        hosts,
        signals,
    }
}

/// RFC 9615 §4.1 step 4: a validated signal counts only if its CDS and its CDNSKEY RRsets are
/// each the same as what every server of the child serves at the apex (`served`: each
/// server's answers), an RRset empty on one side and not on the other included. Then it asks
/// for what those records ask for, read by the policy's rules ([`judge`]). A pure function.
pub fn judge_signal(
    zone: &Name,
    served: &[Vec<Record>],
    signal: &SignalSets,
    reads: Reads,
) -> Result<Wanted, String> {
    let canonical = |records: &mut dyn Iterator<Item = &Record>, owner: Option<&Name>, t| {
        let mut out: Vec<Vec<u8>> = records
            .filter(|r| owner.is_none_or(|o| r.name == *o) && r.record_type() == t)
            .filter_map(|r| hickory_proto::serialize::binary::BinEncodable::to_bytes(&r.data).ok())
            .collect();
        out.sort();
        out.dedup();
        out
    };
    let Some(first) = served.first() else {
        return Err("no server of the child answered".into());
    };
    for rtype in [RecordType::CDS, RecordType::CDNSKEY] {
        let child = canonical(&mut first.iter(), Some(zone), rtype);
        if served
            .iter()
            .any(|s| canonical(&mut s.iter(), Some(zone), rtype) != child)
        {
            return Err(format!(
                "the child's name servers serve different {rtype} RRsets"
            ));
        }
        let set = match rtype {
            RecordType::CDS => &signal.cds,
            _ => &signal.cdnskey,
        };
        let theirs = canonical(&mut set.iter(), None, rtype);
        if theirs != child {
            return Err(match (child.is_empty(), theirs.is_empty()) {
                (false, true) => format!("the child publishes {rtype}, its signal none"),
                (true, false) => format!("its signal has {rtype}, the child none"),
                _ => format!("its {rtype} RRset differs from the child's"),
            });
        }
    }
    // What the signal asks for, read as the child's own records would be: the child's DNSKEY
    // RRset names the keys a CDS digest stands for.
    let mut records: Vec<Record> = first
        .iter()
        .filter(|r| r.name == *zone && r.record_type() == RecordType::DNSKEY)
        .cloned()
        .collect();
    for r in signal.cds.iter().chain(&signal.cdnskey) {
        let mut r = r.clone();
        r.name = zone.clone();
        records.push(r);
    }
    // Only what it asks for is read here: the signatures were judged on the way to it.
    match judge(zone, &records, &[], reads, false, Timestamp::UNIX_EPOCH) {
        HostScan::Answer { wanted, .. } => Ok(wanted),
        HostScan::Bogus(why) | HostScan::Failed(why) => Err(why),
    }
}

/// A verdict in a few words, for the "answers differ" refusal.
fn short(v: &HostScan) -> String {
    match v {
        HostScan::Failed(why) | HostScan::Bogus(why) => why.clone(),
        HostScan::Answer { wanted, .. } => format!("asks for {wanted}"),
    }
}

/// One server's DNSKEY, CDS and CDNSKEY answers, judged; with the answers' records.
async fn judge_server(
    addr: SocketAddr,
    zone: &Name,
    ds_keys: &[DNSKEY],
    request: &ScanRequest,
    options: &ScanOptions,
    now: Timestamp,
) -> (HostScan, Vec<Record>) {
    let query = QueryOptions {
        transport: match request.transport {
            ScanTransport::Tcp => Transport::Tcp,
            ScanTransport::Udp => Transport::Udp,
        },
        dnssec_ok: true,
        tcp_on_truncation: true,
        timeout: options.timeout,
        ..QueryOptions::default()
    };
    let mut answers = Vec::new();
    let mut types = vec![RecordType::DNSKEY, RecordType::CDS, RecordType::CDNSKEY];
    if request.csync {
        types.extend([RecordType::CSYNC, RecordType::NS]);
    }
    for rtype in types {
        match query_with(addr, zone, rtype, &query).await {
            Ok(m) => match usable(&m) {
                Ok(()) => answers.push(m),
                Err(why) => {
                    return (
                        HostScan::Failed(format!("{rtype} query: {why}")),
                        Vec::new(),
                    );
                }
            },
            Err(e) => return (HostScan::Failed(format!("{rtype} query: {e}")), Vec::new()),
        }
    }
    let records: Vec<Record> = answers
        .into_iter()
        .flat_map(|m| m.answers.into_iter())
        .collect();
    (
        judge(zone, &records, ds_keys, request.reads, request.csync, now),
        records,
    )
}

/// Whether an answer can be used: authoritative NOERROR.
fn usable(m: &Message) -> Result<(), String> {
    if m.metadata.response_code != ResponseCode::NoError {
        return Err(format!("answered {}", m.metadata.response_code));
    }
    if !m.metadata.authoritative {
        return Err("the answer is not authoritative (the zone is not served there)".into());
    }
    Ok(())
}

/// Judges the DNSKEY, CDS and CDNSKEY RRsets of `zone` (with their RRSIGs) in `records`: a
/// pure function of the answers, `ds_keys` (the keys with a DS now; empty: insecure), what
/// the policy reads and the instant.
pub fn judge(
    zone: &Name,
    records: &[Record],
    ds_keys: &[DNSKEY],
    reads: Reads,
    csync: bool,
    now: Timestamp,
) -> HostScan {
    let at_apex = |r: &&Record| r.name == *zone && r.dns_class == DNSClass::IN;
    let dnskeys: Vec<DNSKEY> = records
        .iter()
        .filter(at_apex)
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::DNSKEY(k)) => Some(k.clone()),
            _ => None,
        })
        .collect();
    // A CDS names a key by digest; the key itself may be in the DNSKEY RRset or, for a
    // multi-signer group's other KSKs (RFC 8901 model 2: each signer's DNSKEY RRset holds only
    // its own KSK), in the CDNSKEY RRset beside it. The digest proves it either way.
    let mut known = dnskeys.clone();
    known.extend(
        records
            .iter()
            .filter(at_apex)
            .filter_map(|r| match &r.data {
                RData::DNSSEC(DNSSECRData::CDNSKEY(c)) => {
                    cdnskey_key(c).and_then(|k| dnskey_of(&k).ok())
                }
                _ => None,
            }),
    );
    let cds = match from_cds(zone, records, &known) {
        Ok(w) => w,
        Err(why) => return HostScan::Bogus(why),
    };
    let cdnskey = match from_cdnskey(zone, records) {
        Ok(w) => w,
        Err(why) => return HostScan::Bogus(why),
    };
    let present = |w: &Wanted| *w != Wanted::Nothing;
    // What the policy reads, and which RRsets must then be signed.
    let (wanted, disagreement, read) = match reads {
        Reads::Cds => (
            cds.clone(),
            present(&cds) && present(&cdnskey) && cds != cdnskey,
            vec![RecordType::CDS],
        ),
        Reads::Cdnskey => (cdnskey, false, vec![RecordType::CDNSKEY]),
        Reads::Both => {
            let both = present(&cds) && present(&cdnskey) && cds != cdnskey;
            let w = if present(&cds) { cds } else { cdnskey };
            (w, both, vec![RecordType::CDS, RecordType::CDNSKEY])
        }
    };
    let has = |t: RecordType| records.iter().filter(at_apex).any(|r| r.record_type() == t);
    let signed_sets: Vec<RecordType> = read.into_iter().filter(|t| has(*t)).collect();
    if !ds_keys.is_empty() {
        // A secure delegation: the DNSKEY RRset and the records must be signed by a key with a
        // DS at the parent (RFC 7344 §4.1).
        let trusted: Vec<DNSKEY> = dnskeys
            .iter()
            .filter(|k| ds_keys.iter().any(|d| same_key(k, d)))
            .cloned()
            .collect();
        if signed_by(zone, RecordType::DNSKEY, records, &trusted, now).is_none() {
            return HostScan::Bogus(
                "its DNSKEY RRset is not signed, valid now, by a key with a DS at the parent"
                    .into(),
            );
        }
        let authenticated = signed_sets
            .iter()
            .all(|t| signed_by(zone, *t, records, &trusted, now).is_some());
        return HostScan::Answer {
            wanted,
            authenticated,
            consistent: true,
            disagreement,
            csync: if csync {
                judge_csync(zone, records, &dnskeys, now)
            } else {
                Csync::None
            },
        };
    }
    // An insecure delegation (RFC 8078 §3): the zone must already be signed with what it
    // asks for.
    let consistent = match &wanted {
        Wanted::Keys(keys) => {
            let named: Vec<DNSKEY> = keys.iter().filter_map(|k| dnskey_of(k).ok()).collect();
            named.len() == keys.len()
                && named.iter().all(|n| dnskeys.iter().any(|k| same_key(k, n)))
                && signed_by(zone, RecordType::DNSKEY, records, &named, now).is_some()
                && signed_sets
                    .iter()
                    .all(|t| signed_by(zone, *t, records, &dnskeys, now).is_some())
        }
        Wanted::Nothing | Wanted::Delete => true,
    };
    HostScan::Answer {
        wanted,
        authenticated: false,
        consistent,
        disagreement,
        csync: Csync::None,
    }
}

/// What the apex CSYNC asks of a secure delegation (RFC 7477 §3): it and the NS RRset must
/// be signed, valid now, by a key of the DNSKEY RRset (which the caller has validated from
/// the DS); only the immediate flag is honoured (this registry keeps no SOA serials to
/// compare a `soaminimum` CSYNC with), and only the NS type is synchronised.
fn judge_csync(zone: &Name, records: &[Record], dnskeys: &[DNSKEY], now: Timestamp) -> Csync {
    let at_apex = |r: &&Record| r.name == *zone && r.dns_class == DNSClass::IN;
    let csyncs: Vec<&hickory_proto::rr::rdata::CSYNC> = records
        .iter()
        .filter(at_apex)
        .filter_map(|r| match &r.data {
            RData::CSYNC(c) => Some(c),
            _ => None,
        })
        .collect();
    let [c] = csyncs.as_slice() else {
        return if csyncs.is_empty() {
            Csync::None
        } else {
            Csync::Unusable("more than one CSYNC record".into())
        };
    };
    if signed_by(zone, RecordType::CSYNC, records, dnskeys, now).is_none() {
        return Csync::Unusable("not signed, valid now, by a key of the DNSKEY RRset".into());
    }
    if !c.immediate {
        return Csync::Unusable(
            "without the immediate flag (this registry does not track SOA serials)".into(),
        );
    }
    if !c.type_bit_maps.iter().any(|t| t == RecordType::NS) {
        return Csync::None;
    }
    if signed_by(zone, RecordType::NS, records, dnskeys, now).is_none() {
        return Csync::Unusable("the NS RRset is not signed, valid now".into());
    }
    let mut ns: Vec<String> = records
        .iter()
        .filter(at_apex)
        .filter_map(|r| match &r.data {
            RData::NS(n) => Some(n.0.to_ascii().trim_end_matches('.').to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    ns.sort();
    ns.dedup();
    Csync::Ns(ns)
}

/// What the CDS RRset asks for: the DNSKEYs its digests name, or delete.
fn from_cds(zone: &Name, records: &[Record], dnskeys: &[DNSKEY]) -> Result<Wanted, String> {
    let cds: Vec<_> = records
        .iter()
        .filter(|r| r.name == *zone)
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::CDS(c)) => Some(c),
            _ => None,
        })
        .collect();
    if cds.is_empty() {
        return Ok(Wanted::Nothing);
    }
    if cds.iter().any(|c| c.is_delete()) {
        return if cds.len() == 1 {
            Ok(Wanted::Delete)
        } else {
            Err("its CDS RRset mixes the delete record with others (RFC 8078 §4)".into())
        };
    }
    let mut keys = Vec::new();
    for c in cds {
        let digest = match u8::from(c.digest_type()) {
            2 => DsDigest::Sha256,
            4 => DsDigest::Sha384,
            other => {
                return Err(format!(
                    "CDS {}: digest type {other} is not accepted (SHA-256 or SHA-384)",
                    c.key_tag()
                ));
            }
        };
        let key = dnskeys.iter().find(|k| {
            keys::ds_from_dnskey(zone, k, digest).is_ok_and(|ds| ds.digest() == c.digest())
        });
        match key {
            Some(k) => keys.push(key_data_for(k)),
            None => {
                return Err(format!(
                    "CDS {} names a key neither its DNSKEY nor its CDNSKEY RRset holds (the \
                     registry stores key data, so it needs the key)",
                    c.key_tag()
                ));
            }
        }
    }
    Ok(Wanted::Keys(sorted(keys)))
}

/// What the CDNSKEY RRset asks for: its keys, or delete.
fn from_cdnskey(zone: &Name, records: &[Record]) -> Result<Wanted, String> {
    let cdnskeys: Vec<_> = records
        .iter()
        .filter(|r| r.name == *zone)
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::CDNSKEY(c)) => Some(c),
            _ => None,
        })
        .collect();
    if cdnskeys.is_empty() {
        return Ok(Wanted::Nothing);
    }
    if cdnskeys.iter().any(|c| c.is_delete()) {
        return if cdnskeys.len() == 1 {
            Ok(Wanted::Delete)
        } else {
            Err("its CDNSKEY RRset mixes the delete record with others (RFC 8078 §4)".into())
        };
    }
    let mut keys = Vec::new();
    for c in cdnskeys {
        keys.push(cdnskey_key(c).ok_or("a CDNSKEY has no usable algorithm or key")?);
    }
    Ok(Wanted::Keys(sorted(keys)))
}

/// The key a CDNSKEY names, as key data (`None` without a usable algorithm or key).
fn cdnskey_key(c: &CDNSKEY) -> Option<KeyData> {
    let (alg, pk) = (c.algorithm()?, c.public_key()?);
    Some(KeyData {
        flags: c.flags(),
        protocol: 3,
        alg: u8::from(alg),
        pub_key: pk.public_bytes().to_vec(),
    })
}

/// Key data in a fixed order, so two servers' answers compare equal.
fn sorted(mut keys: Vec<KeyData>) -> Vec<KeyData> {
    keys.sort_by(|a, b| (a.flags, a.alg, &a.pub_key).cmp(&(b.flags, b.alg, &b.pub_key)));
    keys.dedup();
    keys
}

/// Does the scans due at `now`: takes the requests from the registry, asks the name servers
/// without holding the registry's lock, and hands the findings back. Returns how many
/// delegations it scanned.
pub async fn run_due(
    registry: &SharedRegistry,
    resolver: &dyn HostResolver,
    options: &ScanOptions,
    now: Timestamp,
) -> usize {
    let requests = {
        let mut reg = registry.lock().unwrap_or_else(|e| e.into_inner());
        if !reg.automates_ds() {
            return 0;
        }
        reg.automation_scans(now)
    };
    let mut reports = Vec::with_capacity(requests.len());
    for r in &requests {
        reports.push(scan(r, resolver, options, now).await);
    }
    let mut reg = registry.lock().unwrap_or_else(|e| e.into_inner());
    for report in reports {
        reg.record_scan(report);
    }
    requests.len()
}

#[cfg(test)]
mod tests {
    use dnssec::testutil::{n, soa, ts};
    use dnssec::{KeyAlgorithm, RrSet, SigningPolicy, Zone, ZoneKey, ZoneSigner, fixture_keys};

    use super::*;

    const ALG: KeyAlgorithm = KeyAlgorithm::Ed25519;

    fn ksk(i: usize) -> ZoneKey {
        ZoneKey::ksk(fixture_keys::key(ALG, i))
    }

    fn cds_of(k: &DNSKEY) -> RData {
        let cds = keys::cds_from_dnskey(&n("example.nl."), k, DsDigest::Sha256).unwrap();
        RData::DNSSEC(DNSSECRData::CDS(cds))
    }

    fn cdnskey_of(k: &DNSKEY) -> RData {
        RData::DNSSEC(DNSSECRData::CDNSKEY(keys::cdnskey_from_dnskey(k)))
    }

    /// The apex DNSKEY, CDS and CDNSKEY RRsets (with RRSIGs) of example.nl signed by `keys`,
    /// with the given CDS and CDNSKEY rdata, as a server answers them.
    fn served(keys: Vec<ZoneKey>, cds: Vec<RData>, cdnskey: Vec<RData>) -> Vec<Record> {
        let origin = n("example.nl.");
        let mut zone = Zone::new(origin.clone(), soa(&origin), 300).unwrap();
        zone.add_text("example.nl. 3600 NS ns1.example.net.")
            .unwrap();
        if !cds.is_empty() {
            zone.set_rrset(RrSet::new(origin.clone(), 3600, cds).unwrap())
                .unwrap();
        }
        if !cdnskey.is_empty() {
            zone.set_rrset(RrSet::new(origin.clone(), 3600, cdnskey).unwrap())
                .unwrap();
        }
        let signed = ZoneSigner::new(keys, SigningPolicy::default())
            .unwrap()
            .sign(&zone, ts("2026-03-02T09:00:00Z"))
            .unwrap();
        let apex = signed.node(&origin).unwrap();
        [RecordType::DNSKEY, RecordType::CDS, RecordType::CDNSKEY]
            .into_iter()
            .filter_map(|t| apex.rrset(t))
            .flat_map(|s| s.records().iter().chain(s.rrsigs()).cloned())
            .collect()
    }

    fn now() -> Timestamp {
        ts("2026-03-03T09:00:00Z")
    }

    fn judged(records: &[Record], ds: &[&ZoneKey], reads: Reads) -> HostScan {
        let ds: Vec<DNSKEY> = ds.iter().map(|k| k.dnskey().clone()).collect();
        judge(&n("example.nl."), records, &ds, reads, false, now())
    }

    #[test]
    fn a_rollover_cds_signed_by_the_current_ksk_is_authenticated() {
        let (old, zsk, next) = (ksk(0), ZoneKey::zsk(fixture_keys::key(ALG, 1)), ksk(2));
        let records = served(
            vec![old.clone(), zsk, next.clone()],
            vec![cds_of(next.dnskey())],
            vec![cdnskey_of(next.dnskey())],
        );
        assert_eq!(
            judged(&records, &[&old], Reads::Cds),
            HostScan::Answer {
                wanted: Wanted::Keys(vec![key_data_for(next.dnskey())]),
                authenticated: true,
                consistent: true,
                disagreement: false,
                csync: Csync::None,
            }
        );
        // Against a DS of another key, the DNSKEY RRset itself is not trusted.
        assert!(matches!(
            judged(&records, &[&ksk(5)], Reads::Cds),
            HostScan::Bogus(why) if why.contains("DNSKEY RRset")
        ));
    }

    #[test]
    fn records_signed_only_by_a_key_without_ds_are_not_authenticated() {
        // The old KSK signs the DNSKEY RRset; the CDS is signed by the ZSK and the next KSK
        // only (the old KSK retired from data signing): RFC 7344 §4.1 wants a DS key.
        let old = ksk(0).with_signing(true);
        let zsk = ZoneKey::zsk(fixture_keys::key(ALG, 1));
        let next = ksk(2);
        let mut records = served(
            vec![old.clone(), zsk, next.clone()],
            vec![cds_of(next.dnskey())],
            Vec::new(),
        );
        let old_tag = old.key_tag();
        records.retain(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::RRSIG(s)) => {
                s.input().type_covered != RecordType::CDS || s.input().key_tag != old_tag
            }
            _ => true,
        });
        assert!(matches!(
            judged(&records, &[&old], Reads::Cds),
            HostScan::Answer {
                authenticated: false,
                ..
            }
        ));
    }

    #[test]
    fn a_bootstrap_needs_the_zone_signed_with_what_it_asks_for() {
        let k = ksk(0);
        let zsk = ZoneKey::zsk(fixture_keys::key(ALG, 1));
        let ready = served(
            vec![k.clone(), zsk.clone()],
            vec![cds_of(k.dnskey())],
            vec![cdnskey_of(k.dnskey())],
        );
        assert!(matches!(
            judged(&ready, &[], Reads::Cds),
            HostScan::Answer {
                consistent: true,
                authenticated: false,
                ..
            }
        ));
        // A CDS for a key the zone does not publish: the registry cannot store it.
        let other = ksk(3);
        let unready = served(vec![k, zsk], vec![cds_of(other.dnskey())], Vec::new());
        assert!(matches!(
            judged(&unready, &[], Reads::Cds),
            HostScan::Bogus(why) if why.contains("names a key neither")
        ));
        // A CDNSKEY for a key the zone does not publish: inconsistent.
        let unready = served(
            vec![ksk(0), ZoneKey::zsk(fixture_keys::key(ALG, 1))],
            Vec::new(),
            vec![cdnskey_of(other.dnskey())],
        );
        assert!(matches!(
            judged(&unready, &[], Reads::Cdnskey),
            HostScan::Answer {
                consistent: false,
                ..
            }
        ));
    }

    #[test]
    fn what_the_policy_reads_decides_and_disagreement_is_flagged() {
        let (k, zsk, next) = (ksk(0), ZoneKey::zsk(fixture_keys::key(ALG, 1)), ksk(2));
        let records = served(
            vec![k.clone(), zsk, next.clone()],
            vec![cds_of(next.dnskey())],
            vec![cdnskey_of(k.dnskey()), cdnskey_of(next.dnskey())],
        );
        let HostScan::Answer {
            wanted,
            disagreement,
            ..
        } = judged(&records, &[&k], Reads::Cds)
        else {
            panic!("an answer")
        };
        assert_eq!(wanted, Wanted::Keys(vec![key_data_for(next.dnskey())]));
        assert!(disagreement);
        let HostScan::Answer {
            wanted,
            disagreement,
            ..
        } = judged(&records, &[&k], Reads::Cdnskey)
        else {
            panic!("an answer")
        };
        assert!(matches!(wanted, Wanted::Keys(ref ks) if ks.len() == 2));
        assert!(!disagreement, "a CDNSKEY-only policy ignores the CDS");
    }

    #[test]
    fn delete_records_stand_alone() {
        let (k, zsk) = (ksk(0), ZoneKey::zsk(fixture_keys::key(ALG, 1)));
        let delete = RData::DNSSEC(DNSSECRData::CDS(keys::cds_delete()));
        let records = served(
            vec![k.clone(), zsk.clone()],
            vec![delete.clone()],
            Vec::new(),
        );
        assert!(matches!(
            judged(&records, &[&k], Reads::Cds),
            HostScan::Answer {
                wanted: Wanted::Delete,
                authenticated: true,
                ..
            }
        ));
        let mixed = served(
            vec![k.clone(), zsk],
            vec![delete, cds_of(k.dnskey())],
            Vec::new(),
        );
        assert!(matches!(
            judged(&mixed, &[&k], Reads::Cds),
            HostScan::Bogus(why) if why.contains("mixes the delete record")
        ));
    }

    /// A signal at `_dsboot.example.nl._signal.ns1.example.net` with these rdata.
    fn signal(cds: Vec<RData>, cdnskey: Vec<RData>) -> SignalSets {
        let name = n("_dsboot.example.nl._signal.ns1.example.net.");
        let rec = |d: RData| Record::from_rdata(name.clone(), 3600, d);
        SignalSets {
            name: Some(name.clone()),
            cds: cds.into_iter().map(rec).collect(),
            cdnskey: cdnskey.into_iter().map(rec).collect(),
        }
    }

    #[test]
    fn a_signal_counts_only_when_each_rrset_equals_the_childs() {
        let (k, zsk, other) = (ksk(0), ZoneKey::zsk(fixture_keys::key(ALG, 1)), ksk(3));
        let zone = n("example.nl.");
        let child = served(
            vec![k.clone(), zsk.clone()],
            vec![cds_of(k.dnskey())],
            vec![cdnskey_of(k.dnskey())],
        );
        let both = vec![child.clone(), child.clone()];
        let good = signal(vec![cds_of(k.dnskey())], vec![cdnskey_of(k.dnskey())]);
        assert_eq!(
            judge_signal(&zone, &both, &good, Reads::Cds),
            Ok(Wanted::Keys(vec![key_data_for(k.dnskey())]))
        );
        // Another key in the signal's CDS.
        let wrong = signal(vec![cds_of(other.dnskey())], vec![cdnskey_of(k.dnskey())]);
        assert_eq!(
            judge_signal(&zone, &both, &wrong, Reads::Cds),
            Err("its CDS RRset differs from the child's".into())
        );
        // RFC 9615 §4.1 step 4: an RRset empty on one side only is inconsistent, whichever
        // type the policy reads.
        let no_cdnskey = signal(vec![cds_of(k.dnskey())], Vec::new());
        assert_eq!(
            judge_signal(&zone, &both, &no_cdnskey, Reads::Cds),
            Err("the child publishes CDNSKEY, its signal none".into())
        );
        let cds_only = served(
            vec![k.clone(), zsk.clone()],
            vec![cds_of(k.dnskey())],
            Vec::new(),
        );
        assert_eq!(
            judge_signal(&zone, std::slice::from_ref(&cds_only), &good, Reads::Cds),
            Err("its signal has CDNSKEY, the child none".into())
        );
        assert_eq!(
            judge_signal(
                &zone,
                std::slice::from_ref(&cds_only),
                &no_cdnskey,
                Reads::Cds
            ),
            Ok(Wanted::Keys(vec![key_data_for(k.dnskey())]))
        );
        // The child's servers must agree among themselves as well.
        assert_eq!(
            judge_signal(&zone, &[child, cds_only], &good, Reads::Cds),
            Err("the child's name servers serve different CDNSKEY RRsets".into())
        );
    }

    #[test]
    fn nothing_published_asks_for_nothing() {
        let (k, zsk) = (ksk(0), ZoneKey::zsk(fixture_keys::key(ALG, 1)));
        let records = served(vec![k.clone(), zsk], Vec::new(), Vec::new());
        assert!(matches!(
            judged(&records, &[&k], Reads::Both),
            HostScan::Answer {
                wanted: Wanted::Nothing,
                ..
            }
        ));
    }
}

#[cfg(test)]
mod csync_tests {
    use dnssec::testutil::{n, soa, ts};
    use dnssec::{KeyAlgorithm, RrSet, SigningPolicy, Zone, ZoneKey, ZoneSigner, fixture_keys};
    use hickory_proto::rr::rdata::CSYNC;

    use super::*;

    const ALG: KeyAlgorithm = KeyAlgorithm::Ed25519;

    /// The apex DNSKEY, NS and CSYNC (with RRSIGs) of example.nl, NS = `ns`, with a CSYNC
    /// of the given flags (none: no CSYNC).
    fn served(ns: &[&str], csync: Option<(bool, bool, bool)>) -> (Vec<Record>, ZoneKey) {
        let origin = n("example.nl.");
        let ksk = ZoneKey::ksk(fixture_keys::key(ALG, 0));
        let zsk = ZoneKey::zsk(fixture_keys::key(ALG, 1));
        let mut zone = Zone::new(origin.clone(), soa(&origin), 300).unwrap();
        for h in ns {
            zone.add_text(&format!("example.nl. 3600 NS {h}.")).unwrap();
        }
        if let Some((immediate, soa_minimum, with_ns)) = csync {
            let types = if with_ns {
                vec![RecordType::NS, RecordType::A]
            } else {
                vec![RecordType::A]
            };
            let c = CSYNC::new(7, immediate, soa_minimum, types);
            zone.set_rrset(RrSet::new(origin.clone(), 3600, [RData::CSYNC(c)]).unwrap())
                .unwrap();
        }
        let signed = ZoneSigner::new(vec![ksk.clone(), zsk], SigningPolicy::default())
            .unwrap()
            .sign(&zone, ts("2026-03-02T09:00:00Z"))
            .unwrap();
        let apex = signed.node(&origin).unwrap();
        let records = [RecordType::DNSKEY, RecordType::NS, RecordType::CSYNC]
            .into_iter()
            .filter_map(|t| apex.rrset(t))
            .flat_map(|s| s.records().iter().chain(s.rrsigs()).cloned())
            .collect();
        (records, ksk)
    }

    fn csync_of(records: &[Record], ksk: &ZoneKey) -> Csync {
        match judge(
            &n("example.nl."),
            records,
            &[ksk.dnskey().clone()],
            Reads::Cds,
            true,
            ts("2026-03-03T09:00:00Z"),
        ) {
            HostScan::Answer { csync, .. } => csync,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_immediate_signed_csync_asks_for_the_validated_ns_set() {
        let (records, ksk) = served(
            &["NS2.operator-b.example", "ns1.operator-a.example"],
            Some((true, false, true)),
        );
        assert_eq!(
            csync_of(&records, &ksk),
            Csync::Ns(vec![
                "ns1.operator-a.example".to_string(),
                "ns2.operator-b.example".to_string()
            ])
        );
    }

    #[test]
    fn a_csync_that_cannot_be_used_says_why() {
        let (records, ksk) = served(&["ns1.operator-a.example"], Some((false, true, true)));
        assert!(matches!(csync_of(&records, &ksk), Csync::Unusable(w) if w.contains("immediate")));
        // Without NS in its bitmap it asks nothing of the NS set.
        let (records, ksk) = served(&["ns1.operator-a.example"], Some((true, false, false)));
        assert_eq!(csync_of(&records, &ksk), Csync::None);
        // Its signature stripped: not acted on.
        let (mut records, ksk) = served(&["ns1.operator-a.example"], Some((true, false, true)));
        records.retain(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::RRSIG(s)) => s.input().type_covered != RecordType::CSYNC,
            _ => true,
        });
        assert!(matches!(csync_of(&records, &ksk), Csync::Unusable(w) if w.contains("not signed")));
        // No CSYNC at all.
        let (records, ksk) = served(&["ns1.operator-a.example"], None);
        assert_eq!(csync_of(&records, &ksk), Csync::None);
    }
}
