//! The timeline picture: one inline SVG per scenario, drawn from the report alone (its
//! `lanes`, `verdicts`, `events` and checks), with no script and nothing fetched.
//!
//! What a reader wants to see first is the move over time, so the picture puts everything on
//! one axis of virtual time offsets (`+0s`, `+1h`, …):
//!
//! - per checked domain, the **verdict band** (the worst state any resolver's cache could be
//!   in), its hover title giving the finding and the witness of the check that failed;
//! - under it **one lane per source and question** (the parent's DS and NS, each operator's
//!   DNSKEY and NS), each stretch labelled with the set it served and every change marked;
//!   stretches in which some resolver could see the domain broken are tinted across all lanes,
//!   so the cause of a failure lines up with it;
//! - at the bottom the **actions as ticks**: the scenario's steps, each registrar's log lines
//!   and operator requests, its EPP commands (polls short and grey, refusals red), each with
//!   its text as hover title.
//!
//! The SVG carries `data-*` attributes (`data-lane`, `data-rrtype`, `data-verdict`,
//! `data-row`) so tests and tools can find its parts without guessing at geometry.

use std::fmt::Write as _;

use jiff::Timestamp;

use crate::checks::CheckId;
use crate::report::lanes::{EventKind, LaneSegment, NO_ANSWER, ReportEvent};
use crate::report::{Outcome, ScenarioReport, Verdict, VerdictBand, esc};

/// The picture's width in user units (it scales down with the page).
const WIDTH: f64 = 1200.0;
/// Where the plot starts: the lane names go left of it.
const LEFT: f64 = 200.0;
/// Space right of the plot.
const RIGHT: f64 = 24.0;
/// A lane's height.
const ROW: f64 = 18.0;
/// Space between lanes (change markers sit in it).
const GAP: f64 = 5.0;
/// An approximate glyph width of the 11-unit sans-serif font, to decide what text fits.
const CHAR: f64 = 6.2;
/// A safe glyph width for the lane names (capitals such as DNSKEY are wide): they must not
/// run into the plot.
const NAME_CHAR: f64 = 7.0;
/// At most this many lines in one hover title (a tick may stand for many events).
const TITLE_LINES: usize = 14;

/// The colour of each verdict: green for secure, then amber, violet, orange and red, in
/// the order of how bad it is.
pub fn verdict_colour(v: Verdict) -> &'static str {
    match v {
        Verdict::Secure => "#43a047",
        Verdict::Insecure => "#f9a825",
        Verdict::ContentChanged => "#8e24aa",
        Verdict::Unreachable => "#ef6c00",
        Verdict::Bogus => "#c62828",
    }
}

/// Soft fills for the sets a lane served, by order of first appearance in the lane (a set
/// that comes back gets its colour back).
const SET_FILLS: [&str; 8] = [
    "#cfe2f3", "#d9ead3", "#fff2cc", "#d9d2e9", "#fce5cd", "#d0e0e3", "#ead1dc", "#e6e6b8",
];
/// The fill of a stretch where the source served nothing useful (no answer, an error code).
const NOTHING_FILL: &str = "#eeeeee";

/// The check whose failure a verdict band shows.
fn check_of(v: Verdict) -> Option<CheckId> {
    match v {
        Verdict::Secure => None,
        Verdict::Insecure => Some(CheckId::InsecureWindow),
        Verdict::ContentChanged => Some(CheckId::ContentChanged),
        Verdict::Unreachable => Some(CheckId::Unreachable),
        Verdict::Bogus => Some(CheckId::ChainBogus),
    }
}

/// The horizontal scale: virtual time to user units.
#[derive(Debug, Clone, Copy)]
struct Axis {
    start: Timestamp,
    /// Seconds the plot spans (at least one).
    span: f64,
}

impl Axis {
    fn new(start: Timestamp, end: Timestamp) -> Self {
        let span = end.duration_since(start).as_secs_f64().max(1.0);
        Self { start, span }
    }

    fn secs(&self, t: Timestamp) -> f64 {
        t.duration_since(self.start).as_secs_f64()
    }

    fn x(&self, t: Timestamp) -> f64 {
        let plot = WIDTH - LEFT - RIGHT;
        LEFT + plot * (self.secs(t) / self.span).clamp(0.0, 1.0)
    }

    /// Tick positions (seconds from the start) at a round step giving at most a dozen ticks.
    fn ticks(&self) -> Vec<i64> {
        const STEPS: [i64; 17] = [
            1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800,
            604_800, 1_209_600, 2_592_000,
        ];
        let step = STEPS
            .iter()
            .copied()
            .find(|s| self.span / *s as f64 <= 12.0)
            .unwrap_or(2_592_000);
        let mut out = Vec::new();
        let mut t = 0i64;
        while (t as f64) <= self.span + 0.5 {
            out.push(t);
            t += step;
        }
        out
    }
}

/// `+0s`, `+45m`, `+1h30m`, `+1d12h`: an offset from the scenario's start.
pub fn offset_label(secs: i64) -> String {
    if secs == 0 {
        return "+0s".into();
    }
    let sign = if secs < 0 { "-" } else { "+" };
    let s = secs.unsigned_abs();
    let (d, h, m, sec) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    let mut out = sign.to_string();
    for (n, unit) in [(d, "d"), (h, "h"), (m, "m"), (sec, "s")] {
        if n > 0 {
            let _ = write!(out, "{n}{unit}");
        }
    }
    out
}

/// The picture of one scenario as an `<svg>` element (for inline use in HTML).
pub fn scenario_svg(s: &ScenarioReport) -> String {
    Picture::new(s).draw()
}

/// The picture as a standalone SVG file.
pub fn standalone_svg(s: &ScenarioReport) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        scenario_svg(s)
    )
}

/// One scenario's picture while it is drawn: three layers, painted in order.
struct Picture<'a> {
    s: &'a ScenarioReport,
    axis: Axis,
    /// Grid lines and tints, under everything.
    back: String,
    /// Bands, stretches, ticks and labels.
    front: String,
    /// Change markers and other things on top.
    top: String,
    /// The next free vertical position.
    y: f64,
}

impl<'a> Picture<'a> {
    fn new(s: &'a ScenarioReport) -> Self {
        Self {
            s,
            axis: Axis::new(s.virtual_start, s.virtual_end),
            back: String::new(),
            front: String::new(),
            top: String::new(),
            y: 0.0,
        }
    }

    fn t(&self, t: Timestamp) -> String {
        offset_label(self.axis.secs(t).round() as i64)
    }

    fn draw(mut self) -> String {
        let s = self.s;
        let verdict = if s.passed { "PASS" } else { "FAIL" };
        let heading = format!(
            "{}: {verdict}, virtual time {} to {}",
            s.id,
            offset_label(0),
            self.t(s.virtual_end)
        );
        self.text(8.0, 16.0, &heading, "font-size=\"14\" font-weight=\"bold\"");
        self.y = 26.0;
        let axis_top = self.y;
        self.axis_labels(self.y + 11.0);
        self.y += 18.0;

        let domains = self.domains();
        if domains.is_empty() && s.events.is_empty() {
            self.text(
                LEFT,
                self.y + 14.0,
                "nothing was recorded (the scenario stopped before it ran)",
                "fill=\"#555\" font-style=\"italic\"",
            );
            self.y += 24.0;
        }
        for d in &domains {
            self.domain_block(d);
        }
        self.actions();
        let axis_bottom = self.y;
        self.grid(axis_top + 16.0, axis_bottom);
        self.axis_labels(self.y + 11.0);
        self.y += 24.0;
        self.legend();

        let height = self.y.ceil();
        let mut out = String::new();
        let _ = write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" \
             data-scenario=\"{id}\" width=\"{WIDTH}\" height=\"{height}\" \
             viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"11\" \
             role=\"img\" aria-label=\"{label}\">\n<title>{label}</title>\n\
             <rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{height}\" fill=\"#ffffff\"/>\n",
            id = esc(&s.id),
            label = esc(&format!(
                "Timeline of {}: what each source served, the verdict, the actions",
                s.id
            )),
        );
        out.push_str(&self.back);
        out.push_str(&self.front);
        out.push_str(&self.top);
        out.push_str("</svg>\n");
        out
    }

    /// The checked domains: those with lanes or verdicts, in order of appearance.
    fn domains(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let names = self
            .s
            .lanes
            .iter()
            .map(|l| &l.domain)
            .chain(self.s.verdicts.iter().map(|v| &v.domain));
        for d in names {
            if !out.contains(d) {
                out.push(d.clone());
            }
        }
        out
    }

    fn text(&mut self, x: f64, y: f64, text: &str, attrs: &str) {
        let _ = writeln!(
            self.front,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" {attrs}>{}</text>",
            esc(text)
        );
    }

    fn axis_labels(&mut self, y: f64) {
        for t in self.axis.ticks() {
            let x = LEFT + (WIDTH - LEFT - RIGHT) * (t as f64 / self.axis.span);
            let _ = writeln!(
                self.front,
                "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
                esc(&offset_label(t))
            );
        }
    }

    fn grid(&mut self, top: f64, bottom: f64) {
        let mut g = String::from("<g data-part=\"grid\" stroke=\"#dddddd\" stroke-width=\"1\">\n");
        for t in self.axis.ticks() {
            let x = LEFT + (WIDTH - LEFT - RIGHT) * (t as f64 / self.axis.span);
            let _ = writeln!(
                g,
                "<line x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\"/>"
            );
        }
        g.push_str("</g>\n");
        self.back.insert_str(0, &g);
    }

    /// A lane's name at the left.
    fn row_name(&mut self, y: f64, name: &str, strong: bool) {
        let attrs = if strong {
            "font-weight=\"bold\""
        } else {
            "fill=\"#222\""
        };
        let max = ((LEFT - 14.0) / NAME_CHAR) as usize;
        self.text(8.0, y + ROW - 5.0, &fit(name, max), attrs);
    }

    fn domain_block(&mut self, domain: &str) {
        let s = self.s;
        self.text(
            8.0,
            self.y + 13.0,
            domain,
            "font-size=\"13\" font-weight=\"bold\"",
        );
        self.y += 18.0;
        let block_top = self.y;
        // Lanes in report order: (source, rrtype) as they first appear.
        let mut lanes: Vec<(&str, &str)> = Vec::new();
        for l in s.lanes.iter().filter(|l| l.domain == domain) {
            if !lanes.contains(&(l.source.as_str(), l.rrtype.as_str())) {
                lanes.push((&l.source, &l.rrtype));
            }
        }
        let block_bottom = block_top + (ROW + GAP) * (1 + lanes.len()) as f64;
        // Tint every stretch some resolver could see broken, across the domain's lanes (on
        // top, so it shows over the lanes; it lets hovers through to them).
        for b in s.verdicts.iter().filter(|b| b.domain == domain) {
            if b.verdict == Verdict::Secure {
                continue;
            }
            let (x1, x2) = (self.axis.x(b.from), self.axis.x(b.until));
            let _ = writeln!(
                self.top,
                "<rect data-tint=\"{v}\" x=\"{x1:.1}\" y=\"{block_top:.1}\" width=\"{w:.1}\" \
                 height=\"{h:.1}\" fill=\"{c}\" fill-opacity=\"0.07\" stroke=\"{c}\" stroke-width=\"1.5\" \
                 stroke-dasharray=\"4 3\" pointer-events=\"none\"/>",
                v = b.verdict.as_str(),
                w = (x2 - x1).max(1.0),
                h = block_bottom - block_top - GAP,
                c = verdict_colour(b.verdict),
            );
        }
        self.verdict_row(domain);
        for (source, rrtype) in lanes {
            let segs: Vec<&LaneSegment> = s
                .lanes
                .iter()
                .filter(|l| l.domain == domain && l.source == source && l.rrtype == rrtype)
                .collect();
            self.lane(domain, source, rrtype, &segs);
        }
        self.y += 8.0;
    }

    fn verdict_row(&mut self, domain: &str) {
        let s = self.s;
        let y = self.y;
        self.row_name(y, "verdict (worst cache)", true);
        let bands: Vec<&VerdictBand> = s.verdicts.iter().filter(|b| b.domain == domain).collect();
        let mut g = format!("<g data-row=\"verdict\" data-domain=\"{}\">\n", esc(domain));
        if bands.is_empty() {
            let _ = writeln!(
                g,
                "<text x=\"{LEFT}\" y=\"{:.1}\" fill=\"#555\" font-style=\"italic\">no chain \
                 verdict (the scenario checks no DNSSEC chain)</text>",
                y + ROW - 5.0
            );
        }
        for b in bands {
            let (x1, x2) = (self.axis.x(b.from), self.axis.x(b.until));
            let w = (x2 - x1).max(1.5);
            let title = self.band_title(b);
            let colour = verdict_colour(b.verdict);
            let ink = if b.verdict == Verdict::Insecure {
                "#000"
            } else {
                "#fff"
            };
            let _ = write!(
                g,
                "<g data-verdict=\"{v}\"><title>{t}</title>\
                 <rect x=\"{x1:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{ROW}\" fill=\"{colour}\"/>",
                v = b.verdict.as_str(),
                t = esc(&title),
            );
            let label = fit(b.verdict.as_str(), ((w - 6.0) / CHAR) as usize);
            if !label.is_empty() {
                let _ = write!(
                    g,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{ink}\" \
                     font-weight=\"bold\">{}</text>",
                    x1 + w / 2.0,
                    y + ROW - 5.0,
                    esc(&label)
                );
            }
            g.push_str("</g>\n");
        }
        g.push_str("</g>\n");
        self.front.push_str(&g);
        self.y += ROW + GAP;
    }

    /// A band's hover title: verdict and stretch, the finding, and the witness of the check
    /// that failed there.
    fn band_title(&self, b: &VerdictBand) -> String {
        let mut lines = vec![format!(
            "{}: {} from {} to {}",
            b.domain,
            b.verdict.as_str(),
            self.t(b.from),
            self.t(b.until)
        )];
        if !b.detail.is_empty() {
            lines.push(b.detail.clone());
        }
        let prefix = format!("{}:", b.domain);
        if let Some(id) = check_of(b.verdict)
            && let Some(c) = self.s.checks.iter().find(|c| {
                c.check == id
                    && matches!(c.outcome, Outcome::Fail | Outcome::ExpectedFail)
                    && c.message.starts_with(&prefix)
                    && c.at.is_none_or(|at| b.from <= at && at < b.until)
            })
        {
            lines.push(format!("{}: {}", c.check.id(), c.message));
            lines.extend(
                c.evidence
                    .iter()
                    .filter(|e| !e.starts_with("also:"))
                    .take(TITLE_LINES - 3)
                    .cloned(),
            );
        }
        lines.join("\n")
    }

    fn lane(&mut self, domain: &str, source: &str, rrtype: &str, segs: &[&LaneSegment]) {
        let y = self.y;
        // The question always shows; a long source name gives way.
        let room = ((LEFT - 14.0) / NAME_CHAR) as usize;
        let source_room = room.saturating_sub(rrtype.len() + 2);
        self.row_name(y, &format!("{}  {rrtype}", fit(source, source_room)), false);
        let mut g = format!(
            "<g data-lane=\"{}\" data-rrtype=\"{}\" data-domain=\"{}\">\n",
            esc(source),
            esc(rrtype),
            esc(domain)
        );
        let mut seen: Vec<&str> = Vec::new();
        let mut previous: Option<&LaneSegment> = None;
        for seg in segs {
            let (x1, x2) = (self.axis.x(seg.from), self.axis.x(seg.until));
            let w = (x2 - x1).max(1.0);
            let nothing = seg.label == NO_ANSWER
                || seg.label.starts_with("no ")
                || seg.label.chars().all(|c| c.is_ascii_uppercase());
            let fill = if nothing {
                NOTHING_FILL
            } else {
                let i = match seen.iter().position(|l| *l == seg.label) {
                    Some(i) => i,
                    None => {
                        seen.push(&seg.label);
                        seen.len() - 1
                    }
                };
                SET_FILLS[i % SET_FILLS.len()]
            };
            let title = format!(
                "{source} {rrtype} of {domain}, {} to {}: {}",
                self.t(seg.from),
                self.t(seg.until),
                seg.label
            );
            let _ = write!(
                g,
                "<g><title>{}</title><rect x=\"{x1:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" \
                 height=\"{ROW}\" fill=\"{fill}\" stroke=\"#ffffff\" stroke-width=\"0.5\"/>",
                esc(&title)
            );
            let label = fit(&seg.label, ((w - 6.0) / CHAR) as usize);
            if !label.is_empty() {
                let style = if nothing {
                    "fill=\"#666\" font-style=\"italic\""
                } else {
                    "fill=\"#111\""
                };
                let _ = write!(
                    g,
                    "<text x=\"{:.1}\" y=\"{:.1}\" {style}>{}</text>",
                    x1 + 3.0,
                    y + ROW - 5.0,
                    esc(&label)
                );
            }
            g.push_str("</g>\n");
            if let Some(p) = previous {
                // A change: a dark line across the lane and a marker above it.
                let _ = writeln!(
                    self.top,
                    "<g data-change=\"{}\"><title>{}</title>\
                     <line x1=\"{x1:.1}\" y1=\"{y:.1}\" x2=\"{x1:.1}\" y2=\"{:.1}\" stroke=\"#222\" \
                     stroke-width=\"1.5\"/><path d=\"M{:.1},{:.1} l7,0 l-3.5,5 z\" fill=\"#222\"/></g>",
                    esc(&format!("{source} {rrtype}")),
                    esc(&format!(
                        "{} {source} {rrtype} of {domain} changed: {} → {}",
                        self.t(seg.from),
                        p.label,
                        seg.label
                    )),
                    y + ROW,
                    x1 - 3.5,
                    y - 4.5,
                );
            }
            previous = Some(seg);
        }
        g.push_str("</g>\n");
        self.front.push_str(&g);
        self.y += ROW + GAP;
    }

    /// The tick rows: scenario steps, then per registrar its actions and its EPP commands.
    fn actions(&mut self) {
        let s = self.s;
        if s.events.is_empty() {
            return;
        }
        self.text(
            8.0,
            self.y + 13.0,
            "actions",
            "font-size=\"13\" font-weight=\"bold\"",
        );
        self.y += 18.0;
        let steps: Vec<&ReportEvent> = s
            .events
            .iter()
            .filter(|e| {
                e.kind == EventKind::Step || (e.actor.is_none() && e.kind == EventKind::Log)
            })
            .collect();
        self.tick_row("scenario steps", "steps", &steps, step_label);
        let mut actors: Vec<&str> = s.roles.keys().map(String::as_str).collect();
        for e in &s.events {
            if let Some(a) = &e.actor
                && !actors.contains(&a.as_str())
            {
                actors.push(a);
            }
        }
        for a in actors {
            let of = |kinds: &[EventKind]| -> Vec<&ReportEvent> {
                s.events
                    .iter()
                    .filter(|e| e.actor.as_deref() == Some(a) && kinds.contains(&e.kind))
                    .collect()
            };
            let acts = of(&[EventKind::Log, EventKind::Operator]);
            let epp = of(&[EventKind::Epp, EventKind::Poll]);
            let who = match s.roles.get(a) {
                Some(r) if r.starts_with("subject") => format!("{a} (subject)"),
                _ => a.to_string(),
            };
            self.tick_row(
                &format!("{who} actions"),
                &format!("actions {a}"),
                &acts,
                |_| None,
            );
            self.tick_row(&format!("{who} EPP"), &format!("epp {a}"), &epp, epp_label);
        }
        self.y += 4.0;
    }

    /// One row of ticks. Events that fall on the same few units are drawn as one tick whose
    /// title lists them all, so hundreds of polls stay readable. `label` names the events
    /// worth a word beside their tick (where it does not overlap the previous word).
    fn tick_row(
        &mut self,
        name: &str,
        row: &str,
        events: &[&ReportEvent],
        label: fn(&ReportEvent) -> Option<String>,
    ) {
        let y = self.y;
        self.row_name(y, name, false);
        let mut g = format!(
            "<g data-row=\"{}\"><rect x=\"{LEFT}\" y=\"{y:.1}\" width=\"{:.1}\" \
             height=\"{ROW}\" fill=\"#fafafa\"/>\n",
            esc(row),
            WIDTH - LEFT - RIGHT
        );
        let mut buckets: Vec<(f64, Vec<&ReportEvent>)> = Vec::new();
        for e in events {
            let x = self.axis.x(e.at);
            match buckets.last_mut() {
                Some((bx, list)) if (x - *bx).abs() < 3.0 => list.push(e),
                _ => buckets.push((x, vec![e])),
            }
        }
        let mut words = String::new();
        // Two lines of words, each with where it is free again.
        let mut free_from = [LEFT, LEFT];
        for (x, list) in buckets {
            let word: Vec<String> = list.iter().filter_map(|e| label(e)).collect();
            let mut word_list = word;
            word_list.dedup();
            let word = word_list.join(" ");
            let line = free_from.iter().position(|f| x + 2.0 >= *f);
            if let (false, Some(line)) = (word.is_empty(), line) {
                let _ = writeln!(
                    words,
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" fill=\"#111\" \
                     stroke=\"#fafafa\" stroke-width=\"3\" paint-order=\"stroke\" \
                     pointer-events=\"none\">{}</text>",
                    x + 3.0,
                    y + 8.0 + 8.5 * line as f64,
                    esc(&word)
                );
                free_from[line] = x + 3.0 + word.chars().count() as f64 * 5.2 + 4.0;
            }
            let refused = list.iter().any(|e| e.code.is_some_and(|c| c >= 2000));
            let only_polls = list.iter().all(|e| e.kind == EventKind::Poll);
            let (colour, top, width) = if refused {
                ("#c62828", y, 2.5)
            } else if only_polls {
                ("#9e9e9e", y + ROW * 0.55, 1.0)
            } else {
                match list[0].kind {
                    EventKind::Step => ("#000000", y, 2.0),
                    EventKind::Log => ("#1565c0", y, 2.0),
                    EventKind::Operator => ("#00897b", y + ROW * 0.3, 2.0),
                    EventKind::Epp | EventKind::Poll | EventKind::Session => ("#37474f", y, 1.5),
                }
            };
            let mut lines: Vec<String> = list
                .iter()
                .take(TITLE_LINES)
                .map(|e| format!("{} {}", self.t(e.at), e.text))
                .collect();
            if list.len() > TITLE_LINES {
                lines.push(format!("… and {} more", list.len() - TITLE_LINES));
            }
            let _ = writeln!(
                g,
                "<g><title>{}</title><line x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" \
                 y2=\"{:.1}\" stroke=\"{colour}\" stroke-width=\"{width}\"/></g>",
                esc(&lines.join("\n")),
                y + ROW
            );
        }
        g.push_str(&words);
        g.push_str("</g>\n");
        self.front.push_str(&g);
        self.y += ROW + GAP;
    }

    fn legend(&mut self) {
        let mut x = 8.0;
        let y = self.y;
        let mut g = String::from("<g data-part=\"legend\">\n");
        let swatch = |g: &mut String, x: &mut f64, colour: &str, label: &str| {
            let _ = writeln!(
                g,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"14\" height=\"12\" fill=\"{colour}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                *x,
                y,
                *x + 18.0,
                y + 10.0,
                esc(label)
            );
            *x += 26.0 + label.len() as f64 * CHAR;
        };
        for v in [
            Verdict::Secure,
            Verdict::Insecure,
            Verdict::ContentChanged,
            Verdict::Unreachable,
            Verdict::Bogus,
        ] {
            swatch(&mut g, &mut x, verdict_colour(v), v.as_str());
        }
        swatch(&mut g, &mut x, SET_FILLS[0], "a served set");
        swatch(&mut g, &mut x, NOTHING_FILL, "nothing served");
        let _ = writeln!(
            g,
            "<path d=\"M{:.1},{:.1} l7,0 l-3.5,5 z\" fill=\"#222\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">set changed</text>",
            x,
            y + 2.0,
            x + 12.0,
            y + 10.0
        );
        let y2 = y + 20.0;
        let mut x = 8.0;
        for (colour, label) in [
            ("#000000", "scenario step"),
            ("#1565c0", "registrar log line"),
            ("#00897b", "operator request"),
            ("#37474f", "EPP command"),
            ("#9e9e9e", "poll"),
            ("#c62828", "refused EPP command"),
        ] {
            let _ = writeln!(
                g,
                "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" \
                 stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                x + 4.0,
                y2,
                x + 4.0,
                y2 + 12.0,
                x + 12.0,
                y2 + 10.0,
                esc(label)
            );
            x += 26.0 + label.len() as f64 * CHAR;
        }
        let _ = writeln!(
            g,
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#555\">Hover for details. Dashed \
             box: while some resolver could see the domain so.</text>",
            x + 10.0,
            y2 + 10.0
        );
        g.push_str("</g>\n");
        self.front.push_str(&g);
        self.y += 40.0;
    }
}

/// A step's tick word: its number (`#2`).
fn step_label(e: &ReportEvent) -> Option<String> {
    let n = e.text.strip_prefix("step ")?.split(':').next()?;
    Some(format!("#{n}"))
}

/// An EPP command's tick word, for the commands that change what the registry publishes or
/// who sponsors the domain (key relay too); none for queries, polls and hosts.
fn epp_label(e: &ReportEvent) -> Option<String> {
    let command = e.text.split_whitespace().next()?;
    let word = match command {
        "keyrelay:create" => "keyrelay",
        "domain:transfer:request" => "transfer",
        "domain:update" => "update",
        "domain:create" => "create",
        "domain:delete" => "delete",
        _ => return None,
    };
    Some(if e.code.is_some_and(|c| c >= 2000) {
        format!("{word} refused")
    } else {
        word.to_string()
    })
}

/// `text` cut to at most `max` characters, with an ellipsis when cut; empty when even a
/// few characters do not fit.
fn fit(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max {
        return text.to_string();
    }
    if max < 4 {
        return String::new();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_read_as_durations() {
        assert_eq!(offset_label(0), "+0s");
        assert_eq!(offset_label(45 * 60), "+45m");
        assert_eq!(offset_label(5400), "+1h30m");
        assert_eq!(offset_label(86_400 + 12 * 3600), "+1d12h");
        assert_eq!(offset_label(30), "+30s");
    }

    #[test]
    fn ticks_are_round_and_few() {
        let start = Timestamp::from_second(1_700_000_000).expect("valid");
        let end = start
            .checked_add(jiff::SignedDuration::from_hours(9))
            .expect("valid");
        let ticks = Axis::new(start, end).ticks();
        assert_eq!(ticks.first(), Some(&0));
        assert!(ticks.len() <= 13 && ticks.len() >= 4, "{ticks:?}");
        assert!(ticks.iter().all(|t| t % 1800 == 0), "{ticks:?}");
    }

    fn report(lanes: Vec<LaneSegment>, verdicts: Vec<VerdictBand>) -> ScenarioReport {
        let start = Timestamp::from_second(1_700_000_000).expect("valid");
        ScenarioReport {
            id: "x".into(),
            title: "t".into(),
            path: "p".into(),
            sha256: String::new(),
            subject: None,
            roles: [("A".to_string(), "subject".to_string())].into(),
            passed: false,
            checks: Vec::new(),
            virtual_start: start,
            virtual_end: start + jiff::SignedDuration::from_hours(2),
            wall_seconds: 0.0,
            combinations: 0,
            timeline: Vec::new(),
            verdicts,
            lanes,
            events: Vec::new(),
            transcript: Vec::new(),
            receipts: Vec::new(),
            error: Some("stopped".into()),
            clock: "virtual",
            time_scale: 1,
            sample_ms: None,
        }
    }

    #[test]
    fn a_stopped_scenario_still_gets_a_picture() {
        let svg = scenario_svg(&report(Vec::new(), Vec::new()));
        assert!(svg.contains("nothing was recorded"), "{svg}");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    }

    #[test]
    fn every_domain_gets_its_block_and_text_is_escaped() {
        let r0 = report(Vec::new(), Vec::new());
        let (s, e) = (r0.virtual_start, r0.virtual_end);
        let seg = |d: &str, label: &str| LaneSegment {
            domain: d.into(),
            source: "operator A".into(),
            rrtype: "NS".into(),
            from: s,
            until: e,
            label: label.into(),
        };
        let band = |d: &str, v: Verdict| VerdictBand {
            domain: d.into(),
            from: s,
            until: e,
            verdict: v,
            detail: "<why & how>".into(),
        };
        let svg = scenario_svg(&report(
            vec![seg("a.nl", "ns1.a.example"), seg("b.nl", "<ns>&\u{7}")],
            vec![
                band("a.nl", Verdict::Secure),
                band("b.nl", Verdict::Insecure),
            ],
        ));
        assert!(svg.contains("data-domain=\"a.nl\"") && svg.contains("data-domain=\"b.nl\""));
        assert!(svg.contains("&lt;ns&gt;&amp;") && !svg.contains('\u{7}'));
        assert!(svg.contains("&lt;why &amp; how&gt;"));
        assert!(
            svg.contains("data-tint=\"insecure\""),
            "a non-secure band is marked across"
        );
    }

    #[test]
    fn fitting_cuts_with_an_ellipsis() {
        assert_eq!(fit("abcdef", 10), "abcdef");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abcdef", 2), "");
    }
}
