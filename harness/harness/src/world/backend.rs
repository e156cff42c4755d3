//! One interface in front of every DNS operator a world can have: the harness's built-in
//! operator ([`Operator`](super::operator::Operator), its own signer and server on the
//! injected clock) and real DNS software (PowerDNS, Knot; [`real`](super::real)), so the
//! world, the runner and the registrars drive them alike.
//!
//! The trait is object-safe (boxed futures): a world holds `Box<dyn OperatorBackend>`s and
//! never knows which software answers. What only a real server does on its own (re-signing,
//! serial bumps) the harness sees by observing it over DNS, like any other server.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use epp::secdns::KeyData;
use hickory_proto::dnssec::rdata::DNSKEY;
use jiff::Timestamp;
use tokio::sync::Mutex;

use crate::error::OperatorError;
use crate::scenario::{OperatorFault, OperatorSpec};

/// A boxed future that may move between threads.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A world's operator, shared by the world, the runner and the registrar that drives it.
pub type SharedOperator = Arc<Mutex<Box<dyn OperatorBackend>>>;

/// A foreign key published in a zone, with the time it should go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// The key.
    pub dnskey: DNSKEY,
    /// When to stop publishing it (relayed expiry), if known.
    pub expires: Option<Timestamp>,
}

/// A DNS operator: zones with their own keys in their roles, foreign keys published for
/// another operator until an expiry, and the servers that answer for them.
pub trait OperatorBackend: Send + Sync + fmt::Debug {
    /// The registrar label it belongs to.
    fn label(&self) -> &str;
    /// The scenario's setup for it.
    fn spec(&self) -> &OperatorSpec;
    /// Where its server answers (UDP and TCP).
    fn addr(&self) -> SocketAddr;
    /// Its name server host names.
    fn ns_names(&self) -> &[String];
    /// Each of its servers with the host names it answers for, the main one first. Most
    /// operators answer for all their names at one address; the built-in operator can have
    /// a lagging secondary for some.
    fn servers(&self) -> Vec<(SocketAddr, Vec<String>)> {
        vec![(self.addr(), self.ns_names().to_vec())]
    }
    /// The domains it hosts.
    fn hosted(&self) -> Vec<String>;
    /// The foreign keys published in a zone, with their expiry.
    fn foreign_keys(&self, domain: &str) -> Vec<ForeignKey>;
    /// The largest TTL the zone serves (every record, DNSKEY, negative answers).
    fn max_ttl(&self, domain: &str) -> Result<u32, OperatorError>;
    /// The next instant it has work the runner must wake it for (a key expiring, signatures
    /// to refresh).
    fn next_deadline(&self) -> Option<Timestamp>;

    /// Hosts `domain` with `records` (relative presentation lines), signed or not, with the
    /// given algorithm (its own by default). Served before the future completes.
    fn create_zone<'a>(
        &'a mut self,
        domain: &'a str,
        records: &'a [String],
        signed: bool,
        algorithm: Option<u8>,
    ) -> BoxFuture<'a, Result<(), OperatorError>>;
    /// Stops hosting `domain`; `true` if it did.
    fn remove_zone<'a>(&'a mut self, domain: &'a str) -> BoxFuture<'a, bool>;
    /// The key that signs the DNSKEY set (KSK or CSK).
    fn ksk_key_data<'a>(
        &'a mut self,
        domain: &'a str,
    ) -> BoxFuture<'a, Result<KeyData, OperatorError>>;
    /// The keys that sign zone data (ZSK, or the CSK).
    fn zsk_key_data<'a>(
        &'a mut self,
        domain: &'a str,
    ) -> BoxFuture<'a, Result<Vec<KeyData>, OperatorError>>;
    /// Publishes another operator's key in the DNSKEY set until `expires` (a key relayed
    /// again only updates its expiry, RFC 8063 §2.1.1).
    fn add_foreign_key<'a>(
        &'a mut self,
        domain: &'a str,
        dnskey: DNSKEY,
        expires: Option<Timestamp>,
    ) -> BoxFuture<'a, Result<(), OperatorError>>;
    /// Stops publishing a foreign key; `true` if it was there.
    fn remove_foreign_key<'a>(
        &'a mut self,
        domain: &'a str,
        dnskey: &'a DNSKEY,
    ) -> BoxFuture<'a, Result<bool, OperatorError>>;
    /// Signs or unsigns a zone.
    fn set_signed<'a>(
        &'a mut self,
        domain: &'a str,
        signed: bool,
    ) -> BoxFuture<'a, Result<(), OperatorError>>;
    /// Starts a KSK rollover: a next KSK joins the DNSKEY RRset and signs it beside the
    /// current one; returns it. Software the harness does not roll keys for says so.
    fn add_next_ksk<'a>(
        &'a mut self,
        domain: &'a str,
    ) -> BoxFuture<'a, Result<KeyData, OperatorError>> {
        Box::pin(async move { Err(self.unsupported("KSK rollovers", domain)) })
    }
    /// Takes one of its own keys out of the DNSKEY RRset; `true` if it was there.
    fn retire_key<'a>(
        &'a mut self,
        domain: &'a str,
        key: &'a KeyData,
    ) -> BoxFuture<'a, Result<bool, OperatorError>> {
        let _ = key;
        Box::pin(async move { Err(self.unsupported("retiring keys", domain)) })
    }
    /// Publishes the child's CDS and CDNSKEY (RFC 7344): `None` withdraws one, an empty list
    /// is the delete record (RFC 8078 §4).
    fn set_cds<'a>(
        &'a mut self,
        domain: &'a str,
        cds: Option<&'a [KeyData]>,
        cdnskey: Option<&'a [KeyData]>,
    ) -> BoxFuture<'a, Result<(), OperatorError>> {
        let _ = (cds, cdnskey);
        Box::pin(async move { Err(self.unsupported("CDS/CDNSKEY", domain)) })
    }
    /// Replaces the zone's apex NS RRset (a multi-signer group's combined NS set, RFC 8901).
    fn set_ns<'a>(
        &'a mut self,
        domain: &'a str,
        ns: &'a [String],
    ) -> BoxFuture<'a, Result<(), OperatorError>> {
        let _ = ns;
        Box::pin(async move { Err(self.unsupported("setting the NS RRset", domain)) })
    }
    /// Publishes (or withdraws) an apex CSYNC asking the parent to copy the NS RRset
    /// (RFC 7477, immediate flag).
    fn set_csync<'a>(
        &'a mut self,
        domain: &'a str,
        on: bool,
    ) -> BoxFuture<'a, Result<(), OperatorError>> {
        let _ = on;
        Box::pin(async move { Err(self.unsupported("CSYNC", domain)) })
    }
    /// RFC 9615 §3.2: publishes the child's CDS and CDNSKEY (as [`set_cds`](Self::set_cds)
    /// does at its apex) at `_dsboot.<domain>._signal.<host>` for each of `hosts`, in the
    /// zone of that name server's host name (see [`serve_ns_zone`](Self::serve_ns_zone));
    /// `None` withdraws one.
    fn set_signals<'a>(
        &'a mut self,
        domain: &'a str,
        hosts: &'a [String],
        cds: Option<&'a [KeyData]>,
        cdnskey: Option<&'a [KeyData]>,
    ) -> BoxFuture<'a, Result<(), OperatorError>> {
        let _ = (hosts, cds, cdnskey);
        Box::pin(async move { Err(self.unsupported("RFC 9615 signals", domain)) })
    }
    /// Serves, signed with its own keys, the zone `origin` its name servers' host names
    /// live in (`operator-a.example.` for `ns1.operator-a.example`): SOA, NS `hosts`, their
    /// addresses; where RFC 9615 signals are published. Returns the key a DS in the parent
    /// must name (KSK or CSK), so the world delegates the zone securely.
    fn serve_ns_zone<'a>(
        &'a mut self,
        origin: &'a str,
        hosts: &'a [(String, std::net::IpAddr)],
    ) -> BoxFuture<'a, Result<DNSKEY, OperatorError>> {
        let _ = hosts;
        Box::pin(async move { Err(self.unsupported("serving its name servers' zone", origin)) })
    }
    /// Lets its servers answer this process's queries without sockets
    /// (`DnsServer::answer_in_process`); software in another process ignores it.
    fn answer_in_process(&self) {}
    /// The error for an operation this backend does not offer.
    fn unsupported(&self, what: &str, domain: &str) -> OperatorError {
        OperatorError::Dns {
            operator: self.label().to_string(),
            what: format!(
                "{what} for {domain}: the harness does not drive this yet on {} (use the \
                 built-in operator)",
                self.spec().software
            ),
        }
    }
    /// Makes its servers misbehave (scenario steps); software it does not control says so.
    fn set_fault(
        &mut self,
        fault: OperatorFault,
        now: Timestamp,
    ) -> BoxFuture<'_, Result<(), OperatorError>>;
    /// Does what is due at `now`: drops expired foreign keys, signs and serves what changed.
    /// Returns whether anything it serves changed.
    fn publish(&mut self, now: Timestamp) -> BoxFuture<'_, Result<bool, OperatorError>>;
    /// The run is over: stops its servers (a real server's process ends).
    fn stop(&mut self) -> BoxFuture<'_, ()>;
}
