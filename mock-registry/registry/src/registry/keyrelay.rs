//! RFC 8063 key relay: a registrar (normally the gaining one) sends DNSKEYs with the domain's
//! token; the registry checks them and queues a `keyrelay:infData` poll message for the
//! registrar of record, passing name, authInfo, keys and expiries on unchanged (§3.2.1).

use jiff::Timestamp;

use super::keys::check_key;
use super::refusal::{Area, Refusal};
use super::{Outcome, Registry, RelayRecord, Reply};
use epp::ResultCode;
use epp::keyrelay;
use epp::message::ResData;

impl Registry {
    pub(super) fn keyrelay_create(
        &mut self,
        cl_id: &str,
        k: &keyrelay::Create,
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
        if k.auth_info.pw() != Some(d.token.as_str()) {
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
        }
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
}
