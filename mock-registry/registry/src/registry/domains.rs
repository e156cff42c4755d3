//! Domain commands (RFC 5731) in the SIDN profile: check, info, create, update (with
//! secDNS key data and scheduled delete), delete into quarantine, cancel delete, renew.

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::keys::check_key;
use super::names::{domain_under, normalize};
use super::objects::Domain;
use super::refusal::{Area, Refusal};
use super::{Outcome, Registry, Reply, Services};
use epp::domain::{
    self, AddRem, AuthInfoChange, ContactType, DomainContact, DomainStatus, HostsFilter, NsList,
};
use epp::message::{CommandExtension, ResData, ResponseExtension};
use epp::secdns::{DsOrKey, DsOrKeySet, KeyData, Remove};
use epp::sidn::{self, ScheduledDelete};
use epp::types::{AuthInfo, CheckResult, Period};
use epp::{ResultCode, Text, uri};

impl Registry {
    /// The domain, or 2303.
    pub(super) fn find_domain(&self, name: &str) -> Result<&Domain, Refusal> {
        let n = domain_under(name, &self.policy.tld)?;
        self.domains
            .get(&n)
            .ok_or_else(|| Refusal::not_found(Area::Domain, "domain", &n).field("domain:name"))
    }

    /// The domain if `cl_id` sponsors it, else 2303 or 2201.
    pub(super) fn sponsored_domain(&self, cl_id: &str, name: &str) -> Result<&Domain, Refusal> {
        let d = self.find_domain(name)?;
        if d.sponsor != cl_id {
            return Err(Refusal::not_sponsor("domain", &d.name).field("domain:name"));
        }
        Ok(d)
    }

    pub(super) fn domain_check(&self, names: &[String]) -> Reply {
        let results = names
            .iter()
            .map(|name| match domain_under(name, &self.policy.tld) {
                Ok(n) if self.domains.contains_key(&n) => CheckResult {
                    name: n,
                    avail: false,
                    reason: Some(Text::new("In use")),
                },
                Ok(n) => CheckResult {
                    name: n,
                    avail: true,
                    reason: None,
                },
                Err(_) => CheckResult {
                    name: name.clone(),
                    avail: false,
                    reason: Some(Text::new("Invalid domain name")),
                },
            })
            .collect();
        Reply::data(ResData::DomainCheck(results))
    }

    pub(super) fn domain_info(
        &self,
        cl_id: &str,
        services: &Services,
        info: &domain::Info,
    ) -> Outcome {
        let d = self.find_domain(&info.name)?;
        let sponsor = d.sponsor == cl_id;
        if let Some(auth) = &info.auth_info {
            domain_password(auth)?;
        }
        let full = if sponsor {
            true
        } else if let Some(auth) = &info.auth_info {
            if domain_password(auth)? != Some(d.token.as_str()) {
                return Err(Refusal::new(
                    ResultCode::InvalidAuthorizationInformation,
                    Area::Authorization,
                    format!("the authInfo given does not match {}", d.name),
                )
                .field("domain:authInfo"));
            }
            true
        } else {
            false
        };
        let subordinates = self.subordinate_hosts(&d.name);
        let mut data = if full {
            d.full_info(subordinates, sponsor)
        } else {
            d.reduced_info()
        };
        match info.hosts {
            HostsFilter::All => {}
            HostsFilter::Del => data.hosts.clear(),
            HostsFilter::Sub => data.ns = None,
            HostsFilter::None => {
                data.hosts.clear();
                data.ns = None;
            }
        }
        let mut extensions = Vec::new();
        if services.has_ext(uri::SECDNS) && !d.keys.is_empty() {
            extensions.push(ResponseExtension::SecDnsInfo(DsOrKeySet {
                max_sig_life: None,
                data: DsOrKey::Key(d.keys.clone()),
            }));
        }
        if services.has_ext(uri::SIDN) && full {
            extensions.push(ResponseExtension::Sidn(sidn::Ext::DomainInfo(
                sidn::DomainInfData {
                    limited: Some(false),
                    opt_out: Some(false),
                    period: Some(sidn::months(d.period_months as u8)),
                    scheduled_delete_date: d.scheduled_delete,
                },
            )));
        }
        Ok(Reply {
            res_data: Some(ResData::DomainInfo(Box::new(data))),
            extensions,
            ..Reply::ok()
        })
    }

    pub(super) fn subordinate_hosts(&self, domain: &str) -> Vec<String> {
        let suffix = format!(".{domain}");
        self.hosts
            .keys()
            .filter(|h| h.ends_with(&suffix))
            .cloned()
            .collect()
    }

    fn period_months(&self, period: Option<&Period>) -> Result<u32, Refusal> {
        let months = period.map_or(self.policy.default_period_months, Period::months);
        if !self.policy.periods_months.contains(&months) {
            return Err(Refusal::policy(
                Area::Domain,
                format!(
                    "a period of {months} months is not offered (months: {:?})",
                    self.policy.periods_months
                ),
            )
            .field("domain:period"));
        }
        Ok(months)
    }

    /// A contact the registrar may attach to its domain: it exists and the registrar sponsors
    /// it (SIDN contacts belong to one registrar).
    fn usable_contact(&self, cl_id: &str, id: &str, field: &str) -> Result<(), Refusal> {
        let c = self
            .contacts
            .get(id)
            .ok_or_else(|| Refusal::not_found(Area::Contact, "contact", id).field(field))?;
        if c.sponsor != cl_id {
            return Err(Refusal::not_sponsor("contact", id).field(field));
        }
        Ok(())
    }

    /// Checks and folds a name server list: host objects only, existing, no duplicates.
    fn name_servers(&self, ns: &NsList) -> Result<Vec<String>, Refusal> {
        let NsList::HostObj(list) = ns else {
            return Err(Refusal::policy(
                Area::Domain,
                "name servers must be host objects (domain:hostObj); host attributes are not supported",
            )
            .field("domain:hostAttr"));
        };
        let mut out: Vec<String> = Vec::new();
        for h in list {
            let n = normalize(h, Area::Host, "domain:hostObj")?;
            if !self.hosts.contains_key(&n) {
                return Err(Refusal::not_found(Area::Host, "host", &n).field("domain:hostObj"));
            }
            if out.contains(&n) {
                return Err(Refusal::policy(
                    Area::Domain,
                    format!("name server {n} is listed twice"),
                )
                .field("domain:hostObj"));
            }
            out.push(n);
        }
        Ok(out)
    }

    fn contact_roles(
        &self,
        cl_id: &str,
        contacts: &[DomainContact],
    ) -> Result<BTreeSet<(ContactType, String)>, Refusal> {
        let mut out = BTreeSet::new();
        for c in contacts {
            let kind = match c.kind {
                Some(k @ (ContactType::Admin | ContactType::Tech)) => k,
                Some(ContactType::Billing) => {
                    return Err(Refusal::policy(
                        Area::Domain,
                        "this registry has no billing contacts",
                    )
                    .field("domain:contact"));
                }
                None => {
                    return Err(Refusal::policy(
                        Area::Domain,
                        "a contact needs a type (admin or tech)",
                    )
                    .field("domain:contact"));
                }
            };
            self.usable_contact(cl_id, &c.id, "domain:contact")?;
            if !out.insert((kind, c.id.clone())) {
                return Err(Refusal::policy(
                    Area::Domain,
                    format!("contact {} is listed twice as {}", c.id, kind.as_str()),
                )
                .field("domain:contact"));
            }
        }
        Ok(out)
    }

    /// Checks keys for a domain: key data only, each valid, no duplicates, within the limit.
    fn checked_keys(&self, current: &[KeyData], add: &[KeyData]) -> Result<Vec<KeyData>, Refusal> {
        let mut keys = current.to_vec();
        for k in add {
            check_key(k)?;
            if keys.contains(k) {
                return Err(
                    Refusal::policy(Area::Keys, "this key is already on the domain")
                        .field("secDNS:keyData"),
                );
            }
            keys.push(k.clone());
        }
        if keys.len() > self.policy.max_keys {
            return Err(Refusal::policy(
                Area::Keys,
                format!("at most {} keys per domain", self.policy.max_keys),
            )
            .field("secDNS:keyData"));
        }
        Ok(keys)
    }

    pub(super) fn domain_create(
        &mut self,
        cl_id: &str,
        c: &domain::Create,
        ext: &[CommandExtension],
        now: Timestamp,
    ) -> Outcome {
        let name = domain_under(&c.name, &self.policy.tld)?;
        if self.domains.contains_key(&name) {
            return Err(Refusal::new(
                ResultCode::ObjectExists,
                Area::Domain,
                format!("{name} is already registered"),
            )
            .field("domain:name"));
        }
        let months = self.period_months(c.period.as_ref())?;
        let registrant = c.registrant.as_deref().ok_or_else(|| {
            Refusal::new(
                ResultCode::RequiredParameterMissing,
                Area::Domain,
                "a registrant is required",
            )
            .field("domain:registrant")
        })?;
        self.usable_contact(cl_id, registrant, "domain:registrant")?;
        let contacts = self.contact_roles(cl_id, &c.contacts)?;
        for role in [ContactType::Admin, ContactType::Tech] {
            if !contacts.iter().any(|(k, _)| *k == role) {
                return Err(Refusal::new(
                    ResultCode::RequiredParameterMissing,
                    Area::Domain,
                    format!("an {} contact is required", role.as_str()),
                )
                .field("domain:contact"));
            }
        }
        let ns = match &c.ns {
            Some(ns) => self.name_servers(ns)?,
            None => Vec::new(),
        };
        if ns.len() > self.policy.max_ns {
            return Err(Refusal::policy(
                Area::Domain,
                format!("at most {} name servers", self.policy.max_ns),
            )
            .field("domain:ns"));
        }
        let token = token_of(&c.auth_info)?;
        let mut keys = Vec::new();
        for e in ext {
            match e {
                CommandExtension::SecDnsCreate(s) => {
                    no_max_sig_life(s.max_sig_life)?;
                    keys = self.checked_keys(&[], keys_only(&s.data)?)?
                }
                other => return Err(wrong_extension(other, "domain create")),
            }
        }
        let ex_date = add_months(now, months);
        let roid = self.roid("DNM");
        let d = Domain {
            name: name.clone(),
            roid,
            registrant: registrant.to_string(),
            contacts,
            ns,
            statuses: BTreeSet::new(),
            sponsor: cl_id.to_string(),
            cr_id: cl_id.to_string(),
            cr_date: now,
            up_id: None,
            up_date: None,
            ex_date,
            tr_date: None,
            token,
            keys,
            last_transfer: None,
            deleted_at: None,
            scheduled_delete: None,
            period_months: months,
        };
        self.domains.insert(name.clone(), d);
        self.generation += 1;
        Ok(Reply::data(ResData::DomainCreate(domain::CreData {
            name,
            cr_date: now,
            ex_date: Some(ex_date),
        })))
    }

    pub(super) fn domain_update(
        &mut self,
        cl_id: &str,
        u: &domain::Update,
        ext: &[CommandExtension],
        now: Timestamp,
    ) -> Outcome {
        let current = self.sponsored_domain(cl_id, &u.name)?;
        if current.deleted_at.is_some() {
            return Err(status_prohibits(&current.name, "pendingDelete"));
        }
        let removes_update_lock = u.rem.as_ref().is_some_and(|r| {
            r.statuses
                .iter()
                .any(|s| s.value == DomainStatus::ClientUpdateProhibited)
        });
        if current
            .statuses
            .contains(&DomainStatus::ClientUpdateProhibited)
            && !removes_update_lock
        {
            return Err(status_prohibits(&current.name, "clientUpdateProhibited"));
        }
        if u.add.is_none() && u.rem.is_none() && u.chg.is_none() && ext.is_empty() {
            return Err(Refusal::new(
                ResultCode::RequiredParameterMissing,
                Area::Domain,
                "an update needs domain:add, domain:rem or domain:chg (RFC 5731 §3.2.5)",
            ));
        }
        // Work on a copy; it replaces the stored domain only if every part is valid.
        let mut d = current.clone();
        if let Some(rem) = &u.rem {
            self.apply_rem(&mut d, rem)?;
        }
        if let Some(add) = &u.add {
            self.apply_add(cl_id, &mut d, add)?;
        }
        for role in [ContactType::Admin, ContactType::Tech] {
            if !d.contacts.iter().any(|(k, _)| *k == role) {
                return Err(Refusal::policy(
                    Area::Domain,
                    format!("the last {} contact cannot be removed", role.as_str()),
                )
                .field("domain:contact"));
            }
        }
        if let Some(chg) = &u.chg {
            if let Some(r) = &chg.registrant {
                if r.is_empty() {
                    return Err(
                        Refusal::policy(Area::Domain, "a domain must keep a registrant")
                            .field("domain:registrant"),
                    );
                }
                self.usable_contact(cl_id, r, "domain:registrant")?;
                d.registrant = r.clone();
            }
            match &chg.auth_info {
                None => {}
                Some(AuthInfoChange::Null) => {
                    return Err(Refusal::policy(
                        Area::Domain,
                        "a domain must keep a transfer token",
                    )
                    .field("domain:authInfo"));
                }
                Some(AuthInfoChange::Set(a)) => d.token = token_of(a)?,
            }
        }
        for e in ext {
            match e {
                CommandExtension::SecDnsUpdate(s) => {
                    if s.urgent {
                        return Err(Refusal::new(
                            ResultCode::UnimplementedOption,
                            Area::Keys,
                            "urgent secDNS updates are not supported (RFC 5910 §5.2.5)",
                        )
                        .field("secDNS:update"));
                    }
                    if let Some(chg) = s.chg {
                        no_max_sig_life(chg)?;
                    }
                    match &s.rem {
                        None | Some(Remove::All(false)) => {}
                        Some(Remove::All(true)) => d.keys.clear(),
                        Some(Remove::Ds(_)) => return Err(ds_interface()),
                        Some(Remove::Key(list)) => {
                            for k in list {
                                let before = d.keys.len();
                                d.keys.retain(|x| x != k);
                                if d.keys.len() == before {
                                    return Err(Refusal::policy(
                                        Area::Keys,
                                        "this key is not on the domain",
                                    )
                                    .field("secDNS:keyData"));
                                }
                            }
                        }
                    }
                    if let Some(add) = &s.add {
                        no_max_sig_life(add.max_sig_life)?;
                        d.keys = self.checked_keys(&d.keys, keys_only(&add.data)?)?;
                    }
                }
                CommandExtension::ScheduledDelete(op) => {
                    let today = now.to_zoned(TimeZone::UTC).date();
                    d.scheduled_delete = match op {
                        ScheduledDelete::SetDate(date) => {
                            if *date <= today {
                                return Err(Refusal::policy(
                                    Area::Domain,
                                    "the deletion date must be in the future",
                                )
                                .field("scheduledDelete:date"));
                            }
                            Some(*date)
                        }
                        ScheduledDelete::SetDateToEndOfSubscriptionPeriod => {
                            Some(d.ex_date.to_zoned(TimeZone::UTC).date())
                        }
                        ScheduledDelete::Cancel => {
                            if d.scheduled_delete.is_none() {
                                return Err(Refusal::policy(
                                    Area::Domain,
                                    "no deletion is scheduled",
                                )
                                .field("scheduledDelete:operation"));
                            }
                            None
                        }
                    };
                }
                other => return Err(wrong_extension(other, "domain update")),
            }
        }
        if d.ns.len() > self.policy.max_ns {
            return Err(Refusal::policy(
                Area::Domain,
                format!("at most {} name servers", self.policy.max_ns),
            )
            .field("domain:ns"));
        }
        d.up_id = Some(cl_id.to_string());
        d.up_date = Some(now);
        let stored = self
            .domains
            .get_mut(&d.name)
            .expect("invariant: found above under this name");
        if stored.is_delegated() != d.is_delegated() || stored.ns != d.ns || stored.keys != d.keys {
            self.generation += 1;
        }
        let rescheduled = stored.scheduled_delete != d.scheduled_delete;
        *stored = d;
        if rescheduled {
            self.due_dates_changed();
        }
        Ok(Reply::ok())
    }

    fn apply_rem(&self, d: &mut Domain, rem: &AddRem) -> Result<(), Refusal> {
        if let Some(ns) = &rem.ns {
            let NsList::HostObj(list) = ns else {
                return Err(
                    Refusal::policy(Area::Domain, "host attributes are not supported")
                        .field("domain:hostAttr"),
                );
            };
            for h in list {
                let n = normalize(h, Area::Host, "domain:hostObj")?;
                let before = d.ns.len();
                d.ns.retain(|x| *x != n);
                if d.ns.len() == before {
                    return Err(Refusal::policy(
                        Area::Domain,
                        format!("{n} is not a name server of {}", d.name),
                    )
                    .field("domain:hostObj"));
                }
            }
        }
        for c in &rem.contacts {
            let removed = match c.kind {
                Some(k) => d.contacts.remove(&(k, c.id.clone())),
                None => {
                    let before = d.contacts.len();
                    d.contacts.retain(|(_, id)| *id != c.id);
                    d.contacts.len() != before
                }
            };
            if !removed {
                return Err(Refusal::policy(
                    Area::Domain,
                    format!("{} is not a contact of {}", c.id, d.name),
                )
                .field("domain:contact"));
            }
        }
        for s in &rem.statuses {
            if !d.statuses.remove(&s.value) {
                return Err(Refusal::policy(
                    Area::Domain,
                    format!("{} does not have status {}", d.name, s.value),
                )
                .field("domain:status"));
            }
        }
        Ok(())
    }

    fn apply_add(&self, cl_id: &str, d: &mut Domain, add: &AddRem) -> Result<(), Refusal> {
        if let Some(ns) = &add.ns {
            for n in self.name_servers(ns)? {
                if d.ns.contains(&n) {
                    return Err(Refusal::policy(
                        Area::Domain,
                        format!("{n} is already a name server of {}", d.name),
                    )
                    .field("domain:hostObj"));
                }
                d.ns.push(n);
            }
        }
        for (kind, id) in self.contact_roles(cl_id, &add.contacts)? {
            if !d.contacts.insert((kind, id.clone())) {
                return Err(Refusal::policy(
                    Area::Domain,
                    format!("{id} is already a {} contact", kind.as_str()),
                )
                .field("domain:contact"));
            }
        }
        for s in &add.statuses {
            if !s.value.is_client_settable() {
                return Err(Refusal::policy(
                    Area::Domain,
                    format!("status {} is not set by registrars", s.value),
                )
                .field("domain:status"));
            }
            if !d.statuses.insert(s.value) {
                return Err(Refusal::policy(
                    Area::Domain,
                    format!("{} already has status {}", d.name, s.value),
                )
                .field("domain:status"));
            }
        }
        Ok(())
    }

    pub(super) fn domain_delete(&mut self, cl_id: &str, name: &str, now: Timestamp) -> Outcome {
        let d = self.sponsored_domain(cl_id, name)?;
        if d.deleted_at.is_some() {
            return Err(status_prohibits(&d.name, "pendingDelete"));
        }
        if d.statuses.contains(&DomainStatus::ClientDeleteProhibited) {
            return Err(status_prohibits(&d.name, "clientDeleteProhibited"));
        }
        let subordinates = self.subordinate_hosts(&d.name);
        if !subordinates.is_empty() {
            return Err(Refusal::new(
                ResultCode::ObjectAssociationProhibitsOperation,
                Area::Domain,
                format!(
                    "{} has subordinate hosts: {}",
                    d.name,
                    subordinates.join(", ")
                ),
            ));
        }
        let key = d.name.clone();
        let stored = self
            .domains
            .get_mut(&key)
            .expect("invariant: found above under this name");
        stored.deleted_at = Some(now);
        stored.up_id = Some(cl_id.to_string());
        stored.up_date = Some(now);
        self.generation += 1;
        self.due_dates_changed();
        Ok(Reply::ok())
    }

    pub(super) fn cancel_delete(
        &mut self,
        cl_id: &str,
        name: &str,
        period: Option<&Period>,
        now: Timestamp,
    ) -> Outcome {
        let d = self.sponsored_domain(cl_id, name)?;
        if d.deleted_at.is_none() {
            return Err(Refusal::new(
                ResultCode::ObjectStatusProhibitsOperation,
                Area::Domain,
                format!("{} is not in quarantine", d.name),
            ));
        }
        let months = match period {
            Some(p) => Some(self.period_months(Some(p))?),
            None => None,
        };
        let key = d.name.clone();
        let stored = self
            .domains
            .get_mut(&key)
            .expect("invariant: found above under this name");
        stored.deleted_at = None;
        if let Some(m) = months {
            stored.period_months = m;
        }
        stored.up_id = Some(cl_id.to_string());
        stored.up_date = Some(now);
        self.generation += 1;
        self.due_dates_changed();
        Ok(Reply::ok())
    }

    pub(super) fn domain_renew(
        &mut self,
        cl_id: &str,
        r: &domain::Renew,
        now: Timestamp,
    ) -> Outcome {
        let d = self.sponsored_domain(cl_id, &r.name)?;
        if d.deleted_at.is_some() {
            return Err(status_prohibits(&d.name, "pendingDelete"));
        }
        if d.statuses.contains(&DomainStatus::ClientRenewProhibited) {
            return Err(status_prohibits(&d.name, "clientRenewProhibited"));
        }
        let current = d.ex_date.to_zoned(TimeZone::UTC).date();
        if current != r.cur_exp_date {
            return Err(Refusal::policy(
                Area::Domain,
                format!(
                    "curExpDate {} does not match the expiry date {current}",
                    r.cur_exp_date
                ),
            )
            .field("domain:curExpDate"));
        }
        let months = self.period_months(r.period.as_ref())?;
        let key = d.name.clone();
        let stored = self
            .domains
            .get_mut(&key)
            .expect("invariant: found above under this name");
        stored.ex_date = add_months(stored.ex_date, months);
        stored.up_id = Some(cl_id.to_string());
        stored.up_date = Some(now);
        Ok(Reply::data(ResData::DomainRenew(domain::RenData {
            name: key,
            ex_date: Some(stored.ex_date),
        })))
    }
}

/// The password of an authInfo, which must be usable as a transfer token.
pub(super) fn token_of(a: &AuthInfo) -> Result<String, Refusal> {
    match a {
        AuthInfo::Password { pw, roid: None } if (6..=64).contains(&pw.chars().count()) => {
            Ok(pw.clone())
        }
        AuthInfo::Password { roid: Some(_), .. } => Err(Refusal::policy(
            Area::Domain,
            "a domain token cannot be bound to a contact ROID",
        )
        .field("domain:pw")),
        AuthInfo::Password { .. } => Err(Refusal::policy(
            Area::Domain,
            "a token must have 6 to 64 characters",
        )
        .field("domain:pw")),
        AuthInfo::Ext(_) => Err(Refusal::policy(
            Area::Domain,
            "only password authInfo is supported",
        )
        .field("domain:ext")),
    }
}

/// RFC 5910 §5.2.1 and §5.2.5: a server that does not support `<secDNS:maxSigLife>` MUST
/// answer 2102. This registry signs the TLD with its own signature lifetimes (RFC 5910 §3.3
/// leaves them to the server), so a maxSigLife is refused wherever it appears, in
/// `<secDNS:create>`, `<secDNS:add>` and `<secDNS:chg>`, never ignored.
fn no_max_sig_life(max_sig_life: Option<u32>) -> Result<(), Refusal> {
    match max_sig_life {
        None => Ok(()),
        Some(_) => Err(Refusal::new(
            ResultCode::UnimplementedOption,
            Area::Keys,
            "maxSigLife is not supported: the registry's own signature lifetimes apply (RFC 5910 §3.3, §5.2.1)",
        )
        .field("secDNS:maxSigLife")),
    }
}

/// The password of a domain authInfo given to prove the registrant's consent (info, transfer,
/// key relay).
///
/// RFC 5731 §2.6 and §3.2.4: a `roid` on `<domain:pw>` marks the password as the registrant's
/// or another contact's, not the domain's. This registry authorizes with the domain's own
/// token only (as SIDN does), so a ROID is refused with 2306 before the password is looked at,
/// whether it would match or not. `<domain:ext>` authorization gives no password (`None`).
pub(super) fn domain_password(auth: &AuthInfo) -> Result<Option<&str>, Refusal> {
    match auth {
        AuthInfo::Password { roid: Some(roid), .. } => Err(Refusal::policy(
            Area::Authorization,
            format!(
                "authorization by the password of contact {roid} is not supported: give the domain's own token, without a roid (RFC 5731 §2.6)"
            ),
        )
        .field("domain:pw")),
        AuthInfo::Password { pw, roid: None } => Ok(Some(pw)),
        AuthInfo::Ext(_) => Ok(None),
    }
}

fn keys_only(data: &DsOrKey) -> Result<&[KeyData], Refusal> {
    match data {
        DsOrKey::Key(k) => Ok(k),
        DsOrKey::Ds(_) => Err(ds_interface()),
    }
}

/// RFC 5910 §4: a key data server answers 2306 to the DS data interface.
fn ds_interface() -> Refusal {
    Refusal::policy(
        Area::Keys,
        "this registry uses the key data interface: send secDNS:keyData, the registry computes the DS",
    )
    .field("secDNS:dsData")
}

fn wrong_extension(e: &CommandExtension, command: &str) -> Refusal {
    let name = e.element_name();
    Refusal::new(
        ResultCode::UnimplementedExtension,
        Area::Codec,
        format!("{name} cannot be used with a {command}"),
    )
    .field(name)
}

fn status_prohibits(name: &str, status: &str) -> Refusal {
    Refusal::new(
        ResultCode::ObjectStatusProhibitsOperation,
        Area::Domain,
        format!("{name} has status {status}"),
    )
    .field("domain:status")
}

/// `t` plus whole months, on the UTC calendar.
pub(super) fn add_months(t: Timestamp, months: u32) -> Timestamp {
    t.to_zoned(TimeZone::UTC)
        .checked_add(jiff::Span::new().months(i64::from(months)))
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::MAX)
}
