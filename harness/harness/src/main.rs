//! `harness`: runs transfer scenarios against registrar implementations and checks that the
//! moving domain's chain of trust never breaks. Thin on purpose: the work is in the library.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use harness::explore::{Exploration, Plan, Role};
use harness::merge::Merged;
use harness::partition::Partition;
use harness::progress::{Progress, ProgressMode};
use harness::report::SuiteReport;
use harness::runner::{RunOptions, run_suite_observed};
use harness::scenario::Fault;
use harness::scenario::{self, Scenario};
use harness::world::ClockMode;
use real_dns::ResolverKind;

/// A world is thousands of short-lived allocations (frames, records, TLS records); glibc's
/// malloc spent 12 % of `harness explore`'s CPU on them, and mimalloc used 7.6 % less CPU a
/// world (README, "Exploring random worlds").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Proves that a DNSSEC-signed domain can change registrar without breaking its chain of trust.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenarios (default: the built-in library, scenarios/*.toml) and report.
    ///
    /// Exit status 0 only when every scenario passed.
    Run(RunArgs),
    /// Check scenario files without running them.
    Lint {
        /// Files or directories (default: the built-in library).
        paths: Vec<PathBuf>,
    },
    /// The scenario library built into this binary: list it, or write it out for editing.
    #[command(subcommand)]
    Scenarios(ScenariosCommand),
    /// Work on reports already written.
    #[command(subcommand)]
    Report(ReportCommand),
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

#[derive(Debug, Subcommand)]
enum ScenariosCommand {
    /// List the built-in scenarios: file, id and title (certification scenarios under
    /// scenarios/certify/).
    List,
    /// Write every built-in file (scenarios, the certification profile in certify/, the
    /// format's README.md) under DIR, for editing; run the copy with `harness run DIR` or
    /// `harness certify --profile DIR/certify`.
    Export {
        /// Where to write (created if missing).
        dir: PathBuf,
        /// Overwrite files that differ from the built-in ones.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ReportCommand {
    /// Join the JSON reports of a run spread over several machines (`run --json` or
    /// `certify` with `--partition K/N`) into the report one machine would have written.
    ///
    /// Certification reports give certification.json and certification.html; run reports give
    /// the run JSON and index.html. Exit status 0 when every scenario passed (certified), 1
    /// when one failed, 2 when the reports do not fit together (a partition missing or given
    /// twice, another subject, profile or harness version).
    Merge(MergeArgs),
}

#[derive(Debug, clap::Args)]
struct MergeArgs {
    /// The partial reports: each part's JSON file (run --json FILE, or DIR/certification.json).
    #[arg(required = true, value_name = "PART.json")]
    parts: Vec<PathBuf>,
    /// Write everything into DIR: certification.json, certification.html (or report.json,
    /// index.html), junit.xml and each scenario's picture (<scenario-id>.svg).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Write the merged JSON report here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write JUnit XML here.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write the HTML page (index.html, or certification.html) and the pictures here.
    #[arg(long, value_name = "DIR")]
    html: Option<PathBuf>,
}

/// Spreading a run and showing its progress.
#[derive(Debug, clap::Args)]
struct SpreadArgs {
    /// Run only part K of N: the scenarios whose index in the sorted list of the run's ids,
    /// modulo N, is K-1. `harness report merge` joins the parts' JSON reports.
    #[arg(long, value_name = "K/N")]
    partition: Option<Partition>,
    /// How to show progress on stderr: a live line on a terminal and plain lines otherwise
    /// (auto), always one of them, or nothing.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    progress: ProgressMode,
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
    /// A profile directory on disk (default: the built-in profile, scenarios/certify/).
    #[arg(long, value_name = "DIR")]
    profile: Option<PathBuf>,
    /// Seconds to wait for any answer of the registrar process.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Scenarios run at once.
    #[arg(long, default_value_t = 2, value_parser = at_least_one)]
    jobs: usize,
    /// Also run this many random worlds (as `harness explore` does; the subject as the
    /// gaining side, the losing side and both, in turn), fixed by a seed the report records;
    /// the subject is certified only if every world passes too. Default: 10 on the virtual
    /// clock (or $HARNESS_CERTIFY_EXPLORE), none on the wall clock or with --partition
    /// (spread worlds with `harness explore --partition`).
    #[arg(long, value_name = "N")]
    explore: Option<usize>,
    /// The seed of the random worlds (default: from the clock; recorded in the report).
    #[arg(long, value_name = "SEED")]
    explore_seed: Option<u64>,
    #[command(flatten)]
    clock: ClockArgs,
    #[command(flatten)]
    spread: SpreadArgs,
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
    #[arg(long, default_value_t = 2, value_parser = at_least_one)]
    jobs: usize,
    /// Run only part K of N (world i belongs to part (i mod N) + 1), so N CI runners share
    /// the worlds; join their --json reports with `harness report merge`.
    #[arg(long, value_name = "K/N")]
    partition: Option<Partition>,
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
    /// Scenario files or directories on disk (default: the built-in library,
    /// scenarios/*.toml).
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
    #[arg(long, default_value_t = 2, value_parser = at_least_one)]
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
    #[command(flatten)]
    spread: SpreadArgs,
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
            // hickory's resolver warns, with the whole message, about every bogus answer the
            // live check asks for; the harness judges those answers itself
            // (`DNSSEC-LIVE-MISMATCH`), so on a faulty scenario its warnings are only noise.
            // RUST_LOG overrides this.
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(
                    "warn,hickory_net=error,hickory_proto=error,hickory_resolver=error",
                )
            }),
        )
        .init();
    match cli.command {
        Command::Lint { paths } => lint(&paths),
        Command::Run(args) => run(args),
        Command::Lookup(args) => harness::lookup::run(&args),
        Command::Certify(args) => certify(args),
        Command::Explore(args) => explore(args),
        Command::Scenarios(ScenariosCommand::List) => list_scenarios(),
        Command::Scenarios(ScenariosCommand::Export { dir, force }) => {
            export_scenarios(&dir, force)
        }
        Command::Report(ReportCommand::Merge(args)) => merge(&args),
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
    // One registrar, one EPP session, one request at a time: a single thread serves it
    // without waking another for every frame.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("harness: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(harness::registrar::process::run(own_dns)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("harness reference-registrar: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Random worlds a certification adds when neither `--explore` nor the environment says: a
/// few dozen seconds with a registrar process, enough to meet worlds nobody wrote by hand.
const CERTIFY_WORLDS: usize = 10;

/// How many random worlds `certify` runs: `--explore N`, else `$HARNESS_CERTIFY_EXPLORE`, else
/// [`CERTIFY_WORLDS`] on the virtual clock and none where worlds cannot run (the wall clock,
/// a partition of the profile).
fn certify_worlds(args: &CertifyArgs) -> Result<usize, String> {
    let elsewhere = if args.clock.mode().is_wall() {
        Some("on the wall clock")
    } else if args.spread.partition.is_some() {
        Some("with --partition (spread worlds with `harness explore --partition K/N`)")
    } else {
        None
    };
    if let Some(n) = args.explore {
        return match elsewhere {
            Some(why) if n > 0 => Err(format!("certify --explore cannot run {why}")),
            _ => Ok(n),
        };
    }
    if elsewhere.is_some() {
        return Ok(0);
    }
    match std::env::var("HARNESS_CERTIFY_EXPLORE") {
        Ok(v) => v.trim().parse().map_err(|_| {
            format!("HARNESS_CERTIFY_EXPLORE={v:?}: expected a number of worlds (0 for none)")
        }),
        Err(_) => Ok(CERTIFY_WORLDS),
    }
}

fn certify(args: CertifyArgs) -> ExitCode {
    let cases = match certify_worlds(&args) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("harness: {e}");
            return ExitCode::from(2);
        }
    };
    let profile = harness::certify::profile_label(args.profile.as_deref());
    let scenarios = match harness::certify::load_profile(args.profile.as_deref()) {
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
    let suite = run_with_progress(&runtime, scenarios, &options, args.jobs, &args.spread);
    print!("{}", suite.summary(false));
    let mut report = harness::certify::Certification::new(&args.subject, &profile, suite);
    if cases > 0 && !report.certified {
        // Not certified already: random worlds would only add failures to shrink (minutes
        // with a broken subject); they run once the profile passes.
        println!("certify: the profile failed, so the {cases} random worlds are not run");
    } else if cases > 0 {
        let seed = args
            .explore_seed
            .unwrap_or_else(harness::explore::fresh_seed);
        let mut plan = Plan::new(seed, cases);
        plan.subject = Some(args.subject.clone());
        plan.roles = vec![Role::Gaining, Role::Losing, Role::Both];
        plan.jobs = args.jobs;
        plan.options = RunOptions {
            no_live_check: true,
            in_process: true,
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
        && let Err(e) = write_output(path, &report.to_junit())
    {
        eprintln!("harness: {e}");
        return ExitCode::from(2);
    }
    match report.write(&args.out) {
        Ok((json, html)) => {
            let passed = report.scenarios.iter().all(|s| s.passed);
            let verdict = match &report.partition {
                Some(p) if passed => format!(
                    "partition {}: every scenario passed (merge all {} parts with `harness \
                     report merge` for the verdict)",
                    p.partition(),
                    p.count
                ),
                Some(p) => format!("partition {}: NOT certified", p.partition()),
                None if report.certified => "certified".to_string(),
                None => "NOT certified".to_string(),
            };
            println!("{verdict}: wrote {} and {}", html.display(), json.display());
            if passed && (report.certified || report.partition.is_some()) {
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
fn progress_reporter(total: usize) -> impl Fn(&harness::explore::Progress) + Send + Sync + 'static {
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
    move |p: &harness::explore::Progress| {
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

/// A count that must be positive (`--jobs 0` would run nothing, or wait for ever).
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

fn explore(args: ExploreArgs) -> ExitCode {
    // Before any world runs: the failures' files must have somewhere to go.
    if args.out.exists() && !args.out.is_dir() {
        eprintln!(
            "harness explore: --out {} is not a directory (shrunk failing worlds are written \
             there as scenario files)",
            args.out.display()
        );
        return ExitCode::from(2);
    }
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
    plan.partition = args.partition;
    plan.options = RunOptions {
        reference_process: args.reference_process.clone(),
        timeout: Some(std::time::Duration::from_secs(args.timeout.max(1))),
        no_live_check: !args.live_check,
        in_process: true,
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
    if let Some(p) = args.partition {
        command.push_str(&format!(" --partition {p}"));
    }
    plan.command = command;
    let running = plan.indices().len();
    println!(
        "explore: seed {seed}, {} worlds{}, {} as {}{}, {} at once{}",
        running,
        args.partition
            .map(|p| format!(" (partition {p} of {})", args.cases))
            .unwrap_or_default(),
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
    let exploration: Exploration =
        match runtime.block_on(harness::explore::explore(&plan, progress_reporter(running))) {
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

/// Runs scenarios (only the given partition's, when one is given) with progress on stderr.
/// The report of a partition records which part it is and the ids of the whole run.
fn run_with_progress(
    runtime: &tokio::runtime::Runtime,
    scenarios: Vec<Scenario>,
    options: &RunOptions,
    jobs: usize,
    spread: &SpreadArgs,
) -> SuiteReport {
    let started = jiff::Timestamp::now();
    let wall = std::time::Instant::now();
    let (scenarios, partition) = match spread.partition {
        None => (scenarios, None),
        Some(p) => {
            let all: Vec<String> = scenarios.iter().map(|s| s.id.clone()).collect();
            (p.select(scenarios, |s| s.id.as_str()), Some(p.info(&all)))
        }
    };
    let progress = std::sync::Arc::new(Progress::start(
        spread.progress,
        "scenarios",
        scenarios.len(),
    ));
    let (on_start, on_done) = (progress.clone(), progress.clone());
    let reports = runtime.block_on(run_suite_observed(
        scenarios,
        options,
        jobs,
        move |s| on_start.started(&s.id),
        move |r| {
            let why = r
                .failures()
                .next()
                .map(|c| c.check.id().to_string())
                .or_else(|| r.error.as_ref().map(|_| "stopped".to_string()))
                .unwrap_or_default();
            on_done.finished(&r.id, r.passed, &why);
        },
    ));
    // The callbacks are gone with the run, so this is the last handle: stop the display.
    drop(progress);
    SuiteReport {
        kind: "harness-run",
        harness_version: env!("CARGO_PKG_VERSION"),
        started,
        wall_seconds: wall.elapsed().as_secs_f64(),
        partition,
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

/// Writes a report file, creating its directory first (`--junit report/junit.xml` before
/// `report/` exists is fine).
fn write_output(path: &std::path::Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// `harness scenarios list`.
fn list_scenarios() -> ExitCode {
    let mut code = ExitCode::SUCCESS;
    let mut rows = Vec::new();
    for f in scenario::library::files().filter(|f| f.is_scenario()) {
        match f.load() {
            Ok(s) => rows.push((f.display_path().display().to_string(), s.id, s.title)),
            Err(e) => {
                eprintln!("{e}");
                code = ExitCode::from(2);
            }
        }
    }
    let path_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let id_width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    for (path, id, title) in &rows {
        println!("{path:<path_width$}  {id:<id_width$}  {title}");
    }
    println!(
        "\n{} built-in scenarios: `harness run` runs scenarios/*.toml, `harness certify` \
         scenarios/{}/*.toml; `harness scenarios export DIR` writes them out for editing",
        rows.len(),
        scenario::library::CERTIFY_DIR
    );
    code
}

/// `harness scenarios export DIR`.
fn export_scenarios(dir: &std::path::Path, force: bool) -> ExitCode {
    match scenario::library::export(dir, force) {
        Ok(written) => {
            let total = scenario::library::files().count();
            println!(
                "wrote {} of the {total} built-in files under {} ({} already there)",
                written.len(),
                dir.display(),
                total - written.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("harness: {e}");
            ExitCode::from(2)
        }
    }
}

/// `harness report merge`.
fn merge(args: &MergeArgs) -> ExitCode {
    if args.out.is_none() && args.json.is_none() && args.junit.is_none() && args.html.is_none() {
        eprintln!("harness report merge: say where to write: --out DIR, --json, --junit or --html");
        return ExitCode::from(2);
    }
    let merged = match harness::merge::merge_files(&args.parts) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("harness report merge: {e}");
            return ExitCode::from(2);
        }
    };
    print!("{}", merged.summary());
    let write = || -> Result<Vec<PathBuf>, String> {
        let mut written = Vec::new();
        let (json, junit) = (merged.to_json(), merged.to_junit());
        if let Some(dir) = &args.out {
            written.push(merged.write_html(dir)?);
            for (path, text) in [
                (dir.join(merged.json_name()), &json),
                (dir.join("junit.xml"), &junit),
            ] {
                write_output(&path, text)?;
                written.push(path);
            }
        }
        for (path, text) in [(&args.json, &json), (&args.junit, &junit)] {
            if let Some(path) = path {
                write_output(path, text)?;
                written.push(path.clone());
            }
        }
        if let Some(dir) = &args.html {
            written.push(merged.write_html(dir)?);
        }
        Ok(written)
    };
    let written = match write() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("harness report merge: {e}");
            return ExitCode::from(2);
        }
    };
    let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    let verdict = match (&merged, merged.passed()) {
        (Merged::Certification(_), true) => "certified",
        (Merged::Certification(_), false) => "NOT certified",
        (Merged::Run(_) | Merged::Explore { .. }, true) => "passed",
        (Merged::Run(_) | Merged::Explore { .. }, false) => "FAILED",
    };
    println!(
        "merged {} report(s), {}: {verdict}: wrote {}",
        args.parts.len(),
        merged.count(),
        names.join(", ")
    );
    if merged.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
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
        // The main job keeps every DNS exchange on real UDP and TCP; only exploration's
        // thousands of worlds take the in-process path.
        in_process: false,
        // `harness run` reports every scenario in full, passing or not.
        details_on_failure_only: false,
    };
    let suite = run_with_progress(&runtime, scenarios, &options, args.jobs, &args.spread);
    let total = suite.partition.as_ref().map_or(suite.scenarios.len(), |p| {
        p.partition().ids(&p.scenarios).len()
    });
    print!("{}", suite.summary(args.verbose));
    let mut code = if suite.passed() && suite.scenarios.len() == total {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    if let Some(path) = &args.junit
        && let Err(e) = write_output(path, &suite.to_junit())
    {
        eprintln!("harness: {e}");
        code = ExitCode::from(2);
    }
    if let Some(path) = &args.json
        && let Err(e) = write_output(path, &suite.to_json())
    {
        eprintln!("harness: {e}");
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
