//! Registrars as the runner sees them: the registrant's requests, clock ticks and the DNS
//! operator each registrar controls.
//!
//! - [`Registrar`]: the one interface the runner drives, in front of the in-process
//!   reference registrar ([`reference`]), a registrar process speaking the adapter protocol
//!   ([`subject`]), and whatever comes next.
//! - [`OperatorApi`]: what a registrar may do to its DNS operator; [`LocalOperator`] is the
//!   in-process form over a [`crate::world::operator::Operator`].
//! - [`protocol`]: the adapter protocol's messages; [`process`]: the reference registrar's side
//!   of it (`harness reference-registrar`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use epp::secdns::KeyData;
use jiff::Timestamp;

pub use crate::error::RegistrarError;
use crate::world::backend::SharedOperator;
use crate::world::operator::{self, OperatorError};

pub mod process;
pub mod protocol;
pub mod reference;
pub mod subject;

/// A boxed future that may move between threads: what the object-safe [`Registrar`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

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

/// The registrant's request to move a domain to a registrar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRequest {
    /// The domain to move, as registered (lower case, no trailing dot).
    pub domain: String,
    /// Its transfer token, as the losing registrar gave it to the registrant.
    pub token: String,
    /// The zone content the registrant wants served (relative presentation lines).
    pub records: Vec<String>,
    /// The names the registrant cares about: (absolute name, type).
    pub checks: Vec<(String, String)>,
    /// When it asks (virtual time).
    pub now: Timestamp,
}

/// A registrar, as the runner drives it. Object-safe, so the runner holds every kind alike.
pub trait Registrar: Send + Sync + fmt::Debug {
    /// A clock tick: do whatever is due at `now`, report where every procedure stands.
    fn tick(&mut self, now: Timestamp) -> BoxFuture<'_, TickReport>;
    /// The registrant asks the sponsor for a domain's transfer token.
    fn request_token<'a>(
        &'a mut self,
        domain: &'a str,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<String, RegistrarError>>;
    /// The registrant asks to move a domain here; the procedure runs on later ticks.
    fn transfer_in(
        &mut self,
        request: TransferRequest,
    ) -> BoxFuture<'_, Result<(), RegistrarError>>;
    /// Why it failed for good (a process that crashed or broke the protocol), if it did.
    fn failure(&self) -> Option<&str>;
    /// Whether it is a separate process, whose EPP frames the harness does not see (its
    /// transcript then shows what the registry logged of its commands).
    fn is_process(&self) -> bool;
    /// What it did, with virtual times (`Timestamp::MAX` for lines without one, listed after
    /// the timed ones), each line tagged with `label`.
    fn transcript(&self, label: &str) -> Vec<(Timestamp, String)>;
    /// The run is over: a process is asked to exit and made to.
    fn shutdown(&mut self) -> BoxFuture<'_, ()>;
    /// The operator role: carry out a change of a domain's DNSSEC or name servers with the
    /// operators it controls. Only a registrar process takes it (the in-process reference
    /// registrar leaves the role to the runner's own reference controller).
    fn operator_change(
        &mut self,
        change: OperatorChangeRequest,
    ) -> BoxFuture<'_, Result<(), RegistrarError>> {
        let _ = change;
        Box::pin(async {
            Err(RegistrarError::Process(
                "this registrar does not play the operator role".into(),
            ))
        })
    }
}

/// An operator change asked of a registrar process in the operator role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorChangeRequest {
    /// When it is asked.
    pub now: Timestamp,
    /// The domain.
    pub domain: String,
    /// The change's name (`multi-signer-join`, …).
    pub change: String,
    /// The label of the operator that acts.
    pub signer: String,
    /// The label of the other signer of a multi-signer change.
    pub other: Option<String>,
    /// The registrant's records.
    pub records: Vec<String>,
    /// The reference controller's deliberate mistake, if the step has one.
    pub fault: Option<String>,
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
    ) -> Result<(), OperatorError>;
    /// Stops hosting a zone.
    async fn remove_zone(&mut self, domain: &str) -> Result<(), OperatorError>;
    /// Whether the zone is hosted.
    async fn hosts(&mut self, domain: &str) -> Result<bool, OperatorError>;
    /// The key signing the DNSKEY set (KSK or CSK).
    async fn ksk(&mut self, domain: &str) -> Result<KeyData, OperatorError>;
    /// The keys signing zone data (ZSK or CSK).
    async fn zsks(&mut self, domain: &str) -> Result<Vec<KeyData>, OperatorError>;
    /// Publishes another operator's key until `expires`.
    async fn add_foreign_key(
        &mut self,
        domain: &str,
        key: &KeyData,
        expires: Option<Timestamp>,
    ) -> Result<(), OperatorError>;
    /// Stops publishing another operator's key.
    async fn remove_foreign_key(
        &mut self,
        domain: &str,
        key: &KeyData,
    ) -> Result<(), OperatorError>;
    /// The foreign keys published, with expiry.
    async fn foreign_keys(
        &mut self,
        domain: &str,
    ) -> Result<Vec<(KeyData, Option<Timestamp>)>, OperatorError>;
    /// Signs or unsigns the zone.
    async fn set_signed(&mut self, domain: &str, signed: bool) -> Result<(), OperatorError>;
    /// The largest TTL of anything the zone serves (every record, DNSKEY, negative answers):
    /// how long caches may hold what it served.
    async fn max_ttl(&mut self, domain: &str) -> Result<u32, OperatorError>;
}

/// An in-process operator (the built-in one or real DNS software behind the world's common
/// interface).
#[derive(Debug, Clone)]
pub struct LocalOperator(pub SharedOperator);

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
    ) -> Result<(), OperatorError> {
        self.0
            .lock()
            .await
            .create_zone(domain, records, signed, algorithm)
            .await
    }

    async fn remove_zone(&mut self, domain: &str) -> Result<(), OperatorError> {
        self.0.lock().await.remove_zone(domain).await;
        Ok(())
    }

    async fn hosts(&mut self, domain: &str) -> Result<bool, OperatorError> {
        Ok(self.0.lock().await.hosted().iter().any(|d| d == domain))
    }

    async fn ksk(&mut self, domain: &str) -> Result<KeyData, OperatorError> {
        self.0.lock().await.ksk_key_data(domain).await
    }

    async fn zsks(&mut self, domain: &str) -> Result<Vec<KeyData>, OperatorError> {
        self.0.lock().await.zsk_key_data(domain).await
    }

    async fn add_foreign_key(
        &mut self,
        domain: &str,
        key: &KeyData,
        expires: Option<Timestamp>,
    ) -> Result<(), OperatorError> {
        let dnskey = operator::dnskey_of(key)?;
        self.0
            .lock()
            .await
            .add_foreign_key(domain, dnskey, expires)
            .await
    }

    async fn remove_foreign_key(
        &mut self,
        domain: &str,
        key: &KeyData,
    ) -> Result<(), OperatorError> {
        let dnskey = operator::dnskey_of(key)?;
        self.0
            .lock()
            .await
            .remove_foreign_key(domain, &dnskey)
            .await
            .map(|_| ())
    }

    async fn foreign_keys(
        &mut self,
        domain: &str,
    ) -> Result<Vec<(KeyData, Option<Timestamp>)>, OperatorError> {
        Ok(self
            .0
            .lock()
            .await
            .foreign_keys(domain)
            .into_iter()
            .map(|f| (operator::key_data(&f.dnskey), f.expires))
            .collect())
    }

    async fn set_signed(&mut self, domain: &str, signed: bool) -> Result<(), OperatorError> {
        self.0.lock().await.set_signed(domain, signed).await
    }

    async fn max_ttl(&mut self, domain: &str) -> Result<u32, OperatorError> {
        self.0.lock().await.max_ttl(domain)
    }
}
