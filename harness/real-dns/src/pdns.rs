//! PowerDNS Authoritative 4.7 with the gsqlite3 backend, driven through its HTTP API.
//!
//! # What PowerDNS does that a harness must know
//!
//! - It signs on the fly: every answer is signed when asked, so a change is live as soon as
//!   the API call returns (caches are switched off in the generated configuration).
//! - Its signature windows are fixed: inception is a Thursday 00:00 UTC (seen 11.5 days
//!   before now), expiration three weeks after inception, so RRSIGs change only weekly.
//!   [`crate::SignatureTiming`] is ignored.
//! - The DNSKEY RRset gets the SOA MINIMUM as TTL, whatever TTL the stored (foreign) DNSKEY
//!   records have; so does NSEC3PARAM. [`crate::Ttls::dnskey`] cannot be set apart from
//!   [`crate::Ttls::soa_minimum`]. NSEC/NSEC3 records and the SOA in negative answers get
//!   min(SOA TTL, SOA MINIMUM) (RFC 9077), like Knot.
//! - The SOA serial: zones are created with serial 1 and `soa_edit_api: INCREASE`, so every
//!   zone change through the API (the creation itself, records, NS, foreign keys, NSEC3
//!   parameters) adds one. Adding cryptokeys does not change the serial. Nothing changes the
//!   serial on its own: PowerDNS never re-signs ahead of time.
//! - A zone is made in steps (zone, then keys, then NSEC3 parameters, then rectify), so for a
//!   few milliseconds during [`crate::DnsBackend::create_zone`] it is served unsigned, then
//!   with NSEC. Nothing is delegated to it yet at that point in a scenario; the call returns
//!   only once the finished zone is served.
//! - With `direct-dnskey=yes`, DNSKEY records stored in the zone are added to the keys
//!   synthesised from the zone's cryptokeys, and the whole RRset is signed by the KSK(s). A
//!   foreign key is served within milliseconds (the whole call, PATCH + rectify + seeing it
//!   over DNS, measured 6–8 ms). One of another algorithm is published too, with no
//!   signature of its algorithm.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::backend::{Capabilities, Core, DnskeyTtlSource, Driver, Hosted, RecordSets};
use crate::error::{Error, Result};
use crate::http;
use crate::process::{self, ServerProcess};
use crate::zone::{Algorithm, Denial, DnsKey, KeyScheme, OwnKeys};

const SOFTWARE: &str = "PowerDNS Authoritative 4.7";

/// Where to find PowerDNS and how long to wait for it.
#[derive(Debug, Clone)]
pub struct PowerDnsConfig {
    /// `pdns_server` (a name looked up in [`PowerDnsConfig::search_path`], or a path).
    pub pdns_server: PathBuf,
    /// `sqlite3`, to create the database from the schema.
    pub sqlite3: PathBuf,
    /// The gsqlite3 schema shipped by `pdns-backend-sqlite3`.
    pub schema: PathBuf,
    /// The PATH to look programs up in; `None` for this process's PATH.
    pub search_path: Option<OsString>,
    /// How long the server may take to answer after it is started.
    pub start_timeout: Duration,
    /// How long a change may take to be served.
    pub change_timeout: Duration,
}

impl Default for PowerDnsConfig {
    fn default() -> Self {
        Self {
            pdns_server: "pdns_server".into(),
            sqlite3: "sqlite3".into(),
            schema: "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql".into(),
            search_path: None,
            start_timeout: Duration::from_secs(15),
            change_timeout: Duration::from_secs(10),
        }
    }
}

/// A running PowerDNS Authoritative server in its own temporary directory.
#[derive(Debug)]
pub struct PowerDns {
    core: Core,
    driver: PdnsDriver,
}

crate::backend::impl_backend!(PowerDns);

/// What PowerDNS 4.7 supports, as this crate drives it.
pub fn capabilities() -> Capabilities {
    Capabilities {
        software: SOFTWARE,
        algorithms: Algorithm::ALL.to_vec(),
        csk: true,
        nsec3_opt_out: true,
        dnskey_ttl: DnskeyTtlSource::SoaMinimum,
        signature_timing: false,
        serial_policy: "+1 on every zone change through the API (soa_edit_api INCREASE); never on its own",
    }
}

/// A name unique to this process's servers, so a server that answers for it is ours.
pub(crate) fn unique_label(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{prefix}{}x{n}x{nanos:x}", std::process::id())
}

impl PowerDns {
    /// Starts PowerDNS with default paths.
    pub async fn start() -> Result<Self> {
        Self::start_with(PowerDnsConfig::default()).await
    }

    /// Starts PowerDNS as configured; a port taken meanwhile by another process is retried
    /// with fresh ports.
    pub async fn start_with(config: PowerDnsConfig) -> Result<Self> {
        let search = config.search_path.as_deref();
        let pdns_server = process::find_binary(&config.pdns_server, search, "pdns-server")?;
        let sqlite3 = process::find_binary(&config.sqlite3, search, "sqlite3")?;
        if !config.schema.is_file() {
            return Err(Error::MissingFile {
                path: config.schema.clone(),
                package: "pdns-backend-sqlite3",
            });
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::start_once(&config, &pdns_server, &sqlite3).await {
                Err(e) if attempt < 3 && process::is_port_conflict(&e) => {
                    tracing::warn!(%e, "PowerDNS start: port conflict, retrying");
                }
                other => return other,
            }
        }
    }

    async fn start_once(
        config: &PowerDnsConfig,
        pdns_server: &std::path::Path,
        sqlite3: &std::path::Path,
    ) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("real-dns-pdns-")
            .tempdir()
            .map_err(|e| Error::io("creating a temporary directory", e))?;
        let path = dir.path();
        let dns_port = process::free_port()?;
        let web_port = process::free_port()?;
        let api_key = unique_label("key");
        let probe = format!("{}.real-dns.invalid", unique_label("p"));

        // The database: the packaged schema plus a probe zone, so readiness means "answers
        // for a zone only this server has".
        let db = path.join("pdns.sqlite3");
        let script = path.join("init.sql");
        // Without fsyncs the schema loads in milliseconds instead of a quarter second; the
        // database lives only as long as the test anyway.
        let mut sql = String::from("PRAGMA synchronous = OFF;\nPRAGMA journal_mode = MEMORY;\n");
        sql.push_str(
            &std::fs::read_to_string(&config.schema)
                .map_err(|e| Error::io(format!("reading {}", config.schema.display()), e))?,
        );
        sql.push_str(&format!(
            "\nINSERT INTO domains (name, type) VALUES ('{probe}', 'NATIVE');\n\
             INSERT INTO records (domain_id, name, type, content, ttl, prio, disabled, auth) \
             SELECT id, '{probe}', 'SOA', 'localhost. hostmaster.{probe}. 1 3600 900 1209600 60', \
             60, 0, 0, 1 FROM domains WHERE name = '{probe}';\n"
        ));
        write(&script, &sql)?;
        let db_text = db.display().to_string();
        let read = format!(".read {}", script.display());
        process::run_control(sqlite3, &[db_text.as_str(), read.as_str()]).await?;

        let conf = format!(
            "launch=gsqlite3\n\
             gsqlite3-database={db}\n\
             gsqlite3-dnssec=yes\n\
             gsqlite3-pragma-synchronous=0\n\
             local-address=127.0.0.1\n\
             local-port={dns_port}\n\
             socket-dir={dir}\n\
             direct-dnskey=yes\n\
             api=yes\n\
             api-key={api_key}\n\
             webserver=yes\n\
             webserver-address=127.0.0.1\n\
             webserver-port={web_port}\n\
             webserver-allow-from=127.0.0.0/8\n\
             daemon=no\n\
             guardian=no\n\
             setuid=\n\
             setgid=\n\
             disable-syslog=yes\n\
             security-poll-suffix=\n\
             cache-ttl=0\n\
             query-cache-ttl=0\n\
             negquery-cache-ttl=0\n\
             dnssec-key-cache-ttl=0\n\
             zone-metadata-cache-ttl=0\n\
             receiver-threads=1\n\
             distributor-threads=1\n\
             signing-threads=1\n",
            db = db.display(),
            dir = path.display(),
        );
        write(&path.join("pdns.conf"), &conf)?;
        let args = [OsString::from(format!("--config-dir={}", path.display()))];
        let process =
            ServerProcess::spawn(SOFTWARE, pdns_server, &args, dir, vec![dns_port, web_port])?;
        let addr = SocketAddr::from(([127, 0, 0, 1], dns_port));
        process
            .wait_ready(addr, &probe, config.start_timeout)
            .await?;
        let driver = PdnsDriver {
            api: SocketAddr::from(([127, 0, 0, 1], web_port)),
            api_key,
        };
        // The webserver starts before the DNS listeners in 4.7, but make sure.
        driver.call("GET", "", None).await.map_err(|e| match e {
            Error::Io { .. } => Error::StartTimeout {
                software: SOFTWARE,
                zone: "(HTTP API)".into(),
                waited: config.start_timeout,
                log_tail: process.log_tail(),
            },
            other => other,
        })?;
        Ok(Self {
            core: Core {
                caps: capabilities(),
                addr,
                process,
                zones: tokio::sync::Mutex::new(Default::default()),
                change_timeout: config.change_timeout,
            },
            driver,
        })
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.core.process.pid()
    }

    /// The server's temporary directory (configuration, database, log).
    pub fn dir(&self) -> &std::path::Path {
        self.core.process.dir()
    }

    /// The server's log file.
    pub fn log_path(&self) -> &std::path::Path {
        self.core.process.log_path()
    }
}

fn write(path: &std::path::Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

/// The HTTP API client for one server.
#[derive(Debug)]
struct PdnsDriver {
    api: SocketAddr,
    api_key: String,
}

impl PdnsDriver {
    /// One API call below `/api/v1/servers/localhost`; a status outside 2xx is an
    /// [`Error::Api`]. Returns the JSON answer (`Null` when empty).
    async fn call(&self, method: &'static str, path: &str, body: Option<Value>) -> Result<Value> {
        let full = format!("/api/v1/servers/localhost{path}");
        let (status, text) =
            http::request(self.api, method, &full, &self.api_key, body.as_ref()).await?;
        if !(200..300).contains(&status) {
            return Err(Error::Api {
                method,
                path: full,
                status,
                body: text,
            });
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| Error::Http {
            path: full,
            reason: format!("not JSON: {e}"),
        })
    }

    fn zone_path(zone: &Hosted) -> String {
        format!("/zones/{}", zone.apex())
    }

    async fn rectify(&self, zone: &Hosted) -> Result<()> {
        self.call("PUT", &format!("{}/rectify", Self::zone_path(zone)), None)
            .await
            .map(drop)
    }

    async fn patch(&self, zone: &Hosted, rrsets: Vec<Value>) -> Result<()> {
        self.call(
            "PATCH",
            &Self::zone_path(zone),
            Some(json!({ "rrsets": rrsets })),
        )
        .await?;
        self.rectify(zone).await
    }
}

/// An rrset for the API: REPLACE with these records.
fn rrset(owner: &str, rtype: &str, ttl: u32, contents: &[String]) -> Value {
    let records: Vec<Value> = contents
        .iter()
        .map(|c| json!({ "content": c, "disabled": false }))
        .collect();
    json!({
        "name": owner,
        "type": rtype,
        "ttl": ttl,
        "changetype": "REPLACE",
        "records": records,
    })
}

fn delete(owner: &str, rtype: &str) -> Value {
    json!({ "name": owner, "type": rtype, "changetype": "DELETE" })
}

fn record_rrsets(records: &RecordSets) -> Vec<Value> {
    records
        .iter()
        .map(|((owner, rtype), set)| {
            let contents: Vec<String> = set.iter().map(|r| r.rdata.clone()).collect();
            let ttl = set.first().map(|r| r.ttl).unwrap_or_default();
            rrset(owner, rtype, ttl, &contents)
        })
        .collect()
}

impl Driver for PdnsDriver {
    async fn create(&self, zone: &Hosted) -> Result<()> {
        let apex = zone.apex();
        let mut rrsets = vec![
            rrset(&apex, "SOA", zone.ttls.soa, &[zone.soa_rdata()]),
            rrset(&apex, "NS", zone.ttls.ns, &zone.ns),
        ];
        rrsets.extend(record_rrsets(&zone.records));
        self.call(
            "POST",
            "/zones",
            Some(json!({
                "name": apex,
                "kind": "Native",
                "nameservers": [],
                "soa_edit_api": "INCREASE",
                "api_rectify": true,
                "rrsets": rrsets,
            })),
        )
        .await?;
        let Some(signing) = zone.signing else {
            return Ok(());
        };
        let roles: &[&str] = match signing.keys {
            KeyScheme::KskZsk => &["ksk", "zsk"],
            KeyScheme::Csk => &["csk"],
        };
        for role in roles {
            let mut key = json!({
                "keytype": role,
                "active": true,
                "published": true,
                "algorithm": signing.algorithm.mnemonic(),
            });
            if signing.algorithm == Algorithm::RsaSha256 {
                key["bits"] = json!(2048);
            }
            self.call(
                "POST",
                &format!("{}/cryptokeys", Self::zone_path(zone)),
                Some(key),
            )
            .await?;
        }
        if let Denial::Nsec3 { opt_out } = signing.denial {
            // RFC 9276: SHA-1, no extra iterations, no salt.
            let param = format!("1 {} 0 -", u8::from(opt_out));
            self.call(
                "PUT",
                &Self::zone_path(zone),
                Some(json!({ "nsec3param": param, "nsec3narrow": false })),
            )
            .await?;
        }
        self.rectify(zone).await
    }

    async fn own_keys(&self, zone: &Hosted) -> Result<OwnKeys> {
        let keys = self
            .call(
                "GET",
                &format!("{}/cryptokeys", Self::zone_path(zone)),
                None,
            )
            .await?;
        let unexpected = |what: String| Error::Unexpected {
            software: SOFTWARE,
            what,
        };
        let list = keys
            .as_array()
            .ok_or_else(|| unexpected(format!("cryptokeys is not a list: {keys}")))?;
        let mut own = OwnKeys::default();
        for k in list {
            let active = k["active"].as_bool().unwrap_or(false);
            let published = k["published"].as_bool().unwrap_or(true);
            if !active || !published {
                continue;
            }
            let text = k["dnskey"]
                .as_str()
                .ok_or_else(|| unexpected(format!("cryptokey without dnskey: {k}")))?;
            let dnskey = DnsKey::parse(text)?;
            match k["keytype"].as_str() {
                Some("ksk") => own.ksks.push(dnskey),
                Some("zsk") => own.zone_signing.push(dnskey),
                Some("csk") => {
                    own.ksks.push(dnskey.clone());
                    own.zone_signing.push(dnskey);
                }
                other => return Err(unexpected(format!("cryptokey type {other:?}"))),
            }
        }
        Ok(own)
    }

    async fn set_foreign(&self, zone: &Hosted, _old: &[DnsKey]) -> Result<()> {
        let apex = zone.apex();
        let change = if zone.foreign.is_empty() {
            delete(&apex, "DNSKEY")
        } else {
            let contents: Vec<String> = zone.foreign.iter().map(DnsKey::to_string).collect();
            // PowerDNS serves the whole DNSKEY RRset with the SOA MINIMUM; store the same.
            rrset(&apex, "DNSKEY", zone.ttls.soa_minimum, &contents)
        };
        self.patch(zone, vec![change]).await
    }

    async fn set_records(&self, zone: &Hosted, old: &RecordSets) -> Result<()> {
        let mut changes: Vec<Value> = old
            .keys()
            .filter(|k| !zone.records.contains_key(*k))
            .map(|(owner, rtype)| delete(owner, rtype))
            .collect();
        changes.extend(record_rrsets(&zone.records));
        self.patch(zone, changes).await
    }

    async fn set_ns(&self, zone: &Hosted, _old: &[String]) -> Result<()> {
        self.patch(
            zone,
            vec![rrset(&zone.apex(), "NS", zone.ttls.ns, &zone.ns)],
        )
        .await
    }

    async fn remove(&self, zone: &Hosted) -> Result<()> {
        match self.call("DELETE", &Self::zone_path(zone), None).await {
            // Already gone (a create that failed half-way): nothing to remove.
            Err(Error::Api { status: 404, .. }) => Ok(()),
            other => other.map(drop),
        }
    }
}
