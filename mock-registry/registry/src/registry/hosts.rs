//! Host commands (RFC 5732): external hosts carry no addresses; hosts inside the TLD need
//! their superordinate domain, sponsored by the same registrar, and at least one address.

use std::collections::BTreeSet;
use std::net::IpAddr;

use jiff::Timestamp;

use super::names::{normalize, superordinate};
use super::objects::Host;
use super::refusal::{Area, Refusal};
use super::{Outcome, Registry, Reply};
use epp::host::{self, HostAddr, HostStatus, IpVersion};
use epp::message::ResData;
use epp::types::CheckResult;
use epp::{ResultCode, Text};

impl Registry {
    fn find_host(&self, name: &str) -> Result<&Host, Refusal> {
        let n = normalize(name, Area::Host, "host:name")?;
        self.hosts
            .get(&n)
            .ok_or_else(|| Refusal::not_found(Area::Host, "host", &n).field("host:name"))
    }

    fn sponsored_host(&self, cl_id: &str, name: &str) -> Result<&Host, Refusal> {
        let h = self.find_host(name)?;
        if h.sponsor != cl_id {
            return Err(Refusal::not_sponsor("host", &h.name).field("host:name"));
        }
        Ok(h)
    }

    /// Whether any domain delegates to the host.
    pub(super) fn host_linked(&self, name: &str) -> bool {
        self.domains
            .values()
            .any(|d| d.ns.iter().any(|n| n == name))
    }

    pub(super) fn host_check(&self, names: &[String]) -> Reply {
        let results = names
            .iter()
            .map(|name| match normalize(name, Area::Host, "host:name") {
                Ok(n) => CheckResult {
                    avail: !self.hosts.contains_key(&n),
                    reason: self.hosts.contains_key(&n).then(|| Text::new("In use")),
                    name: n,
                },
                Err(_) => CheckResult {
                    name: name.clone(),
                    avail: false,
                    reason: Some(Text::new("Invalid host name")),
                },
            })
            .collect();
        Reply::data(ResData::HostCheck(results))
    }

    pub(super) fn host_info(&self, name: &str) -> Outcome {
        let h = self.find_host(name)?;
        Ok(Reply::data(ResData::HostInfo(Box::new(
            h.info(self.host_linked(&h.name)),
        ))))
    }

    /// Checks that `cl_id` may have a host called `name` with `addrs`, and returns the parsed
    /// addresses.
    fn host_rules(&self, cl_id: &str, name: &str, addrs: &[IpAddr]) -> Result<(), Refusal> {
        if name.split('.').count() < 2 {
            return Err(Refusal::policy(
                Area::Host,
                format!("{name} is not a fully qualified host name"),
            )
            .field("host:name"));
        }
        match superordinate(name, &self.policy.tld) {
            Some(parent) => {
                let d = self.domains.get(&parent).ok_or_else(|| {
                    Refusal::new(
                        ResultCode::ObjectDoesNotExist,
                        Area::Host,
                        format!(
                            "{name} is inside .{}, but {parent} is not registered",
                            self.policy.tld
                        ),
                    )
                    .field("host:name")
                })?;
                if d.sponsor != cl_id {
                    return Err(Refusal::new(
                        ResultCode::AuthorizationError,
                        Area::Authorization,
                        format!("{parent}, the superordinate domain of {name}, is sponsored by another registrar"),
                    )
                    .field("host:name"));
                }
                if addrs.is_empty() {
                    return Err(Refusal::new(
                        ResultCode::RequiredParameterMissing,
                        Area::Host,
                        format!(
                            "{name} is inside .{}: it needs glue addresses",
                            self.policy.tld
                        ),
                    )
                    .field("host:addr"));
                }
            }
            None => {
                if !addrs.is_empty() {
                    return Err(Refusal::policy(
                        Area::Host,
                        format!(
                            "{name} is outside .{}: addresses are not allowed (RFC 5732 §3.2.1)",
                            self.policy.tld
                        ),
                    )
                    .field("host:addr"));
                }
            }
        }
        Ok(())
    }

    pub(super) fn host_create(&mut self, cl_id: &str, c: &host::Create, now: Timestamp) -> Outcome {
        let name = normalize(&c.name, Area::Host, "host:name")?;
        if self.hosts.contains_key(&name) {
            return Err(Refusal::new(
                ResultCode::ObjectExists,
                Area::Host,
                format!("{name} exists"),
            )
            .field("host:name"));
        }
        let addrs = parse_addrs(&c.addrs)?;
        self.host_rules(cl_id, &name, &addrs)?;
        let roid = self.roid("HOST");
        self.hosts.insert(
            name.clone(),
            Host {
                name: name.clone(),
                roid,
                addrs,
                statuses: BTreeSet::new(),
                sponsor: cl_id.to_string(),
                cr_id: cl_id.to_string(),
                cr_date: now,
                up_id: None,
                up_date: None,
                tr_date: None,
            },
        );
        Ok(Reply::data(ResData::HostCreate(host::CreData {
            name,
            cr_date: now,
        })))
    }

    pub(super) fn host_update(&mut self, cl_id: &str, u: &host::Update, now: Timestamp) -> Outcome {
        let current = self.sponsored_host(cl_id, &u.name)?;
        if current
            .statuses
            .contains(&HostStatus::ClientUpdateProhibited)
            && !u.rem.as_ref().is_some_and(|r| {
                r.statuses
                    .iter()
                    .any(|s| s.value == HostStatus::ClientUpdateProhibited)
            })
        {
            return Err(Refusal::new(
                ResultCode::ObjectStatusProhibitsOperation,
                Area::Host,
                format!("{} has status clientUpdateProhibited", current.name),
            ));
        }
        if u.add.is_none() && u.rem.is_none() && u.new_name.is_none() {
            return Err(Refusal::new(
                ResultCode::RequiredParameterMissing,
                Area::Host,
                "an update needs host:add, host:rem or host:chg",
            ));
        }
        let mut h = current.clone();
        let old_name = h.name.clone();
        if let Some(rem) = &u.rem {
            for a in parse_addrs(&rem.addrs)? {
                let before = h.addrs.len();
                h.addrs.retain(|x| *x != a);
                if h.addrs.len() == before {
                    return Err(Refusal::policy(
                        Area::Host,
                        format!("{a} is not an address of {}", h.name),
                    )
                    .field("host:addr"));
                }
            }
            for s in &rem.statuses {
                if !h.statuses.remove(&s.value) {
                    return Err(Refusal::policy(
                        Area::Host,
                        format!("{} does not have status {}", h.name, s.value),
                    )
                    .field("host:status"));
                }
            }
        }
        if let Some(add) = &u.add {
            for a in parse_addrs(&add.addrs)? {
                if h.addrs.contains(&a) {
                    return Err(Refusal::policy(
                        Area::Host,
                        format!("{a} is already an address of {}", h.name),
                    )
                    .field("host:addr"));
                }
                h.addrs.push(a);
            }
            for s in &add.statuses {
                if !s.value.is_client_settable() || !h.statuses.insert(s.value) {
                    return Err(Refusal::policy(
                        Area::Host,
                        format!("status {} cannot be added", s.value),
                    )
                    .field("host:status"));
                }
            }
        }
        if let Some(new) = &u.new_name {
            let n = normalize(new, Area::Host, "host:name")?;
            if n != h.name && self.hosts.contains_key(&n) {
                return Err(Refusal::new(
                    ResultCode::ObjectExists,
                    Area::Host,
                    format!("{n} exists"),
                )
                .field("host:name"));
            }
            h.name = n;
        }
        self.host_rules(cl_id, &h.name, &h.addrs)?;
        h.up_id = Some(cl_id.to_string());
        h.up_date = Some(now);
        let glue_changed = h.addrs != current.addrs || h.name != old_name;
        let linked = self.host_linked(&old_name);
        self.hosts.remove(&old_name);
        if h.name != old_name {
            for d in self.domains.values_mut() {
                for ns in &mut d.ns {
                    if *ns == old_name {
                        ns.clone_from(&h.name);
                    }
                }
            }
        }
        self.hosts.insert(h.name.clone(), h);
        if linked && glue_changed {
            self.generation += 1;
        }
        Ok(Reply::ok())
    }

    pub(super) fn host_delete(&mut self, cl_id: &str, name: &str) -> Outcome {
        let h = self.sponsored_host(cl_id, name)?;
        if self.host_linked(&h.name) {
            return Err(Refusal::new(
                ResultCode::ObjectAssociationProhibitsOperation,
                Area::Host,
                format!("{} is a name server of a domain", h.name),
            ));
        }
        if h.statuses.contains(&HostStatus::ClientDeleteProhibited) {
            return Err(Refusal::new(
                ResultCode::ObjectStatusProhibitsOperation,
                Area::Host,
                format!("{} has status clientDeleteProhibited", h.name),
            ));
        }
        let key = h.name.clone();
        self.hosts.remove(&key);
        Ok(Reply::ok())
    }
}

fn parse_addrs(addrs: &[HostAddr]) -> Result<Vec<IpAddr>, Refusal> {
    let mut out: Vec<IpAddr> = Vec::new();
    for a in addrs {
        let ip: IpAddr = a.addr.parse().map_err(|_| {
            Refusal::new(
                ResultCode::ParameterValueSyntaxError,
                Area::Host,
                format!("{:?} is not an IP address", a.addr),
            )
            .field("host:addr")
        })?;
        if ip.is_ipv4() != (a.ip == IpVersion::V4) {
            return Err(Refusal::new(
                ResultCode::ParameterValueSyntaxError,
                Area::Host,
                format!(
                    "{ip} does not match ip=\"{}\"",
                    if a.ip == IpVersion::V4 { "v4" } else { "v6" }
                ),
            )
            .field("host:addr"));
        }
        if out.contains(&ip) {
            return Err(
                Refusal::policy(Area::Host, format!("{ip} is listed twice")).field("host:addr")
            );
        }
        out.push(ip);
    }
    Ok(out)
}
