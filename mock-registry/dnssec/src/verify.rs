//! What a served DNSKEY RRset proves about keys someone wants published in it: whether they
//! are there, and whether the RRset carries a signature, valid at a given instant, by one of its
//! own keys (RFC 4035 §5.2, the check a validator makes once it trusts a key of the set).
//!
//! The registry's key relay receipts ask exactly this of every name server of a delegation; a
//! pure function of the answer and the instant, so it is tested without a network.

use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, RRSIG};
use hickory_proto::dnssec::{PublicKey, Verifier};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use jiff::Timestamp;

use super::keys::key_tag;

/// The verdict on one DNSKEY answer, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DnskeyVerdict {
    /// Some wanted key is not in the RRset.
    Missing,
    /// Every wanted key is there, but no RRSIG covers the RRset.
    Unsigned,
    /// RRSIGs cover the RRset, but none by a key of the set verifies at the instant (expired,
    /// not yet valid, made by another key, or wrong).
    Invalid,
    /// Every wanted key is there, and a key of the set signs the set, valid at the instant.
    Published,
}

/// The verdict with what supports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnskeyCheck {
    /// Whether the wanted keys are there and the RRset is validly signed by one of its own keys at
    /// the instant.
    pub verdict: DnskeyVerdict,
    /// The key tag of the key whose signature verified (`Published` only).
    pub signer: Option<u16>,
    /// The largest TTL of the DNSKEY records and of the original TTL in their RRSIGs: how
    /// long a cache may hold this RRset.
    pub ttl: u32,
    /// How many DNSKEYs the RRset has.
    pub keys: usize,
}

/// Judges the DNSKEY RRset of `zone` among `records` (an answer section: other owners, types
/// and classes are ignored) against the keys in `wanted`, at `now`.
///
/// Keys are compared by flags, algorithm and public key (the DNSKEY rdata); the protocol field
/// is always 3 in DNS. A signature counts when its key tag and algorithm name a key of the set,
/// `now` lies in its validity window (RFC 4034 §3.1.5, serial arithmetic aside: windows here
/// are within 68 years of now) and it verifies over the whole RRset.
pub fn check_dnskey_rrset(
    zone: &Name,
    records: &[Record],
    wanted: &[DNSKEY],
    now: Timestamp,
) -> DnskeyCheck {
    let owned = |r: &&Record| r.name == *zone && r.dns_class == DNSClass::IN;
    let rrset: Vec<&Record> = records
        .iter()
        .filter(owned)
        .filter(|r| r.record_type() == RecordType::DNSKEY)
        .collect();
    let keys: Vec<&DNSKEY> = rrset
        .iter()
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::DNSKEY(k)) => Some(k),
            _ => None,
        })
        .collect();
    let sigs: Vec<(&Record, &RRSIG)> = records
        .iter()
        .filter(owned)
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::RRSIG(s))
                if s.input().type_covered == RecordType::DNSKEY =>
            {
                Some((r, s))
            }
            _ => None,
        })
        .collect();
    let ttl = rrset
        .iter()
        .map(|r| r.ttl)
        .chain(sigs.iter().map(|(_, s)| s.input().original_ttl))
        .max()
        .unwrap_or(0);
    let check = |verdict, signer| DnskeyCheck {
        verdict,
        signer,
        ttl,
        keys: keys.len(),
    };
    if !wanted.iter().all(|w| keys.iter().any(|k| same_key(k, w))) {
        return check(DnskeyVerdict::Missing, None);
    }
    if sigs.is_empty() {
        return check(DnskeyVerdict::Unsigned, None);
    }
    let at = now.as_second();
    for (_, sig) in sigs {
        let input = sig.input();
        let valid_from = i64::from(input.sig_inception.get());
        let valid_to = i64::from(input.sig_expiration.get());
        if at < valid_from || at > valid_to {
            continue;
        }
        let signer = keys
            .iter()
            .find(|k| key_tag(k) == input.key_tag && k.public_key().algorithm() == input.algorithm);
        if let Some(k) = signer
            && k.verify_rrsig(zone, DNSClass::IN, sig, rrset.iter().copied())
                .is_ok()
        {
            return check(DnskeyVerdict::Published, Some(input.key_tag));
        }
    }
    check(DnskeyVerdict::Invalid, None)
}

/// The key tag of a key among `signers` whose RRSIG over the RRset of `zone` and `rtype`
/// in `records` verifies at `now`; `None` when none does (or the RRset is empty).
///
/// The question a parent asks of a child's CDS/CDNSKEY (RFC 7344 §4.1: signed by a key with
/// a DS at the parent) and of its DNSKEY RRset; which keys count is the caller's choice.
pub fn signed_by(
    zone: &Name,
    rtype: RecordType,
    records: &[Record],
    signers: &[DNSKEY],
    now: Timestamp,
) -> Option<u16> {
    let owned = |r: &&Record| r.name == *zone && r.dns_class == DNSClass::IN;
    let rrset: Vec<&Record> = records
        .iter()
        .filter(owned)
        .filter(|r| r.record_type() == rtype)
        .collect();
    if rrset.is_empty() {
        return None;
    }
    let at = now.as_second();
    records
        .iter()
        .filter(owned)
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::RRSIG(s)) if s.input().type_covered == rtype => Some(s),
            _ => None,
        })
        .find_map(|sig| {
            let input = sig.input();
            let window =
                i64::from(input.sig_inception.get())..=i64::from(input.sig_expiration.get());
            if !window.contains(&at) {
                return None;
            }
            signers
                .iter()
                .filter(|k| {
                    key_tag(k) == input.key_tag && k.public_key().algorithm() == input.algorithm
                })
                .find(|k| {
                    k.verify_rrsig(zone, DNSClass::IN, sig, rrset.iter().copied())
                        .is_ok()
                })
                .map(|_| input.key_tag)
        })
}

/// Whether two DNSKEYs are the same key (flags, algorithm, public key).
pub fn same_key(a: &DNSKEY, b: &DNSKEY) -> bool {
    a.flags() == b.flags()
        && a.public_key().algorithm() == b.public_key().algorithm()
        && a.public_key().public_bytes() == b.public_key().public_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{ksk_zsk, n, soa, ts};
    use crate::{KeyAlgorithm, SigningPolicy, Zone, ZoneKey, ZoneSigner, fixture_keys};

    /// The DNSKEY RRset and its RRSIGs as a server answers them, for a zone signed at `at`.
    fn answer(keys: Vec<ZoneKey>, at: Timestamp) -> Vec<Record> {
        let origin = n("example.nl.");
        let mut zone = Zone::new(origin.clone(), soa(&origin), 300).unwrap();
        zone.add_text("example.nl. 3600 NS ns1.example.nl.")
            .unwrap();
        let signed = ZoneSigner::new(keys, SigningPolicy::default())
            .unwrap()
            .sign(&zone, at)
            .unwrap();
        let set = signed.dnskeys().unwrap();
        set.records()
            .iter()
            .chain(set.rrsigs().iter())
            .cloned()
            .collect()
    }

    fn foreign() -> DNSKEY {
        fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 4).dnskey(256)
    }

    #[test]
    fn a_relayed_key_in_a_self_signed_set_is_published() {
        let now = ts("2026-03-02T09:00:00Z");
        let mut keys = ksk_zsk(KeyAlgorithm::EcdsaP256Sha256);
        keys.push(ZoneKey::foreign(foreign()));
        let records = answer(keys, now);
        let c = check_dnskey_rrset(&n("example.nl."), &records, &[foreign()], now);
        assert_eq!(c.verdict, DnskeyVerdict::Published);
        assert_eq!(c.keys, 3);
        assert!(c.ttl > 0);
        let ksk = fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 0).dnskey(257);
        assert_eq!(c.signer, Some(key_tag(&ksk)));
        // Nothing wanted: the set is still judged on its signature.
        let c = check_dnskey_rrset(&n("example.nl."), &records, &[], now);
        assert_eq!(c.verdict, DnskeyVerdict::Published);
    }

    #[test]
    fn each_way_to_fail_has_its_verdict() {
        let now = ts("2026-03-02T09:00:00Z");
        let zone = n("example.nl.");
        let without = answer(ksk_zsk(KeyAlgorithm::EcdsaP256Sha256), now);
        assert_eq!(
            check_dnskey_rrset(&zone, &without, &[foreign()], now).verdict,
            DnskeyVerdict::Missing
        );
        let mut keys = ksk_zsk(KeyAlgorithm::EcdsaP256Sha256);
        keys.push(ZoneKey::foreign(foreign()));
        let with = answer(keys, now);
        let unsigned: Vec<Record> = with
            .iter()
            .filter(|r| r.record_type() == RecordType::DNSKEY)
            .cloned()
            .collect();
        assert_eq!(
            check_dnskey_rrset(&zone, &unsigned, &[foreign()], now).verdict,
            DnskeyVerdict::Unsigned
        );
        // A year later every signature has expired.
        let later = ts("2027-03-02T09:00:00Z");
        assert_eq!(
            check_dnskey_rrset(&zone, &with, &[foreign()], later).verdict,
            DnskeyVerdict::Invalid
        );
        // Signed by a key that is not in the set: the relayed key is there, the signature
        // cannot be checked by the set's own keys.
        let mut other = with.clone();
        other.retain(
            |r| !matches!(&r.data, RData::DNSSEC(DNSSECRData::DNSKEY(k)) if k.secure_entry_point()),
        );
        assert_eq!(
            check_dnskey_rrset(&zone, &other, &[foreign()], now).verdict,
            DnskeyVerdict::Invalid
        );
        // Another owner's set proves nothing about this zone.
        assert_eq!(
            check_dnskey_rrset(&n("other.nl."), &with, &[], now).verdict,
            DnskeyVerdict::Unsigned
        );
    }

    #[test]
    fn keys_compare_by_flags_algorithm_and_public_key() {
        let k = foreign();
        let same = crate::keys::parse_dnskey(&crate::keys::format_dnskey(&k)).unwrap();
        assert!(same_key(&k, &same));
        let ksk = fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 4).dnskey(257);
        assert!(!same_key(&k, &ksk), "flags differ");
        assert_eq!(
            k.public_key().public_bytes(),
            ksk.public_key().public_bytes()
        );
    }
}
