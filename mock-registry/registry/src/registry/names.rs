//! Domain and host name rules: LDH syntax (RFC 1123 §2.1, RFC 5891 A-labels only), case
//! folding, and the SIDN profile's "second-level names under the TLD only".

use super::refusal::{Area, Refusal};
use epp::ResultCode;

/// Checks LDH syntax and returns the name in lower case (EPP names compare case-insensitively;
/// the registry stores and answers the folded form).
pub fn normalize(name: &str, area: Area, field: &str) -> Result<String, Refusal> {
    let bad = |why: String| {
        Refusal::new(
            ResultCode::ParameterValueSyntaxError,
            area,
            format!("{name:?}: {why}"),
        )
        .field(field)
    };
    if name.is_empty() {
        return Err(bad("empty name".into()));
    }
    if name.ends_with('.') {
        return Err(bad("a trailing dot is not allowed".into()));
    }
    if name.len() > 253 {
        return Err(bad("longer than 253 characters".into()));
    }
    let lower = name.to_ascii_lowercase();
    for label in lower.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(bad(format!("label {label:?} must have 1 to 63 characters")));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(bad(format!(
                "label {label:?} has characters other than letters, digits and hyphens (IDNs must be A-labels)"
            )));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(bad(format!("label {label:?} starts or ends with a hyphen")));
        }
    }
    Ok(lower)
}

/// Checks a domain name for registration under `tld` and returns it folded: exactly one label
/// below the TLD, as SIDN registers.
pub fn domain_under(name: &str, tld: &str) -> Result<String, Refusal> {
    let n = normalize(name, Area::Domain, "domain:name")?;
    match n.split_once('.') {
        Some((label, rest)) if rest == tld => {
            if label.len() >= 4 && &label[2..4] == "--" && !label.starts_with("xn") {
                return Err(Refusal::policy(
                    Area::Domain,
                    format!("{n}: hyphens in the third and fourth position are reserved"),
                )
                .field("domain:name"));
            }
            Ok(n)
        }
        _ => Err(Refusal::new(
            ResultCode::DataManagementPolicyViolation,
            Area::Domain,
            format!("{n}: a domain name must be one label under .{tld}"),
        )
        .field("domain:name")),
    }
}

/// For a host name inside the TLD, the registered domain it would belong to (its
/// superordinate domain), e.g. `ns1.example.nl` → `example.nl`; `None` for external hosts.
pub fn superordinate(host: &str, tld: &str) -> Option<String> {
    let suffix = format!(".{tld}");
    let inside = host.strip_suffix(&suffix)?;
    let last = inside.rsplit('.').next()?;
    if last == inside {
        // The host *is* a second-level name (e.g. "example.nl"): its superordinate domain is
        // itself; a host may be named like a domain (RFC 5732 allows it).
        return Some(host.to_string());
    }
    Some(format!("{last}{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldh_and_case() {
        assert_eq!(
            normalize("NS1.Example.NL", Area::Host, "x").unwrap(),
            "ns1.example.nl"
        );
        for bad in [
            "",
            "a..b",
            "-a.nl",
            "a-.nl",
            "a_b.nl",
            "exämple.nl",
            "a.nl.",
            &"a".repeat(64),
        ] {
            assert!(normalize(bad, Area::Host, "x").is_err(), "{bad}");
        }
    }

    #[test]
    fn domains_are_second_level_under_the_tld() {
        assert_eq!(domain_under("Example.nl", "nl").unwrap(), "example.nl");
        assert_eq!(
            domain_under("www.example.nl", "nl")
                .unwrap_err()
                .code
                .code(),
            2308
        );
        assert_eq!(
            domain_under("example.com", "nl").unwrap_err().code.code(),
            2308
        );
        assert_eq!(
            domain_under("ab--cd.nl", "nl").unwrap_err().code.code(),
            2306
        );
        assert!(domain_under("xn--bcher-kva.nl", "nl").is_ok());
    }

    #[test]
    fn superordinate_domains() {
        assert_eq!(
            superordinate("ns1.example.nl", "nl").as_deref(),
            Some("example.nl")
        );
        assert_eq!(
            superordinate("a.b.example.nl", "nl").as_deref(),
            Some("example.nl")
        );
        assert_eq!(superordinate("ns1.example.net", "nl"), None);
    }
}
