//! Real DNS software as a world's operator: PowerDNS Authoritative or Knot DNS
//! ([`real_dns`]), behind the same [`OperatorBackend`] as the built-in operator.
//!
//! The server is the software's own: it generates its keys, signs on the system clock,
//! re-signs and bumps serials on its own schedule. So a real operator runs on the wall clock
//! only (the scenario loader refuses it on the virtual clock), and the harness learns what it
//! serves the way it learns it of any server: by asking over DNS. What this type keeps is only
//! what the software has no notion of: which foreign keys were published until when (RFC 8063
//! relayed expiries), so that `publish` can drop them when they expire, and each zone's records,
//! so that signing or unsigning a zone can rebuild it.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use epp::secdns::KeyData;
use hickory_proto::dnssec::rdata::DNSKEY;
use jiff::Timestamp;
use real_dns::{
    Algorithm, Capabilities, Denial, DnsBackend, DnsKey, Knot, PowerDns, Signing, Ttls, ZoneSpec,
};

use super::backend::{BoxFuture, ForeignKey, OperatorBackend};
use super::operator::key_data;
use crate::error::OperatorError;
use crate::scenario::{DenialKind, KeyScheme, OperatorFault, OperatorSpec, Software};

/// One hosted zone as asked for.
#[derive(Debug, Clone)]
struct Hosted {
    records: Vec<String>,
    signed: bool,
    algorithm: u8,
    foreign: Vec<ForeignKey>,
}

/// A world's operator running PowerDNS or Knot DNS.
#[derive(Debug)]
pub struct RealOperator {
    label: String,
    spec: OperatorSpec,
    server: Box<dyn DnsBackend>,
    addr: SocketAddr,
    caps: Capabilities,
    zones: BTreeMap<String, Hosted>,
    /// Whether something it serves changed since the last `publish`.
    changed: bool,
}

impl RealOperator {
    /// Starts the software the spec names, on a free loopback port in its own temporary
    /// directory, and waits until it answers. A missing program is an error naming its Debian
    /// package.
    pub async fn start(label: &str, spec: OperatorSpec) -> Result<Self, OperatorError> {
        let server: Box<dyn DnsBackend> = match spec.software {
            Software::Powerdns => Box::new(PowerDns::start().await.map_err(real(label))?),
            Software::Knot => Box::new(Knot::start().await.map_err(real(label))?),
            Software::Builtin => {
                return Err(OperatorError::Dns {
                    operator: label.into(),
                    what: "the built-in operator is not real DNS software".into(),
                });
            }
        };
        let caps = server.capabilities().clone();
        Ok(Self {
            label: label.into(),
            addr: server.addr(),
            spec,
            server,
            caps,
            zones: BTreeMap::new(),
            changed: false,
        })
    }

    /// The TTLs asked of the software: the scenario's, with the SOA minimum as the negative
    /// TTL (RFC 2308).
    fn ttls(&self) -> Ttls {
        Ttls {
            soa: self.spec.ttl_negative,
            soa_minimum: self.spec.ttl_negative,
            dnskey: self.spec.ttl_dnskey,
            ns: self.spec.ttl_ns,
            data: self.spec.ttl_data,
        }
    }

    fn zone_spec(&self, domain: &str, h: &Hosted) -> Result<ZoneSpec, OperatorError> {
        let mut spec = ZoneSpec {
            name: domain.into(),
            ns: self.spec.ns.clone(),
            records: h.records.clone(),
            ttls: self.ttls(),
            signing: None,
        };
        if h.signed {
            let algorithm = Algorithm::from_number(h.algorithm)
                .ok_or_else(|| self.err(format!("cannot sign with algorithm {}", h.algorithm)))?;
            let mut signing = Signing::new(algorithm);
            signing.keys = match self.spec.keys {
                KeyScheme::KskZsk => real_dns::KeyScheme::KskZsk,
                KeyScheme::Csk => real_dns::KeyScheme::Csk,
            };
            signing.denial = match self.spec.denial {
                DenialKind::Nsec => Denial::Nsec,
                DenialKind::Nsec3 => Denial::Nsec3 {
                    opt_out: self.spec.nsec3_opt_out,
                },
            };
            self.caps.check(&signing).map_err(real(&self.label))?;
            spec.signing = Some(signing);
        }
        Ok(spec)
    }

    fn err(&self, what: String) -> OperatorError {
        OperatorError::Dns {
            operator: self.label.clone(),
            what,
        }
    }

    fn hosted_zone(&self, domain: &str) -> Result<&Hosted, OperatorError> {
        self.zones
            .get(domain)
            .ok_or_else(|| OperatorError::NoZone(self.label.clone(), domain.into()))
    }

    async fn own_keys(&self, domain: &str) -> Result<real_dns::OwnKeys, OperatorError> {
        let h = self.hosted_zone(domain)?;
        if !h.signed {
            return Err(self.err(format!("{domain} is not signed")));
        }
        self.server
            .own_keys(domain)
            .await
            .map_err(real(&self.label))
    }

    /// Hosts `domain` as `h` says (replacing what was there) and republishes its foreign
    /// keys: how a zone is signed or unsigned, since the software makes new keys either way.
    async fn rebuild(&mut self, domain: &str, h: Hosted) -> Result<(), OperatorError> {
        let spec = self.zone_spec(domain, &h)?;
        if self.zones.contains_key(domain) {
            self.server
                .remove_zone(domain)
                .await
                .map_err(real(&self.label))?;
        }
        self.server
            .create_zone(&spec)
            .await
            .map_err(real(&self.label))?;
        if h.signed {
            for f in &h.foreign {
                self.server
                    .add_foreign_key(domain, &dns_key(&f.dnskey))
                    .await
                    .map_err(real(&self.label))?;
            }
        }
        self.zones.insert(domain.into(), h);
        self.changed = true;
        Ok(())
    }

    /// Stops publishing every foreign key whose expiry is at or before `now`.
    async fn expire_foreign_keys(&mut self, now: Timestamp) -> Result<(), OperatorError> {
        let due: Vec<(String, DNSKEY)> = self
            .zones
            .iter()
            .flat_map(|(d, h)| {
                h.foreign
                    .iter()
                    .filter(|f| f.expires.is_some_and(|e| e <= now))
                    .map(|f| (d.clone(), f.dnskey.clone()))
            })
            .collect();
        for (domain, dnskey) in due {
            self.remove_foreign(&domain, &dnskey).await?;
        }
        Ok(())
    }

    async fn remove_foreign(
        &mut self,
        domain: &str,
        dnskey: &DNSKEY,
    ) -> Result<bool, OperatorError> {
        let label = self.label.clone();
        let h = self
            .zones
            .get_mut(domain)
            .ok_or_else(|| OperatorError::NoZone(label.clone(), domain.into()))?;
        let before = h.foreign.len();
        h.foreign.retain(|f| f.dnskey != *dnskey);
        if h.foreign.len() == before {
            return Ok(false);
        }
        if h.signed {
            self.server
                .remove_foreign_key(domain, &dns_key(dnskey))
                .await
                .map_err(real(&label))?;
        }
        self.changed = true;
        Ok(true)
    }
}

/// Wraps an error of the software for this operator.
fn real(label: &str) -> impl Fn(real_dns::Error) -> OperatorError + '_ {
    move |e| OperatorError::Software {
        operator: label.to_string(),
        source: Box::new(e),
    }
}

/// The DNSKEY as the software takes it.
fn dns_key(dnskey: &DNSKEY) -> DnsKey {
    let k = key_data(dnskey);
    DnsKey {
        flags: k.flags,
        protocol: k.protocol,
        algorithm: k.alg,
        public_key: k.pub_key,
    }
}

/// EPP key data for a key the software reports.
fn epp_key(k: &DnsKey) -> KeyData {
    KeyData {
        flags: k.flags,
        protocol: k.protocol,
        alg: k.algorithm,
        pub_key: k.public_key.clone(),
    }
}

impl OperatorBackend for RealOperator {
    fn label(&self) -> &str {
        &self.label
    }

    fn spec(&self) -> &OperatorSpec {
        &self.spec
    }

    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn ns_names(&self) -> &[String] {
        &self.spec.ns
    }

    fn hosted(&self) -> Vec<String> {
        self.zones.keys().cloned().collect()
    }

    fn foreign_keys(&self, domain: &str) -> Vec<ForeignKey> {
        self.zones
            .get(domain)
            .map(|h| h.foreign.clone())
            .unwrap_or_default()
    }

    fn max_ttl(&self, domain: &str) -> Result<u32, OperatorError> {
        let h = self.hosted_zone(domain)?;
        // What the software really serves: PowerDNS gives the DNSKEY set the SOA minimum.
        let t = self.caps.effective_ttls(&self.ttls());
        let records = h
            .records
            .iter()
            .filter_map(|r| crate::records::RegistrantRecord::parse(domain, r).ok())
            .map(|r| r.ttl.unwrap_or(t.data))
            .max()
            .unwrap_or(0);
        let dnskey = if h.signed { t.dnskey } else { 0 };
        Ok(records.max(dnskey).max(t.ns).max(t.soa).max(t.soa_minimum))
    }

    fn next_deadline(&self) -> Option<Timestamp> {
        self.zones
            .values()
            .flat_map(|h| h.foreign.iter().filter_map(|f| f.expires))
            .min()
    }

    fn create_zone<'a>(
        &'a mut self,
        domain: &'a str,
        records: &'a [String],
        signed: bool,
        algorithm: Option<u8>,
    ) -> BoxFuture<'a, Result<(), OperatorError>> {
        Box::pin(async move {
            let h = Hosted {
                records: records.to_vec(),
                signed,
                algorithm: algorithm.unwrap_or(self.spec.algorithm),
                foreign: Vec::new(),
            };
            self.rebuild(domain, h).await
        })
    }

    fn remove_zone<'a>(&'a mut self, domain: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            if self.zones.remove(domain).is_none() {
                return false;
            }
            self.changed = true;
            if let Err(e) = self.server.remove_zone(domain).await {
                // The zone is gone from the bookkeeping either way; the observation shows
                // whether the server still answers for it.
                tracing::warn!(operator = %self.label, %domain, "removing the zone: {e}");
            }
            true
        })
    }

    fn ksk_key_data<'a>(
        &'a mut self,
        domain: &'a str,
    ) -> BoxFuture<'a, Result<KeyData, OperatorError>> {
        Box::pin(async move {
            let keys = self.own_keys(domain).await?;
            keys.ksks
                .first()
                .map(epp_key)
                .ok_or_else(|| self.err(format!("{domain} has no key signing key")))
        })
    }

    fn zsk_key_data<'a>(
        &'a mut self,
        domain: &'a str,
    ) -> BoxFuture<'a, Result<Vec<KeyData>, OperatorError>> {
        Box::pin(async move {
            let keys = self.own_keys(domain).await?;
            Ok(keys.zone_signing.iter().map(epp_key).collect())
        })
    }

    fn add_foreign_key<'a>(
        &'a mut self,
        domain: &'a str,
        dnskey: DNSKEY,
        expires: Option<Timestamp>,
    ) -> BoxFuture<'a, Result<(), OperatorError>> {
        Box::pin(async move {
            let label = self.label.clone();
            let h = self
                .zones
                .get_mut(domain)
                .ok_or_else(|| OperatorError::NoZone(label.clone(), domain.into()))?;
            // A key relayed again only moves its expiry (RFC 8063 §2.1.1).
            if let Some(f) = h.foreign.iter_mut().find(|f| f.dnskey == dnskey) {
                f.expires = expires;
                return Ok(());
            }
            h.foreign.push(ForeignKey {
                dnskey: dnskey.clone(),
                expires,
            });
            if h.signed {
                self.server
                    .add_foreign_key(domain, &dns_key(&dnskey))
                    .await
                    .map_err(real(&label))?;
            }
            self.changed = true;
            Ok(())
        })
    }

    fn remove_foreign_key<'a>(
        &'a mut self,
        domain: &'a str,
        dnskey: &'a DNSKEY,
    ) -> BoxFuture<'a, Result<bool, OperatorError>> {
        Box::pin(self.remove_foreign(domain, dnskey))
    }

    fn set_signed<'a>(
        &'a mut self,
        domain: &'a str,
        signed: bool,
    ) -> BoxFuture<'a, Result<(), OperatorError>> {
        Box::pin(async move {
            let mut h = self.hosted_zone(domain)?.clone();
            if h.signed == signed {
                return Ok(());
            }
            h.signed = signed;
            self.rebuild(domain, h).await
        })
    }

    fn set_fault(
        &mut self,
        fault: OperatorFault,
        _now: Timestamp,
    ) -> BoxFuture<'_, Result<(), OperatorError>> {
        let r = match fault {
            OperatorFault::None => Ok(()),
            other => Err(self.err(format!(
                "{} runs its own servers; the harness cannot make them misbehave ({other:?})",
                self.spec.software
            ))),
        };
        Box::pin(async move { r })
    }

    fn publish(&mut self, now: Timestamp) -> BoxFuture<'_, Result<bool, OperatorError>> {
        Box::pin(async move {
            self.expire_foreign_keys(now).await?;
            Ok(std::mem::take(&mut self.changed))
        })
    }

    fn stop(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Err(e) = self.server.stop().await {
                tracing::warn!(operator = %self.label, "stopping {}: {e}", self.spec.software);
            }
        })
    }
}
