//! What a signed snapshot was made with: the denial-of-existence parameters and the signer's
//! setup a [`SignedZone`](crate::SignedZone) keeps, so that the next snapshot can be derived
//! incrementally.
//!
//! Both the signer, which makes snapshots, and the snapshots themselves need these types; here
//! they sit below both, so neither module refers back to the other.

use hickory_proto::dnssec::Algorithm;
use hickory_proto::dnssec::Nsec3HashAlgorithm;
use hickory_proto::dnssec::rdata::DNSKEY;
use hickory_proto::rr::{Name, RecordType};
use jiff::Timestamp;

use super::keys::KeyRole;

/// The binary NSEC3 hash of an owner name (SHA-1, the only NSEC3 hash algorithm, RFC 5155).
pub type Nsec3Hash = [u8; 20];

/// NSEC3 parameters (RFC 5155 §3; defaults from RFC 9276 §3.1: SHA-1, no extra iterations, no
/// salt, no opt-out).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Nsec3Config {
    /// Additional hash iterations (RFC 9276: 0).
    pub iterations: u16,
    /// Salt (RFC 9276: empty).
    pub salt: Vec<u8>,
    /// Opt-out: insecure delegations get no NSEC3 of their own (RFC 5155 §6).
    pub opt_out: bool,
}

impl Nsec3Config {
    /// The NSEC3 hash of `name` (RFC 5155 §5).
    pub fn hash(&self, name: &Name) -> Nsec3Hash {
        let digest = Nsec3HashAlgorithm::SHA1
            .hash(&self.salt, name, self.iterations)
            .expect("invariant: SHA-1 hashing of an encodable name cannot fail");
        let mut out = [0u8; 20];
        out.copy_from_slice(digest.as_ref());
        out
    }
}

/// Authenticated denial of existence.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Denial {
    /// NSEC chain (RFC 4034 §4).
    Nsec,
    /// NSEC3 chain (RFC 5155).
    Nsec3(Nsec3Config),
    /// No denial records at all: an unsigned zone ([`ZoneSigner::unsigned`](crate::ZoneSigner::unsigned)).
    None,
}

impl Default for Denial {
    fn default() -> Self {
        Self::Nsec3(Nsec3Config::default())
    }
}

/// Deliberate misbehaviour, for scenarios that check breakage is detected. All off by default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SigningFaults {
    /// Sign with exactly this (inception, expiration) window, e.g. already expired or not yet
    /// valid. Overrides the policy's times and jitter.
    pub window: Option<(Timestamp, Timestamp)>,
    /// Keys of these algorithms stay published but sign nothing (breaks RFC 4035 §2.2).
    pub omit_algorithms: Vec<Algorithm>,
    /// RRsets left unsigned: `(owner, Some(type))`, or every RRset at the owner with `None`.
    pub unsigned: Vec<(Name, Option<RecordType>)>,
    /// Accept keys that leave an algorithm of the DNSKEY RRset without a signer.
    pub allow_incomplete_algorithms: bool,
}

/// What a snapshot was signed with; [`ZoneSigner::update`] needs the same to work
/// incrementally and falls back to a full [`ZoneSigner::resign`] otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Setup {
    pub(crate) keys: Vec<KeySummary>,
    pub(crate) denial: Denial,
    pub(crate) dnskey_ttl: u32,
    pub(crate) faults: SigningFaults,
}

/// A key as far as a snapshot's compatibility is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeySummary {
    pub(crate) dnskey: DNSKEY,
    pub(crate) role: KeyRole,
    pub(crate) published: bool,
    pub(crate) signing: bool,
}
