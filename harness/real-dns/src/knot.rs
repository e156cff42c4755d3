//! Knot DNS 3.2, driven with `knotc` (configuration and zone transactions) and `keymgr`.
//!
//! # What Knot does that a harness must know
//!
//! - It signs ahead of time: a change (a zone transaction) is signed incrementally when it
//!   is committed, and the whole zone is re-signed when signatures reach their refresh time.
//!   Each signing bumps the SOA serial (`serial-policy: increment`), so the serial also moves
//!   when nobody changed anything, at every refresh.
//! - RRSIG inception is 90 minutes before signing (clock-skew margin), expiration is
//!   `rrsig-lifetime` after signing; Knot refuses a policy whose `rrsig-refresh` is too short
//!   for `zone-max-ttl` + `propagation-delay` (this crate sets `propagation-delay: 0`).
//! - The DNSKEY TTL is the policy's `dnskey-ttl`; NSEC/NSEC3 records get min(SOA TTL, SOA
//!   MINIMUM) (RFC 9077).
//! - Foreign keys are kept only with `dnskey-management: incremental`; they are added and
//!   removed through zone transactions and signed with the zone's KSK at commit (the whole
//!   call, transaction + seeing it over DNS, measured about 30 ms), and they survive the full
//!   re-signings. One of another algorithm is published too, with no signature of its
//!   algorithm.
//! - The KSK stays in state "ready" (no parent to confirm a submission) and signs the DNSKEY
//!   set from the start; no automatic rollovers (`ksk-lifetime`/`zsk-lifetime` 0), no CDS.
//! - Zones are added and removed at run time with configuration transactions; a removed
//!   zone is purged (zone file, journal, keys), so a zone created again gets new keys.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::backend::{Capabilities, Core, DnskeyTtlSource, Driver, Hosted, RecordSets};
use crate::error::{Error, Result};
use crate::pdns::unique_label;
use crate::process::{self, ServerProcess};
use crate::zone::{Algorithm, Denial, DnsKey, KeyScheme, OwnKeys};

const SOFTWARE: &str = "Knot DNS 3.2";

/// Where to find Knot and how long to wait for it.
#[derive(Debug, Clone)]
pub struct KnotConfig {
    /// The `knotd` server program (Debian: /usr/sbin/knotd).
    pub knotd: PathBuf,
    /// The `knotc` control program, used to load zones and wait for signing.
    pub knotc: PathBuf,
    /// The `keymgr` program, used to import relayed keys and list the zone's own.
    pub keymgr: PathBuf,
    /// The PATH to look programs up in; `None` for this process's PATH.
    pub search_path: Option<OsString>,
    /// How long the server may take to answer after it is started.
    pub start_timeout: Duration,
    /// How long a change may take to be served.
    pub change_timeout: Duration,
}

impl Default for KnotConfig {
    fn default() -> Self {
        Self {
            knotd: "knotd".into(),
            knotc: "knotc".into(),
            keymgr: "keymgr".into(),
            search_path: None,
            start_timeout: Duration::from_secs(15),
            change_timeout: Duration::from_secs(10),
        }
    }
}

/// A running Knot DNS server in its own temporary directory.
#[derive(Debug)]
pub struct Knot {
    core: Core,
    driver: KnotDriver,
}

crate::backend::impl_backend!(Knot);

/// What Knot DNS 3.2 supports, as this crate drives it.
pub fn capabilities() -> Capabilities {
    Capabilities {
        software: SOFTWARE,
        algorithms: Algorithm::ALL.to_vec(),
        csk: true,
        nsec3_opt_out: true,
        dnskey_ttl: DnskeyTtlSource::AsAsked,
        signature_timing: true,
        serial_policy: "+1 on every change and every (re-)signing (serial-policy increment)",
    }
}

impl Knot {
    /// Starts Knot with the programs found in PATH.
    pub async fn start() -> Result<Self> {
        Self::start_with(KnotConfig::default()).await
    }

    /// Starts Knot as configured; a port taken meanwhile by another process is retried with
    /// fresh ports.
    pub async fn start_with(config: KnotConfig) -> Result<Self> {
        let search = config.search_path.as_deref();
        let knotd = process::find_binary(&config.knotd, search, "knot")?;
        let knotc = process::find_binary(&config.knotc, search, "knot")?;
        let keymgr = process::find_binary(&config.keymgr, search, "knot")?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::start_once(&config, &knotd, &knotc, &keymgr).await {
                Err(e) if attempt < 3 && process::is_port_conflict(&e) => {
                    tracing::warn!(%e, "Knot start: port conflict, retrying");
                }
                other => return other,
            }
        }
    }

    async fn start_once(
        config: &KnotConfig,
        knotd: &Path,
        knotc: &Path,
        keymgr: &Path,
    ) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("real-dns-knot-")
            .tempdir()
            .map_err(|e| Error::io("creating a temporary directory", e))?;
        let path = dir.path().to_path_buf();
        let zones = path.join("zones");
        let db = path.join("db");
        for d in [&zones, &db] {
            std::fs::create_dir(d)
                .map_err(|e| Error::io(format!("creating {}", d.display()), e))?;
        }
        let port = process::free_port()?;
        let probe = format!("{}.real-dns.invalid", unique_label("k"));
        write(
            &zones.join(format!("{probe}.zone")),
            &format!("{probe}. 60 SOA localhost. hostmaster.{probe}. 1 3600 900 1209600 60\n"),
        )?;
        let socket = path.join("knot.sock");
        let conf_path = path.join("knot.conf");
        // Two workers of each kind keep the thread count small with many servers in parallel;
        // signing runs in the background workers.
        let conf = format!(
            "server:\n    rundir: \"{dir}\"\n    listen: 127.0.0.1@{port}\n    \
             udp-workers: 1\n    tcp-workers: 1\n    background-workers: 2\n\
             database:\n    storage: \"{db}\"\n\
             control:\n    listen: \"{socket}\"\n\
             log:\n  - target: stderr\n    any: info\n\
             template:\n  - id: default\n    storage: \"{zones}\"\n    file: \"%s.zone\"\n    \
             zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: changes\n    \
             serial-policy: increment\n\
             zone:\n  - domain: {probe}\n",
            dir = path.display(),
            db = db.display(),
            socket = socket.display(),
            zones = zones.display(),
        );
        write(&conf_path, &conf)?;
        let args = [OsString::from("-c"), conf_path.clone().into_os_string()];
        let process = ServerProcess::spawn(SOFTWARE, knotd, &args, dir, vec![port])?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        process
            .wait_ready(addr, &probe, config.start_timeout)
            .await?;
        Ok(Self {
            core: Core {
                caps: capabilities(),
                addr,
                process,
                zones: tokio::sync::Mutex::new(Default::default()),
                change_timeout: config.change_timeout,
            },
            driver: KnotDriver {
                knotc: knotc.to_path_buf(),
                keymgr: keymgr.to_path_buf(),
                socket,
                conf: conf_path,
                zones_dir: zones,
            },
        })
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.core.process.pid()
    }

    /// The server's temporary directory (configuration, zone files, KASP database, log).
    pub fn dir(&self) -> &Path {
        self.core.process.dir()
    }

    /// The server's log file.
    pub fn log_path(&self) -> &Path {
        self.core.process.log_path()
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

/// `knotc` and `keymgr` for one server.
#[derive(Debug)]
struct KnotDriver {
    knotc: PathBuf,
    keymgr: PathBuf,
    socket: PathBuf,
    conf: PathBuf,
    zones_dir: PathBuf,
}

/// Knot's name for an algorithm.
fn knot_algorithm(a: Algorithm) -> &'static str {
    match a {
        Algorithm::RsaSha256 => "rsasha256",
        Algorithm::EcdsaP256Sha256 => "ecdsap256sha256",
        Algorithm::Ed25519 => "ed25519",
    }
}

impl KnotDriver {
    /// One `knotc` command over the control socket.
    async fn knotc(&self, args: &[&str]) -> Result<String> {
        let socket = self.socket.display().to_string();
        let mut all = vec!["-s", socket.as_str(), "-t", "20"];
        all.extend_from_slice(args);
        process::run_control(&self.knotc, &all).await
    }

    /// Runs `commands` inside a configuration transaction; aborts it on failure.
    async fn conf_transaction(&self, commands: &[Vec<String>]) -> Result<()> {
        self.knotc(&["conf-begin"]).await?;
        for c in commands {
            let args: Vec<&str> = c.iter().map(String::as_str).collect();
            if let Err(e) = self.knotc(&args).await {
                let _abort = self.knotc(&["conf-abort"]).await;
                return Err(e);
            }
        }
        if let Err(e) = self.knotc(&["conf-commit"]).await {
            let _abort = self.knotc(&["conf-abort"]).await;
            return Err(e);
        }
        Ok(())
    }

    /// Runs zone-set / zone-unset `commands` inside a zone transaction; aborts on failure.
    async fn zone_transaction(&self, zone: &str, commands: &[Vec<String>]) -> Result<()> {
        self.knotc(&["zone-begin", zone]).await?;
        for c in commands {
            let args: Vec<&str> = c.iter().map(String::as_str).collect();
            if let Err(e) = self.knotc(&args).await {
                let _abort = self.knotc(&["zone-abort", zone]).await;
                return Err(e);
            }
        }
        if let Err(e) = self.knotc(&["zone-commit", zone]).await {
            let _abort = self.knotc(&["zone-abort", zone]).await;
            return Err(e);
        }
        Ok(())
    }

    /// The zone file Knot loads the zone from at creation.
    fn zone_file(zone: &Hosted) -> String {
        let apex = zone.apex();
        let mut text = format!("{apex} {} SOA {}\n", zone.ttls.soa, zone.soa_rdata());
        for ns in &zone.ns {
            text.push_str(&format!("{apex} {} NS {ns}\n", zone.ttls.ns));
        }
        for set in zone.records.values() {
            for r in set {
                text.push_str(&format!("{r}\n"));
            }
        }
        text
    }

    /// The policy for a signed zone, as `conf-set` commands (the policy is named after the
    /// zone: one policy per zone keeps removal simple).
    fn policy_commands(zone: &Hosted) -> Vec<Vec<String>> {
        let Some(s) = zone.signing else {
            return Vec::new();
        };
        let id = &zone.name;
        let lifetime = s.timing.lifetime.as_secs();
        let refresh = s.timing.refresh.as_secs();
        // Knot re-signs this long before the refresh point to batch work; keep it well below
        // the refresh so short test lifetimes stay valid.
        let pre_refresh = (refresh / 4).min(3600);
        let mut items: Vec<(&str, String)> = vec![
            ("algorithm", knot_algorithm(s.algorithm).into()),
            (
                "single-type-signing",
                if s.keys == KeyScheme::Csk {
                    "on"
                } else {
                    "off"
                }
                .into(),
            ),
            ("dnskey-ttl", zone.ttls.dnskey.to_string()),
            ("propagation-delay", "0".into()),
            ("rrsig-lifetime", lifetime.to_string()),
            ("rrsig-refresh", refresh.to_string()),
            ("rrsig-pre-refresh", pre_refresh.to_string()),
            ("ksk-lifetime", "0".into()),
            ("zsk-lifetime", "0".into()),
            ("dnskey-management", "incremental".into()),
            ("delete-delay", "1d".into()),
            ("cds-cdnskey-publish", "none".into()),
        ];
        if s.algorithm == Algorithm::RsaSha256 {
            items.push(("ksk-size", "2048".into()));
            items.push(("zsk-size", "2048".into()));
        }
        match s.denial {
            Denial::Nsec => items.push(("nsec3", "off".into())),
            Denial::Nsec3 { opt_out } => {
                // RFC 9276: no extra iterations, no salt.
                items.push(("nsec3", "on".into()));
                items.push(("nsec3-iterations", "0".into()));
                items.push(("nsec3-salt-length", "0".into()));
                items.push(("nsec3-opt-out", if opt_out { "on" } else { "off" }.into()));
            }
        }
        let mut commands = vec![vec!["conf-set".to_string(), format!("policy[{id}]")]];
        for (item, value) in items {
            commands.push(vec![
                "conf-set".into(),
                format!("policy[{id}].{item}"),
                value,
            ]);
        }
        commands
    }

    fn dnskey_set(zone: &Hosted, key: &DnsKey, set: bool) -> Vec<String> {
        let mut c = vec![
            if set { "zone-set" } else { "zone-unset" }.to_string(),
            zone.name.clone(),
            zone.apex(),
        ];
        if set {
            c.push(zone.ttls.dnskey.to_string());
        }
        c.push("DNSKEY".into());
        c.push(key.to_string());
        c
    }
}

impl Driver for KnotDriver {
    async fn create(&self, zone: &Hosted) -> Result<()> {
        write(
            &self.zones_dir.join(format!("{}.zone", zone.name)),
            &Self::zone_file(zone),
        )?;
        let mut commands = Self::policy_commands(zone);
        let z = format!("zone[{}]", zone.name);
        commands.push(vec!["conf-set".into(), z.clone()]);
        if zone.signing.is_some() {
            commands.push(vec![
                "conf-set".into(),
                format!("{z}.dnssec-signing"),
                "on".into(),
            ]);
            commands.push(vec![
                "conf-set".into(),
                format!("{z}.dnssec-policy"),
                zone.name.clone(),
            ]);
        }
        self.conf_transaction(&commands).await
    }

    async fn own_keys(&self, zone: &Hosted) -> Result<OwnKeys> {
        let conf = self.conf.display().to_string();
        let list = process::run_control(&self.keymgr, &["-c", &conf, &zone.name, "list"]).await?;
        let unexpected = |what: String| Error::Unexpected {
            software: SOFTWARE,
            what,
        };
        let mut own = OwnKeys::default();
        // Lines: `<id> <tag> KSK|ZSK|CSK <ALGORITHM> publish=… ready=… active=…`.
        for line in list.lines().filter(|l| !l.trim().is_empty()) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(id), Some(role)) = (fields.first(), fields.get(2)) else {
                return Err(unexpected(format!("keymgr list line {line:?}")));
            };
            if fields.iter().any(|f| f.starts_with("remove=")) {
                continue;
            }
            let out = process::run_control(&self.keymgr, &["-c", &conf, &zone.name, "dnskey", id])
                .await?;
            // `<zone>. DNSKEY 257 3 13 <base64>`
            let rdata = out
                .split_once("DNSKEY")
                .map(|(_, r)| r.trim())
                .ok_or_else(|| unexpected(format!("keymgr dnskey output {out:?}")))?;
            let key = DnsKey::parse(rdata)?;
            match *role {
                "KSK" => own.ksks.push(key),
                "ZSK" => own.zone_signing.push(key),
                "CSK" => {
                    own.ksks.push(key.clone());
                    own.zone_signing.push(key);
                }
                other => return Err(unexpected(format!("key role {other:?}"))),
            }
        }
        Ok(own)
    }

    async fn set_foreign(&self, zone: &Hosted, old: &[DnsKey]) -> Result<()> {
        let mut commands: Vec<Vec<String>> = old
            .iter()
            .filter(|k| !zone.foreign.contains(k))
            .map(|k| Self::dnskey_set(zone, k, false))
            .collect();
        commands.extend(
            zone.foreign
                .iter()
                .filter(|k| !old.contains(k))
                .map(|k| Self::dnskey_set(zone, k, true)),
        );
        self.zone_transaction(&zone.name, &commands).await
    }

    async fn set_records(&self, zone: &Hosted, old: &RecordSets) -> Result<()> {
        let mut commands = Vec::new();
        for ((owner, rtype), set) in old {
            if zone.records.get(&(owner.clone(), rtype.clone())) != Some(set) {
                commands.push(vec![
                    "zone-unset".into(),
                    zone.name.clone(),
                    owner.clone(),
                    rtype.clone(),
                ]);
            }
        }
        for (key, set) in &zone.records {
            if old.get(key) != Some(set) {
                for r in set {
                    commands.push(vec![
                        "zone-set".into(),
                        zone.name.clone(),
                        r.owner.clone(),
                        r.ttl.to_string(),
                        r.rtype.clone(),
                        r.rdata.clone(),
                    ]);
                }
            }
        }
        self.zone_transaction(&zone.name, &commands).await
    }

    async fn set_ns(&self, zone: &Hosted, _old: &[String]) -> Result<()> {
        let apex = zone.apex();
        let mut commands = vec![vec![
            "zone-unset".into(),
            zone.name.clone(),
            apex.clone(),
            "NS".into(),
        ]];
        for ns in &zone.ns {
            commands.push(vec![
                "zone-set".into(),
                zone.name.clone(),
                apex.clone(),
                zone.ttls.ns.to_string(),
                "NS".into(),
                ns.clone(),
            ]);
        }
        self.zone_transaction(&zone.name, &commands).await
    }

    async fn remove(&self, zone: &Hosted) -> Result<()> {
        // Purge first, while the zone is still configured: zone file, journal, timers and
        // keys go, so a zone created again later starts afresh.
        let purged = self.knotc(&["-f", "zone-purge", &zone.name]).await;
        let z = format!("zone[{}]", zone.name);
        let mut commands = vec![vec!["conf-unset".to_string(), z]];
        if zone.signing.is_some() {
            commands.push(vec!["conf-unset".into(), format!("policy[{}]", zone.name)]);
        }
        let unset = self.conf_transaction(&commands).await;
        purged.and(unset)
    }
}
