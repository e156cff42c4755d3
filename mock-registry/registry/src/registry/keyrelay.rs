//! RFC 8063 key relay: a registrar (normally the gaining one) sends DNSKEYs with the domain's
//! token; the registry checks them and queues a `keyrelay:infData` poll message for the
//! registrar of record, passing name, authInfo, keys and expiries on unchanged (§3.2.1), once
//! every expiry is within bounds.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::domains::domain_password;
use super::keys::check_key;
use super::refusal::{Area, Refusal};
use super::{Outcome, Registry, RelayRecord, Reply, Services};
use epp::ResultCode;
use epp::keyrelay;
use epp::message::ResData;

impl Registry {
    pub(super) fn keyrelay_create(
        &mut self,
        cl_id: &str,
        services: &Services,
        k: &keyrelay::Create,
        cl_trid: Option<&str>,
        now: Timestamp,
    ) -> Outcome {
        let d = self.find_domain(&k.name)?;
        if d.deleted_at.is_some() {
            return Err(Refusal::new(
                ResultCode::ObjectStatusProhibitsOperation,
                Area::KeyRelay,
                format!("{} is in quarantine", d.name),
            ));
        }
        if domain_password(&k.auth_info)? != Some(d.token.as_str()) {
            return Err(Refusal::new(
                ResultCode::InvalidAuthorizationInformation,
                Area::KeyRelay,
                format!("the authInfo is not the token of {}", d.name),
            )
            .field("keyrelay:authInfo"));
        }
        if k.data.len() > self.policy.max_keyrelay_data {
            return Err(Refusal::new(
                ResultCode::DataManagementPolicyViolation,
                Area::KeyRelay,
                format!(
                    "{} keyRelayData exceed the limit of {} per command",
                    k.data.len(),
                    self.policy.max_keyrelay_data
                ),
            )
            .field("keyrelay:keyRelayData"));
        }
        for data in &k.data {
            check_key(&data.key_data)?;
            if let Some(expiry) = &data.expiry {
                self.check_expiry(expiry, now)?;
            }
        }
        self.check_watch_limit(cl_id, services)?;
        let name = d.name.clone();
        let to = d.sponsor.clone();
        let info = keyrelay::InfData {
            name: name.clone(),
            auth_info: k.auth_info.clone(),
            data: k.data.clone(),
            cr_date: now,
            re_id: cl_id.to_string(),
            ac_id: to.clone(),
        };
        let msg_id = self.queue_message(
            &to,
            "Keyrelay action completed successfully.".into(),
            Some(ResData::KeyRelay(Box::new(info))),
            now,
        );
        self.open_watch(cl_id, services, &name, &to, &k.data, msg_id, cl_trid, now);
        self.relays.push(RelayRecord {
            time: now,
            domain: name,
            from: cl_id.to_string(),
            to,
            msg_id,
            data: k.data.clone(),
        });
        Ok(Reply::ok())
    }

    /// RFC 8063 §2.1.1: an expiry is an absolute time or a duration after the relay; one in
    /// the past, or a zero duration, revokes a key relayed before, and is passed on as such.
    /// A negative duration has no meaning there (revocation is `P0D`), and an expiry further
    /// ahead than the policy allows is no operator change's; both are refused with 2004
    /// rather than passed on, so the registrar of record never receives an absurd expiry.
    /// (Durations no schema validator could hold are already refused by the codec.)
    fn check_expiry(&self, expiry: &keyrelay::Expiry, now: Timestamp) -> Result<(), Refusal> {
        let range = |text: String| {
            Refusal::new(ResultCode::ParameterValueRangeError, Area::KeyRelay, text)
                .field("keyrelay:expiry")
        };
        let until = match expiry {
            keyrelay::Expiry::Absolute(t) => *t,
            keyrelay::Expiry::Relative(d) => {
                if d.is_negative() {
                    return Err(range(format!(
                        "a relative expiry cannot be negative ({d}); P0D revokes a relayed key (RFC 8063 §2.1.1)"
                    )));
                }
                let span = d.to_span().map_err(|e| range(e.reason))?;
                now.to_zoned(TimeZone::UTC)
                    .checked_add(span)
                    .map_err(|e| range(format!("expiry {d} is out of range: {e}")))?
                    .timestamp()
            }
        };
        let limit = self.policy.max_keyrelay_expiry;
        if until.duration_since(now) > limit {
            return Err(range(format!(
                "the expiry lies more than {} days ahead",
                limit.as_secs() / 86_400
            )));
        }
        Ok(())
    }
}
