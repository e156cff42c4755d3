//! `harness`: runs transfer scenarios against registrar implementations and checks that the
//! moving domain's chain of trust never breaks. Thin on purpose: the work is in the library.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use harness::explore::{Exploration, Plan, Progress, Role};
use harness::report::SuiteReport;
use harness::runner::{RunOptions, run_suite};
use harness::scenario::Fault;
use harness::scenario::{self, Scenario};
use harness::world::ClockMode;

/// Proves that a DNSSEC-signed domain can change registrar without breaking its chain of trust.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenarios (default: the built-in library under scenarios/) and report.
    ///
    /// Exit status 0 only when every scenario passed.
    Run(RunArgs),
    /// Check scenario files without running them.
    Lint {
        /// Files or directories (default: scenarios/).
        paths: Vec<PathBuf>,
    },
    /// Resolve one question through a server, print the DNSSEC chain and the verdict.
    ///
    /// Exit status 0 only for Secure.
    Lookup(harness::lookup::LookupArgs),
    /// Run the certification profile against a registrar and write the report a registry
    /// can accept (certification.html and certification.json).
    ///
    /// Exit status 0 only when every scenario passed.
    Certify(CertifyArgs),
    /// Search random worlds for the smallest scenario that breaks a registrar: TTLs,
    /// delays, algorithms, key schemes, denial, slow and late counterparts, registry chaos,
    /// several domains, moves there and back. Each failing world is shrunk and written as a
    /// scenario file under --out that reproduces the failure with `harness run`.
    ///
    /// Exit status 0 only when every world passed.
    Explore(ExploreArgs),
    /// Be the reference registrar as an adapter-protocol process (newline-delimited JSON on
    /// stdin/stdout; see harness/ADAPTER.md). The harness starts it; it is not run by hand.
    ReferenceRegistrar {
        /// Run its own authoritative DNS servers and announce them, instead of using the
        /// operator the harness hosts.
        #[arg(long)]
        own_dns: bool,
    },
}

#[derive(Debug, clap::Args)]
struct CertifyArgs {
    /// The registrar under test, as a shell command.
    #[arg(long, value_name = "COMMAND")]
    subject: String,
    /// Where to write certification.html, certification.json and a timeline picture per
    /// scenario (<scenario-id>.svg).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Also write JUnit XML here (one test case per scenario), for CI test reports.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// The profile's scenario directory (default: scenarios/certify/).
    #[arg(long, value_name = "DIR")]
    profile: Option<PathBuf>,
    /// Seconds to wait for any answer of the registrar process.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Scenarios run at once.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Also run this many random worlds (as `harness explore` does; the subject as the
    /// gaining side, the losing side and both, in turn), fixed by a seed the report records;
    /// the subject is certified only if every world passes too. Virtual clock only. Default 0
    /// for now: the Python example registrar does not yet survive registry chaos (2400
    /// answers), and certifying it is part of the project's CI; 50 is a good choice.
    #[arg(long, value_name = "N", default_value_t = 0)]
    explore: usize,
    /// The seed of the random worlds (default: from the clock; recorded in the report).
    #[arg(long, value_name = "SEED")]
    explore_seed: Option<u64>,
    #[command(flatten)]
    clock: ClockArgs,
}

#[derive(Debug, clap::Args)]
struct ExploreArgs {
    /// The registrar under test, as a shell command (default: the reference registrar,
    /// in-process).
    #[arg(long, value_name = "COMMAND")]
    subject: Option<String>,
    /// Which registrars it plays: the gaining side (B), the losing side (A), or both (two
    /// instances). A round trip gives each side both roles.
    #[arg(long, value_enum, default_value_t = Role::Both)]
    role: Role,
    /// How many worlds.
    #[arg(long, value_name = "N", default_value_t = 100)]
    cases: usize,
    /// The seed of the worlds (default: from the clock; printed, so a run can be repeated).
    #[arg(long, value_name = "SEED")]
    seed: Option<u64>,
    /// Where shrunk failing worlds are written, as scenario files.
    #[arg(long, value_name = "DIR", default_value = "explored")]
    out: PathBuf,
    /// Worlds run at once.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Write JUnit XML here (one test case per world).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write the report as JSON here (every world's settings and verdict, each shrunk
    /// failure with its scenario and report).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Give the reference registrar in the role under test this deliberate fault, to watch
    /// exploration find it (see scenarios/README.md for the faults).
    #[arg(long, value_name = "FAULT", conflicts_with = "subject")]
    fault: Option<Fault>,
    /// Run every reference registrar through the adapter protocol with this command
    /// (normally `harness reference-registrar`) instead of in-process.
    #[arg(long, value_name = "COMMAND")]
    reference_process: Option<String>,
    /// Also run the live check (hickory-resolver against the harness's validator) in every
    /// world: slower; it checks the harness more than the registrar.
    #[arg(long)]
    live_check: bool,
    /// At most this many candidate worlds are run to shrink one failure.
    #[arg(long, value_name = "N", default_value_t = 150)]
    shrink_budget: usize,
    /// Seconds to wait for any answer of a registrar process.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
}

/// How time passes.
#[derive(Debug, clap::Args)]
struct ClockArgs {
    /// `virtual` (nothing sleeps; the registrar follows the harness's clock) or `wall` (the
    /// system clock; the registrar acts on its own timers, real DNS servers sign in real time).
    #[arg(long, value_enum, default_value_t = ClockName::Virtual)]
    clock: ClockName,
    /// Wall clock: every duration of a scenario is divided by this (the default runs the
    /// three-day secure transfer in about two minutes).
    #[arg(long, value_name = "N", default_value_t = ClockMode::DEFAULT_SCALE,
          value_parser = clap::value_parser!(u32).range(1..))]
    time_scale: u32,
    /// Wall clock: how often every DNS source is observed, in milliseconds (besides right
    /// after every change the harness causes).
    #[arg(long, value_name = "MS", default_value_t = 250,
          value_parser = clap::value_parser!(u64).range(10..))]
    sample_ms: u64,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ClockName {
    Virtual,
    Wall,
}

impl ClockArgs {
    fn mode(&self) -> ClockMode {
        match self.clock {
            ClockName::Virtual => ClockMode::Virtual,
            ClockName::Wall => ClockMode::Wall {
                scale: self.time_scale,
            },
        }
    }

    fn sample(&self) -> Option<std::time::Duration> {
        Some(std::time::Duration::from_millis(self.sample_ms))
    }
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Scenario files or directories (default: scenarios/).
    paths: Vec<PathBuf>,
    /// The registrar under test, as a shell command, for every `subject` role.
    #[arg(long, value_name = "COMMAND")]
    subject: Option<String>,
    /// Run every reference registrar through the adapter protocol with this command
    /// (normally `harness reference-registrar`) instead of in-process.
    #[arg(long, value_name = "COMMAND")]
    reference_process: Option<String>,
    /// Leave out the live check (hickory-resolver against the harness's validator at every
    /// observed change): faster, and DNSSEC-LIVE-MISMATCH is not reported.
    #[arg(long)]
    no_live_check: bool,
    /// Seconds to wait for any answer of a registrar process.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Write JUnit XML here.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write the full report as JSON here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write an HTML page here (DIR/index.html: every scenario with its timeline picture,
    /// checks and transcript) and each picture as DIR/<scenario-id>.svg.
    #[arg(long, value_name = "DIR")]
    html: Option<PathBuf>,
    /// Scenarios run at once.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Show passed checks and evidence too.
    #[arg(long, short)]
    verbose: bool,
    #[command(flatten)]
    clock: ClockArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    match cli.command {
        Command::Lint { paths } => lint(&paths),
        Command::Run(args) => run(args),
        Command::Lookup(args) => harness::lookup::run(&args),
        Command::Certify(args) => certify(args),
        Command::Explore(args) => explore(args),
        Command::ReferenceRegistrar { own_dns } => reference_registrar(own_dns),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Runtime::new().map_err(|e| {
        eprintln!("harness: cannot start the async runtime: {e}");
        ExitCode::from(2)
    })
}

fn reference_registrar(own_dns: bool) -> ExitCode {
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    match runtime.block_on(harness::registrar::process::run(own_dns)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("harness reference-registrar: {e}");
            ExitCode::FAILURE
        }
    }
}

fn certify(args: CertifyArgs) -> ExitCode {
    if args.explore > 0 && args.clock.mode().is_wall() {
        eprintln!("harness: certify --explore runs on the virtual clock only");
        return ExitCode::from(2);
    }
    let profile = args
        .profile
        .clone()
        .unwrap_or_else(harness::certify::profile_dir);
    let scenarios = match harness::certify::load_profile(&profile) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let scenarios = match for_clock(scenarios, args.clock.mode()) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let options = RunOptions {
        subject: Some(args.subject.clone()),
        timeout: Some(std::time::Duration::from_secs(args.timeout.max(1))),
        clock: args.clock.mode(),
        sample: args.clock.sample(),
        ..RunOptions::default()
    };
    let suite = run_with_progress(&runtime, scenarios, &options, args.jobs);
    print!("{}", suite.summary(false));
    let mut report = harness::certify::Certification::new(&args.subject, &profile, suite);
    let cases = args.explore;
    if cases > 0 {
        let seed = args
            .explore_seed
            .unwrap_or_else(harness::explore::fresh_seed);
        let mut plan = Plan::new(seed, cases);
        plan.subject = Some(args.subject.clone());
        plan.roles = vec![Role::Gaining, Role::Losing, Role::Both];
        plan.jobs = args.jobs;
        plan.options = RunOptions {
            no_live_check: true,
            ..options.clone()
        };
        plan.out = Some(args.out.join("explored"));
        plan.command = format!(
            "harness certify --subject {} --explore {cases} --explore-seed {seed}",
            shell_quote(&args.subject)
        );
        println!(
            "certify: {cases} random worlds (seed {seed}), the subject as gaining, losing and both \
             sides in turn"
        );
        match runtime.block_on(harness::explore::explore(&plan, progress_reporter(cases))) {
            Ok(exploration) => {
                print!("{}", exploration.summary());
                report.add_exploration(exploration);
            }
            Err(e) => {
                eprintln!("harness: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if let Some(path) = &args.junit
        && let Err(e) = std::fs::write(path, report.to_junit())
    {
        eprintln!("harness: cannot write {}: {e}", path.display());
        return ExitCode::from(2);
    }
    match report.write(&args.out) {
        Ok((json, html)) => {
            println!(
                "{}: wrote {} and {}",
                if report.certified {
                    "certified"
                } else {
                    "NOT certified"
                },
                html.display(),
                json.display()
            );
            if report.certified {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("harness: {e}");
            ExitCode::from(2)
        }
    }
}

/// Reports an exploration's progress: a bar on a terminal (cases done, failures, worlds/s),
/// otherwise a plain line on stderr every tenth of the worlds or every five seconds. Kept here
/// and small on purpose: `run` and `certify` may share a progress module later.
fn progress_reporter(total: usize) -> impl Fn(&Progress) + Send + Sync + 'static {
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let bar = indicatif::ProgressBar::new(total as u64);
    if terminal {
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} worlds {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let last = std::sync::Mutex::new((0usize, std::time::Instant::now()));
    move |p: &Progress| {
        let line = format!("{} failed, {:.1} worlds/s", p.failures, p.rate());
        if terminal {
            bar.set_position(p.done as u64);
            bar.set_message(line);
            if p.done >= p.total {
                bar.finish_and_clear();
            }
            return;
        }
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        let step = (p.total / 10).max(1);
        if p.done >= p.total
            || p.done >= last.0 + step
            || last.1.elapsed() >= std::time::Duration::from_secs(5)
        {
            eprintln!("explore: {}/{} worlds, {line}", p.done, p.total);
            *last = (p.done, std::time::Instant::now());
        }
    }
}

/// A command for a shell, quoted when it has to be.
fn shell_quote(s: &str) -> String {
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_./=:".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn explore(args: ExploreArgs) -> ExitCode {
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let seed = args.seed.unwrap_or_else(harness::explore::fresh_seed);
    let mut plan = Plan::new(seed, args.cases);
    plan.subject = args.subject.clone();
    plan.roles = vec![args.role];
    plan.fault = args.fault;
    plan.jobs = args.jobs;
    plan.shrink_budget = args.shrink_budget;
    plan.out = Some(args.out.clone());
    plan.options = RunOptions {
        reference_process: args.reference_process.clone(),
        timeout: Some(std::time::Duration::from_secs(args.timeout.max(1))),
        no_live_check: !args.live_check,
        ..RunOptions::default()
    };
    let mut command = format!("harness explore --seed {seed} --cases {}", args.cases);
    if args.role != Role::Both {
        command.push_str(&format!(" --role {}", args.role.name()));
    }
    if let Some(s) = &args.subject {
        command.push_str(&format!(" --subject {}", shell_quote(s)));
    }
    if let Some(f) = args.fault {
        command.push_str(&format!(" --fault {}", f.name()));
    }
    plan.command = command;
    println!(
        "explore: seed {seed}, {} worlds, {} as {}{}, {} at once{}",
        args.cases,
        args.subject
            .as_deref()
            .unwrap_or("the reference registrar (in-process)"),
        match args.role {
            Role::Gaining => "the gaining side",
            Role::Losing => "the losing side",
            Role::Both => "both sides",
        },
        args.fault
            .map(|f| format!(" with fault {}", f.name()))
            .unwrap_or_default(),
        args.jobs.max(1),
        if args.live_check {
            ", with the live check"
        } else {
            ""
        }
    );
    let started = jiff::Timestamp::now();
    let exploration: Exploration = match runtime.block_on(harness::explore::explore(
        &plan,
        progress_reporter(args.cases),
    )) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("harness: {e}");
            return ExitCode::from(2);
        }
    };
    print!("{}", exploration.summary());
    let mut code = if exploration.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    if let Some(path) = &args.junit
        && let Err(e) = std::fs::write(path, exploration.to_junit())
    {
        eprintln!("harness: cannot write {}: {e}", path.display());
        code = ExitCode::from(2);
    }
    if let Some(path) = &args.json
        && let Err(e) = std::fs::write(path, exploration.to_json(started))
    {
        eprintln!("harness: cannot write {}: {e}", path.display());
        code = ExitCode::from(2);
    }
    code
}

/// Runs scenarios with a progress bar on a terminal.
fn run_with_progress(
    runtime: &tokio::runtime::Runtime,
    scenarios: Vec<Scenario>,
    options: &RunOptions,
    jobs: usize,
) -> SuiteReport {
    let started = jiff::Timestamp::now();
    let wall = std::time::Instant::now();
    let progress = indicatif::ProgressBar::new(scenarios.len() as u64);
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    progress.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let bar = progress.clone();
    let reports = runtime.block_on(run_suite(scenarios, options, jobs, move |r| {
        bar.set_message(r.id.clone());
        bar.inc(1);
    }));
    progress.finish_and_clear();
    SuiteReport {
        kind: "harness-run",
        harness_version: env!("CARGO_PKG_VERSION"),
        started,
        wall_seconds: wall.elapsed().as_secs_f64(),
        scenarios: reports,
    }
}

/// Refuses, with file and line, scenarios the chosen clock cannot run (real DNS software on the
/// virtual clock), before anything starts.
fn for_clock(scenarios: Vec<Scenario>, mode: ClockMode) -> Result<Vec<Scenario>, ExitCode> {
    let errors: Vec<_> = scenarios
        .iter()
        .filter_map(|s| s.check_clock(mode.is_wall()).err())
        .collect();
    if errors.is_empty() {
        return Ok(scenarios);
    }
    for e in errors {
        eprintln!("{e}");
    }
    Err(ExitCode::from(2))
}

fn load_all(paths: &[PathBuf]) -> Result<Vec<Scenario>, ExitCode> {
    scenario::load_all(paths).map_err(|errors| {
        for e in errors {
            eprintln!("{e}");
        }
        ExitCode::from(2)
    })
}

fn lint(paths: &[PathBuf]) -> ExitCode {
    match load_all(paths) {
        Ok(all) => {
            for s in &all {
                println!("ok {} ({})", s.path.display(), s.id);
            }
            println!("{} scenario file(s) are valid", all.len());
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn run(args: RunArgs) -> ExitCode {
    let scenarios = match load_all(&args.paths).and_then(|s| for_clock(s, args.clock.mode())) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let options = RunOptions {
        subject: args.subject.clone(),
        reference_process: args.reference_process.clone(),
        timeout: Some(std::time::Duration::from_secs(args.timeout.max(1))),
        poll_interval: None,
        clock: args.clock.mode(),
        sample: args.clock.sample(),
        no_live_check: args.no_live_check,
    };
    let total = scenarios.len();
    let suite = run_with_progress(&runtime, scenarios, &options, args.jobs);
    print!("{}", suite.summary(args.verbose));
    let mut code = if suite.passed() && suite.scenarios.len() == total {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    if let Some(path) = &args.junit
        && let Err(e) = std::fs::write(path, suite.to_junit())
    {
        eprintln!("harness: cannot write {}: {e}", path.display());
        code = ExitCode::from(2);
    }
    if let Some(path) = &args.json
        && let Err(e) = std::fs::write(path, suite.to_json())
    {
        eprintln!("harness: cannot write {}: {e}", path.display());
        code = ExitCode::from(2);
    }
    if let Some(dir) = &args.html {
        match harness::report::html::write_run_html(dir, &suite) {
            Ok(page) => println!("wrote {}", page.display()),
            Err(e) => {
                eprintln!("harness: {e}");
                code = ExitCode::from(2);
            }
        }
    }
    code
}
