//! A scenario for the wall clock: every duration divided by a time scale, so a procedure that
//! waits days of TTLs runs in minutes on real servers.
//!
//! Divided: the TTLs at the TLD and at every operator (and the TTLs written in the registrant's
//! records), the registry's publication delay and its jitter, the reference registrars' poll
//! intervals (their default too; to the millisecond, at least 100 ms) and relay publication
//! delays, `done_within`, `ds_updates`, `run` and `advance` steps, relayed expiries of
//! scripted key relays, a secondary's lag, the registry's receipt probe interval and longest
//! watch, and its CDS/CDNSKEY scanner's intervals and delays. No TTL goes
//! below one second. RRSIG validity is not divided: real signers choose their own windows, and
//! a longer validity never shortens what caches may hold.

use jiff::{SignedDuration, Timestamp};

use super::plan::{Scenario, Step};
use crate::records::RegistrantRecord;

/// `secs / scale`, rounded up, at least `min`.
fn div(secs: u64, scale: u32, min: u64) -> u64 {
    secs.div_ceil(u64::from(scale.max(1))).max(min)
}

fn ttl(t: u32, scale: u32) -> u32 {
    u32::try_from(div(u64::from(t), scale, 1)).unwrap_or(u32::MAX)
}

/// A duration divided to the millisecond (rounded up), at least `min` seconds: delays and
/// poll intervals keep their proportions to the (whole-second) TTLs, so a margin of a quarter
/// of a TTL in the scenario is still one on the wall clock.
fn duration(d: SignedDuration, scale: u32, min: u64) -> SignedDuration {
    let ms = u64::try_from(d.as_millis().max(0)).unwrap_or(u64::MAX);
    let scaled = div(ms, scale, min.saturating_mul(1000));
    SignedDuration::from_millis(i64::try_from(scaled).unwrap_or(i64::MAX))
}

/// A relative key relay expiry (`PT6H`, `P1D`, `-P1D`), scaled; anything else unchanged.
fn expiry(text: &str, scale: u32) -> String {
    let (sign, body) = match text.strip_prefix('-') {
        Some(b) => ("-", b),
        None => ("", text),
    };
    if !body.starts_with('P') {
        return text.to_string();
    }
    let Ok(span) = body.parse::<jiff::Span>() else {
        return text.to_string();
    };
    let Ok(total) = span.total((jiff::Unit::Second, jiff::civil::date(2026, 1, 1))) else {
        return text.to_string();
    };
    // Zero stays zero: `P0D` revokes (RFC 8063 §2.1.1), a scaled one must too.
    let secs = if total <= 0.0 {
        0
    } else {
        div(total.ceil() as u64, scale, 1)
    };
    format!("{sign}PT{secs}S")
}

impl Scenario {
    /// This scenario for a wall-clock run starting at `start`, every duration divided by
    /// `scale`. See the module documentation.
    pub fn for_wall_clock(&self, scale: u32, start: Timestamp) -> Self {
        let mut s = self.clone();
        let w = &mut s.world;
        w.start = start;
        w.propagation_delay = duration(w.propagation_delay, scale, 0);
        w.chaos.propagation_jitter = duration(w.chaos.propagation_jitter, scale, 0);
        w.ttl_ns = ttl(w.ttl_ns, scale);
        w.ttl_ds = ttl(w.ttl_ds, scale);
        w.ttl_dnskey = ttl(w.ttl_dnskey, scale);
        w.ttl_soa = ttl(w.ttl_soa, scale);
        if let Some(r) = &mut w.keyrelay_receipts {
            r.probe_interval = duration(r.probe_interval, scale, 1);
            r.max_watch = duration(r.max_watch, scale, 1);
        }
        if let Some(a) = &mut w.ds_automation {
            a.scan_interval = duration(a.scan_interval, scale, 1);
            a.insecure_scan_interval = duration(a.insecure_scan_interval, scale, 1);
            a.acceptance = duration(a.acceptance, scale, 0);
            a.bootstrap_delay = a.bootstrap_delay.map(|d| duration(d, scale, 0));
            a.intensive_interval = a.intensive_interval.map(|d| duration(d, scale, 1));
        }
        for r in &mut s.registrars {
            // The default too: a wall-clock run must not wait half an hour between polls.
            r.poll_interval = Some(
                duration(
                    r.poll_interval.unwrap_or(SignedDuration::from_secs(
                        i64::try_from(super::plan::DEFAULT_POLL_INTERVAL).unwrap_or(1800),
                    )),
                    scale,
                    0,
                )
                .max(SignedDuration::from_millis(100)),
            );
            r.relay_publish_delay = div(r.relay_publish_delay, scale, 0);

            let o = &mut r.operator;
            o.ttl_dnskey = ttl(o.ttl_dnskey, scale);
            o.ttl_ns = ttl(o.ttl_ns, scale);
            o.ttl_data = ttl(o.ttl_data, scale);
            o.ttl_negative = ttl(o.ttl_negative, scale);
            if let Some(sec) = &mut o.secondary {
                sec.lag = duration(sec.lag, scale, 1);
            }
        }
        for d in &mut s.domains {
            for line in &mut d.records {
                if let Ok(r) = RegistrantRecord::parse(&d.name, line)
                    && let Some(t) = r.ttl
                {
                    // The record as an absolute line with the scaled TTL: the same record.
                    *line = RegistrantRecord {
                        ttl: Some(ttl(t, scale)),
                        ..r
                    }
                    .to_zone_line(0);
                }
            }
        }
        for step in &mut s.steps {
            match step {
                Step::Run { limit } => *limit = duration(*limit, scale, 1),
                Step::Advance { by } => *by = duration(*by, scale, 1),
                Step::KeyRelay {
                    expiry: Some(e), ..
                } => *e = expiry(e, scale),
                _ => {}
            }
        }
        s.expect.done_within = s.expect.done_within.map(|d| duration(d, scale, 1));
        for u in &mut s.expect.ds_updates {
            u.after = duration(u.after, scale, 0);
            u.within = u.within.map(|d| duration(d, scale, 1));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_divide_and_stay_at_least_a_second() {
        assert_eq!(div(3600, 2160, 1), 2);
        assert_eq!(div(60, 2160, 1), 1);
        assert_eq!(div(0, 2160, 0), 0);
        assert_eq!(expiry("PT6H", 3600), "PT6S");
        assert_eq!(expiry("P0D", 3600), "PT0S");
        assert_eq!(expiry("-P1D", 3600), "-PT24S");
        assert_eq!(expiry("2026-03-02T09:00:00Z", 3600), "2026-03-02T09:00:00Z");
    }

    #[test]
    fn a_scenario_is_scaled_whole() {
        let text = crate::scenario::library::text("keyrelay-expiry.toml").unwrap();
        let s = crate::scenario::parse(std::path::Path::new("k.toml"), text).unwrap();
        let start: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
        let w = s.for_wall_clock(3600, start);
        assert_eq!(w.world.start, start);
        assert_eq!(w.world.ttl_ds, s.world.ttl_ds.div_ceil(3600).max(1));
        assert!(w.registrars.iter().all(|r| r.operator.ttl_data >= 1));
        let relays: Vec<&Option<String>> = w
            .steps
            .iter()
            .filter_map(|st| match st {
                Step::KeyRelay { expiry, .. } => Some(expiry),
                _ => None,
            })
            .collect();
        assert!(!relays.is_empty());
    }
}
