use jiff::SignedDuration;
use std::path::Path;

use super::*;
use crate::checks::CheckId;

const GOOD: &str = r#"
id = "secure-13-13"
title = "Secure transfer"
references = ["RFC 6781 §4.3.5.1"]

[world]
propagation_delay = "10m"
ttl = { ds = "1h", ns = "2h" }

[registrars.A]
played_by = "reference"
operator = { algorithm = 13, denial = "nsec" }

[registrars.B]
played_by = "reference"
[registrars.B.operator]
algorithm = 13
denial = "nsec3"
ttl = { dnskey = "30m" }

[[domains]]
name = "example.nl"
sponsor = "A"
checks = ["www A", "@ MX"]

[[steps]]
do = "transfer"
domain = "example.nl"
to = "B"

[[steps]]
do = "run"
for = "5d"

[expect]
chain = "secure"
sponsor = { "example.nl" = "B" }
ds = { "example.nl" = ["B"] }
done_within = "4d"
"#;

fn parse_str(text: &str) -> Result<Scenario, ScenarioError> {
    parse(Path::new("scenarios/test.toml"), text)
}

#[test]
fn a_good_file_is_planned_with_defaults() {
    let s = parse_str(GOOD).unwrap();
    assert_eq!(s.id, "secure-13-13");
    assert_eq!(s.world.tld, "nl");
    assert_eq!(s.world.ttl_ds, 3600);
    assert_eq!(s.world.ttl_ns, 7200);
    assert_eq!(s.world.propagation_delay.as_secs(), 600);
    assert_eq!(s.registrars[0].clid, "registrar-a");
    assert_eq!(s.registrars[1].operator.ttl_dnskey, 1800);
    assert_eq!(
        s.registrars[1].operator.ns,
        ["ns1.operator-b.example", "ns2.operator-b.example"]
    );
    assert_eq!(
        s.domains[0].checks[1],
        ("www.example.nl".to_string(), "A".to_string())
    );
    assert_eq!(
        s.domains[0].checks[2],
        ("example.nl".to_string(), "MX".to_string())
    );
    assert!(matches!(s.steps[0], Step::Transfer { domain: 0, to: 1 }));
    assert!(matches!(s.steps[1], Step::Run { limit } if limit.as_hours() == 120));
    assert_eq!(s.expect.sponsor, vec![(0, 1)]);
    assert_eq!(s.expect.done_within.unwrap().as_hours(), 96);
    assert_eq!(s.sha256.len(), 64);
}

#[test]
fn a_misspelt_key_is_refused_with_its_line() {
    let bad = GOOD.replace("propagation_delay", "propagation_dely");
    let e = parse_str(&bad).unwrap_err();
    assert_eq!(e.line, Some(7), "{e}");
    assert!(
        e.message.contains("unknown field `propagation_dely`"),
        "{e}"
    );
    assert!(
        e.message.contains("propagation_delay"),
        "the hint lists the expected keys: {e}"
    );
    assert!(e.to_string().starts_with("scenarios/test.toml:7: "), "{e}");
}

#[test]
fn bad_values_name_the_line_and_the_expectation() {
    let cases = [
        (
            GOOD.replace("\"10m\"", "\"10 minutes\""),
            7,
            "not a duration",
        ),
        (
            GOOD.replace("to = \"B\"", "to = \"C\""),
            26,
            "unknown registrar \"C\"",
        ),
        (
            GOOD.replace("domain = \"example.nl\"", "domain = \"other.nl\""),
            26,
            "unknown domain",
        ),
        (
            GOOD.replace("do = \"run\"", "do = \"sprint\""),
            32,
            "unknown variant `sprint`",
        ),
        (
            GOOD.replace("algorithm = 13, denial", "algorithm = 7, denial"),
            12,
            "algorithm 7",
        ),
        (
            GOOD.replace("chain = \"secure\"", "chain = \"safe\""),
            36,
            "expected secure, no-bogus or any",
        ),
        (
            GOOD.replace(
                "played_by = \"reference\"\noperator",
                "played_by = \"reference\"\nfault = \"ns-too-early\"\noperator",
            ),
            12,
            "unknown fault",
        ),
    ];
    for (text, line, needle) in cases {
        let e = parse_str(&text).unwrap_err();
        assert_eq!(e.line, Some(line), "{needle}: {e}");
        assert!(e.message.contains(needle), "{needle}: {e}");
    }
}

#[test]
fn expectations_name_domains_as_the_steps_do() {
    // A DNS name in any case, with or without the root's dot, is the domain [[domains]] lists.
    let s = parse_str(
        &GOOD
            .replace("sponsor = { \"example.nl\"", "sponsor = { \"Example.NL.\"")
            .replace("ds = { \"example.nl\"", "ds = { \"EXAMPLE.nl\""),
    )
    .unwrap();
    assert_eq!(s.expect.sponsor, vec![(0, 1)]);
    assert_eq!(s.expect.ds, vec![(0, vec![1])]);
    // Two keys for one domain: one of them would be ignored, so the file is refused.
    let twice = GOOD.replace(
        "sponsor = { \"example.nl\" = \"B\" }",
        "sponsor = { \"example.nl\" = \"B\", \"Example.nl\" = \"A\" }",
    );
    let e = parse_str(&twice).unwrap_err();
    assert!(
        e.message
            .contains("[expect.sponsor]: domain example.nl is listed twice"),
        "{e}"
    );
    assert_eq!(e.line, Some(37), "{e}");
    let unknown = GOOD.replace("ds = { \"example.nl\"", "ds = { \"other.nl\"");
    let e = parse_str(&unknown).unwrap_err();
    assert!(
        e.message
            .contains("[expect.ds]: unknown domain \"other.nl\"; the file defines: example.nl"),
        "{e}"
    );
}

#[test]
fn starts_ttls_validities_and_polls_outside_what_dns_allows_are_refused_not_cut() {
    // 2^31 − 1 seconds is the longest TTL (RFC 2181 §8); one more is refused by name. A world
    // serves at most 7 days, what its signers keep every signature valid ahead.
    let s = parse_str(&GOOD.replace("ds = \"1h\"", "ds = \"7d\"")).unwrap();
    assert_eq!(s.world.ttl_ds, MAX_WORLD_TTL);
    for (ttl, why) in [
        ("604801s", "[world] ttl.ds 7d1s is longer than 7 days"),
        ("2147483647s", "RFC 4035 §5.3.3"),
    ] {
        let e = parse_str(&GOOD.replace("ds = \"1h\"", &format!("ds = \"{ttl}\""))).unwrap_err();
        assert!(e.message.contains(why), "{ttl}: {e}");
    }
    let e = parse_str(&GOOD.replace(
        "checks = [\"www A\", \"@ MX\"]",
        "records = [\"www 604801 A 192.0.2.1\"]",
    ))
    .unwrap_err();
    assert!(e.message.contains("longer than 7 days"), "{e}");
    let e = parse_str(&GOOD.replace("ds = \"1h\"", "ds = \"2147483648s\"")).unwrap_err();
    assert!(
        e.message.contains("[world] ttl.ds")
            && e.message
                .contains("longer than a DNS TTL can be (2147483647 seconds"),
        "{e}"
    );
    let e = parse_str(&GOOD.replace(
        "[registrars.B]\n",
        "[registrars.B]\npoll_interval = \"0s\"\n",
    ))
    .unwrap_err();
    assert!(
        e.message
            .contains("registrar B: poll_interval 0s is under one second"),
        "{e}"
    );
    for (validity, why) in [
        ("7d", "must be longer than the signers' refresh period (7d)"),
        (
            "30000d",
            "is too long: RRSIG times are compared in serial number",
        ),
    ] {
        let e = parse_str(&GOOD.replace(
            "[world]\n",
            &format!("[world]\nsignature_validity = \"{validity}\"\n"),
        ))
        .unwrap_err();
        assert!(e.message.contains(why), "{validity}: {e}");
    }
    let e = parse_str(&GOOD.replace("[world]\n", "[world]\nstart = \"1969-07-20T20:17:00Z\"\n"))
        .unwrap_err();
    assert!(e.message.contains("lies before 1970-01-02"), "{e}");
    assert_eq!(e.line, Some(7), "{e}");
    // Well-formed but beyond what a timestamp holds: said so, not called malformed.
    for start in ["9999-12-31T23:00:00Z", "-009999-01-01T00:00:00Z"] {
        let e = parse_str(&GOOD.replace("[world]\n", &format!("[world]\nstart = \"{start}\"\n")))
            .unwrap_err();
        assert!(
            e.message
                .contains("is outside the times the harness can represent"),
            "{start}: {e}"
        );
        assert!(!e.message.contains("not an RFC 3339"), "{start}: {e}");
        assert!(!e.message.contains("  "), "{start}: {e}");
    }
    let e = parse_str(&GOOD.replace("[world]\n", "[world]\nstart = \"2026-13-01T00:00:00Z\"\n"))
        .unwrap_err();
    assert!(e.message.contains("is not an RFC 3339 time"), "{e}");
    let s =
        parse_str(&GOOD.replace("[world]\n", "[world]\nsignature_validity = \"8d\"\n")).unwrap();
    assert_eq!(
        s.world.signature_validity,
        SignedDuration::from_hours(8 * 24)
    );
    let e = parse_str(&GOOD.replace("for = \"5d\"", "for = \"100000000d\"")).unwrap_err();
    assert!(
        e.message
            .contains("run for 100000000d is longer than 2^31 seconds"),
        "{e}"
    );
    assert_eq!(e.line, Some(31), "{e}");
    let e = parse_str(&GOOD.replace("dnskey = \"30m\"", "dnskey = \"30000d\"")).unwrap_err();
    assert!(
        e.message
            .contains("registrar B: operator ttl.dnskey 30000d is longer than a DNS TTL"),
        "{e}"
    );
}

#[test]
fn a_registrant_record_the_operators_cannot_read_is_refused_with_its_line() {
    for (record, why) in [
        ("@ A 999.1.1.1", "999.1.1.1"),
        ("@ MX 10", "@ MX 10"),
        ("www", "expected OWNER [TTL] [IN] TYPE DATA"),
    ] {
        let text = GOOD.replace(
            "checks = [\"www A\", \"@ MX\"]",
            &format!("records = [\"{record}\"]\ncheck = [\"www A\"]"),
        );
        let text = text.replace("check = [", "checks = [");
        let e = parse_str(&text).unwrap_err();
        assert!(
            e.message.starts_with("domain example.nl: ") && e.message.contains(why),
            "{record}: {e}"
        );
        assert_eq!(e.line, Some(24), "{record}: {e}");
    }
}

/// Records that each read well but cannot stand together in a zone are refused at load, with
/// the line of the one that breaks it and the operator that could not build the zone.
#[test]
fn records_no_zone_can_hold_together_are_refused_with_their_line() {
    for (records, why) in [
        (
            r#""@ CNAME other.example.""#,
            "\"@ CNAME other.example.\" cannot be served by registrar A's operator: example.nl.: \
             a CNAME cannot join other data",
        ),
        (r#""*.x NS ns.other.""#, "cannot hold NS, DS or DNAME"),
        // Registrar B's operator gives a line without a TTL 30 minutes, A's one hour: the
        // RRset holds together at A only.
        (
            r#""www 3600 A 192.0.2.1",
  "www A 192.0.2.2""#,
            "\"www A 192.0.2.2\" cannot be served by registrar B's operator: A at \
             www.example.nl. has TTL 3600; a record with TTL 1800 cannot join it",
        ),
    ] {
        let text = GOOD
            .replace(
                "checks = [\"www A\", \"@ MX\"]",
                &format!("records = [\n  {records}\n]\nchecks = [\"www A\"]"),
            )
            .replace(
                "ttl = { dnskey = \"30m\" }",
                "ttl = { dnskey = \"30m\", data = \"30m\" }",
            );
        let e = parse_str(&text).unwrap_err();
        assert!(e.message.contains(why), "{records}: {e}");
        let want = if records.contains('\n') { 26 } else { 25 };
        assert_eq!(e.line, Some(want), "{records}: {e}");
    }
}

/// A transfer to the registrar that sponsors the domain at that step is refused with its line;
/// a move there and back is not, and after a raw EPP step (which may move a domain) the loader
/// does not guess.
#[test]
fn a_transfer_to_the_sponsor_of_the_moment_is_refused() {
    let back = "[[steps]]\ndo = \"transfer\"\ndomain = \"example.nl\"\nto = \"A\"\n\n[expect]";
    parse_str(&GOOD.replace("[expect]", back)).unwrap();
    let twice = "[[steps]]\ndo = \"transfer\"\ndomain = \"example.nl\"\nto = \"B\"\n\n[expect]";
    let e = parse_str(&GOOD.replace("[expect]", twice)).unwrap_err();
    assert!(
        e.message
            .contains("transfer of example.nl to B: registrar B already sponsors it"),
        "{e}"
    );
    assert_eq!(e.line, Some(35), "{e}");
    let raw = "[[steps]]\ndo = \"epp\"\nregistrar = \"A\"\nxml = \"<epp xmlns=\\\"urn:ietf:params:xml:ns:epp-1.0\\\"><hello/></epp>\"\nexpect_code = 1000\n\n";
    parse_str(&GOOD.replace("[expect]", &format!("{raw}{twice}"))).unwrap();
}

#[test]
fn expected_failures_are_check_ids() {
    let text = GOOD.replace(
        "chain = \"secure\"",
        "chain = \"any\"\nfailures = [\"DNSSEC-CHAIN-BOGUS\"]",
    );
    let s = parse_str(&text).unwrap();
    assert!(s.expect.failures.contains(&CheckId::ChainBogus));
    let text = GOOD.replace("chain = \"secure\"", "failures = [\"DNSSEC-BOGUS\"]");
    let e = parse_str(&text).unwrap_err();
    assert!(e.message.contains("unknown check id"), "{e}");
}

#[test]
fn durations() {
    use file::Dur;
    assert_eq!(Dur::parse("1h30m").unwrap().secs(), 5400);
    assert_eq!(Dur::parse("3d").unwrap().secs(), 259_200);
    assert_eq!(Dur::parse("0s").unwrap().secs(), 0);
    for bad in ["", "h", "10", "1x", "1.5h", "-1h", "1h1h", "30m1h", "1s1d"] {
        assert!(Dur::parse(bad).is_err(), "{bad}");
    }
    assert!(
        Dur::parse("1h1h")
            .unwrap_err()
            .contains("each unit once, from days down to seconds"),
    );
    assert_eq!(Dur::parse("1d2h3m4s").unwrap().to_string(), "1d2h3m4s");
}

#[test]
fn chaos_knobs_are_world_keys_off_by_default() {
    let s = parse_str(GOOD).unwrap();
    assert_eq!(s.world.chaos, WorldChaos::default());
    assert!(!s.world.chaos.is_on());
    assert_eq!(s.registrars[0].relay_publish_delay, 0);
    let text = GOOD.replace(
        "[world]\n",
        "[world]\ntransient_failure_rate = 0.1\ndrop_connection_rate = 0.05\n\
         session_limit_rate = 0.2\npropagation_jitter = \"2h\"\n",
    );
    let text = text.replace(
        "[registrars.A]\nplayed_by = \"reference\"\n",
        "[registrars.A]\nplayed_by = \"reference\"\nrelay_publish_delay = \"20h\"\n",
    );
    let s = parse_str(&text).unwrap();
    let c = s.world.chaos;
    assert_eq!(
        (
            c.transient_failure_rate,
            c.drop_connection_rate,
            c.session_limit_rate,
            c.propagation_jitter.as_secs()
        ),
        (0.1, 0.05, 0.2, 7200)
    );
    assert_eq!(s.registrars[0].relay_publish_delay, 72_000);
    // The wall clock divides the jitter and the late publication too.
    let w = s.for_wall_clock(3600, s.world.start);
    assert_eq!(w.world.chaos.propagation_jitter.as_secs(), 2);
    assert_eq!(w.registrars[0].relay_publish_delay, 20);
}

#[test]
fn a_chaos_rate_of_one_or_more_is_refused_with_its_line() {
    let text = GOOD.replace("[world]\n", "[world]\ndrop_connection_rate = 1.0\n");
    let e = parse_str(&text).unwrap_err();
    assert_eq!(e.line, Some(7), "{e}");
    assert!(e.message.contains("below 1"), "{e}");
    let text = GOOD.replace("[world]\n", "[world]\nsession_limit_rate = -0.1\n");
    assert!(parse_str(&text).is_err());
    let text = GOOD.replace("[world]\n", "[world]\ntransient_failure_rate = \"often\"\n");
    assert!(parse_str(&text).is_err());
}

#[test]
fn a_late_publisher_is_the_reference_registrar_only() {
    let text = GOOD.replace(
        "[registrars.B]\nplayed_by = \"reference\"\n",
        "[registrars.B]\nplayed_by = \"subject\"\nrelay_publish_delay = \"1h\"\n",
    );
    let e = parse_str(&text).unwrap_err();
    assert!(e.message.contains("relay_publish_delay"), "{e}");
    assert!(e.line.is_some(), "{e}");
}

#[test]
fn key_relay_receipts_and_secondaries_are_planned_and_checked() {
    let on = GOOD
        .replace(
            "ttl = { ds = \"1h\", ns = \"2h\" }",
            "ttl = { ds = \"1h\", ns = \"2h\" }\nkeyrelay_receipts = true\n\
             receipt_probe_interval = \"5m\"\nreceipt_fault = \"first-ns-only\"",
        )
        .replace(
            "operator = { algorithm = 13, denial = \"nsec\" }",
            "operator = { algorithm = 13, denial = \"nsec\", secondary = { ns = \
             [\"NS2.operator-a.example.\"], lag = \"6h\" } }",
        )
        .replace(
            "done_within = \"4d\"",
            "done_within = \"4d\"\nreceipts = { \"example.nl\" = [\"delivered\", \"published\"] }",
        );
    let s = parse_str(&on).unwrap();
    let r = s.world.keyrelay_receipts.unwrap();
    assert_eq!(r.probe_interval, SignedDuration::from_mins(5));
    assert_eq!(r.max_watch, SignedDuration::from_hours(7 * 24));
    assert_eq!(r.fault, Some(ReceiptFault::FirstNsOnly));
    let sec = s.registrars[0].operator.secondary.clone().unwrap();
    assert_eq!(sec.ns, ["ns2.operator-a.example"]);
    assert_eq!(sec.lag, SignedDuration::from_hours(6));
    assert_eq!(
        s.expect.receipts,
        [(0, vec!["delivered".to_string(), "published".to_string()])]
    );
    // Off by default.
    assert!(parse_str(GOOD).unwrap().world.keyrelay_receipts.is_none());

    let cases = [
        (
            GOOD.replace(
                "propagation_delay",
                "receipt_max_watch = \"1d\"\npropagation_delay",
            ),
            "needs keyrelay_receipts = true",
        ),
        (
            on.replace("\"first-ns-only\"", "\"lies\""),
            "expected first-ns-only",
        ),
        (
            on.replace("\"published\"]", "\"done\"]"),
            "expected delivered, published, notPublished or withdrawn",
        ),
        (
            GOOD.replace(
                "done_within = \"4d\"",
                "receipts = { \"example.nl\" = [\"delivered\"] }",
            ),
            "needs [world] keyrelay_receipts = true",
        ),
        (
            on.replace(
                "[\"NS2.operator-a.example.\"]",
                "[\"ns3.operator-a.example\"]",
            ),
            "is not one of the operator's ns",
        ),
        (
            on.replace(
                "[\"NS2.operator-a.example.\"]",
                "[\"ns1.operator-a.example\", \"ns2.operator-a.example\"]",
            ),
            "not none and not all",
        ),
        (
            on.replace("lag = \"6h\"", "lag = \"0s\""),
            "lag must be more than zero",
        ),
    ];
    for (text, needle) in cases {
        let e = parse_str(&text).unwrap_err();
        assert!(e.line.is_some(), "{needle}: {e}");
        assert!(e.message.contains(needle), "{needle}: {e}");
    }
}

#[test]
fn ds_automation_profiles_steps_and_expectations_are_planned_and_checked() {
    let on = GOOD
        .replace(
            "[registrars.A]",
            "[world.ds_automation]\nprofile = \"centralnic\"\nbootstrap_delay = \"48h\"\n\
             vantage_points = 2\n\n[registrars.A]",
        )
        .replace(
            "[[steps]]\ndo = \"run\"",
            "[[steps]]\ndo = \"ksk-rollover\"\ndomain = \"example.nl\"\n\
             fault = \"cds-cdnskey-disagree\"\n\n[[steps]]\ndo = \"go-insecure\"\n\
             domain = \"example.nl\"\n\n[[steps]]\ndo = \"run\"",
        )
        .replace(
            "done_within = \"4d\"",
            "done_within = \"4d\"\nds_updates = { \"example.nl\" = { count = 2, after = \"1h\", \
             within = \"2d\" } }",
        );
    let s = parse_str(&on).unwrap();
    let a = s.world.ds_automation.clone().unwrap();
    assert_eq!(a.profile, "centralnic");
    assert_eq!(a.bootstrap_delay, Some(SignedDuration::from_hours(48)));
    assert_eq!(a.intensive_interval, Some(SignedDuration::from_hours(3)));
    assert_eq!(a.insecure_scan_interval, SignedDuration::from_hours(7 * 24));
    assert_eq!((a.reads.as_str(), a.vantage_points), ("cds", 2));
    let p = a.policy().unwrap();
    assert_eq!(p.bootstrap.unwrap().delay, SignedDuration::from_hours(48));
    assert!(matches!(
        s.steps[1],
        Step::Operator {
            change: crate::operations::Change::KskRollover,
            fault: Some(crate::operations::OperationFault::CdsCdnskeyDisagree),
            ..
        }
    ));
    assert_eq!(s.expect.ds_updates[0].count, 2);
    assert_eq!(
        s.expect.ds_updates[0].within,
        Some(SignedDuration::from_hours(48))
    );
    // Scaled for the wall clock like every other duration.
    let start = s.world.start;
    let scaled = s.for_wall_clock(3600, start);
    let w = scaled.world.ds_automation.clone().unwrap();
    assert_eq!(w.bootstrap_delay, Some(SignedDuration::from_secs(48)));
    // So are the timings the check holds the scanner to.
    assert_eq!(
        scaled.expect.ds_updates[0].after,
        SignedDuration::from_secs(1)
    );
    assert_eq!(
        scaled.expect.ds_updates[0].within,
        Some(SignedDuration::from_secs(48))
    );
    // Off by default.
    assert!(parse_str(GOOD).unwrap().world.ds_automation.is_none());

    let cases = [
        (
            on.replace("\"centralnic\"", "\"nl\""),
            "expected one of none, se",
        ),
        (
            on.replace("vantage_points = 2", "vantage_points = 0"),
            "at least 1",
        ),
        (
            on.replace("bootstrap_delay = \"48h\"", "reads = \"ds\""),
            "expected cds, cdnskey or both",
        ),
        (
            on.replace("\"cds-cdnskey-disagree\"", "\"oops\""),
            "expected one of cds-withdrawn-too-early",
        ),
        (
            on.replace(
                "profile = \"centralnic\"",
                "profile = \"centralnic\"\nscan_interval = \"0s\"",
            ),
            "scan_interval must be more than zero",
        ),
        (
            GOOD.replace(
                "[[steps]]\ndo = \"run\"",
                "[[steps]]\ndo = \"go-secure\"\ndomain = \"example.nl\"\n\n[[steps]]\ndo = \"run\"",
            ),
            "only with [world.ds_automation]",
        ),
        (
            GOOD.replace(
                "done_within = \"4d\"",
                "ds_updates = { \"example.nl\" = { count = 1 } }",
            ),
            "needs [world.ds_automation]",
        ),
        (
            on.replace(
                "operator = { algorithm = 13, denial = \"nsec\" }",
                "operator = { algorithm = 13, denial = \"nsec\", keys = \"csk\" }",
            ),
            "needs keys = \"ksk-zsk\"",
        ),
    ];
    for (text, needle) in cases {
        let e = parse_str(&text).unwrap_err();
        assert!(e.line.is_some(), "{needle}: {e}");
        assert!(e.message.contains(needle), "{needle}: {e}");
    }
}

#[test]
fn multi_signer_steps_need_csync_and_take_only_their_own_faults() {
    let join = GOOD
        .replace(
            "[registrars.A]",
            "[world.ds_automation]\nprofile = \"se\"\ncsync = true\n\n[registrars.A]",
        )
        .replace(
            "[[steps]]\ndo = \"transfer\"\ndomain = \"example.nl\"\nto = \"B\"",
            "[[steps]]\ndo = \"multi-signer-join\"\ndomain = \"example.nl\"\noperator = \"B\"\n\
             fault = \"ns-before-ds-wait\"\n\n[[steps]]\ndo = \"multi-signer-leave\"\n\
             domain = \"example.nl\"\noperator = \"A\"",
        );
    let s = parse_str(&join).unwrap();
    assert!(s.world.ds_automation.as_ref().unwrap().csync);
    assert!(matches!(
        s.steps[0],
        Step::Operator {
            change: crate::operations::Change::MultiSignerJoin,
            fault: Some(crate::operations::OperationFault::NsBeforeDsWait),
            signer: Some(1),
            ..
        }
    ));
    assert!(matches!(
        s.steps[1],
        Step::Operator {
            change: crate::operations::Change::MultiSignerLeave,
            signer: Some(0),
            ..
        }
    ));
    let cases = [
        (join.replace("csync = true\n", ""), "add csync = true"),
        (
            join.replace("\"ns-before-ds-wait\"", "\"cds-cdnskey-disagree\""),
            "multi-signer-join fault \"cds-cdnskey-disagree\": expected one of cds-missing-signer, ns-before-ds-wait",
        ),
        (
            join.replace("operator = \"B\"", "operator = \"Z\""),
            "unknown registrar",
        ),
    ];
    for (text, needle) in cases {
        let e = parse_str(&text).unwrap_err();
        assert!(e.line.is_some(), "{needle}: {e}");
        assert!(e.message.contains(needle), "{needle}: {e}");
    }
}

#[test]
fn signals_are_the_built_in_operators_and_their_fault_is_go_secures() {
    let on = GOOD
        .replace(
            "[registrars.A]",
            "[world.ds_automation]\nprofile = \"ch\"\n\n[registrars.A]",
        )
        .replace(
            "operator = { algorithm = 13, denial = \"nsec\" }",
            "operator = { algorithm = 13, denial = \"nsec\", signals = true }",
        )
        .replace(
            "[[steps]]\ndo = \"run\"",
            "[[steps]]\ndo = \"go-secure\"\ndomain = \"example.nl\"\n\
             fault = \"signals-on-first-ns-only\"\n\n[[steps]]\ndo = \"run\"",
        );
    let s = parse_str(&on).unwrap();
    assert!(s.registrars[0].operator.signals);
    assert!(!s.registrars[1].operator.signals, "off by default");
    assert!(s.world.ds_automation.as_ref().unwrap().rfc9615);
    assert!(matches!(
        s.steps[1],
        Step::Operator {
            change: crate::operations::Change::GoSecure,
            fault: Some(crate::operations::OperationFault::SignalsOnFirstNsOnly),
            ..
        }
    ));
    // A controller over the adapter protocol publishes signals too (`set_signals`).
    let by_process =
        parse_str(&on.replace("fault = \"signals-on-first-ns-only\"", "controller = \"B\""))
            .unwrap();
    assert!(matches!(
        by_process.steps[1],
        Step::Operator {
            controller: Some(1),
            ..
        }
    ));
    let cases = [
        (
            on.replace("signals = true", "signals = true, software = \"knot\""),
            "signals are published by the built-in operator only",
        ),
        (
            on.replace("signals = true", "signals = false"),
            "publishes no signals",
        ),
        (
            on.replace("\"signals-on-first-ns-only\"", "\"cds-withdrawn-too-early\""),
            "go-secure fault \"cds-withdrawn-too-early\": expected one of signals-on-first-ns-only",
        ),
        (
            on.replace(
                "do = \"go-secure\"\ndomain = \"example.nl\"\nfault = \"signals-on-first-ns-only\"",
                "do = \"ksk-rollover\"\ndomain = \"example.nl\"\nfault = \"signals-on-first-ns-only\"",
            ),
            "expected one of cds-withdrawn-too-early, cds-cdnskey-disagree",
        ),
    ];
    for (text, needle) in cases {
        let e = parse_str(&text).unwrap_err();
        assert!(e.line.is_some(), "{needle}: {e}");
        assert!(e.message.contains(needle), "{needle}: {e}");
    }
}

/// Names and bounds the registry, the PKI or the DNS would refuse once the world is built are
/// refused when the file is read (by `lint` too), saying what is wrong; the run never starts.
#[test]
fn what_the_world_would_refuse_at_setup_is_refused_when_read() {
    let name = |n: &str| GOOD.replace("name = \"example.nl\"", &format!("name = {n:?}"));
    let registrar_a = |extra: &str| {
        GOOD.replace(
            "[registrars.A]\nplayed_by = \"reference\"",
            &format!("[registrars.A]\nplayed_by = \"reference\"\n{extra}"),
        )
    };
    let operator_a = |o: &str| {
        GOOD.replace(
            "operator = { algorithm = 13, denial = \"nsec\" }",
            &format!("operator = {{ {o} }}"),
        )
    };
    let cases: Vec<(String, &str)> = vec![
        (name("-example.nl"), "starts or ends with a hyphen"),
        (
            name("ex--ample.nl"),
            "third and fourth position are reserved",
        ),
        (name("bücher.nl"), "IDNs must be A-labels"),
        (
            name("_example.nl"),
            "other than letters, digits and hyphens",
        ),
        (
            name(&format!("{}.nl", "a".repeat(64))),
            "1 to 63 characters",
        ),
        (name("a.example.nl"), "one label under .nl"),
        (
            GOOD.replace("[world]\n", "[world]\ntld = \"123\"\n"),
            "never all digits",
        ),
        (
            GOOD.replace("[world]\n", "[world]\ntld = \"\"\n"),
            "is not a DNS name",
        ),
        (registrar_a("clid = \"ab\""), "3–16 characters"),
        (registrar_a("clid = \"a b c\""), "cannot be used"),
        (
            registrar_a("clid = \"registrar-b\""),
            "registrars A and B have the same clid \"registrar-b\"",
        ),
        (
            GOOD.replace("[registrars.A]", "[registrars.AVeryLongLabelIndeed]")
                .replace("sponsor = \"A\"", "sponsor = \"AVeryLongLabelIndeed\""),
            "(the default, made from the label: set clid)",
        ),
        (
            registrar_a("poll_interval = \"30000d\""),
            "longer than 2^31 seconds",
        ),
        (operator_a("ns = []"), "at least one name server"),
        (
            operator_a("ns = [\"ns1.x.example\", \"ns1.x.example\"]"),
            "listed twice",
        ),
        (operator_a("ns = [\"ns1.example.nl\"]"), "needs glue"),
        (
            operator_a("ns = [\"ns1.operator-b.example\"]"),
            "is also registrar",
        ),
        (
            operator_a("ns = [\"ns_1.x.example\"]"),
            "is not a host name",
        ),
        (
            operator_a(&format!(
                "denial = \"nsec3\", nsec3 = {{ salt = \"{}\" }}",
                "ab".repeat(256)
            )),
            "at most 255 fit (RFC 5155 §3.2)",
        ),
        (
            GOOD.replace(
                "checks = [\"www A\", \"@ MX\"]",
                "records = [\"www 4294967295 A 192.0.2.1\"]",
            ),
            "RFC 2181 §8",
        ),
        (
            GOOD.replace("\"10m\"", "\"30000d\""),
            "propagation_delay 30000d is longer than 2^31 seconds",
        ),
        (
            GOOD.replace("\"www A\", \"@ MX\"", "\"www FOO\""),
            "FOO is not a DNS record type",
        ),
        (
            GOOD.replace(
                "[[steps]]\ndo = \"run\"",
                &format!(
                    "[[steps]]\ndo = \"epp\"\nregistrar = \"A\"\nexpect_code = 2001\nxml = \"{}\"\n\n[[steps]]\ndo = \"run\"",
                    "x".repeat(1 << 20)
                ),
            ),
            "more than the 1048572 the registry reads in one frame",
        ),
    ];
    for (text, needle) in cases {
        let e = parse_str(&text).expect_err(needle);
        assert!(e.message.contains(needle), "{needle}: {e}");
    }
    // A name so long that the default names below it would pass 253 characters.
    let long = format!("{}.nl", "a".repeat(63));
    let tld = format!("{}.{}.{}", "b".repeat(63), "b".repeat(63), "b".repeat(60));
    let text = GOOD
        .replace("[world]\n", &format!("[world]\ntld = {tld:?}\n"))
        .replace(
            "name = \"example.nl\"",
            &format!("name = \"{}.{tld}\"", &long[..61]),
        )
        .replace(
            "domain = \"example.nl\"",
            &format!("domain = \"{}.{tld}\"", &long[..61]),
        )
        .replace(
            "\"example.nl\" = ",
            &format!("\"{}.{tld}\" = ", &long[..61]),
        );
    let e = parse_str(&text).expect_err("defaults too long");
    assert!(e.message.contains("give the domain its records"), "{e}");
}

#[test]
fn the_longest_world_ttl_is_the_signers_refresh_period() {
    // MAX_WORLD_TTL is what every served signature has left at least; it must follow the
    // signers' policy if that ever changes.
    assert_eq!(
        i64::from(MAX_WORLD_TTL),
        dnssec::SigningPolicy::default().refresh.as_secs()
    );
    let e = parse_str(
        &GOOD
            .replace("[registrars.A]", "[registrars.A_B]")
            .replace("sponsor = \"A\"", "sponsor = \"A_B\"")
            .replace(
                "[registrars.A_B]\nplayed_by",
                "[registrars.A_B]\nclid = \"reg-ab\"\nplayed_by",
            ),
    )
    .unwrap_err();
    assert!(
        e.message
            .contains("operator ns (the default, made from the label: set ns)"),
        "{e}"
    );
}
