//! The checks the harness makes, each with a stable id and a severity, as ICANN's RST
//! specifications do. Reports, JUnit failure types and scenario expectations use these ids;
//! they never change meaning once published.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How bad a failed check is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For information.
    Info,
    /// Worth fixing; does not fail a run.
    Warning,
    /// Fails the scenario.
    Error,
    /// The domain was unreachable for validating resolvers; fails the scenario.
    Critical,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
            Self::Critical => "critical",
        })
    }
}

macro_rules! checks {
    ($($variant:ident = $id:literal, $sev:ident, $title:literal;)+) => {
        /// A check. Serialised as its stable id (`DNSSEC-CHAIN-BOGUS`), never by variant name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum CheckId { $(#[doc = $title] $variant,)+ }

        impl CheckId {
            /// Every check.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// The stable id, e.g. `DNSSEC-CHAIN-BOGUS`.
            pub fn id(self) -> &'static str {
                match self { $(Self::$variant => $id,)+ }
            }

            /// Its severity when it fails.
            pub fn severity(self) -> Severity {
                match self { $(Self::$variant => Severity::$sev,)+ }
            }

            /// What it checks, in one line.
            pub fn title(self) -> &'static str {
                match self { $(Self::$variant => $title,)+ }
            }
        }

        impl FromStr for CheckId {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($id => Ok(Self::$variant),)+
                    _ => Err(format!(
                        "unknown check id {s:?}; known: {}",
                        Self::ALL.iter().map(|c| c.id()).collect::<Vec<_>>().join(", ")
                    )),
                }
            }
        }
    };
}

checks! {
    ChainBogus = "DNSSEC-CHAIN-BOGUS", Critical,
        "No resolver can hold a combination of cached data that validates as bogus";
    Unreachable = "DNS-UNREACHABLE", Critical,
        "Every resolver state reaches a name server that answers authoritatively for the domain, and has what it needs to validate";
    LameDelegation = "DNS-LAME-DELEGATION", Warning,
        "Every name server of every NS set a resolver could hold answers for the domain";
    ContentChanged = "CONTENT-CHANGED", Error,
        "Every answer a resolver could get for a checked name carries the registrant's data (TTLs aside), or a proper denial where the registrant has none";
    InsecureWindow = "DNSSEC-INSECURE-WINDOW", Error,
        "The domain never becomes insecure (provably unsigned) during the procedure";
    AlgorithmCompleteness = "DNSSEC-ALGORITHM-COMPLETENESS", Error,
        "Every algorithm in the DS and DNSKEY sets signs every RRset (RFC 4035 §2.2, strict validators)";
    LameDs = "DNSSEC-LAME-DS", Info,
        "Every DS at the parent matches a published KSK (RFC 6781 §4.3.3)";
    LiveMismatch = "DNSSEC-LIVE-MISMATCH", Error,
        "A real validating resolver agrees with the harness's validator on the current state";
    ResolverFailed = "RESOLVER-FAILED", Critical,
        "Every real validating resolver of the fleet resolves the domain throughout the run: no SERVFAIL or bogus answer, no wrong content, and the AD bit where the chain must stay secure";
    ModelMissed = "HARNESS-MODEL-MISSED", Critical,
        "Every failure a real resolver shows (an answer without AD included) lies inside a band the harness's cache model predicted (a miss is a harness bug)";
    EppRefused = "EPP-COMMAND-REFUSED", Error,
        "The registry accepts every command a registrar sends during the procedure";
    EppExpectedCode = "EPP-EXPECTED-RESULT", Error,
        "A scripted EPP exchange returns the result code the scenario expects";
    ProcedureIncomplete = "PROCEDURE-INCOMPLETE", Error,
        "Every registrar finishes its part of the procedure";
    Deadline = "PROCEDURE-DEADLINE", Error,
        "The procedure finishes within the scenario's deadline";
    Sponsor = "FINAL-SPONSOR", Error,
        "At the end the domain is sponsored by the expected registrar";
    FinalDs = "FINAL-DS", Error,
        "At the end the parent publishes DS records for exactly the expected operators' keys";
    StaleKeys = "FINAL-STALE-KEYS", Error,
        "At the end no operator publishes another operator's keys any more";
    QueueNotDrained = "POLL-QUEUE-NOT-DRAINED", Error,
        "At the end every registrar has acknowledged its poll messages";
    KeyRelayReceiptTiming = "KEYRELAY-RECEIPT-TIMING", Error,
        "A key relay receipt agrees with the name servers: published only once, and soon after, every name server of the delegation serves the relayed keys in a validly signed DNSKEY RRset; notPublished only if that never lasted a probe interval before the watch ended";
    KeyRelayReceiptExpected = "KEYRELAY-RECEIPT-EXPECTED", Error,
        "The registry sends the key relay receipts the scenario expects, in order";
    DsAutomationTiming = "DS-AUTOMATION-TIMING", Error,
        "The registry's CDS/CDNSKEY scanner changes the DS as often, and the first time as soon and no sooner, than the scenario's policy promises";
    RegistrarFailure = "REGISTRAR-FAILURE", Error,
        "The registrar process follows the adapter protocol, answers in time and does not crash";
    HarnessFault = "HARNESS-FAULT", Critical,
        "The harness itself worked (servers started, observations made)";
}

impl Serialize for CheckId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for CheckId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        id.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_parse_back() {
        let mut seen = std::collections::BTreeSet::new();
        for c in CheckId::ALL {
            assert!(seen.insert(c.id()), "{} twice", c.id());
            assert_eq!(c.id().parse::<CheckId>().unwrap(), *c);
        }
        assert!("DNSSEC-CHAIN-BOGU".parse::<CheckId>().is_err());
    }

    #[test]
    fn reports_name_checks_by_their_stable_ids() {
        assert_eq!(
            serde_json::to_string(&CheckId::ChainBogus).unwrap(),
            "\"DNSSEC-CHAIN-BOGUS\""
        );
        let back: CheckId = serde_json::from_str("\"CONTENT-CHANGED\"").unwrap();
        assert_eq!(back, CheckId::ContentChanged);
        assert!(serde_json::from_str::<CheckId>("\"ChainBogus\"").is_err());
    }
}
