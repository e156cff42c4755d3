//! Signs of life during long work (`run`, `certify`, `explore`): how many items are done of
//! how many, how many failed so far, how long it has taken, and what is running now.
//!
//! On a terminal this is one live line (an indicatif bar on stderr), with each failure printed
//! above it as it happens. Elsewhere (a CI log, a file, a pipe) it is plain lines that are
//! never redrawn: one per finished item with the counts and the elapsed time, and a
//! heartbeat line naming what is still running when nothing has finished for a while (a
//! scenario on the wall clock, or against a slow registrar, can take minutes):
//!
//! ```text
//! [ 3/26] PASS secure-transfer-13-13  (0 failed, 12s)
//! [ 4/26] FAIL expects-secure: DNSSEC-CHAIN-BOGUS  (1 failed, 13s)
//! [ 4/26] running certify-gaining, certify-losing  (1 failed, 1m13s)
//! ```
//!
//! Everything goes to stderr, so stdout keeps only the summary and reports. The caller feeds
//! it [`Progress::started`] and [`Progress::finished`]; it knows nothing of scenarios, so
//! explored worlds or anything else countable can use it too.

use std::io::Write;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown (`--progress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ProgressMode {
    /// A live line when stderr is a terminal, plain lines otherwise.
    #[default]
    Auto,
    /// A live line, redrawn in place.
    Bar,
    /// Plain lines, one per finished item, and a heartbeat while nothing finishes.
    Lines,
    /// No progress output at all (`--progress off`), e.g. when stderr is kept for errors.
    Off,
}

/// In plain-lines mode, how long without a line before the heartbeat names what runs.
pub const HEARTBEAT: Duration = Duration::from_secs(30);

/// A progress display for `total` items; see the module documentation. Dropping it stops the
/// heartbeat and clears the live line.
#[derive(Debug)]
pub struct Progress {
    shared: Arc<Shared>,
    heartbeat: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
}

#[derive(Debug)]
struct Shared {
    /// The live line, in bar mode.
    bar: Option<ProgressBar>,
    /// Plain lines (else nothing, or the bar).
    lines: bool,
    total: u64,
    started: Instant,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    done: u64,
    failed: u64,
    /// What runs now, in the order it started.
    running: Vec<String>,
    /// When the last plain line was written.
    last_line: Instant,
    /// Where plain lines go (stderr).
    out: Sink,
}

/// Where plain lines go: stderr, or a buffer in tests.
struct Sink(Box<dyn Write + Send>);

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sink")
    }
}

impl Progress {
    /// Starts showing progress over `total` items; `noun` names them in the live line
    /// (`scenarios`, `worlds`).
    pub fn start(mode: ProgressMode, noun: &str, total: usize) -> Self {
        Self::start_with_heartbeat(mode, noun, total, HEARTBEAT)
    }

    /// [`Progress::start`] with another heartbeat period (plain lines only).
    pub fn start_with_heartbeat(
        mode: ProgressMode,
        noun: &str,
        total: usize,
        period: Duration,
    ) -> Self {
        Self::start_to(mode, noun, total, period, Box::new(std::io::stderr()))
    }

    /// [`Progress::start_with_heartbeat`], plain lines written to `out`.
    fn start_to(
        mode: ProgressMode,
        noun: &str,
        total: usize,
        period: Duration,
        out: Box<dyn Write + Send>,
    ) -> Self {
        let mode = match mode {
            ProgressMode::Auto if std::io::IsTerminal::is_terminal(&std::io::stderr()) => {
                ProgressMode::Bar
            }
            ProgressMode::Auto => ProgressMode::Lines,
            m => m,
        };
        let total = u64::try_from(total).unwrap_or(u64::MAX);
        let bar = (mode == ProgressMode::Bar).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let template = format!(
                "{{spinner}} {{pos}}/{{len}} {noun} · {{prefix}} · {{elapsed}} · {{wide_msg}}"
            );
            bar.set_style(
                ProgressStyle::with_template(&template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_prefix("0 failed");
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let now = Instant::now();
        let shared = Arc::new(Shared {
            bar,
            lines: mode == ProgressMode::Lines,
            total,
            started: now,
            state: Mutex::new(State {
                done: 0,
                failed: 0,
                running: Vec::new(),
                last_line: now,
                out: Sink(out),
            }),
        });
        let heartbeat = shared.lines.then(|| {
            let (stop, stopped) = mpsc::channel::<()>();
            let shared = shared.clone();
            let tick = period
                .min(Duration::from_secs(1))
                .max(Duration::from_millis(10));
            let handle = std::thread::spawn(move || {
                // Wakes every `tick` (or at once when told to stop) and writes a line when
                // nothing was written for `period`.
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(tick) {
                    shared.heartbeat(period);
                }
            });
            (stop, handle)
        });
        Self { shared, heartbeat }
    }

    /// An item started.
    pub fn started(&self, id: &str) {
        let mut st = self.shared.lock();
        st.running.push(id.to_string());
        self.shared.show_running(&st);
    }

    /// An item finished; `note` says why it failed (the first failing check id), if it did.
    pub fn finished(&self, id: &str, passed: bool, note: &str) {
        let mut st = self.shared.lock();
        if let Some(i) = st.running.iter().position(|r| r == id) {
            st.running.remove(i);
        }
        st.done += 1;
        if !passed {
            st.failed += 1;
        }
        let verdict = if passed { "PASS" } else { "FAIL" };
        let what = if note.is_empty() || passed {
            format!("{verdict} {id}")
        } else {
            format!("{verdict} {id}: {note}")
        };
        if let Some(bar) = &self.shared.bar {
            if !passed {
                bar.println(&what);
            }
            bar.set_prefix(format!("{} failed", st.failed));
            bar.set_position(st.done);
            self.shared.show_running(&st);
        }
        if self.shared.lines {
            self.shared.line(&mut st, &what);
        }
    }

    /// How many items finished, and how many of them failed.
    pub fn counts(&self) -> (u64, u64) {
        let st = self.shared.lock();
        (st.done, st.failed)
    }

    /// Stops: clears the live line (the caller prints the summary).
    pub fn finish(self) {
        drop(self);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some((stop, handle)) = self.heartbeat.take() {
            let _ = stop.send(());
            let _ = handle.join();
        }
        if let Some(bar) = &self.shared.bar {
            bar.finish_and_clear();
        }
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves only counts behind; keep showing them.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn show_running(&self, st: &State) {
        if let Some(bar) = &self.bar {
            bar.set_message(if st.running.is_empty() {
                String::new()
            } else {
                format!("running {}", st.running.join(", "))
            });
        }
    }

    /// Writes one plain line: `[ done/total] what  (failed, elapsed)`.
    fn line(&self, st: &mut State, what: &str) {
        let width = self.total.to_string().len();
        let line = format!(
            "[{done:>width$}/{total}] {what}  ({failed} failed, {elapsed})\n",
            done = st.done,
            total = self.total,
            failed = st.failed,
            elapsed = elapsed(self.started.elapsed()),
        );
        // Progress is a courtesy: a closed stderr must not stop the run.
        let _ = st.out.0.write_all(line.as_bytes());
        let _ = st.out.0.flush();
        st.last_line = Instant::now();
    }

    fn heartbeat(&self, period: Duration) {
        let mut st = self.lock();
        if st.last_line.elapsed() >= period && !st.running.is_empty() {
            let what = format!("running {}", st.running.join(", "));
            self.line(&mut st, &what);
        }
    }
}

/// `12s`, `1m13s`, `2h05m00s`: whole seconds, short.
pub fn elapsed(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, m, s) => format!("{h}h{m:02}m{s:02}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_is_short_and_whole_seconds() {
        assert_eq!(elapsed(Duration::from_millis(12_900)), "12s");
        assert_eq!(elapsed(Duration::from_secs(73)), "1m13s");
        assert_eq!(elapsed(Duration::from_secs(7500)), "2h05m00s");
    }

    /// A buffer the lines can be read back from.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Buffer {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
        }
    }

    #[test]
    fn plain_lines_give_counts_failures_and_elapsed_time() {
        let buf = Buffer::default();
        let p = Progress::start_to(
            ProgressMode::Lines,
            "scenarios",
            12,
            Duration::from_secs(3600),
            Box::new(buf.clone()),
        );
        p.started("a");
        p.started("b");
        p.finished("a", true, "");
        p.finished("b", false, "DNSSEC-CHAIN-BOGUS");
        p.finish();
        assert_eq!(
            buf.text(),
            "[ 1/12] PASS a  (0 failed, 0s)\n[ 2/12] FAIL b: DNSSEC-CHAIN-BOGUS  (1 failed, 0s)\n"
        );
    }

    #[test]
    fn the_heartbeat_names_what_runs_when_nothing_finishes() {
        let buf = Buffer::default();
        let p = Progress::start_to(
            ProgressMode::Lines,
            "worlds",
            2,
            Duration::from_secs(3600),
            Box::new(buf.clone()),
        );
        // What the heartbeat thread does once a period passed without a line.
        p.shared.heartbeat(Duration::ZERO);
        assert_eq!(buf.text(), "", "nothing runs: no heartbeat");
        p.started("slow-one");
        p.shared.heartbeat(Duration::from_secs(3600));
        assert_eq!(buf.text(), "", "a line was written within the period");
        p.shared.heartbeat(Duration::ZERO);
        p.finished("slow-one", true, "");
        p.finish();
        let text = buf.text();
        assert!(
            text.starts_with("[0/2] running slow-one  (0 failed, "),
            "{text}"
        );
        assert!(text.contains("[1/2] PASS slow-one  (0 failed, "), "{text}");
    }

    #[test]
    fn counts_follow_what_finished() {
        let p = Progress::start(ProgressMode::Off, "scenarios", 3);
        p.started("a");
        p.started("b");
        p.finished("a", true, "");
        p.finished("b", false, "DNSSEC-CHAIN-BOGUS");
        assert_eq!(p.counts(), (2, 1));
        assert_eq!(p.shared.lock().running, Vec::<String>::new());
        p.finish();
    }
}
