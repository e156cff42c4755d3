//! What a caller asks a server to host: the zone, its TTLs, how it is signed, and the DNSKEY
//! rdata that keys are exchanged as.
//!
//! These types know nothing of any server: both backends (and the harness's built-in
//! operator) read the same [`ZoneSpec`]. Records are given the way a scenario file writes
//! them (relative presentation lines) and are made absolute here once, so that no backend has
//! to guess how its software resolves relative names.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use dnssec::presentation::split_field;
use hickory_proto::rr::{Name, RecordType};

use crate::error::{Error, Result};

/// A DNSSEC signing algorithm this crate can ask for (RFC 8624's recommended ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// 8, RSASHA256.
    RsaSha256,
    /// 13, ECDSAP256SHA256.
    EcdsaP256Sha256,
    /// 15, ED25519.
    Ed25519,
}

impl Algorithm {
    /// Every algorithm this crate knows, in number order.
    pub const ALL: [Self; 3] = [Self::RsaSha256, Self::EcdsaP256Sha256, Self::Ed25519];

    /// The IANA number.
    pub fn number(self) -> u8 {
        match self {
            Self::RsaSha256 => 8,
            Self::EcdsaP256Sha256 => 13,
            Self::Ed25519 => 15,
        }
    }

    /// The algorithm with this IANA number, if this crate knows it.
    pub fn from_number(n: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.number() == n)
    }

    /// The IANA mnemonic (as PowerDNS's API spells it).
    pub fn mnemonic(self) -> &'static str {
        match self {
            Self::RsaSha256 => "RSASHA256",
            Self::EcdsaP256Sha256 => "ECDSAP256SHA256",
            Self::Ed25519 => "ED25519",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.number(), self.mnemonic())
    }
}

/// Which keys sign the zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyScheme {
    /// A KSK signs the DNSKEY set, a ZSK everything else.
    KskZsk,
    /// One combined signing key (flags 257) signs everything.
    Csk,
}

/// How the zone proves non-existence. NSEC3 always uses 0 extra iterations and an empty
/// salt, as RFC 9276 asks; only opt-out is a choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Denial {
    /// NSEC (RFC 4034).
    Nsec,
    /// NSEC3 (RFC 5155), iterations 0, no salt.
    Nsec3 {
        /// Insecure delegations are skipped by the NSEC3 chain (flag 1).
        opt_out: bool,
    },
}

/// How long signatures last and when they are renewed.
///
/// The defaults (14 days valid, renewed 7 days before expiry) keep every signature valid
/// through any run of this harness, whatever its time scale; a caller wanting to see
/// re-signing within a short run lowers both. Where the software fixes these (PowerDNS),
/// they are ignored and [`crate::Capabilities::signature_timing`] says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureTiming {
    /// From inception to expiration of a new signature.
    pub lifetime: Duration,
    /// How long before expiration a signature is replaced.
    pub refresh: Duration,
}

impl Default for SignatureTiming {
    fn default() -> Self {
        Self {
            lifetime: Duration::from_secs(14 * 86_400),
            refresh: Duration::from_secs(7 * 86_400),
        }
    }
}

/// How a zone is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signing {
    /// The algorithm of all the zone's own keys.
    pub algorithm: Algorithm,
    /// KSK + ZSK or a CSK.
    pub keys: KeyScheme,
    /// NSEC or NSEC3.
    pub denial: Denial,
    /// Signature lifetime and refresh.
    pub timing: SignatureTiming,
}

impl Signing {
    /// KSK + ZSK, NSEC, default timing.
    pub fn new(algorithm: Algorithm) -> Self {
        Self {
            algorithm,
            keys: KeyScheme::KskZsk,
            denial: Denial::Nsec,
            timing: SignatureTiming::default(),
        }
    }
}

/// The TTLs of a zone, in seconds.
///
/// They are separate because a harness judging caches needs each: the negative TTL bounds
/// how long an NXDOMAIN is cached, the DNSKEY TTL how long a key set outlives a change, the
/// NS TTL how long the old operator is still asked after a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttls {
    /// The TTL of the SOA record itself.
    pub soa: u32,
    /// The SOA MINIMUM field: the negative-caching TTL (RFC 2308), together with `soa`.
    pub soa_minimum: u32,
    /// The DNSKEY RRset's TTL.
    pub dnskey: u32,
    /// The apex NS RRset's TTL.
    pub ns: u32,
    /// The TTL of a record line that gives none.
    pub data: u32,
}

impl Ttls {
    /// Every TTL the same.
    pub fn uniform(ttl: u32) -> Self {
        Self {
            soa: ttl,
            soa_minimum: ttl,
            dnskey: ttl,
            ns: ttl,
            data: ttl,
        }
    }
}

impl Default for Ttls {
    fn default() -> Self {
        Self::uniform(3600)
    }
}

/// A zone to host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneSpec {
    /// The zone's name, with or without the final dot.
    pub name: String,
    /// The apex NS host names (absolute, with or without the final dot); the first is also
    /// the SOA MNAME.
    pub ns: Vec<String>,
    /// Records as relative presentation lines: `www 300 A 192.0.2.10`, `@ MX 10 mail`.
    /// Apex NS, SOA and DNSSEC records are not allowed here: they have their own fields.
    pub records: Vec<String>,
    /// The TTLs the zone's records are published with (apex, data, DNSKEY, negative).
    pub ttls: Ttls,
    /// How it is signed; `None` for an unsigned zone.
    pub signing: Option<Signing>,
}

impl ZoneSpec {
    /// An unsigned zone with default TTLs.
    pub fn new(name: impl Into<String>, ns: &[&str], records: &[&str]) -> Self {
        Self {
            name: name.into(),
            ns: ns.iter().map(|s| (*s).to_string()).collect(),
            records: records.iter().map(|s| (*s).to_string()).collect(),
            ttls: Ttls::default(),
            signing: None,
        }
    }

    /// The same zone, signed.
    #[must_use]
    pub fn signed(mut self, signing: Signing) -> Self {
        self.signing = Some(signing);
        self
    }

    /// The same zone with these TTLs.
    #[must_use]
    pub fn with_ttls(mut self, ttls: Ttls) -> Self {
        self.ttls = ttls;
        self
    }
}

/// The zone's name in the one form every backend uses: lower case, no final dot.
pub fn zone_name(name: &str) -> Result<String> {
    let trimmed = name.trim().trim_end_matches('.').to_ascii_lowercase();
    if trimmed.is_empty() {
        return Err(Error::invalid(
            "zone name",
            name,
            "the root zone is not hosted",
        ));
    }
    Name::from_ascii(format!("{trimmed}."))
        .map_err(|e| Error::invalid("zone name", name, e.to_string()))?;
    Ok(trimmed)
}

/// A host name made absolute, with its final dot.
pub(crate) fn host_name(name: &str) -> Result<String> {
    let trimmed = name.trim().trim_end_matches('.').to_ascii_lowercase();
    Name::from_ascii(format!("{trimmed}."))
        .map_err(|e| Error::invalid("host name", name, e.to_string()))?;
    Ok(format!("{trimmed}."))
}

/// One record, absolute: what both servers are given.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ZoneRecord {
    /// Owner, absolute with the final dot, lower case.
    pub owner: String,
    /// Record type mnemonic, upper case.
    pub rtype: String,
    /// TTL in seconds.
    pub ttl: u32,
    /// Rdata in presentation form, names made absolute.
    pub rdata: String,
}

impl fmt::Display for ZoneRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.owner, self.ttl, self.rtype, self.rdata
        )
    }
}

/// Types the caller may not give as records: the servers make them, or they have their own
/// field in [`ZoneSpec`].
const RESERVED: [&str; 8] = [
    "SOA",
    "DNSKEY",
    "RRSIG",
    "NSEC",
    "NSEC3",
    "NSEC3PARAM",
    "CDS",
    "CDNSKEY",
];

/// Parses relative presentation lines into absolute records, grouped by RRset
/// (owner, type); refuses lines that cannot be served as asked.
pub(crate) fn parse_records(
    zone: &str,
    lines: &[String],
    default_ttl: u32,
) -> Result<BTreeMap<(String, String), Vec<ZoneRecord>>> {
    let mut sets: BTreeMap<(String, String), Vec<ZoneRecord>> = BTreeMap::new();
    for line in lines {
        if line.trim().is_empty() {
            continue;
        }
        let record = parse_record(zone, line, default_ttl)?;
        let set = sets
            .entry((record.owner.clone(), record.rtype.clone()))
            .or_default();
        if let Some(first) = set.first()
            && first.ttl != record.ttl
        {
            // Servers resolve this differently (one TTL wins, or a warning); refusing keeps
            // what is served equal to what was asked.
            return Err(Error::invalid(
                "record",
                line.as_str(),
                format!("TTL differs from {} in the same RRset", first.ttl),
            ));
        }
        if !set.contains(&record) {
            set.push(record);
        }
    }
    Ok(sets)
}

/// One relative presentation line → an absolute record.
pub(crate) fn parse_record(zone: &str, line: &str, default_ttl: u32) -> Result<ZoneRecord> {
    let bad = |reason: &str| Error::invalid("record", line, reason);
    let (owner_text, rest) = split_field(line).ok_or_else(|| bad("empty line"))?;
    let owner = absolute(owner_text, zone);
    Name::from_ascii(&owner).map_err(|e| bad(&format!("owner: {e}")))?;
    let apex = format!("{zone}.");
    if owner != apex && !owner.ends_with(&format!(".{apex}")) {
        return Err(bad("owner is outside the zone"));
    }
    let (mut token, mut rest) = split_field(rest).ok_or_else(|| bad("no type"))?;
    let mut ttl = default_ttl;
    if token.chars().all(|c| c.is_ascii_digit()) {
        ttl = token.parse().map_err(|_| bad("TTL out of range"))?;
        (token, rest) = split_field(rest).ok_or_else(|| bad("no type"))?;
    }
    if token.eq_ignore_ascii_case("IN") {
        (token, rest) = split_field(rest).ok_or_else(|| bad("no type"))?;
    }
    let rtype = token.to_ascii_uppercase();
    let record_type = rtype
        .parse::<RecordType>()
        .map_err(|_| bad("unknown record type"))?;
    if RESERVED.contains(&rtype.as_str()) {
        return Err(bad("this type is made by the server"));
    }
    if rtype == "NS" && owner == apex {
        return Err(bad("apex NS records are given as ZoneSpec::ns"));
    }
    let rdata = rest.trim();
    if rdata.is_empty() {
        return Err(bad("no rdata"));
    }
    let rdata = match record_type {
        // Character-strings go to the server quoted and escaped whatever way the line wrote
        // them: PowerDNS takes TXT content only in quotes.
        RecordType::TXT | RecordType::HINFO => {
            let data = dnssec::presentation::parse_rdata(record_type, rdata)
                .map_err(|e| bad(&e.to_string()))?;
            dnssec::presentation::rdata_text(&data)
        }
        _ => absolute_rdata(&rtype, rdata, zone),
    };
    Ok(ZoneRecord {
        owner,
        rtype,
        ttl,
        rdata,
    })
}

/// A name as written in a zone file, made absolute against `zone` (no final dot).
fn absolute(name: &str, zone: &str) -> String {
    if name == "@" {
        format!("{zone}.")
    } else if name.ends_with('.') {
        name.to_ascii_lowercase()
    } else {
        format!("{}.{zone}.", name.to_ascii_lowercase())
    }
}

/// Rdata with its domain-name fields made absolute, for the types whose rdata holds names.
/// Other types pass through unchanged.
fn absolute_rdata(rtype: &str, rdata: &str, zone: &str) -> String {
    let name_field = match rtype {
        "NS" | "CNAME" | "DNAME" | "PTR" => Some(0),
        "MX" => Some(1),
        "SRV" => Some(3),
        _ => None,
    };
    let Some(index) = name_field else {
        return rdata.to_string();
    };
    let mut fields: Vec<String> = rdata.split_whitespace().map(str::to_string).collect();
    if let Some(f) = fields.get_mut(index) {
        *f = absolute(f, zone);
    }
    fields.join(" ")
}

/// A DNSKEY's rdata: how keys are read from a server and handed to another.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DnsKey {
    /// Flags: 256 for a zone key, 257 with the SEP bit (KSK or CSK).
    pub flags: u16,
    /// Always 3.
    pub protocol: u8,
    /// The algorithm number.
    pub algorithm: u8,
    /// The public key, raw bytes.
    pub public_key: Vec<u8>,
}

impl DnsKey {
    /// Parses `257 3 13 <base64>` (the base64 may be split by spaces, as servers print it).
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |reason: &str| Error::invalid("DNSKEY", text, reason);
        let mut fields = text.split_whitespace();
        let flags = fields
            .next()
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| bad("flags"))?;
        let protocol = fields
            .next()
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| bad("protocol"))?;
        let algorithm = fields
            .next()
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| bad("algorithm"))?;
        let b64: String = fields.collect();
        if b64.is_empty() {
            return Err(bad("no public key"));
        }
        let public_key = data_encoding::BASE64
            .decode(b64.as_bytes())
            .map_err(|e| bad(&format!("public key: {e}")))?;
        Ok(Self {
            flags,
            protocol,
            algorithm,
            public_key,
        })
    }

    /// The public key in base64, as presentation form and the servers' APIs want it.
    pub fn public_key_base64(&self) -> String {
        data_encoding::BASE64.encode(&self.public_key)
    }

    /// The key tag (RFC 4034 appendix B), computed over the rdata.
    pub fn key_tag(&self) -> u16 {
        let mut rdata = Vec::with_capacity(4 + self.public_key.len());
        rdata.extend_from_slice(&self.flags.to_be_bytes());
        rdata.push(self.protocol);
        rdata.push(self.algorithm);
        rdata.extend_from_slice(&self.public_key);
        let mut acc: u32 = 0;
        for (i, b) in rdata.iter().enumerate() {
            acc += if i % 2 == 0 {
                u32::from(*b) << 8
            } else {
                u32::from(*b)
            };
        }
        acc += (acc >> 16) & 0xffff;
        u16::try_from(acc & 0xffff).expect("invariant: masked to 16 bits")
    }
}

impl fmt::Display for DnsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.flags,
            self.protocol,
            self.algorithm,
            self.public_key_base64()
        )
    }
}

/// A zone's own keys by role. A CSK is in both lists.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OwnKeys {
    /// The keys that sign the DNSKEY set (KSKs, or the CSK): the DS source.
    pub ksks: Vec<DnsKey>,
    /// The keys that sign zone data (ZSKs, or the CSK): what is relayed to another operator.
    pub zone_signing: Vec<DnsKey>,
}

impl OwnKeys {
    /// Every distinct own key.
    pub fn all(&self) -> Vec<DnsKey> {
        let mut all: Vec<DnsKey> = self
            .ksks
            .iter()
            .chain(&self.zone_signing)
            .cloned()
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

/// What a server serves for a zone right after a change: the caller's proof that the change
/// is live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneStatus {
    /// The SOA serial served.
    pub serial: u32,
    /// The DNSKEY RRset served (own and foreign keys; empty when unsigned).
    pub dnskeys: Vec<DnsKey>,
    /// The DNSKEY RRset's TTL as served (0 when unsigned).
    pub dnskey_ttl: u32,
    /// Key tags of the RRSIGs over the DNSKEY RRset.
    pub dnskey_signers: Vec<u16>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_lines_become_absolute() {
        let r = parse_record("ex.nl", "www 300 A 192.0.2.10", 60).unwrap();
        assert_eq!(r.to_string(), "www.ex.nl. 300 A 192.0.2.10");
        let r = parse_record("ex.nl", "@ MX 10 mail", 60).unwrap();
        assert_eq!(r.to_string(), "ex.nl. 60 MX 10 mail.ex.nl.");
        let r = parse_record("ex.nl", "sub IN NS ns.other.example.", 60).unwrap();
        assert_eq!(r.to_string(), "sub.ex.nl. 60 NS ns.other.example.");
        let r = parse_record("ex.nl", "txt TXT \"two  words\"", 60).unwrap();
        assert_eq!(r.rdata, "\"two  words\"");
        // Unquoted or escaped character-strings reach the server quoted (PowerDNS wants them so).
        let r = parse_record("ex.nl", "txt TXT hello \"say \\\"hi\\\"\" \\195\\169", 60).unwrap();
        assert_eq!(r.rdata, "\"hello\" \"say \\\"hi\\\"\" \"\\195\\169\"");
        let r = parse_record("ex.nl", "host HINFO pc \"Debian GNU/Linux\"", 60).unwrap();
        assert_eq!(r.rdata, "\"pc\" \"Debian GNU/Linux\"");
        assert!(parse_record("ex.nl", "txt TXT \"open", 60).is_err());
        let r = parse_record("ex.nl", "_sip._tcp SRV 0 5 5060 sip", 60).unwrap();
        assert_eq!(r.rdata, "0 5 5060 sip.ex.nl.");
    }

    #[test]
    fn reserved_and_foreign_lines_are_refused() {
        for line in [
            "@ NS ns1.example.",
            "@ DNSKEY 256 3 13 AA==",
            "www.other.nl. A 192.0.2.1",
            "www A",
            "www FOO bar",
        ] {
            assert!(parse_record("ex.nl", line, 60).is_err(), "{line}");
        }
        let lines = vec![
            "a 10 A 192.0.2.1".to_string(),
            "a 20 A 192.0.2.2".to_string(),
        ];
        assert!(parse_records("ex.nl", &lines, 60).is_err());
    }

    #[test]
    fn key_tag_matches_a_known_key() {
        // Seen served by Knot DNS with key id 56173.
        let k = DnsKey::parse("257 3 15 lCx71aKznvPUQOpaAZhXF+HWYxxJQZMPyLarxO4a6o4=").unwrap();
        assert_eq!(k.key_tag(), 56173);
        assert_eq!(k.flags & 1, 1, "SEP bit");
        assert_eq!(
            k.to_string(),
            "257 3 15 lCx71aKznvPUQOpaAZhXF+HWYxxJQZMPyLarxO4a6o4="
        );
    }

    #[test]
    fn zone_names_are_normalised() {
        assert_eq!(zone_name("Ex.NL.").unwrap(), "ex.nl");
        assert!(zone_name(".").is_err());
    }
}
