//! Repeated elements where a schema allows one (issue 11, item 2): a command with two
//! `<secDNS:create>` (one key each, as a widely used PHP client writes it) must not be answered
//! 1000 with one key dropped. Every repeated extension element, and every repeated child the
//! schemas allow once, is refused with 2001 and changes nothing; nothing is merged or dropped.

use epp::contact::{PostalInfoChange, PostalType};
use epp::message::{CommandExtension, CommandKind, Update};
use epp::secdns::{self, DsOrKey, DsOrKeySet};
use epp::sidn;

use crate::support::*;

const EPP: &str = r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0" xmlns:domain="urn:ietf:params:xml:ns:domain-1.0" xmlns:contact="urn:ietf:params:xml:ns:contact-1.0" xmlns:secDNS="urn:ietf:params:xml:ns:secDNS-1.1" xmlns:keyrelay="urn:ietf:params:xml:ns:keyrelay-1.0" xmlns:sidn-ext-epp="http://rxsd.domain-registry.nl/sidn-ext-epp-1.0" xmlns:scheduledDelete="http://rxsd.domain-registry.nl/sidn-ext-epp-scheduled-delete-1.0">"#;

fn key_xml(k: &secdns::KeyData) -> String {
    format!(
        "<secDNS:keyData><secDNS:flags>{}</secDNS:flags><secDNS:protocol>3</secDNS:protocol><secDNS:alg>{}</secDNS:alg><secDNS:pubKey>{}</secDNS:pubKey></secDNS:keyData>",
        k.flags,
        k.alg,
        k.pub_key_base64()
    )
}

fn domain_create_xml(name: &str, contact: &str, extension: &str) -> String {
    format!(
        "{EPP}<command><create><domain:create><domain:name>{name}</domain:name><domain:period unit=\"m\">12</domain:period><domain:ns><domain:hostObj>ns1.operator-safe.net</domain:hostObj></domain:ns><domain:registrant>{contact}</domain:registrant><domain:contact type=\"admin\">{contact}</domain:contact><domain:contact type=\"tech\">{contact}</domain:contact><domain:authInfo><domain:pw>token-0009</domain:pw></domain:authInfo></domain:create></create><extension>{extension}</extension><clTRID>REPEAT-1</clTRID></command></epp>"
    )
}

#[tokio::test]
async fn repeated_extension_elements_are_refused_not_merged() {
    let w = World::start().await;
    let mut a = w.login(A).await;
    let contact = signed_domain(&mut a, "safe.nl", "token-0001").await;
    let new_contact_id = new_contact(&mut a).await;
    let k1 = key_xml(&ed25519_key(257, 1));
    let k2 = key_xml(&ed25519_key(256, 2));
    let before = w.state();

    let update = |name: &str, extension: &str| {
        format!(
            "{EPP}<command><update><domain:update><domain:name>{name}</domain:name></domain:update></update><extension>{extension}</extension></command></epp>"
        )
    };
    let cases: Vec<(&str, String)> = vec![
        (
            "two secDNS:create, one key each",
            domain_create_xml(
                "new.nl",
                &contact,
                &format!("<secDNS:create>{k1}</secDNS:create><secDNS:create>{k2}</secDNS:create>"),
            ),
        ),
        (
            "two secDNS:update",
            update(
                "safe.nl",
                &format!(
                    "<secDNS:update><secDNS:add>{k1}</secDNS:add></secDNS:update><secDNS:update><secDNS:add>{k2}</secDNS:add></secDNS:update>"
                ),
            ),
        ),
        (
            "two scheduledDelete:update",
            update(
                "safe.nl",
                "<scheduledDelete:update><scheduledDelete:operation>setDate</scheduledDelete:operation><scheduledDelete:date>2026-06-01</scheduledDelete:date></scheduledDelete:update><scheduledDelete:update><scheduledDelete:operation>setDateToEndOfSubscriptionPeriod</scheduledDelete:operation></scheduledDelete:update>",
            ),
        ),
        (
            "two sidn-ext-epp:ext on a contact update",
            format!(
                "{EPP}<command><update><contact:update><contact:id>{new_contact_id}</contact:id></contact:update></update><extension><sidn-ext-epp:ext><sidn-ext-epp:update><sidn-ext-epp:contact><sidn-ext-epp:legalForm>BV</sidn-ext-epp:legalForm></sidn-ext-epp:contact></sidn-ext-epp:update></sidn-ext-epp:ext><sidn-ext-epp:ext><sidn-ext-epp:update><sidn-ext-epp:contact><sidn-ext-epp:legalForm>NV</sidn-ext-epp:legalForm></sidn-ext-epp:contact></sidn-ext-epp:update></sidn-ext-epp:ext></extension></command></epp>"
            ),
        ),
        // Object elements the schemas allow once.
        (
            "two keyrelay:create in one create",
            format!(
                "{EPP}<command><create><keyrelay:create><keyrelay:name>safe.nl</keyrelay:name><keyrelay:authInfo><domain:pw>token-0001</domain:pw></keyrelay:authInfo><keyrelay:keyRelayData><keyrelay:keyData><secDNS:flags>256</secDNS:flags><secDNS:protocol>3</secDNS:protocol><secDNS:alg>15</secDNS:alg><secDNS:pubKey>{}</secDNS:pubKey></keyrelay:keyData></keyrelay:keyRelayData></keyrelay:create><keyrelay:create><keyrelay:name>safe.nl</keyrelay:name><keyrelay:authInfo><domain:pw>token-0001</domain:pw></keyrelay:authInfo><keyrelay:keyRelayData><keyrelay:keyData><secDNS:flags>256</secDNS:flags><secDNS:protocol>3</secDNS:protocol><secDNS:alg>15</secDNS:alg><secDNS:pubKey>{}</secDNS:pubKey></keyrelay:keyData></keyrelay:keyRelayData></keyrelay:create></create></command></epp>",
                ed25519_key(256, 1).pub_key_base64(),
                ed25519_key(256, 2).pub_key_base64()
            ),
        ),
        (
            "two domain:authInfo",
            format!(
                "{EPP}<command><info><domain:info><domain:name>safe.nl</domain:name><domain:authInfo><domain:pw>token-0001</domain:pw></domain:authInfo><domain:authInfo><domain:pw>token-0002</domain:pw></domain:authInfo></domain:info></info></command></epp>"
            ),
        ),
        (
            "two domain:pw in one authInfo",
            format!(
                "{EPP}<command><info><domain:info><domain:name>safe.nl</domain:name><domain:authInfo><domain:pw>token-0001</domain:pw><domain:pw>token-0002</domain:pw></domain:authInfo></domain:info></info></command></epp>"
            ),
        ),
        (
            "two domain:period",
            domain_create_xml("new.nl", &contact, &format!("<secDNS:create>{k1}</secDNS:create>"))
                .replace(
                    "<domain:period unit=\"m\">12</domain:period>",
                    "<domain:period unit=\"m\">12</domain:period><domain:period unit=\"m\">3</domain:period>",
                ),
        ),
        (
            "two domain:add",
            format!(
                "{EPP}<command><update><domain:update><domain:name>safe.nl</domain:name><domain:add><domain:status s=\"clientHold\"/></domain:add><domain:add><domain:status s=\"clientRenewProhibited\"/></domain:add></domain:update></update></command></epp>"
            ),
        ),
        (
            "two domain:chg",
            format!(
                "{EPP}<command><update><domain:update><domain:name>safe.nl</domain:name><domain:chg><domain:authInfo><domain:pw>token-0002</domain:pw></domain:authInfo></domain:chg><domain:chg><domain:authInfo><domain:pw>token-0003</domain:pw></domain:authInfo></domain:chg></domain:update></update></command></epp>"
            ),
        ),
        (
            "two secDNS:add in one update",
            update(
                "safe.nl",
                &format!(
                    "<secDNS:update><secDNS:add>{k1}</secDNS:add><secDNS:add>{k2}</secDNS:add></secDNS:update>"
                ),
            ),
        ),
        (
            "two keyrelay:expiry",
            format!(
                "{EPP}<command><create><keyrelay:create><keyrelay:name>safe.nl</keyrelay:name><keyrelay:authInfo><domain:pw>token-0001</domain:pw></keyrelay:authInfo><keyrelay:keyRelayData><keyrelay:keyData><secDNS:flags>256</secDNS:flags><secDNS:protocol>3</secDNS:protocol><secDNS:alg>15</secDNS:alg><secDNS:pubKey>{}</secDNS:pubKey></keyrelay:keyData><keyrelay:expiry><keyrelay:relative>P1D</keyrelay:relative></keyrelay:expiry><keyrelay:expiry><keyrelay:relative>P0D</keyrelay:relative></keyrelay:expiry></keyrelay:keyRelayData></keyrelay:create></create></command></epp>",
                ed25519_key(256, 1).pub_key_base64()
            ),
        ),
    ];
    for (what, xml) in &cases {
        let r = response(a.exchange_raw(xml.as_bytes()).await.unwrap());
        assert_eq!(code(&r), 2001, "{what}: {r:?}");
        assert!(detail(&r).starts_with('C'), "{what}: {r:?}");
        assert_eq!(w.state(), before, "{what} changed the registry");
    }
    // One secDNS:create with both keys is the RFC 5910 §5.2.1 form, and keeps both.
    let r = response(
        a.exchange_raw(
            domain_create_xml(
                "new.nl",
                &contact,
                &format!("<secDNS:create>{k1}{k2}</secDNS:create>"),
            )
            .as_bytes(),
        )
        .await
        .unwrap(),
    );
    ok(&r);
    assert_eq!(
        w.registry
            .lock()
            .unwrap()
            .domain("new.nl")
            .unwrap()
            .keys
            .len(),
        2
    );
    w.keep_received(&a);
    w.validate_transcripts();
}

/// The same rule for commands built in-process (the harness and tests call
/// `Registry::execute` with typed commands that never pass the codec), and for a contact
/// update that changes the same postal info type twice.
#[tokio::test]
async fn typed_commands_with_repeats_are_refused_too() {
    let w = World::start().await;
    let mut a = w.login(A).await;
    let contact = signed_domain(&mut a, "safe.nl", "token-0001").await;
    let before = w.state();
    let key_ext = |n| {
        CommandExtension::SecDnsCreate(DsOrKeySet {
            max_sig_life: None,
            data: DsOrKey::Key(vec![ed25519_key(256, n)]),
        })
    };
    let r = a
        .command(
            domain_create("new.nl", &contact, &["ns1.operator-safe.net"], "token-0009"),
            vec![key_ext(1), key_ext(2)],
        )
        .await
        .unwrap();
    assert_eq!(code(&r), 2001, "{r:?}");

    let legal = |f| {
        CommandExtension::Sidn(sidn::Ext::ContactUpdate(sidn::ContactExt {
            legal_form: f,
            legal_form_reg_no: None,
        }))
    };
    let contact_update = |chg| {
        CommandKind::Update(Update::Contact(epp::contact::Update {
            id: contact.clone(),
            add: None,
            rem: None,
            chg,
        }))
    };
    let r = a
        .command(
            contact_update(None),
            vec![legal(sidn::LegalForm::Bv), legal(sidn::LegalForm::Nv)],
        )
        .await
        .unwrap();
    assert_eq!(code(&r), 2001, "{r:?}");

    // Two changes of the loc postal info: the first would be silently overwritten.
    let change = |city: &str| PostalInfoChange {
        kind: PostalType::Loc,
        name: None,
        org: None,
        addr: Some(epp::contact::Address {
            street: vec![],
            city: city.into(),
            sp: None,
            pc: None,
            cc: "NL".into(),
        }),
    };
    let r = a
        .command(
            contact_update(Some(epp::contact::Change {
                postal_info: vec![change("Arnhem"), change("Zwolle")],
                ..epp::contact::Change::default()
            })),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(code(&r), 2306, "{r:?}");
    assert_eq!(w.state(), before);
    w.keep_received(&a);
    w.validate_transcripts();
}
