//! The value rules of RFC 5733 the schema cannot express: a country code is one of ISO
//! 3166-1's alpha-2 codes (§2.4.3), an e-mail address is an RFC 5322 addr-spec (§2.6).

/// The 249 officially assigned ISO 3166-1 alpha-2 codes (as of ISO 3166/MA, 2023; the same
/// list as tzdata's `iso3166.tab` and Debian's iso-codes). User-assigned and exceptionally
/// reserved codes (`XX`, `ZZ`, `EU`, `UK`, …) are not country codes.
const ISO_3166_1_ALPHA_2: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// Why a country code is refused, if it is. ISO 3166-1 codes are upper case; a lower-case
/// form of an assigned code gets a hint.
pub(super) fn country_code_problem(cc: &str) -> Option<String> {
    if ISO_3166_1_ALPHA_2.binary_search(&cc).is_ok() {
        return None;
    }
    let upper = cc.to_ascii_uppercase();
    Some(
        if ISO_3166_1_ALPHA_2.binary_search(&upper.as_str()).is_ok() {
            format!("{cc:?} is not an ISO 3166-1 alpha-2 code: codes are upper case ({upper})")
        } else {
            format!("{cc:?} is not an assigned ISO 3166-1 alpha-2 country code (RFC 5733 §2.4.3)")
        },
    )
}

/// Why an e-mail address is not an RFC 5322 §3.4.1 addr-spec, if it is not.
///
/// The check is the addr-spec grammar without its obsolete forms, comments and folding
/// whitespace: `local-part "@" domain`, where the local part is a dot-atom or a quoted string
/// and the domain is a host name of LDH labels (RFC 5321 §4.1.2, what mail can be routed to)
/// or an address literal (`[192.0.2.1]`, `[IPv6:…]`). ASCII only, as RFC 5322 is; within
/// RFC 5321's limits of 64 octets for the local part and 254 for the whole (§4.5.3.1).
pub(super) fn email_problem(email: &str) -> Option<String> {
    let problem = |why: &str| Some(format!("{email:?} is not an RFC 5322 addr-spec: {why}"));
    if !email.is_ascii() {
        return problem("it is not ASCII");
    }
    if email.len() > 254 {
        return problem("longer than 254 characters");
    }
    let Some((local, domain)) = split_at_last_at(email) else {
        return problem("no @");
    };
    if local.is_empty() || local.len() > 64 {
        return problem("the local part must be 1 to 64 characters");
    }
    let local_ok = if local.starts_with('"') {
        is_quoted_string(local)
    } else {
        is_dot_atom(local)
    };
    if !local_ok {
        return problem("the local part is neither a dot-atom nor a quoted string");
    }
    let domain_ok = match domain.strip_prefix('[') {
        Some(literal) => literal.strip_suffix(']').is_some_and(is_address_literal),
        None => is_host_name(domain),
    };
    if !domain_ok {
        return problem("the domain is neither a host name nor an address literal");
    }
    None
}

/// Splits at the `@` that starts the domain: the last one, since a quoted local part may hold
/// `@` but a domain may not.
fn split_at_last_at(email: &str) -> Option<(&str, &str)> {
    email.rsplit_once('@')
}

/// RFC 5322 §3.2.3 `atext`.
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

/// RFC 5322 §3.2.3 `dot-atom-text`: atoms of atext joined by single dots.
fn is_dot_atom(s: &str) -> bool {
    s.split('.')
        .all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

/// RFC 5322 §3.2.4 `quoted-string` without folding whitespace: printable ASCII and spaces
/// between quotes, `"` and `\` only escaped.
fn is_quoted_string(s: &str) -> bool {
    let Some(inner) = s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
        return false;
    };
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) if (' '..='~').contains(&e) => {}
                _ => return false,
            },
            '"' => return false,
            c if (' '..='~').contains(&c) => {}
            _ => return false,
        }
    }
    true
}

/// A host name: LDH labels of 1 to 63 characters, not starting or ending with a hyphen,
/// joined by dots, 253 characters at most, no trailing dot (RFC 1123 §2.1, RFC 5321 §4.1.2).
fn is_host_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// RFC 5321 §4.1.3 address literals: an IPv4 address, or `IPv6:` and an IPv6 address.
fn is_address_literal(s: &str) -> bool {
    match s.strip_prefix("IPv6:") {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => s.parse::<std::net::Ipv4Addr>().is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_list_is_sorted_and_complete() {
        let mut sorted = ISO_3166_1_ALPHA_2;
        sorted.sort_unstable();
        assert_eq!(sorted, ISO_3166_1_ALPHA_2, "binary search needs order");
        assert!(
            ISO_3166_1_ALPHA_2
                .iter()
                .all(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
        );
        // Where a tzdata is installed, its table of assigned codes is the same list.
        if let Ok(tab) = std::fs::read_to_string("/usr/share/zoneinfo/iso3166.tab") {
            let mut codes: Vec<&str> = tab
                .lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split('\t').next())
                .collect();
            codes.sort_unstable();
            assert_eq!(codes, ISO_3166_1_ALPHA_2);
        }
        for ok in ["NL", "BE", "DE", "GB", "US", "AX", "CW", "SS"] {
            assert_eq!(country_code_problem(ok), None, "{ok}");
        }
        for bad in ["XX", "ZZ", "EU", "UK", "nl", "N1", "", "NLD"] {
            assert!(country_code_problem(bad).is_some(), "{bad}");
        }
        assert!(country_code_problem("nl").unwrap().contains("(NL)"));
    }

    #[test]
    fn addr_spec() {
        for ok in [
            "jan@example.nl",
            "j.a+n@sub.example.nl",
            "o'brien@example.co.uk",
            "\"jan jansen\"@example.nl",
            "\"a@b\\\"c\"@example.nl",
            "x@localhost",
            "jan@[192.0.2.1]",
            "jan@[IPv6:2001:db8::1]",
            "!#$%&'*+-/=?^_`{|}~@example.nl",
        ] {
            assert_eq!(email_problem(ok), None, "{ok}");
        }
        let long_local = format!("{}@example.nl", "a".repeat(65));
        let long = format!("a@{}.nl", "b".repeat(260));
        for bad in [
            "jan",
            "jan@",
            "@example.nl",
            "jan@@example.nl",
            "jan@example..nl",
            "jan..j@example.nl",
            ".jan@example.nl",
            "jan.@example.nl",
            "jan@-example.nl",
            "jan@example-.nl",
            "jan@example.nl.",
            "jan@exa_mple.nl",
            "jän@example.nl",
            "jan,piet@example.nl",
            "jan piet@example.nl",
            "<jan@example.nl>",
            "Jan <jan@example.nl>",
            "\"jan@example.nl",
            "\"ja\"n\"@example.nl",
            "jan@[192.0.2.1",
            "jan@[300.0.2.1]",
            "jan@[IPv6:zz::1]",
            long_local.as_str(),
            long.as_str(),
        ] {
            assert!(email_problem(bad).is_some(), "{bad:?} should be refused");
        }
    }
}
