//! Known divergences: where a real validator and the pure validator disagree for a reason
//! understood and written down (design.md §3: "every disagreement is either fixed or written
//! down with its cause").
//!
//! The list is the checked-in file `harness/harness/known-divergences.toml`, compiled into the harness.
//! Each entry names the validator, what the pure validator says (`expected`), what the real
//! one says (`observed`) and the `cause`. An entry with `cases` is about those cases of the
//! generated corpus (the differential test, `harness/harness/tests/differential.rs`, fails on a
//! divergence not listed and on a listed one that no longer diverges). An entry without
//! `cases` applies to the live check and matches by validator, the two verdicts, and (each if
//! given) the question type, the pure validator's reason code and the answer's shape; the
//! live check reports such a disagreement as a known divergence instead of a failure, always
//! with the entry's cause.

use checker::{Response, View};
use hickory_proto::rr::RecordType;
use serde::Deserialize;

/// The validators the harness compares against.
pub const VALIDATORS: [&str; 5] = ["hickory-resolver", "kresd", "unbound-host", "delv", "drill"];

/// Verdict words an entry may use: the RFC 4035 §4.3 statuses, `failed` (no verdict), and
/// `not-secure` (drill, which cannot tell insecure from bogus).
pub const VERDICTS: [&str; 6] = [
    "secure",
    "insecure",
    "bogus",
    "indeterminate",
    "failed",
    "not-secure",
];

/// A positive answer synthesised from a wildcard (RFC 4592 §3.3.1) under NSEC whose proof
/// that no closer name exists is the NSEC owned by the wildcard itself, the query name having
/// as many labels as the wildcard (`www.example.nl` from `*.example.nl`, covered by
/// `*.example.nl NSEC …`). RFC 4035 §5.3.4 asks only for that covering NSEC.
pub const NSEC_EXPANSION_BESIDE_WILDCARD: &str = "nsec-expansion-beside-wildcard";

/// An answer that follows a DNAME (RFC 6672 §2.2): the server's synthesised CNAME, unsigned,
/// beside the signed DNAME it follows from.
pub const DNAME_REDIRECTION: &str = "dname-redirection";

/// The shapes of answer a live entry may name.
pub const SHAPES: [&str; 2] = [NSEC_EXPANSION_BESIDE_WILDCARD, DNAME_REDIRECTION];

/// The [`SHAPES`] the answers of a chain (the views from the question to the last CNAME or
/// DNAME target) have, for matching live entries.
pub fn shapes(links: &[View]) -> Vec<&'static str> {
    let beside_wildcard = links.iter().any(|link| {
        let Response::Wildcard(_, proof) = &link.answer else {
            return false;
        };
        // The same parent means as many labels as the query name.
        proof.records().iter().any(|set| {
            set.record_type() == RecordType::NSEC
                && set.name().is_wildcard()
                && set.name().base_name() == link.qname.base_name()
        })
    });
    let mut out = Vec::new();
    if beside_wildcard {
        out.push(NSEC_EXPANSION_BESIDE_WILDCARD);
    }
    if links
        .iter()
        .any(|link| matches!(link.answer, Response::Dname(..)))
    {
        out.push(DNAME_REDIRECTION);
    }
    out
}

/// The checked-in list.
const BUILTIN: &str = include_str!("../../known-divergences.toml");

/// One known divergence.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Divergence {
    /// Which validator (one of [`VALIDATORS`]).
    pub validator: String,
    /// The corpus case ids it is about; empty for an entry about the live check.
    #[serde(default)]
    pub cases: Vec<String>,
    /// Live check only (no `cases`): the question type it applies to (absent: any).
    #[serde(default)]
    pub qtype: Option<String>,
    /// Live check only: the pure validator's reason code it applies to (absent: any), so an
    /// entry explains one behaviour, not every disagreement with the same verdicts.
    #[serde(default)]
    pub reason: Option<String>,
    /// Live check only: the shape of answer it applies to (one of [`SHAPES`]; absent: any).
    /// A secure answer has no reason code, so a validator's bug about one kind of secure
    /// answer needs the shape to stay an explanation of that bug and not of every
    /// "secure, observed bogus".
    #[serde(default)]
    pub shape: Option<String>,
    /// The pure validator's (lenient) verdict.
    pub expected: String,
    /// What the validator says instead.
    pub observed: String,
    /// Why they differ: the validator's behaviour, with a reference where there is one.
    pub cause: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    divergence: Vec<Divergence>,
}

/// The list, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownDivergences {
    entries: Vec<Divergence>,
}

impl KnownDivergences {
    /// The checked-in list.
    ///
    /// # Panics
    /// If the checked-in file is malformed (its tests keep it well-formed).
    pub fn builtin() -> Self {
        // Parsed once per process: every world's live check starts from it, and a TOML parse
        // per world was a visible share of `harness explore`.
        static PARSED: std::sync::OnceLock<KnownDivergences> = std::sync::OnceLock::new();
        PARSED
            .get_or_init(|| {
                Self::parse(BUILTIN).unwrap_or_else(|e| {
                    panic!("harness/harness/known-divergences.toml is malformed: {e}")
                })
            })
            .clone()
    }

    /// Parses and checks a list: known validators and verdict words, a cause for every entry,
    /// no entry twice.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        for (i, d) in file.divergence.iter().enumerate() {
            let at = format!(
                "divergence {} ({} {})",
                i + 1,
                d.validator,
                d.cases.first().map_or("live", String::as_str)
            );
            if !VALIDATORS.contains(&d.validator.as_str()) {
                return Err(format!("{at}: validator must be one of {VALIDATORS:?}"));
            }
            for v in [&d.expected, &d.observed] {
                if !VERDICTS.contains(&v.as_str()) {
                    return Err(format!("{at}: {v:?} is not one of {VERDICTS:?}"));
                }
            }
            if d.expected == d.observed {
                return Err(format!("{at}: expected and observed are the same"));
            }
            if d.cause.trim().len() < 10 {
                return Err(format!("{at}: the cause must say why"));
            }
            if !d.cases.is_empty() && (d.qtype.is_some() || d.reason.is_some() || d.shape.is_some())
            {
                return Err(format!(
                    "{at}: qtype, reason and shape are for live entries (no cases)"
                ));
            }
            if let Some(shape) = &d.shape
                && !SHAPES.contains(&shape.as_str())
            {
                return Err(format!("{at}: shape {shape:?} is not one of {SHAPES:?}"));
            }
            let twice = file.divergence[..i].iter().any(|e| {
                e.validator == d.validator
                    && if d.cases.is_empty() {
                        e.cases.is_empty()
                            && e.qtype == d.qtype
                            && e.reason == d.reason
                            && e.shape == d.shape
                            && e.expected == d.expected
                            && e.observed == d.observed
                    } else {
                        e.cases.iter().any(|c| d.cases.contains(c))
                    }
            });
            let repeated = d
                .cases
                .iter()
                .enumerate()
                .any(|(j, c)| d.cases[..j].contains(c));
            if twice || repeated {
                return Err(format!("{at}: listed twice"));
            }
        }
        Ok(Self {
            entries: file.divergence,
        })
    }

    /// Every known divergence in the file's order, for reports and to check no entry is stale.
    pub fn entries(&self) -> &[Divergence] {
        &self.entries
    }

    /// The entry for a corpus case and validator, if any.
    pub fn for_case(&self, validator: &str, case: &str) -> Option<&Divergence> {
        self.entries
            .iter()
            .find(|d| d.validator == validator && d.cases.iter().any(|c| c == case))
    }

    /// The live-check entry that covers this disagreement, if any. `shapes` are the answer's
    /// (from [`shapes`]).
    pub fn for_live(
        &self,
        validator: &str,
        qtype: &str,
        reason: Option<&str>,
        shapes: &[&str],
        expected: &str,
        observed: &str,
    ) -> Option<&Divergence> {
        self.entries.iter().find(|d| {
            d.cases.is_empty()
                && d.validator == validator
                && d.qtype
                    .as_deref()
                    .is_none_or(|t| t.eq_ignore_ascii_case(qtype))
                && d.reason.as_deref().is_none_or(|r| Some(r) == reason)
                && d.shape.as_deref().is_none_or(|s| shapes.contains(&s))
                && d.expected == expected
                && d.observed == observed
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checked_in_list_is_well_formed() {
        let _ = KnownDivergences::builtin();
    }

    #[test]
    fn entries_need_known_words_and_a_cause() {
        let ok = r#"
            [[divergence]]
            validator = "hickory-resolver"
            qtype = "A"
            expected = "secure"
            observed = "bogus"
            cause = "a documented bug in the validator"
        "#;
        let list = KnownDivergences::parse(ok).unwrap();
        assert!(
            list.for_live("hickory-resolver", "a", None, &[], "secure", "bogus")
                .is_some()
        );
        assert!(
            list.for_live("hickory-resolver", "TXT", None, &[], "secure", "bogus")
                .is_none()
        );
        assert!(
            list.for_live("hickory-resolver", "A", None, &[], "bogus", "secure")
                .is_none()
        );
        assert!(list.for_case("hickory-resolver", "secure/x").is_none());
        for bad in [
            ok.replace("hickory-resolver", "knot"),
            ok.replace("\"bogus\"", "\"broken\""),
            ok.replace("a documented bug in the validator", "bug"),
            ok.replace("\"bogus\"", "\"secure\""),
            ok.replace("qtype", "question"),
            format!("{ok}\ncases = [\"secure/x\"]"),
            format!("{ok}\n{ok}"),
            r#"
            [[divergence]]
            validator = "drill"
            cases = ["a/b", "a/b"]
            expected = "bogus"
            observed = "secure"
            cause = "a documented bug in the validator"
            "#
            .to_string(),
        ] {
            assert!(KnownDivergences::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_shape_narrows_a_live_entry_to_one_kind_of_answer() {
        let entry = r#"
            [[divergence]]
            validator = "hickory-resolver"
            shape = "nsec-expansion-beside-wildcard"
            expected = "secure"
            observed = "bogus"
            cause = "a documented bug in the validator"
        "#;
        let list = KnownDivergences::parse(entry).unwrap();
        let shaped = [NSEC_EXPANSION_BESIDE_WILDCARD];
        assert!(
            list.for_live("hickory-resolver", "A", None, &shaped, "secure", "bogus")
                .is_some()
        );
        // Any other secure answer that hickory-resolver calls bogus stays a failure.
        assert!(
            list.for_live("hickory-resolver", "A", None, &[], "secure", "bogus")
                .is_none()
        );
        for bad in [
            entry.replace("nsec-expansion-beside-wildcard", "wildcard"),
            format!("{entry}\ncases = [\"secure/x\"]"),
            entry.replace(
                "shape = ",
                "reason = \"opt-out\"\ncases = [\"a/b\"]\nshape = ",
            ),
        ] {
            assert!(KnownDivergences::parse(&bad).is_err(), "{bad}");
        }
    }

    /// The shape marks exactly the corpus answers on which hickory-resolver's NSEC wildcard
    /// bug shows (the corpus entry's cases, checked against hickory-resolver, Unbound, BIND
    /// and Knot Resolver by the differential test), and no other answer of the corpus.
    #[test]
    fn the_wildcard_shape_is_the_one_the_differential_test_lists() {
        let list = KnownDivergences::builtin();
        let listed = list
            .for_case("hickory-resolver", "secure/wildcard/alg8-nsec/a.wild-a")
            .expect("the corpus entry for hickory-resolver's NSEC wildcard bug");
        let cases = checker::corpus::generate(&checker::corpus::CorpusOptions::default());
        let mut shaped = 0;
        for case in &cases {
            let has = shapes(&case.links()).contains(&NSEC_EXPANSION_BESIDE_WILDCARD);
            let secure = case.expected.lenient == checker::Status::Secure;
            if secure {
                assert_eq!(
                    has,
                    listed.cases.contains(&case.id),
                    "{}: shape {has}",
                    case.id
                );
            }
            shaped += usize::from(has);
        }
        assert!(shaped >= listed.cases.len(), "{shaped}");
    }

    /// Every corpus answer hickory-resolver is listed as failing for its missing DNAME support
    /// has the DNAME shape, and the live entries for that shape carry the corpus entries'
    /// verdicts: the live check excuses what the differential test measured, no more.
    #[test]
    fn the_dname_shape_covers_the_listed_dname_cases() {
        let list = KnownDivergences::builtin();
        let cases = checker::corpus::generate(&checker::corpus::CorpusOptions::default());
        let mut covered = 0;
        for case in &cases {
            let Some(entry) = list.for_case("hickory-resolver", &case.id) else {
                continue;
            };
            if !entry.cause.contains("DNAME") {
                continue;
            }
            assert!(
                shapes(&case.links()).contains(&DNAME_REDIRECTION),
                "{}",
                case.id
            );
            assert!(
                list.for_live(
                    "hickory-resolver",
                    "A",
                    None,
                    &[DNAME_REDIRECTION],
                    &entry.expected,
                    &entry.observed
                )
                .is_some(),
                "{}: no live entry for {} → {}",
                case.id,
                entry.expected,
                entry.observed
            );
            covered += 1;
        }
        assert!(covered >= 50, "{covered}");
    }
}
