//! Contact commands (RFC 5733) in the SIDN profile: the registry assigns contact ids, the
//! legal-form extension is optional, contacts belong to one registrar and are not transferred.

use std::collections::BTreeSet;

use jiff::Timestamp;

use super::contact_values::{country_code_problem, email_problem};
use super::objects::Contact;
use super::refusal::{Area, Refusal};
use super::{Outcome, Registry, Reply, Services};
use epp::contact::{self, PostalType};
use epp::message::{CommandExtension, ResData, ResponseExtension};
use epp::sidn::{self, ContactExt};
use epp::types::{AuthInfo, CheckResult};
use epp::{ResultCode, Text, uri};

impl Registry {
    fn find_contact(&self, id: &str) -> Result<&Contact, Refusal> {
        self.contacts
            .get(id)
            .ok_or_else(|| Refusal::not_found(Area::Contact, "contact", id).field("contact:id"))
    }

    fn sponsored_contact(&self, cl_id: &str, id: &str) -> Result<&Contact, Refusal> {
        let c = self.find_contact(id)?;
        if c.sponsor != cl_id {
            return Err(Refusal::not_sponsor("contact", id).field("contact:id"));
        }
        Ok(c)
    }

    fn contact_linked(&self, id: &str) -> bool {
        self.domains
            .values()
            .any(|d| d.registrant == id || d.contacts.iter().any(|(_, c)| c == id))
    }

    pub(super) fn contact_check(&self, ids: &[String]) -> Reply {
        let results = ids
            .iter()
            .map(|id| CheckResult {
                name: id.clone(),
                avail: !self.contacts.contains_key(id),
                reason: self.contacts.contains_key(id).then(|| Text::new("In use")),
            })
            .collect();
        Reply::data(ResData::ContactCheck(results))
    }

    pub(super) fn contact_info(
        &self,
        cl_id: &str,
        services: &Services,
        a: &contact::AuthId,
    ) -> Outcome {
        let c = self.find_contact(&a.id)?;
        // A contact is authorized by its own password; a ROID would name another object's
        // (RFC 5733 §2.8 has no use for it), so it is refused as in domain commands.
        if let Some(AuthInfo::Password {
            roid: Some(roid), ..
        }) = &a.auth_info
        {
            return Err(Refusal::policy(
                Area::Authorization,
                format!("authorization by the password of {roid} is not supported: give the contact's own password"),
            )
            .field("contact:pw"));
        }
        let sponsor = c.sponsor == cl_id;
        if !sponsor
            && let Some(auth) = &a.auth_info
            && auth.pw() != Some(c.token.as_str())
        {
            return Err(Refusal::new(
                ResultCode::InvalidAuthorizationInformation,
                Area::Authorization,
                format!("the authInfo given does not match contact {}", c.id),
            )
            .field("contact:authInfo"));
        }
        let mut extensions = Vec::new();
        if services.has_ext(uri::SIDN)
            && let Some(legal) = &c.legal
        {
            extensions.push(ResponseExtension::Sidn(sidn::Ext::ContactInfo(
                sidn::ContactInfData {
                    contact: legal.clone(),
                    limited: Some(false),
                },
            )));
        }
        Ok(Reply {
            res_data: Some(ResData::ContactInfo(Box::new(
                c.info(self.contact_linked(&c.id), sponsor),
            ))),
            extensions,
            ..Reply::ok()
        })
    }

    /// SIDN-style contact id: three letters, six digits, a dash, five characters.
    fn contact_id(&mut self, cl_id: &str) -> String {
        let mut suffix: String = cl_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .take(5)
            .collect();
        while suffix.len() < 5 {
            suffix.push('X');
        }
        loop {
            let n = self.next_roid;
            self.next_roid += 1;
            let id = format!("CON{:06}-{suffix}", n % 1_000_000);
            if !self.contacts.contains_key(&id) {
                return id;
            }
        }
    }

    pub(super) fn contact_create(
        &mut self,
        cl_id: &str,
        c: &contact::Create,
        ext: &[CommandExtension],
        now: Timestamp,
    ) -> Outcome {
        check_postal_info(&c.postal_info)?;
        check_email(&c.email)?;
        let token = contact_token(&c.auth_info)?;
        let legal = legal_form(ext, true)?;
        // SIDN assigns contact ids; the id the client sent is not used (the response tells
        // the client the id to use from now on).
        let id = self.contact_id(cl_id);
        let roid = self.roid("CON");
        self.contacts.insert(
            id.clone(),
            Contact {
                id: id.clone(),
                roid,
                postal_info: c.postal_info.clone(),
                voice: c.voice.clone(),
                fax: c.fax.clone(),
                email: c.email.clone(),
                token,
                disclose: c.disclose.clone(),
                legal,
                statuses: BTreeSet::new(),
                sponsor: cl_id.to_string(),
                cr_id: cl_id.to_string(),
                cr_date: now,
                up_id: None,
                up_date: None,
            },
        );
        Ok(Reply::data(ResData::ContactCreate(contact::CreData {
            id,
            cr_date: now,
        })))
    }

    pub(super) fn contact_update(
        &mut self,
        cl_id: &str,
        u: &contact::Update,
        ext: &[CommandExtension],
        now: Timestamp,
    ) -> Outcome {
        let mut c = self.sponsored_contact(cl_id, &u.id)?.clone();
        if u.add.is_none() && u.rem.is_none() && u.chg.is_none() && ext.is_empty() {
            return Err(Refusal::new(
                ResultCode::RequiredParameterMissing,
                Area::Contact,
                "an update needs contact:add, contact:rem or contact:chg",
            ));
        }
        for s in u.rem.iter().flatten() {
            if !c.statuses.remove(&s.value) {
                return Err(Refusal::policy(
                    Area::Contact,
                    format!("{} does not have status {}", c.id, s.value),
                )
                .field("contact:status"));
            }
        }
        for s in u.add.iter().flatten() {
            if !s.value.is_client_settable() || !c.statuses.insert(s.value) {
                return Err(Refusal::policy(
                    Area::Contact,
                    format!("status {} cannot be added", s.value),
                )
                .field("contact:status"));
            }
        }
        if let Some(chg) = &u.chg {
            // RFC 5733 §2.3: one postal info per type. Two changes of one type would leave
            // only the second, dropping the first without a word.
            if let [first, second] = chg.postal_info.as_slice()
                && first.kind == second.kind
            {
                return Err(Refusal::policy(
                    Area::Contact,
                    format!(
                        "the {} postal info is changed twice; send one change per type",
                        first.kind.as_str()
                    ),
                )
                .field("contact:postalInfo"));
            }
            for p in &chg.postal_info {
                let slot = c.postal_info.iter_mut().find(|x| x.kind == p.kind);
                match slot {
                    Some(x) => {
                        if let Some(n) = &p.name {
                            x.name.clone_from(n);
                        }
                        if let Some(o) = &p.org {
                            x.org = Some(o.clone());
                        }
                        if let Some(a) = &p.addr {
                            x.addr = a.clone();
                        }
                    }
                    None => match (&p.name, &p.addr) {
                        (Some(name), Some(addr)) => c.postal_info.push(contact::PostalInfo {
                            kind: p.kind,
                            name: name.clone(),
                            org: p.org.clone(),
                            addr: addr.clone(),
                        }),
                        _ => {
                            return Err(Refusal::new(
                                ResultCode::RequiredParameterMissing,
                                Area::Contact,
                                "a new postal info needs a name and an address",
                            )
                            .field("contact:postalInfo"));
                        }
                    },
                }
            }
            check_postal_info(&c.postal_info)?;
            if let Some(v) = &chg.voice {
                c.voice = Some(v.clone());
            }
            if let Some(f) = &chg.fax {
                c.fax = Some(f.clone());
            }
            if let Some(e) = &chg.email {
                check_email(e)?;
                c.email.clone_from(e);
            }
            if let Some(a) = &chg.auth_info {
                c.token = contact_token(a)?;
            }
            if let Some(d) = &chg.disclose {
                c.disclose = Some(d.clone());
            }
        }
        if let Some(legal) = legal_form(ext, false)? {
            c.legal = Some(legal);
        }
        c.up_id = Some(cl_id.to_string());
        c.up_date = Some(now);
        self.contacts.insert(c.id.clone(), c);
        Ok(Reply::ok())
    }

    pub(super) fn contact_delete(&mut self, cl_id: &str, id: &str) -> Outcome {
        let c = self.sponsored_contact(cl_id, id)?;
        if self.contact_linked(&c.id) {
            return Err(Refusal::new(
                ResultCode::ObjectAssociationProhibitsOperation,
                Area::Contact,
                format!("contact {} is used by a domain", c.id),
            ));
        }
        if c.statuses
            .contains(&contact::ContactStatus::ClientDeleteProhibited)
        {
            return Err(Refusal::new(
                ResultCode::ObjectStatusProhibitsOperation,
                Area::Contact,
                format!("contact {} has status clientDeleteProhibited", c.id),
            ));
        }
        let key = c.id.clone();
        self.contacts.remove(&key);
        Ok(Reply::ok())
    }
}

fn check_postal_info(list: &[contact::PostalInfo]) -> Result<(), Refusal> {
    if list.len() == 2 && list[0].kind == list[1].kind {
        return Err(Refusal::policy(
            Area::Contact,
            "at most one postal info of each type (int, loc)",
        )
        .field("contact:postalInfo"));
    }
    for p in list {
        if let Some(problem) = country_code_problem(&p.addr.cc) {
            return Err(Refusal::new(
                ResultCode::ParameterValueSyntaxError,
                Area::Contact,
                problem,
            )
            .field("contact:cc"));
        }
        if p.kind == PostalType::Int {
            let ascii = |s: &str| s.is_ascii();
            let all = [p.name.as_str(), p.addr.city.as_str()]
                .into_iter()
                .chain(p.org.as_deref())
                .chain(p.addr.street.iter().map(String::as_str));
            if !all.into_iter().all(ascii) {
                return Err(Refusal::policy(
                    Area::Contact,
                    "the int postal info must be 7-bit ASCII (RFC 5733 §2.3.2)",
                )
                .field("contact:postalInfo"));
            }
        }
    }
    Ok(())
}

/// RFC 5733 §2.6: an e-mail address is an RFC 5322 addr-spec (2005 otherwise).
fn check_email(email: &str) -> Result<(), Refusal> {
    match email_problem(email) {
        None => Ok(()),
        Some(problem) => Err(Refusal::new(
            ResultCode::ParameterValueSyntaxError,
            Area::Contact,
            problem,
        )
        .field("contact:email")),
    }
}

fn contact_token(a: &AuthInfo) -> Result<String, Refusal> {
    match a {
        AuthInfo::Password { pw, .. } if !pw.is_empty() => Ok(pw.clone()),
        _ => Err(
            Refusal::policy(Area::Contact, "a contact needs a password authInfo")
                .field("contact:authInfo"),
        ),
    }
}

/// The SIDN legal form from a contact command's extensions (create or update form).
fn legal_form(ext: &[CommandExtension], create: bool) -> Result<Option<ContactExt>, Refusal> {
    let mut out = None;
    for e in ext {
        match e {
            CommandExtension::Sidn(sidn::Ext::ContactCreate(c)) if create => out = Some(c.clone()),
            CommandExtension::Sidn(sidn::Ext::ContactUpdate(c)) if !create => out = Some(c.clone()),
            _ => {
                return Err(Refusal::new(
                    ResultCode::UnimplementedExtension,
                    Area::Codec,
                    format!(
                        "this extension cannot be used with a contact {}",
                        if create { "create" } else { "update" }
                    ),
                ));
            }
        }
    }
    Ok(out)
}
