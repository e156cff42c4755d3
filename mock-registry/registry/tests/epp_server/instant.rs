//! An independent EPP client, the `instant-epp` crate, against the registry: login, contact,
//! host and domain create (with secDNS key data), info, update, transfer and poll. If our codec
//! and the server agreed on a private dialect, this is where it would show.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use instant_epp::client::{Connector, EppClient};
use instant_epp::contact::{Address, ContactCreate, InfoType, PostalInfo, Voice};
use instant_epp::domain::{
    DomainContact, DomainCreate, DomainInfo, DomainTransfer, DomainUpdate, HostInfo, HostObj,
    Period, PeriodLength,
};
use instant_epp::extensions::secdns;
use instant_epp::host::HostCreate;
use instant_epp::login::Login;
use instant_epp::poll::Ack;
use instant_epp::response::ResultCode;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::support::*;

struct MutualTls {
    addr: std::net::SocketAddr,
    config: Arc<rustls::ClientConfig>,
}

#[async_trait]
impl Connector for MutualTls {
    type Connection = TlsStream<TcpStream>;

    async fn connect(&self, _timeout: Duration) -> Result<Self::Connection, instant_epp::Error> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(instant_epp::Error::Io)?;
        TlsConnector::from(self.config.clone())
            .connect(mock_registry::tls::server_name(), tcp)
            .await
            .map_err(instant_epp::Error::Io)
    }
}

async fn instant(w: &World, who: &str) -> EppClient<MutualTls> {
    instant_with(w, who, &[secdns::XMLNS]).await
}

/// A logged-in instant-epp client announcing `ext_uris`.
async fn instant_with(w: &World, who: &str, ext_uris: &[&str]) -> EppClient<MutualTls> {
    let connector = MutualTls {
        addr: w.server.local_addr(),
        config: Arc::new(mock_registry::tls::client_config(&w.pki, who).unwrap()),
    };
    let mut client = EppClient::new(connector, who.into(), Duration::from_secs(10))
        .await
        .unwrap();
    // The greeting instant-epp received is ours and readable by our codec too.
    assert!(epp::parse(client.xml_greeting().as_bytes()).is_ok());
    let pw = w.password(who);
    let login = Login::new(who, &pw, None, Some(ext_uris));
    let r = client.transact(&login, "IE-LOGIN-1").await.unwrap();
    assert_eq!(r.result.code, ResultCode::CommandCompletedSuccessfully);
    client
}

#[tokio::test]
async fn instant_epp_provisions_transfers_and_polls() {
    let w = World::start().await;
    let mut a = instant(&w, A).await;

    // Contact (the registry assigns the id).
    let address = Address::new(
        &["Dorpsstraat 1"],
        "Arnhem",
        None,
        Some("6811AA"),
        "NL".parse().unwrap(),
    );
    let postal = PostalInfo::new(InfoType::Local, "Jan Jansen", None, address);
    let create = ContactCreate::new(
        "ie-contact",
        "jan@example.nl",
        postal,
        Some(Voice::new("+31.261234567")),
        "contact-pw",
    );
    let r = a.transact(&create, "IE-CONTACT-1").await.unwrap();
    assert_eq!(r.result.code, ResultCode::CommandCompletedSuccessfully);
    let contact = r.res_data().unwrap().id.to_string();
    assert!(contact.starts_with("CON"), "{contact}");

    // External name server.
    let r = a
        .transact(
            &HostCreate::new("ns1.operator-a.example", None),
            "IE-HOST-1",
        )
        .await
        .unwrap();
    assert_eq!(r.result.code, ResultCode::CommandCompletedSuccessfully);

    // Domain with a KSK as secDNS key data.
    let key = ed25519_key(257, 0);
    let b64 = key.pub_key_base64();
    let keys = [secdns::KeyDataType::new(
        secdns::FLAGS_DNS_ZONE_KEY_SEP,
        secdns::Protocol::Dnssec,
        secdns::Algorithm::Ed25519,
        &b64,
    )];
    let ext = secdns::CreateData::from(&keys[..]);
    let ns = [HostInfo::Obj(HostObj {
        name: "ns1.operator-a.example".into(),
    })];
    let contacts = [
        DomainContact {
            contact_type: "admin".into(),
            id: contact.as_str().into(),
        },
        DomainContact {
            contact_type: "tech".into(),
            id: contact.as_str().into(),
        },
    ];
    let create = DomainCreate::new(
        "instant.nl",
        Period::Months(PeriodLength::new(12).unwrap()),
        Some(&ns),
        Some(&contact),
        "token-0001",
        Some(&contacts),
    );
    let r = a.transact((&create, &ext), "IE-DOMAIN-1").await.unwrap();
    assert_eq!(r.result.code, ResultCode::CommandCompletedSuccessfully);
    assert_eq!(r.res_data().unwrap().name, "instant.nl");
    assert_eq!(
        w.registry
            .lock()
            .unwrap()
            .domain("instant.nl")
            .unwrap()
            .keys
            .len(),
        1
    );

    // Info. instant-epp's DomainInfo takes no extension, and the registry answers secDNS
    // info data to sessions that announced secDNS, so ask from a session without it.
    let mut plain = instant_with(&w, A, &[]).await;
    let r = plain
        .transact(&DomainInfo::new("instant.nl", None), "IE-INFO-1")
        .await
        .unwrap();
    assert_eq!(r.result.code, ResultCode::CommandCompletedSuccessfully);
    let info = r.res_data().unwrap();
    assert_eq!(info.name, "instant.nl");
    assert_eq!(info.client_id, A);

    // Update: a new token.
    let mut update = DomainUpdate::new("instant.nl");
    update.info(instant_epp::domain::update::DomainChangeInfo {
        registrant: None,
        auth_info: Some(instant_epp::domain::DomainAuthInfo::new("token-0002")),
    });
    let r = a.transact(&update, "IE-UPDATE-1").await.unwrap();
    assert_eq!(r.result.code, ResultCode::CommandCompletedSuccessfully);

    // Transfer to B with the token: immediate.
    let mut b = instant(&w, B).await;
    let wrong = b
        .transact(
            &DomainTransfer::new("instant.nl", None, "token-0001"),
            "IE-TR-0",
        )
        .await;
    assert!(wrong.is_err(), "the old token is refused: {wrong:?}");
    let r = b
        .transact(
            &DomainTransfer::new("instant.nl", None, "token-0002"),
            "IE-TR-1",
        )
        .await
        .unwrap();
    assert_eq!(r.result.code, ResultCode::CommandCompletedSuccessfully);
    let t = r.res_data().unwrap();
    assert_eq!(t.transfer_status, "serverApproved");
    assert_eq!(
        w.registry
            .lock()
            .unwrap()
            .domain("instant.nl")
            .unwrap()
            .sponsor,
        B
    );

    // Poll: the SIDN pollData wrapper is read as raw XML (instant-epp has no type for it),
    // then acknowledged with instant-epp's typed Ack.
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?><epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><poll op="req"/><clTRID>IE-POLL-1</clTRID></command></epp>"#;
    let answer = a.transact_xml(xml).await.unwrap();
    let Ok(epp::Frame::Response(resp)) = epp::parse(answer.as_bytes()) else {
        panic!("{answer}")
    };
    assert_eq!(resp.code().code(), 1301);
    let id = resp.msg_q.as_ref().unwrap().id.clone();
    let r = a
        .transact(&Ack { message_id: &id }, "IE-ACK-1")
        .await
        .unwrap();
    assert_eq!(r.result.code, ResultCode::CommandCompletedSuccessfully);
    assert!(w.registry.lock().unwrap().queue(A).is_empty());
}
