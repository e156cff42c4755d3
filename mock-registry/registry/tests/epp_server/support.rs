//! A registry world per test: a PKI in a temporary directory, the registry on a virtual
//! clock, the EPP server on 127.0.0.1:0, and logged-in clients.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clock::VirtualClock;
use epp::contact::{self, Address, PostalInfo, PostalType};
use epp::domain::{self, ContactType, DomainContact, NsList};
use epp::host;
use epp::message::{Check, CommandExtension, CommandKind, Create, Frame, ResData, Response};
use epp::secdns::{DsOrKey, DsOrKeySet, KeyData};
use epp::{AuthInfo, ResultCode};
use mock_registry::client::{EppClient, TranscriptEntry};
use mock_registry::pki::Pki;
use mock_registry::registry::{Policy, Registry, RegistryState};
use mock_registry::server::{EppServer, ServerConfig, SharedRegistry};
use mock_registry::testing::{Schema, assert_schema_valid};
use tempfile::TempDir;

pub(crate) const A: &str = "registrar-a";
pub(crate) const B: &str = "registrar-b";
pub(crate) const C: &str = "registrar-c";

pub(crate) struct World {
    _dir: TempDir,
    pub(crate) pki: Pki,
    pub(crate) registry: SharedRegistry,
    pub(crate) clock: VirtualClock,
    pub(crate) server: EppServer,
    transcripts: Mutex<Vec<TranscriptEntry>>,
}

impl World {
    pub(crate) async fn start() -> Self {
        Self::with_config(ServerConfig::default()).await
    }

    pub(crate) async fn with_config(config: ServerConfig) -> Self {
        Self::with(config, Policy::default()).await
    }

    pub(crate) async fn with_policy(policy: Policy) -> Self {
        Self::with(ServerConfig::default(), policy).await
    }

    async fn with(config: ServerConfig, policy: Policy) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::init(dir.path(), &[A, B, C]).unwrap();
        let clock = VirtualClock::new("2026-01-01T00:00:00Z".parse().unwrap());
        let mut registry = Registry::new(policy, Arc::new(clock.clone()), 7);
        for r in pki.registrars() {
            registry.add_registrar(r.clid().as_str(), r.password().expose());
        }
        let registry = Arc::new(Mutex::new(registry));
        let tls = Arc::new(mock_registry::tls::server_config(&pki).unwrap());
        let server = EppServer::start(
            "127.0.0.1:0".parse().unwrap(),
            tls,
            registry.clone(),
            config,
        )
        .await
        .unwrap();
        Self {
            _dir: dir,
            pki,
            registry,
            clock,
            server,
            transcripts: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn password(&self, who: &str) -> String {
        self.pki
            .registrar(who)
            .unwrap()
            .password()
            .expose()
            .to_string()
    }

    /// A connected client with `who`'s certificate, not logged in.
    pub(crate) async fn connect(&self, who: &str) -> EppClient {
        let config = Arc::new(mock_registry::tls::client_config(&self.pki, who).unwrap());
        EppClient::connect(self.server.local_addr(), config, Duration::from_secs(10))
            .await
            .unwrap()
    }

    /// A logged-in client.
    pub(crate) async fn login(&self, who: &str) -> EppClient {
        let mut c = self.connect(who).await;
        let r = c.login(who, &self.password(who)).await.unwrap();
        assert_eq!(r.code(), ResultCode::Success, "login {who}: {r:?}");
        c
    }

    pub(crate) fn state(&self) -> RegistryState {
        self.registry.lock().unwrap().state()
    }

    /// Keeps a client's frames for the schema check at the end of the test.
    pub(crate) fn keep(&self, c: &EppClient) {
        self.transcripts
            .lock()
            .unwrap()
            .extend(c.transcript().iter().cloned());
    }

    /// Keeps only what the server sent (for tests that send invalid frames on purpose).
    pub(crate) fn keep_received(&self, c: &EppClient) {
        self.transcripts
            .lock()
            .unwrap()
            .extend(c.transcript().iter().filter(|e| !e.sent).cloned());
    }

    /// Validates every kept frame against the schemas (lax where SIDN's extension appears).
    pub(crate) fn validate_transcripts(&self) {
        let all = self.transcripts.lock().unwrap().clone();
        assert!(!all.is_empty(), "no frames were kept");
        let (lax, strict): (Vec<_>, Vec<_>) = all
            .iter()
            .enumerate()
            .map(|(i, e)| {
                (
                    format!("#{i} {}", if e.sent { "sent" } else { "received" }),
                    e.xml.clone(),
                )
            })
            .partition(|(_, xml)| xml.contains("rxsd.domain-registry.nl"));
        assert_schema_valid(&strict, Schema::Strict);
        assert_schema_valid(&lax, Schema::Lax);
    }
}

pub(crate) fn ok(r: &Response) {
    assert!(r.code().is_success(), "expected success, got {:?}", r);
}

pub(crate) fn code(r: &Response) -> u16 {
    r.code().code()
}

/// The SIDN detail code of an error response.
pub(crate) fn detail(r: &Response) -> String {
    r.sidn_errors()
        .first()
        .map(|d| d.code.clone())
        .unwrap_or_default()
}

pub(crate) fn contact_create() -> CommandKind {
    CommandKind::Create(Create::Contact(contact::Create {
        id: "ignored".into(),
        postal_info: vec![PostalInfo {
            kind: PostalType::Loc,
            name: "Jan Jansen".into(),
            org: None,
            addr: Address {
                street: vec!["Dorpsstraat 1".into()],
                city: "Arnhem".into(),
                sp: None,
                pc: Some("6811AA".into()),
                cc: "NL".into(),
            },
        }],
        voice: Some(contact::Phone {
            number: "+31.261234567".into(),
            ext: None,
        }),
        fax: None,
        email: "jan@example.nl".into(),
        auth_info: AuthInfo::password("contact-secret"),
        disclose: None,
    }))
}

/// Creates a contact and returns the id the registry assigned.
pub(crate) async fn new_contact(c: &mut EppClient) -> String {
    let r = c.command(contact_create(), vec![]).await.unwrap();
    match &r.res_data {
        Some(ResData::ContactCreate(d)) => d.id.clone(),
        _ => panic!("contact create: {r:?}"),
    }
}

pub(crate) async fn new_host(c: &mut EppClient, name: &str, addrs: &[&str]) -> Response {
    c.command(
        CommandKind::Create(Create::Host(host::Create {
            name: name.into(),
            addrs: addrs
                .iter()
                .map(|a| host::HostAddr::from_ip(a.parse().unwrap()))
                .collect(),
        })),
        vec![],
    )
    .await
    .unwrap()
}

pub(crate) fn domain_create(name: &str, contact: &str, ns: &[&str], token: &str) -> CommandKind {
    CommandKind::Create(Create::Domain(domain::Create {
        name: name.into(),
        period: Some(epp::sidn::months(12)),
        ns: (!ns.is_empty()).then(|| NsList::HostObj(ns.iter().map(|s| s.to_string()).collect())),
        registrant: Some(contact.into()),
        contacts: vec![
            DomainContact {
                kind: Some(ContactType::Admin),
                id: contact.into(),
            },
            DomainContact {
                kind: Some(ContactType::Tech),
                id: contact.into(),
            },
        ],
        auth_info: AuthInfo::password(token),
    }))
}

pub(crate) fn keydata_ext(keys: Vec<KeyData>) -> Vec<CommandExtension> {
    vec![CommandExtension::SecDnsCreate(DsOrKeySet {
        max_sig_life: None,
        data: DsOrKey::Key(keys),
    })]
}

/// A valid Ed25519 key as EPP keyData.
pub(crate) fn ed25519_key(flags: u16, n: usize) -> KeyData {
    use dnssec::{KeyAlgorithm, fixture_keys};
    let pair = fixture_keys::key(KeyAlgorithm::Ed25519, n);
    KeyData {
        flags,
        protocol: 3,
        alg: 15,
        pub_key: pair.public_key().to_vec(),
    }
}

/// A contact, an external name server and a signed domain sponsored by the client.
pub(crate) async fn signed_domain(c: &mut EppClient, name: &str, token: &str) -> String {
    let contact = new_contact(c).await;
    let ns = format!("ns1.operator-{}.net", name.split('.').next().unwrap());
    let h = new_host(c, &ns, &[]).await;
    assert!(
        matches!(h.code(), ResultCode::Success | ResultCode::ObjectExists),
        "{h:?}"
    );
    let r = c
        .command(
            domain_create(name, &contact, &[&ns], token),
            keydata_ext(vec![ed25519_key(257, 0)]),
        )
        .await
        .unwrap();
    ok(&r);
    contact
}

pub(crate) fn check_domain(name: &str) -> CommandKind {
    CommandKind::Check(Check::Domain(vec![name.into()]))
}

pub(crate) fn response(f: Frame) -> Response {
    match f {
        Frame::Response(r) => *r,
        other => panic!("expected a response, got {other:?}"),
    }
}
