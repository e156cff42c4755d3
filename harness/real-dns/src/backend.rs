//! The operator-facing API: one object-safe trait, [`DnsBackend`], that each real server
//! implements and that the harness can implement for its built-in operator too.
//!
//! # Why boxed futures
//!
//! The harness keeps operators of different kinds side by side (built-in, PowerDNS, Knot) and
//! picks one per registrar at run time, so it needs `Box<dyn DnsBackend>`. `async fn` in a
//! trait is not object-safe, so every operation returns a [`BoxFuture`]; the futures are
//! `Send` so an operator can be driven from any tokio task. Methods take `&self`: each server
//! serialises its own changes internally, so one `Arc<dyn DnsBackend>` can be shared.
//!
//! # The contract every operation keeps
//!
//! A change returns only once the server *serves* it: the backend polls the server over DNS
//! (UDP) until the new SOA serial, NS set or DNSKEY set is visible, and fails with
//! [`crate::Error::NotServed`] (which carries what was seen last and the server's log tail)
//! when a deadline passes. The harness can therefore observe right after a call returns.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use tokio::sync::Mutex;

use crate::dns::{self, Seen, serial_newer};
use crate::error::{Error, Result};
use crate::zone::{
    self, Algorithm, Denial, DnsKey, KeyScheme, OwnKeys, Signing, Ttls, ZoneRecord, ZoneSpec,
    ZoneStatus,
};

/// A boxed, sendable future: what every [`DnsBackend`] operation returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where a server takes the DNSKEY RRset's TTL from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnskeyTtlSource {
    /// The TTL asked for ([`Ttls::dnskey`]).
    AsAsked,
    /// The SOA MINIMUM field ([`Ttls::soa_minimum`]), whatever was asked: PowerDNS 4.7
    /// synthesises the DNSKEY RRset (foreign keys included) with that TTL.
    SoaMinimum,
}

/// What a server software can do, so a harness can skip combinations it cannot run and knows
/// which TTLs are really served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// The software's name and the version this crate was written against.
    pub software: &'static str,
    /// Algorithms it signs with.
    pub algorithms: Vec<Algorithm>,
    /// A single combined signing key.
    pub csk: bool,
    /// NSEC3 opt-out.
    pub nsec3_opt_out: bool,
    /// Where the DNSKEY TTL comes from.
    pub dnskey_ttl: DnskeyTtlSource,
    /// Whether [`crate::SignatureTiming`] is honoured (PowerDNS fixes its own windows).
    pub signature_timing: bool,
    /// How the SOA serial moves, in words (for reports).
    pub serial_policy: &'static str,
}

impl Capabilities {
    /// The TTLs the server will really serve when `asked` is asked for.
    pub fn effective_ttls(&self, asked: &Ttls) -> Ttls {
        let mut t = *asked;
        if self.dnskey_ttl == DnskeyTtlSource::SoaMinimum {
            t.dnskey = t.soa_minimum;
        }
        t
    }

    /// An [`Error::Unsupported`] if this software cannot sign as asked.
    pub fn check(&self, signing: &Signing) -> Result<()> {
        let unsupported = |what: String| Error::Unsupported {
            software: self.software,
            what,
        };
        if !self.algorithms.contains(&signing.algorithm) {
            return Err(unsupported(format!("algorithm {}", signing.algorithm)));
        }
        if signing.keys == KeyScheme::Csk && !self.csk {
            return Err(unsupported("a combined signing key".into()));
        }
        if signing.denial == (Denial::Nsec3 { opt_out: true }) && !self.nsec3_opt_out {
            return Err(unsupported("NSEC3 opt-out".into()));
        }
        Ok(())
    }
}

/// A DNS operator's authoritative server, as a scenario drives it.
///
/// Zone names are given with or without the final dot, in any case. Every change returns the
/// [`ZoneStatus`] the server serves right after it (see the module documentation).
pub trait DnsBackend: Send + Sync + std::fmt::Debug {
    /// What the software supports.
    fn capabilities(&self) -> &Capabilities;

    /// Where the server answers, over UDP and TCP.
    fn addr(&self) -> SocketAddr;

    /// The end of the server's log, for failure reports.
    fn log_tail(&self) -> String;

    /// Hosts a zone and returns once it is served (signed, when asked).
    fn create_zone<'a>(&'a self, spec: &'a ZoneSpec) -> BoxFuture<'a, Result<ZoneStatus>>;

    /// The zone's own keys by role, as the software reports them.
    fn own_keys<'a>(&'a self, zone: &'a str) -> BoxFuture<'a, Result<OwnKeys>>;

    /// The foreign keys this backend was asked to publish in the zone.
    fn foreign_keys<'a>(&'a self, zone: &'a str) -> BoxFuture<'a, Result<Vec<DnsKey>>>;

    /// Publishes another operator's key (public only) in the zone's DNSKEY RRset, signed by
    /// the zone's KSK. Adding a key already published changes nothing.
    fn add_foreign_key<'a>(
        &'a self,
        zone: &'a str,
        key: &'a DnsKey,
    ) -> BoxFuture<'a, Result<ZoneStatus>>;

    /// Stops publishing a foreign key.
    fn remove_foreign_key<'a>(
        &'a self,
        zone: &'a str,
        key: &'a DnsKey,
    ) -> BoxFuture<'a, Result<ZoneStatus>>;

    /// Replaces the zone's records (relative presentation lines, as in [`ZoneSpec`]).
    fn replace_records<'a>(
        &'a self,
        zone: &'a str,
        records: &'a [String],
    ) -> BoxFuture<'a, Result<ZoneStatus>>;

    /// Replaces the apex NS set.
    fn set_ns<'a>(&'a self, zone: &'a str, ns: &'a [String]) -> BoxFuture<'a, Result<ZoneStatus>>;

    /// Stops hosting the zone; returns once the server answers REFUSED for it.
    fn remove_zone<'a>(&'a self, zone: &'a str) -> BoxFuture<'a, Result<()>>;

    /// The zones hosted, sorted.
    fn zones(&self) -> BoxFuture<'_, Vec<String>>;

    /// Stops the server and waits until its process is gone. Later calls fail.
    fn stop(&self) -> BoxFuture<'_, Result<()>>;
}

/// A hosted zone as this crate keeps it: the desired state the server must serve.
#[derive(Debug, Clone)]
pub(crate) struct Hosted {
    /// Normalised name (no final dot).
    pub(crate) name: String,
    /// Apex NS host names, absolute.
    pub(crate) ns: Vec<String>,
    /// Records by RRset.
    pub(crate) records: RecordSets,
    /// TTLs as served.
    pub(crate) ttls: Ttls,
    /// Signing, if signed.
    pub(crate) signing: Option<Signing>,
    /// Foreign keys published.
    pub(crate) foreign: Vec<DnsKey>,
    /// Own keys (read after creation).
    pub(crate) own: OwnKeys,
}

/// Records grouped by (owner, type).
pub(crate) type RecordSets = BTreeMap<(String, String), Vec<ZoneRecord>>;

impl Hosted {
    /// The apex with its final dot.
    pub(crate) fn apex(&self) -> String {
        format!("{}.", self.name)
    }

    /// The SOA rdata (MNAME is the first NS; serial 1: the server owns it from then on).
    pub(crate) fn soa_rdata(&self) -> String {
        let mname = self.ns.first().cloned().unwrap_or_else(|| self.apex());
        format!(
            "{mname} hostmaster.{} 1 3600 900 1209600 {}",
            self.apex(),
            self.ttls.soa_minimum
        )
    }
}

/// What one software does to carry out a change; the shared [`Core`] does the bookkeeping,
/// the checks and the waiting. Static dispatch only (hence `impl Future`).
pub(crate) trait Driver: Send + Sync {
    /// Creates and (when asked) signs the zone.
    fn create(&self, zone: &Hosted) -> impl Future<Output = Result<()>> + Send;
    /// Reads the zone's own keys from the software.
    fn own_keys(&self, zone: &Hosted) -> impl Future<Output = Result<OwnKeys>> + Send;
    /// Makes the published foreign keys `zone.foreign` (they were `old`).
    fn set_foreign(&self, zone: &Hosted, old: &[DnsKey])
    -> impl Future<Output = Result<()>> + Send;
    /// Makes the records `zone.records` (they were `old`).
    fn set_records(
        &self,
        zone: &Hosted,
        old: &RecordSets,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Makes the apex NS set `zone.ns` (it was `old`).
    fn set_ns(&self, zone: &Hosted, old: &[String]) -> impl Future<Output = Result<()>> + Send;
    /// Removes the zone.
    fn remove(&self, zone: &Hosted) -> impl Future<Output = Result<()>> + Send;
}

/// The state and logic both real servers share.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) caps: Capabilities,
    pub(crate) addr: SocketAddr,
    pub(crate) process: crate::process::ServerProcess,
    /// Hosted zones. The lock is held for a whole operation: one change at a time per server,
    /// which Knot's global configuration transactions need anyway.
    pub(crate) zones: Mutex<BTreeMap<String, Hosted>>,
    /// How long a change may take to be served.
    pub(crate) change_timeout: Duration,
}

impl Core {
    async fn wait(&self, zone: &str, expected: &str, done: impl Fn(&Seen) -> bool) -> Result<Seen> {
        self.process.check_alive().await?;
        dns::wait_until(
            self.addr,
            zone,
            self.change_timeout,
            expected,
            || self.process.log_tail(),
            done,
        )
        .await
    }

    /// The serial served now (fresh, so a background re-sign is not mistaken for our change).
    async fn serial_now(&self, zone: &str) -> Result<u32> {
        let seen = self
            .wait(zone, "the zone's SOA", |s| s.serial.is_some())
            .await?;
        Ok(seen.serial.expect("invariant: waited for a serial"))
    }

    pub(crate) async fn create_zone<D: Driver>(
        &self,
        driver: &D,
        spec: &ZoneSpec,
    ) -> Result<ZoneStatus> {
        let name = zone::zone_name(&spec.name)?;
        if let Some(s) = &spec.signing {
            self.caps.check(s)?;
        }
        if spec.ns.is_empty() {
            return Err(Error::invalid("zone", &spec.name, "no NS host names"));
        }
        let ns = spec
            .ns
            .iter()
            .map(|n| zone::host_name(n))
            .collect::<Result<Vec<_>>>()?;
        let records = zone::parse_records(&name, &spec.records, spec.ttls.data)?;
        let mut zones = self.zones.lock().await;
        if zones.contains_key(&name) {
            return Err(Error::ZoneExists(name));
        }
        let mut hosted = Hosted {
            name: name.clone(),
            ns,
            records,
            ttls: self.caps.effective_ttls(&spec.ttls),
            signing: spec.signing,
            foreign: Vec::new(),
            own: OwnKeys::default(),
        };
        if let Err(e) = driver.create(&hosted).await {
            // Leave nothing half-made behind; the first error is the one that matters.
            let _cleanup = driver.remove(&hosted).await;
            return Err(e);
        }
        let seen = match self.await_created(driver, &mut hosted).await {
            Ok(seen) => seen,
            Err(e) => {
                let _cleanup = driver.remove(&hosted).await;
                return Err(e);
            }
        };
        zones.insert(name, hosted);
        Ok(status(&seen))
    }

    /// Waits until a new zone is served (signed, with all its own keys, when asked) and
    /// records its own keys.
    async fn await_created<D: Driver>(&self, driver: &D, hosted: &mut Hosted) -> Result<Seen> {
        let name = hosted.name.clone();
        if hosted.signing.is_none() {
            return self
                .wait(&name, "the zone's SOA", |s| s.serial.is_some())
                .await;
        }
        let signed = self
            .wait(&name, "the signed zone", |s| {
                s.serial.is_some() && !s.dnskeys.is_empty() && !s.dnskey_signers.is_empty()
            })
            .await?;
        hosted.own = driver.own_keys(hosted).await?;
        if hosted.own.ksks.is_empty() || hosted.own.zone_signing.is_empty() {
            return Err(Error::Unexpected {
                software: self.caps.software,
                what: format!("{name}: own keys incomplete: {:?}", hosted.own),
            });
        }
        let own = hosted.own.all();
        let ksk_tags: Vec<u16> = hosted.own.ksks.iter().map(DnsKey::key_tag).collect();
        if own.iter().all(|k| signed.dnskeys.contains(k))
            && ksk_tags.iter().all(|t| signed.dnskey_signers.contains(t))
        {
            return Ok(signed);
        }
        self.wait(
            &name,
            "all own keys in the DNSKEY set, signed by the KSK",
            |s| {
                own.iter().all(|k| s.dnskeys.contains(k))
                    && ksk_tags.iter().all(|t| s.dnskey_signers.contains(t))
            },
        )
        .await
    }

    pub(crate) async fn own_keys<D: Driver>(&self, driver: &D, zone: &str) -> Result<OwnKeys> {
        let name = zone::zone_name(zone)?;
        let zones = self.zones.lock().await;
        let hosted = zones.get(&name).ok_or(Error::NoZone(name.clone()))?;
        if hosted.signing.is_none() {
            return Ok(OwnKeys::default());
        }
        driver.own_keys(hosted).await
    }

    pub(crate) async fn foreign_keys(&self, zone: &str) -> Result<Vec<DnsKey>> {
        let name = zone::zone_name(zone)?;
        let zones = self.zones.lock().await;
        let hosted = zones.get(&name).ok_or(Error::NoZone(name.clone()))?;
        Ok(hosted.foreign.clone())
    }

    pub(crate) async fn change_foreign<D: Driver>(
        &self,
        driver: &D,
        zone: &str,
        key: &DnsKey,
        add: bool,
    ) -> Result<ZoneStatus> {
        let name = zone::zone_name(zone)?;
        if key.protocol != 3 {
            return Err(Error::invalid(
                "DNSKEY",
                key.to_string(),
                "protocol must be 3",
            ));
        }
        let mut zones = self.zones.lock().await;
        let hosted = zones.get_mut(&name).ok_or(Error::NoZone(name.clone()))?;
        if hosted.signing.is_none() {
            return Err(Error::invalid(
                "DNSKEY",
                key.to_string(),
                "the zone is not signed",
            ));
        }
        if hosted.own.all().contains(key) {
            return Err(Error::invalid(
                "DNSKEY",
                key.to_string(),
                "it is one of the zone's own keys",
            ));
        }
        let present = hosted.foreign.contains(key);
        if present == add {
            if !add {
                return Err(Error::invalid(
                    "DNSKEY",
                    key.to_string(),
                    "not published as a foreign key here",
                ));
            }
            let seen = self.wait(&name, "the zone", |s| s.serial.is_some()).await?;
            return Ok(status(&seen));
        }
        let old = hosted.foreign.clone();
        if add {
            hosted.foreign.push(key.clone());
        } else {
            hosted.foreign.retain(|k| k != key);
        }
        if let Err(e) = driver.set_foreign(hosted, &old).await {
            hosted.foreign = old;
            return Err(e);
        }
        let ksk_tags: Vec<u16> = hosted.own.ksks.iter().map(DnsKey::key_tag).collect();
        let (expected, key) = if add {
            ("the foreign key in the DNSKEY set, signed by the KSK", key)
        } else {
            ("the DNSKEY set without the foreign key", key)
        };
        let seen = self
            .wait(&name, expected, |s| {
                s.dnskeys.contains(key) == add
                    && ksk_tags.iter().all(|t| s.dnskey_signers.contains(t))
            })
            .await?;
        Ok(status(&seen))
    }

    pub(crate) async fn replace_records<D: Driver>(
        &self,
        driver: &D,
        zone: &str,
        records: &[String],
    ) -> Result<ZoneStatus> {
        let name = zone::zone_name(zone)?;
        let mut zones = self.zones.lock().await;
        let hosted = zones.get_mut(&name).ok_or(Error::NoZone(name.clone()))?;
        let new = zone::parse_records(&name, records, hosted.ttls.data)?;
        if new == hosted.records {
            // Nothing changes, so no new serial would ever come.
            let seen = self.wait(&name, "the zone", |s| s.serial.is_some()).await?;
            return Ok(status(&seen));
        }
        let before = self.serial_now(&name).await?;
        let old = std::mem::replace(&mut hosted.records, new);
        if let Err(e) = driver.set_records(hosted, &old).await {
            hosted.records = old;
            return Err(e);
        }
        let seen = self
            .wait(&name, &format!("a serial newer than {before}"), |s| {
                s.serial.is_some_and(|n| serial_newer(n, before))
            })
            .await?;
        Ok(status(&seen))
    }

    pub(crate) async fn set_ns<D: Driver>(
        &self,
        driver: &D,
        zone: &str,
        ns: &[String],
    ) -> Result<ZoneStatus> {
        let name = zone::zone_name(zone)?;
        if ns.is_empty() {
            return Err(Error::invalid("zone", zone, "no NS host names"));
        }
        let mut new = ns
            .iter()
            .map(|n| zone::host_name(n))
            .collect::<Result<Vec<_>>>()?;
        new.dedup();
        let mut zones = self.zones.lock().await;
        let hosted = zones.get_mut(&name).ok_or(Error::NoZone(name.clone()))?;
        let mut want = new.clone();
        want.sort();
        let mut had = hosted.ns.clone();
        had.sort();
        if want == had {
            let seen = self.wait(&name, "the zone", |s| s.serial.is_some()).await?;
            return Ok(status(&seen));
        }
        let before = self.serial_now(&name).await?;
        let old = std::mem::replace(&mut hosted.ns, new);
        if let Err(e) = driver.set_ns(hosted, &old).await {
            hosted.ns = old;
            return Err(e);
        }
        let seen = self
            .wait(&name, &format!("NS {want:?}"), |s| {
                s.ns == want && s.serial.is_some_and(|n| serial_newer(n, before))
            })
            .await?;
        Ok(status(&seen))
    }

    pub(crate) async fn remove_zone<D: Driver>(&self, driver: &D, zone: &str) -> Result<()> {
        let name = zone::zone_name(zone)?;
        let mut zones = self.zones.lock().await;
        let hosted = zones.get(&name).ok_or(Error::NoZone(name.clone()))?;
        driver.remove(hosted).await?;
        zones.remove(&name);
        self.wait(&name, "REFUSED", |s| s.rcode == ResponseCode::Refused)
            .await?;
        Ok(())
    }

    pub(crate) async fn zones(&self) -> Vec<String> {
        self.zones.lock().await.keys().cloned().collect()
    }
}

fn status(seen: &Seen) -> ZoneStatus {
    ZoneStatus {
        serial: seen.serial.unwrap_or_default(),
        dnskeys: seen.dnskeys.clone(),
        dnskey_ttl: seen.dnskey_ttl,
        dnskey_signers: seen.dnskey_signers.clone(),
    }
}

/// Implements [`DnsBackend`] for a server type with fields `core: Core` and
/// `driver: impl Driver`, so both servers share one implementation of the contract.
macro_rules! impl_backend {
    ($server:ty) => {
        impl $crate::backend::DnsBackend for $server {
            fn capabilities(&self) -> &$crate::backend::Capabilities {
                &self.core.caps
            }

            fn addr(&self) -> std::net::SocketAddr {
                self.core.addr
            }

            fn log_tail(&self) -> String {
                self.core.process.log_tail()
            }

            fn create_zone<'a>(
                &'a self,
                spec: &'a $crate::zone::ZoneSpec,
            ) -> $crate::backend::BoxFuture<'a, $crate::Result<$crate::zone::ZoneStatus>> {
                Box::pin(self.core.create_zone(&self.driver, spec))
            }

            fn own_keys<'a>(
                &'a self,
                zone: &'a str,
            ) -> $crate::backend::BoxFuture<'a, $crate::Result<$crate::zone::OwnKeys>> {
                Box::pin(self.core.own_keys(&self.driver, zone))
            }

            fn foreign_keys<'a>(
                &'a self,
                zone: &'a str,
            ) -> $crate::backend::BoxFuture<'a, $crate::Result<Vec<$crate::zone::DnsKey>>> {
                Box::pin(self.core.foreign_keys(zone))
            }

            fn add_foreign_key<'a>(
                &'a self,
                zone: &'a str,
                key: &'a $crate::zone::DnsKey,
            ) -> $crate::backend::BoxFuture<'a, $crate::Result<$crate::zone::ZoneStatus>> {
                Box::pin(self.core.change_foreign(&self.driver, zone, key, true))
            }

            fn remove_foreign_key<'a>(
                &'a self,
                zone: &'a str,
                key: &'a $crate::zone::DnsKey,
            ) -> $crate::backend::BoxFuture<'a, $crate::Result<$crate::zone::ZoneStatus>> {
                Box::pin(self.core.change_foreign(&self.driver, zone, key, false))
            }

            fn replace_records<'a>(
                &'a self,
                zone: &'a str,
                records: &'a [String],
            ) -> $crate::backend::BoxFuture<'a, $crate::Result<$crate::zone::ZoneStatus>> {
                Box::pin(self.core.replace_records(&self.driver, zone, records))
            }

            fn set_ns<'a>(
                &'a self,
                zone: &'a str,
                ns: &'a [String],
            ) -> $crate::backend::BoxFuture<'a, $crate::Result<$crate::zone::ZoneStatus>> {
                Box::pin(self.core.set_ns(&self.driver, zone, ns))
            }

            fn remove_zone<'a>(
                &'a self,
                zone: &'a str,
            ) -> $crate::backend::BoxFuture<'a, $crate::Result<()>> {
                Box::pin(self.core.remove_zone(&self.driver, zone))
            }

            fn zones(&self) -> $crate::backend::BoxFuture<'_, Vec<String>> {
                Box::pin(self.core.zones())
            }

            fn stop(&self) -> $crate::backend::BoxFuture<'_, $crate::Result<()>> {
                Box::pin(self.core.process.stop())
            }
        }
    };
}
pub(crate) use impl_backend;
