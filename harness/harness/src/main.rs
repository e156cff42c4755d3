//! `harness`: runs transfer scenarios against registrar implementations and checks that the
//! moving domain's chain of trust never breaks. Thin on purpose: the work is in the library.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use harness::report::SuiteReport;
use harness::runner::{RunOptions, run_suite};
use harness::scenario::{self, Scenario};
use harness::world::ClockMode;
use real_dns::ResolverKind;

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
    #[command(flatten)]
    clock: ClockArgs,
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
    /// Wall clock: real validating resolvers resolving every domain throughout each run, as
    /// a comma-separated list of unbound, bind, kresd, pdns-recursor, or `installed` (every
    /// one found); the world's servers then listen on their own 127.x.y.z:53.
    #[arg(long, value_name = "LIST")]
    resolvers: Option<String>,
    #[command(flatten)]
    clock: ClockArgs,
}

/// The resolver kinds `--resolvers` names, or why not.
fn resolver_kinds(list: &str, wall: bool) -> Result<Vec<ResolverKind>, String> {
    if !wall {
        return Err(
            "--resolvers needs --clock wall: real resolvers validate against the system clock"
                .into(),
        );
    }
    let kinds: Vec<ResolverKind> = if list.trim() == "installed" {
        ResolverKind::installed_kinds()
    } else {
        list.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()?
    };
    if kinds.is_empty() {
        return Err(format!("--resolvers {list:?}: no resolver to run"));
    }
    let mut unique = kinds.clone();
    unique.sort();
    unique.dedup();
    if let Some(k) = kinds.iter().find(|k| !k.installed()) {
        return Err(format!(
            "--resolvers: {} ({}) is not installed: install the Debian package {}",
            k,
            k.program(),
            k.package()
        ));
    }
    Ok(unique)
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
    let report = harness::certify::Certification::new(&args.subject, &profile, suite);
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
    let resolvers = match args.resolvers.as_deref() {
        None => Vec::new(),
        Some(list) => match resolver_kinds(list, args.clock.mode().is_wall()) {
            Ok(k) => k,
            Err(e) => {
                eprintln!("harness: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let options = RunOptions {
        resolvers,
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
