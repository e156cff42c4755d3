//! Real validators against the project's servers: a correct chain is secure for unbound-host,
//! delv and drill; the same chain with one thing broken is bogus for each of them.
//!
//! Markers each tool prints (Debian 12 packages):
//! - unbound-host `-v`: `(secure)`, `(insecure)` or `(BOGUS (security failure))` after each
//!   answer, and a `validation failure <…>: reason` line; exit status 0 either way.
//! - delv: `; fully validated` (also `; negative response, fully validated`), `; unsigned
//!   answer` for insecure data, `resolution failed` on stderr otherwise; exit status 0 either
//!   way.
//! - drill `-S`: `;; Chase successful` with exit status 0, `;; Chase failed.` and a non-zero
//!   status otherwise.

use crate::support::{Breakage, Chain, chain, delv, drill, unbound_host};

/// What each validator concluded about one question.
#[derive(Debug)]
struct Verdicts {
    unbound: String,
    delv: String,
    drill: (bool, String),
}

fn ask(chain: &Chain, qname: &str, qtype: &str) -> Verdicts {
    Verdicts {
        unbound: unbound_host(chain, qname, qtype),
        delv: delv(chain, qname, qtype),
        drill: drill(chain, qname, qtype),
    }
}

fn assert_secure(chain: &Chain, qname: &str, qtype: &str) {
    let v = ask(chain, qname, qtype);
    assert!(
        v.unbound.contains("(secure)") && !v.unbound.contains("BOGUS"),
        "unbound-host, {qname} {qtype}:\n{}",
        v.unbound
    );
    assert!(
        v.delv.contains("fully validated") && !v.delv.contains("resolution failed: broken"),
        "delv, {qname} {qtype}:\n{}",
        v.delv
    );
    assert!(
        v.drill.0 && v.drill.1.contains("Chase successful"),
        "drill, {qname} {qtype}:\n{}",
        v.drill.1
    );
}

fn assert_bogus(chain: &Chain, qname: &str, qtype: &str, unbound_reason: &str) {
    let v = ask(chain, qname, qtype);
    assert!(
        v.unbound.contains("BOGUS") && v.unbound.contains(unbound_reason),
        "unbound-host should say BOGUS ({unbound_reason}), {qname} {qtype}:\n{}",
        v.unbound
    );
    assert!(
        !v.delv.contains("fully validated") && v.delv.contains("resolution failed"),
        "delv should fail, {qname} {qtype}:\n{}",
        v.delv
    );
    assert!(
        !v.drill.0 && v.drill.1.contains("Chase failed"),
        "drill should fail, {qname} {qtype}:\n{}",
        v.drill.1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_chain_is_secure_for_every_validator() {
    let chain = chain(Breakage::None).await;
    // A positive answer, through root (ECDSA, NSEC), TLD (ECDSA, NSEC3) and child (Ed25519, NSEC).
    assert_secure(&chain, "www.example.nl", "A");
    // NXDOMAIN and NODATA in the child (NSEC), NXDOMAIN in the TLD (NSEC3) and the root (NSEC).
    assert_secure(&chain, "nx.example.nl", "A");
    assert_secure(&chain, "www.example.nl", "TXT");
    assert_secure(&chain, "nx.nl", "A");
    assert_secure(&chain, "a.b.nx.nl", "A");
    assert_secure(&chain, "nosuchtld", "A");
    // The DS sets, from the parent side of each cut, and the proof that a delegation has none.
    assert_secure(&chain, "example.nl", "DS");
    assert_secure(&chain, "nl", "DS");
    assert_secure(&chain, "island.nl", "DS");
}

/// A signed zone without DS is insecure, not bogus. drill diverges: `-S` looks for a trusted
/// key above the zone's own DNSKEY and, finding none, reports a failed chase (it does not
/// follow the parent's proof that there is no DS), so it cannot tell insecure from bogus here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delegation_without_ds_is_insecure() {
    let chain = chain(Breakage::None).await;
    let v = ask(&chain, "www.island.nl", "A");
    assert!(
        v.unbound.contains("(insecure)") && !v.unbound.contains("BOGUS"),
        "{}",
        v.unbound
    );
    assert!(
        v.delv.contains("; unsigned answer") && v.delv.contains("192.0.2.81"),
        "{}",
        v.delv
    );
    assert!(
        !v.drill.0 && v.drill.1.contains("No trusted keys found in tree"),
        "drill's known divergence changed:\n{}",
        v.drill.1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_breakage_is_bogus_for_every_validator() {
    for breakage in Breakage::ALL_FAULTS {
        let chain = chain(breakage).await;
        let (qname, reason) = match breakage {
            Breakage::ExpiredSignatures => ("www.example.nl", "signature expired"),
            Breakage::DsMismatch => ("www.example.nl", "no keys have a DS"),
            Breakage::ZskNotPublished => ("www.example.nl", "signatures from unknown keys"),
            Breakage::StrippedSignatures => ("www.example.nl", "no signatures"),
            Breakage::WrongDenial => ("nx.example.nl", "nameerror proof failed"),
            Breakage::None => unreachable!("not in ALL_FAULTS"),
        };
        assert_bogus(&chain, qname, "A", reason);
        // The rest of the chain is untouched: the TLD still answers securely.
        assert_secure(&chain, "nx.nl", "A");
    }
}

/// The wrong-denial fault breaks NODATA too, and a correct positive answer next to it stays
/// secure: the fault is in the proof, not the zone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_denial_breaks_only_negative_answers() {
    let chain = chain(Breakage::WrongDenial).await;
    assert_secure(&chain, "www.example.nl", "A");
    let v = ask(&chain, "www.example.nl", "TXT");
    assert!(v.unbound.contains("BOGUS"), "{}", v.unbound);
    assert!(!v.delv.contains("fully validated"), "{}", v.delv);
    assert!(!v.drill.0, "{}", v.drill.1);
}
