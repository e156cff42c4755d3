//! Domain transfer the SIDN way: a `request` with the right token completes at once (no
//! pending period since 2011), the token is replaced, subordinate hosts move with the domain,
//! and both registrars get a poll message in SIDN's `pollData` form.

use jiff::Timestamp;

use super::domains::domain_password;
use super::refusal::{Area, Refusal};
use super::{Outcome, Registry, Reply};
use epp::domain::{self, DomainStatus};
use epp::message::SidnPollData;
use epp::message::{EppResult, ResData, TransferOp};
use epp::types::{TrStatus, TransferData};
use epp::{ResultCode, Text, TrId};

impl Registry {
    pub(super) fn domain_transfer(
        &mut self,
        cl_id: &str,
        op: TransferOp,
        t: &domain::Transfer,
        now: Timestamp,
    ) -> Outcome {
        match op {
            TransferOp::Query => self.transfer_query(cl_id, t),
            TransferOp::Request => self.transfer_request(cl_id, t, now),
            TransferOp::Approve | TransferOp::Reject | TransferOp::Cancel => Err(Refusal::new(
                ResultCode::UnimplementedCommand,
                Area::Transfer,
                format!(
                    "transfer op=\"{}\" is not supported: transfers complete immediately at this registry",
                    op.as_str()
                ),
            )),
        }
    }

    fn transfer_query(&self, cl_id: &str, t: &domain::Transfer) -> Outcome {
        let d = self.find_domain(&t.name)?;
        let password = match &t.auth_info {
            Some(a) => domain_password(a)?,
            None => None,
        };
        let allowed = d.sponsor == cl_id
            || d.last_transfer
                .as_ref()
                .is_some_and(|x| x.re_id == cl_id || x.ac_id == cl_id)
            || password == Some(d.token.as_str());
        if !allowed {
            return Err(Refusal::new(
                ResultCode::AuthorizationError,
                Area::Authorization,
                format!(
                    "only the sponsor, the parties of its last transfer or a token holder may query {}",
                    d.name
                ),
            ));
        }
        let last = d.last_transfer.clone().ok_or_else(|| {
            Refusal::new(
                ResultCode::ObjectNotPendingTransfer,
                Area::Transfer,
                format!("{} has never been transferred", d.name),
            )
        })?;
        Ok(Reply::data(ResData::DomainTransfer(last)))
    }

    fn transfer_request(&mut self, cl_id: &str, t: &domain::Transfer, now: Timestamp) -> Outcome {
        let d = self.find_domain(&t.name)?;
        if d.sponsor == cl_id {
            return Err(Refusal::new(
                ResultCode::ObjectNotEligibleForTransfer,
                Area::Transfer,
                format!("{} is already yours", d.name),
            ));
        }
        let Some(auth) = &t.auth_info else {
            return Err(Refusal::new(
                ResultCode::RequiredParameterMissing,
                Area::Transfer,
                "a transfer request needs the domain's token (domain:authInfo)",
            )
            .field("domain:authInfo"));
        };
        if domain_password(auth)? != Some(d.token.as_str()) {
            return Err(Refusal::new(
                ResultCode::InvalidAuthorizationInformation,
                Area::Transfer,
                format!("the token is not valid for {}", d.name),
            )
            .field("domain:authInfo"));
        }
        for (status, name) in [
            (
                DomainStatus::ClientTransferProhibited,
                "clientTransferProhibited",
            ),
            (
                DomainStatus::ServerTransferProhibited,
                "serverTransferProhibited",
            ),
        ] {
            if d.statuses.contains(&status) {
                return Err(Refusal::new(
                    ResultCode::ObjectStatusProhibitsOperation,
                    Area::Transfer,
                    format!("{} has status {name}", d.name),
                ));
            }
        }
        if d.deleted_at.is_some() {
            return Err(Refusal::new(
                ResultCode::ObjectStatusProhibitsOperation,
                Area::Transfer,
                format!("{} is in quarantine (pendingDelete)", d.name),
            ));
        }
        if t.period.is_some() {
            return Err(Refusal::policy(
                Area::Transfer,
                "a transfer does not extend the registration at this registry: omit domain:period",
            )
            .field("domain:period"));
        }

        let name = d.name.clone();
        let losing = d.sponsor.clone();
        let ex_date = d.ex_date;
        let token = self.rng.token();
        let record = TransferData {
            name: name.clone(),
            tr_status: TrStatus::ServerApproved,
            re_id: cl_id.to_string(),
            re_date: now,
            ac_id: losing.clone(),
            ac_date: now,
            ex_date: Some(ex_date),
        };
        let stored = self
            .domains
            .get_mut(&name)
            .expect("invariant: found above under this name");
        stored.sponsor = cl_id.to_string();
        stored.tr_date = Some(now);
        stored.token = token;
        stored.last_transfer = Some(record.clone());
        // RFC 5731 §3.2.4: subordinate hosts move with their domain.
        for h in self.subordinate_hosts(&name) {
            if let Some(host) = self.hosts.get_mut(&h) {
                host.sponsor = cl_id.to_string();
                host.tr_date = Some(now);
            }
        }
        for to in [losing.as_str(), cl_id] {
            let sv_trid = super::sv_trid(self.next_sv_trid);
            let payload = ResData::SidnPoll(Box::new(SidnPollData {
                command: "domain:transfer".into(),
                result: EppResult {
                    code: ResultCode::Success,
                    msg: Text::new("The domain name has been transferred."),
                    values: Vec::new(),
                },
                res_data: Some(Box::new(ResData::DomainTransfer(record.clone()))),
                tr_id: TrId {
                    cl_trid: None,
                    sv_trid,
                },
            }));
            self.queue_message(
                to,
                format!("1015 Transfer domain name {name} processed"),
                Some(payload),
                now,
            );
        }
        Ok(Reply::data(ResData::DomainTransfer(record)))
    }
}
