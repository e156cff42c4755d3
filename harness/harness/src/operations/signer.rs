//! What the reference controller needs of a DNS operator, behind one object-safe trait, so
//! the same procedures drive an operator in the harness (a world's `OperatorBackend`) or one
//! reached over the adapter protocol (`harness reference-registrar` playing the controller).

use std::fmt;
use std::sync::Arc;

use epp::secdns::KeyData;

use crate::world::backend::{BoxFuture, SharedOperator};

/// What the controller knows of an operator without asking: its name servers and the TTLs
/// it configures (what it waits out after changing them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerInfo {
    /// The registrar label it belongs to.
    pub label: String,
    /// Its name server host names.
    pub ns: Vec<String>,
    /// The TTL of the DNSKEY RRsets it serves.
    pub ttl_dnskey: u32,
    /// The TTL of the apex NS RRsets it serves.
    pub ttl_ns: u32,
    /// Whether it publishes RFC 9615 signals when a zone goes secure (the scenario's
    /// `signals = true`).
    pub signals: bool,
}

/// The zone and key changes the controller makes at one operator. Errors are the operator's
/// words: the controller gives up with them.
pub trait SignerApi: Send + Sync + fmt::Debug {
    /// Hosts `domain` with `records`, signed or not, with the given algorithm.
    fn create_zone<'a>(
        &'a self,
        domain: &'a str,
        records: &'a [String],
        signed: bool,
        algorithm: Option<u8>,
    ) -> BoxFuture<'a, Result<(), String>>;
    /// Stops hosting `domain`.
    fn remove_zone<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<(), String>>;
    /// The key that signs the DNSKEY RRset.
    fn ksk<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<KeyData, String>>;
    /// The keys that sign zone data.
    fn zsks<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<Vec<KeyData>, String>>;
    /// Publishes another operator's key in the DNSKEY RRset.
    fn add_foreign_key<'a>(
        &'a self,
        domain: &'a str,
        key: &'a KeyData,
    ) -> BoxFuture<'a, Result<(), String>>;
    /// Stops publishing another operator's key.
    fn remove_foreign_key<'a>(
        &'a self,
        domain: &'a str,
        key: &'a KeyData,
    ) -> BoxFuture<'a, Result<(), String>>;
    /// Signs or unsigns the zone.
    fn set_signed<'a>(&'a self, domain: &'a str, signed: bool)
    -> BoxFuture<'a, Result<(), String>>;
    /// Starts a KSK rollover: returns the next KSK, now in the DNSKEY RRset.
    fn add_next_ksk<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<KeyData, String>>;
    /// Takes one of its own keys out of the DNSKEY RRset.
    fn retire_key<'a>(
        &'a self,
        domain: &'a str,
        key: &'a KeyData,
    ) -> BoxFuture<'a, Result<(), String>>;
    /// Publishes CDS and CDNSKEY (`None` withdraws one; an empty list is the delete record).
    fn set_cds<'a>(
        &'a self,
        domain: &'a str,
        cds: Option<&'a [KeyData]>,
        cdnskey: Option<&'a [KeyData]>,
    ) -> BoxFuture<'a, Result<(), String>>;
    /// Replaces the apex NS RRset.
    fn set_ns<'a>(&'a self, domain: &'a str, ns: &'a [String])
    -> BoxFuture<'a, Result<(), String>>;
    /// Publishes or withdraws the apex CSYNC.
    fn set_csync<'a>(&'a self, domain: &'a str, on: bool) -> BoxFuture<'a, Result<(), String>>;
    /// The largest TTL the zone serves.
    fn max_ttl<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<u32, String>>;
    /// Publishes the RFC 9615 signals of `domain` under each of `hosts` (CDS and CDNSKEY
    /// as [`set_cds`](Self::set_cds) takes them; `None` withdraws one). Not every operator
    /// can.
    fn set_signals<'a>(
        &'a self,
        domain: &'a str,
        hosts: &'a [String],
        cds: Option<&'a [KeyData]>,
        cdnskey: Option<&'a [KeyData]>,
    ) -> BoxFuture<'a, Result<(), String>> {
        let _ = (hosts, cds, cdnskey);
        Box::pin(async move {
            Err(format!(
                "RFC 9615 signals for {domain}: this operator cannot publish them"
            ))
        })
    }
}

/// One operator as the controller sees it.
#[derive(Debug, Clone)]
pub struct Signer {
    /// What it knows without asking.
    pub info: SignerInfo,
    /// How it changes things.
    pub api: Arc<dyn SignerApi>,
}

impl Signer {
    /// A world's operator, in this process.
    pub async fn local(op: SharedOperator) -> Self {
        let info = {
            let o = op.lock().await;
            SignerInfo {
                label: o.label().to_string(),
                ns: o.ns_names().to_vec(),
                ttl_dnskey: o.spec().ttl_dnskey,
                ttl_ns: o.spec().ttl_ns,
                signals: o.spec().signals,
            }
        };
        Self {
            info,
            api: Arc::new(Local(op)),
        }
    }
}

/// A world's operator behind [`SignerApi`].
#[derive(Debug)]
struct Local(SharedOperator);

fn text(e: impl fmt::Display) -> String {
    e.to_string()
}

impl SignerApi for Local {
    fn create_zone<'a>(
        &'a self,
        domain: &'a str,
        records: &'a [String],
        signed: bool,
        algorithm: Option<u8>,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let mut op = self.0.lock().await;
            op.create_zone(domain, records, signed, algorithm)
                .await
                .map_err(text)
        })
    }

    fn remove_zone<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.0.lock().await.remove_zone(domain).await;
            Ok(())
        })
    }

    fn ksk<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<KeyData, String>> {
        Box::pin(async move { self.0.lock().await.ksk_key_data(domain).await.map_err(text) })
    }

    fn zsks<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<Vec<KeyData>, String>> {
        Box::pin(async move { self.0.lock().await.zsk_key_data(domain).await.map_err(text) })
    }

    fn add_foreign_key<'a>(
        &'a self,
        domain: &'a str,
        key: &'a KeyData,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let dnskey = crate::world::operator::dnskey_of(key).map_err(text)?;
            let mut op = self.0.lock().await;
            op.add_foreign_key(domain, dnskey, None).await.map_err(text)
        })
    }

    fn remove_foreign_key<'a>(
        &'a self,
        domain: &'a str,
        key: &'a KeyData,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let dnskey = crate::world::operator::dnskey_of(key).map_err(text)?;
            let mut op = self.0.lock().await;
            op.remove_foreign_key(domain, &dnskey)
                .await
                .map(|_| ())
                .map_err(text)
        })
    }

    fn set_signed<'a>(
        &'a self,
        domain: &'a str,
        signed: bool,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.0
                .lock()
                .await
                .set_signed(domain, signed)
                .await
                .map_err(text)
        })
    }

    fn add_next_ksk<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<KeyData, String>> {
        Box::pin(async move { self.0.lock().await.add_next_ksk(domain).await.map_err(text) })
    }

    fn retire_key<'a>(
        &'a self,
        domain: &'a str,
        key: &'a KeyData,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.0
                .lock()
                .await
                .retire_key(domain, key)
                .await
                .map(|_| ())
                .map_err(text)
        })
    }

    fn set_cds<'a>(
        &'a self,
        domain: &'a str,
        cds: Option<&'a [KeyData]>,
        cdnskey: Option<&'a [KeyData]>,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let mut op = self.0.lock().await;
            op.set_cds(domain, cds, cdnskey).await.map_err(text)
        })
    }

    fn set_ns<'a>(
        &'a self,
        domain: &'a str,
        ns: &'a [String],
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move { self.0.lock().await.set_ns(domain, ns).await.map_err(text) })
    }

    fn set_csync<'a>(&'a self, domain: &'a str, on: bool) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.0
                .lock()
                .await
                .set_csync(domain, on)
                .await
                .map_err(text)
        })
    }

    fn max_ttl<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<u32, String>> {
        Box::pin(async move { self.0.lock().await.max_ttl(domain).map_err(text) })
    }

    fn set_signals<'a>(
        &'a self,
        domain: &'a str,
        hosts: &'a [String],
        cds: Option<&'a [KeyData]>,
        cdnskey: Option<&'a [KeyData]>,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let mut op = self.0.lock().await;
            op.set_signals(domain, hosts, cds, cdnskey)
                .await
                .map_err(text)
        })
    }
}
