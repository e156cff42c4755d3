//! Registrars as the runner sees them: the registrant's requests, clock ticks and the DNS
//! operator each registrar controls.
//!
//! - [`reference`]: the reference registrar, both roles, with its deliberate faults.
//! - [`OperatorApi`]: what a registrar may do to its DNS operator; [`LocalOperator`] is the
//!   in-process form over a [`crate::world::operator::Operator`].

use std::sync::Arc;

use epp::secdns::KeyData;
use jiff::Timestamp;
use tokio::sync::Mutex;

use crate::world::operator::{self, Operator};

pub mod process;
pub mod protocol;
pub mod reference;
pub mod subject;

/// What a registrar reports after a tick.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TickReport {
    /// When it next wants to be woken (None: only for requests).
    pub next_wake: Option<Timestamp>,
    /// Procedures it finished (domain names), cumulative.
    pub done: Vec<String>,
    /// Procedures it gave up on, with why, cumulative.
    pub failed: Vec<(String, String)>,
    /// Procedures still running (domain names).
    pub busy: Vec<String>,
}

/// What a registrar may do to its DNS operator.
#[allow(
    async_fn_in_trait,
    reason = "used with static dispatch only; no Send bound needed"
)]
pub trait OperatorApi {
    /// The operator's name server host names.
    fn ns_names(&self) -> Vec<String>;
    /// The operator's preferred algorithm.
    fn algorithm(&self) -> u8;
    /// Hosts a zone (relative records), signed or not, with an algorithm (default: its own).
    async fn create_zone(
        &mut self,
        domain: &str,
        records: &[String],
        signed: bool,
        algorithm: Option<u8>,
    ) -> Result<(), String>;
    /// Stops hosting a zone.
    async fn remove_zone(&mut self, domain: &str) -> Result<(), String>;
    /// Whether the zone is hosted.
    async fn hosts(&mut self, domain: &str) -> Result<bool, String>;
    /// The key signing the DNSKEY set (KSK or CSK).
    async fn ksk(&mut self, domain: &str) -> Result<KeyData, String>;
    /// The keys signing zone data (ZSK or CSK).
    async fn zsks(&mut self, domain: &str) -> Result<Vec<KeyData>, String>;
    /// Publishes another operator's key until `expires`.
    async fn add_foreign_key(
        &mut self,
        domain: &str,
        key: &KeyData,
        expires: Option<Timestamp>,
    ) -> Result<(), String>;
    /// Stops publishing another operator's key.
    async fn remove_foreign_key(&mut self, domain: &str, key: &KeyData) -> Result<(), String>;
    /// The foreign keys published, with expiry.
    async fn foreign_keys(
        &mut self,
        domain: &str,
    ) -> Result<Vec<(KeyData, Option<Timestamp>)>, String>;
    /// Signs or unsigns the zone.
    async fn set_signed(&mut self, domain: &str, signed: bool) -> Result<(), String>;
}

/// An in-process operator.
#[derive(Debug, Clone)]
pub struct LocalOperator(pub Arc<Mutex<Operator>>);

impl OperatorApi for LocalOperator {
    fn ns_names(&self) -> Vec<String> {
        self.0
            .try_lock()
            .map(|o| o.ns_names().to_vec())
            .unwrap_or_default()
    }

    fn algorithm(&self) -> u8 {
        self.0.try_lock().map(|o| o.spec().algorithm).unwrap_or(13)
    }

    async fn create_zone(
        &mut self,
        domain: &str,
        records: &[String],
        signed: bool,
        algorithm: Option<u8>,
    ) -> Result<(), String> {
        self.0
            .lock()
            .await
            .create_zone(domain, records, signed, algorithm)
            .map_err(|e| e.to_string())
    }

    async fn remove_zone(&mut self, domain: &str) -> Result<(), String> {
        self.0.lock().await.remove_zone(domain);
        Ok(())
    }

    async fn hosts(&mut self, domain: &str) -> Result<bool, String> {
        Ok(self.0.lock().await.hosted().iter().any(|d| d == domain))
    }

    async fn ksk(&mut self, domain: &str) -> Result<KeyData, String> {
        self.0
            .lock()
            .await
            .ksk_key_data(domain)
            .map_err(|e| e.to_string())
    }

    async fn zsks(&mut self, domain: &str) -> Result<Vec<KeyData>, String> {
        self.0
            .lock()
            .await
            .zsk_key_data(domain)
            .map_err(|e| e.to_string())
    }

    async fn add_foreign_key(
        &mut self,
        domain: &str,
        key: &KeyData,
        expires: Option<Timestamp>,
    ) -> Result<(), String> {
        let dnskey = operator::dnskey_of(key)?;
        self.0
            .lock()
            .await
            .add_foreign_key(domain, dnskey, expires)
            .map_err(|e| e.to_string())
    }

    async fn remove_foreign_key(&mut self, domain: &str, key: &KeyData) -> Result<(), String> {
        let dnskey = operator::dnskey_of(key)?;
        self.0
            .lock()
            .await
            .remove_foreign_key(domain, &dnskey)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    async fn foreign_keys(
        &mut self,
        domain: &str,
    ) -> Result<Vec<(KeyData, Option<Timestamp>)>, String> {
        Ok(self
            .0
            .lock()
            .await
            .foreign_keys(domain)
            .into_iter()
            .map(|f| (operator::key_data(&f.dnskey), f.expires))
            .collect())
    }

    async fn set_signed(&mut self, domain: &str, signed: bool) -> Result<(), String> {
        self.0
            .lock()
            .await
            .set_signed(domain, signed)
            .map_err(|e| e.to_string())
    }
}
