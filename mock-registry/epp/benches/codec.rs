//! Parse and write throughput of the EPP codec for the two frames every transfer scenario is
//! full of, a domain:info response (with secDNS and SIDN extensions) and a key relay poll
//! message, and for the three commands of the registry's load benchmark (what its server parses
//! per command). Run with `cargo bench -p epp --bench codec` (`CASE=poll` runs only the cases
//! whose name holds `poll`); prints frames/s and MB/s.
#![allow(clippy::unwrap_used, reason = "benchmark")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use epp::domain;
use epp::message::{Check, Command, CommandKind, Frame, Info, Poll};

const DOMAIN_INFO: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<epp xmlns="urn:ietf:params:xml:ns:epp-1.0">
  <response>
    <result code="1000"><msg>Command completed successfully</msg></result>
    <resData>
      <domain:infData xmlns:domain="urn:ietf:params:xml:ns:domain-1.0">
        <domain:name>example.nl</domain:name>
        <domain:roid>DNM_100028-SIDN</domain:roid>
        <domain:status s="ok"/>
        <domain:registrant>REG000001</domain:registrant>
        <domain:contact type="admin">ADM000001</domain:contact>
        <domain:contact type="tech">TEC000001</domain:contact>
        <domain:ns>
          <domain:hostObj>ns1.operator-a.net</domain:hostObj>
          <domain:hostObj>ns2.operator-a.net</domain:hostObj>
        </domain:ns>
        <domain:clID>registrarA</domain:clID>
        <domain:crID>registrarA</domain:crID>
        <domain:crDate>2026-01-01T00:00:00.000Z</domain:crDate>
        <domain:upID>registrarA</domain:upID>
        <domain:upDate>2026-01-02T00:00:00.000Z</domain:upDate>
        <domain:exDate>2027-01-01T00:00:00.000Z</domain:exDate>
        <domain:authInfo><domain:pw>token-0001</domain:pw></domain:authInfo>
      </domain:infData>
    </resData>
    <extension>
      <secDNS:infData xmlns:secDNS="urn:ietf:params:xml:ns:secDNS-1.1">
        <secDNS:keyData>
          <secDNS:flags>257</secDNS:flags><secDNS:protocol>3</secDNS:protocol><secDNS:alg>13</secDNS:alg>
          <secDNS:pubKey>mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==</secDNS:pubKey>
        </secDNS:keyData>
      </secDNS:infData>
      <sidn-ext-epp:ext xmlns:sidn-ext-epp="http://rxsd.domain-registry.nl/sidn-ext-epp-1.0">
        <sidn-ext-epp:infData><sidn-ext-epp:domain>
          <sidn-ext-epp:limited>false</sidn-ext-epp:limited><sidn-ext-epp:optOut>false</sidn-ext-epp:optOut>
        </sidn-ext-epp:domain></sidn-ext-epp:infData>
      </sidn-ext-epp:ext>
    </extension>
    <trID><clTRID>ABC-12345</clTRID><svTRID>SIDN-0000001</svTRID></trID>
  </response>
</epp>"#;

const KEYRELAY_POLL: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<epp xmlns="urn:ietf:params:xml:ns:epp-1.0" xmlns:keyrelay="urn:ietf:params:xml:ns:keyrelay-1.0"
     xmlns:s="urn:ietf:params:xml:ns:secDNS-1.1" xmlns:d="urn:ietf:params:xml:ns:domain-1.0">
  <response>
    <result code="1301"><msg>Command completed successfully; ack to dequeue</msg></result>
    <msgQ count="5" id="12345"><qDate>2026-01-01T12:00:00.0Z</qDate><msg>Keyrelay action completed successfully.</msg></msgQ>
    <resData>
      <keyrelay:infData>
        <keyrelay:name>example.nl</keyrelay:name>
        <keyrelay:authInfo><d:pw>JnSdBAZSxxzJ</d:pw></keyrelay:authInfo>
        <keyrelay:keyRelayData>
          <keyrelay:keyData>
            <s:flags>256</s:flags><s:protocol>3</s:protocol><s:alg>13</s:alg>
            <s:pubKey>mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==</s:pubKey>
          </keyrelay:keyData>
          <keyrelay:expiry><keyrelay:relative>P1M13D</keyrelay:relative></keyrelay:expiry>
        </keyrelay:keyRelayData>
        <keyrelay:crDate>2026-01-01T12:00:00.0Z</keyrelay:crDate>
        <keyrelay:reID>registrarB</keyrelay:reID>
        <keyrelay:acID>registrarA</keyrelay:acID>
      </keyrelay:infData>
    </resData>
    <trID><clTRID>ABC-12345</clTRID><svTRID>54321-ZYX</svTRID></trID>
  </response>
</epp>"#;

/// The answer to a `poll req` with nothing queued: the frame a registrar reads most, one per
/// poll interval for the whole of a transfer.
const POLL_EMPTY: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><response><result code="1300"><msg>Command completed successfully; no messages</msg></result><trID><clTRID>ABC-12345</clTRID><svTRID>SIDN-0000001</svTRID></trID></response></epp>"#;

/// The commands of the registry's load benchmark (`mock-registry/registry/benches/epp_load.rs`),
/// as a registrar writes them: what the server parses per command there.
fn commands() -> Vec<(&'static str, Frame)> {
    let command = |kind: CommandKind, n: usize| {
        Frame::Command(Box::new(Command {
            kind,
            extensions: Vec::new(),
            cl_trid: Some(format!("BENCH-{n}")),
        }))
    };
    vec![
        (
            "domain:info command",
            command(
                CommandKind::Info(Info::Domain(domain::Info {
                    name: "bench.nl".into(),
                    hosts: domain::HostsFilter::All,
                    auth_info: None,
                })),
                1,
            ),
        ),
        (
            "domain:check command",
            command(
                CommandKind::Check(Check::Domain(vec!["bench.nl".into(), "free.nl".into()])),
                2,
            ),
        ),
        ("poll req command", command(CommandKind::Poll(Poll::Req), 3)),
    ]
}

/// Runs `f` repeatedly for about `budget`, returning iterations per second.
fn rate(budget: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..1000 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..256 {
            f();
        }
        n += 256;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let budget = Duration::from_secs(2);
    println!(
        "{:<28} {:>12} {:>10} {:>8}",
        "case", "frames/s", "MB/s", "bytes"
    );
    let mut cases: Vec<(&str, Frame)> = vec![
        (
            "domain:info response",
            epp::parse(DOMAIN_INFO.as_bytes()).unwrap(),
        ),
        (
            "keyrelay poll message",
            epp::parse(KEYRELAY_POLL.as_bytes()).unwrap(),
        ),
        (
            "empty poll response",
            epp::parse(POLL_EMPTY.as_bytes()).unwrap(),
        ),
    ];
    cases.extend(commands());
    // `CASE=info` runs only the cases whose name holds it (to profile one frame).
    let only = std::env::var("CASE").unwrap_or_default();
    for (name, frame) in cases.into_iter().filter(|(n, _)| n.contains(&only)) {
        let wire = frame.to_xml();
        let parse_rate = rate(budget, || {
            black_box(epp::parse(black_box(wire.as_bytes())).unwrap());
        });
        let write_rate = rate(budget, || {
            black_box(black_box(&frame).to_xml());
        });
        let mb = |r: f64| r * wire.len() as f64 / 1e6;
        println!(
            "{:<28} {:>12.0} {:>10.1} {:>8}",
            format!("parse {name}"),
            parse_rate,
            mb(parse_rate),
            wire.len()
        );
        println!(
            "{:<28} {:>12.0} {:>10.1} {:>8}",
            format!("write {name}"),
            write_rate,
            mb(write_rate),
            wire.len()
        );
    }
}
