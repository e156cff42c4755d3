//! `harness`: runs transfer scenarios against registrar implementations and checks that the
//! moving domain's chain of trust never breaks. Thin on purpose: the work is in the library.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use harness::report::SuiteReport;
use harness::runner::{RunOptions, run_scenario};
use harness::scenario::{self, Scenario};

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
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Scenario files or directories (default: scenarios/).
    paths: Vec<PathBuf>,
    /// The registrar under test, as a shell command, for every `subject` role.
    #[arg(long, value_name = "COMMAND")]
    subject: Option<String>,
    /// Write JUnit XML here.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write the full report as JSON here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Scenarios run at once.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Show passed checks and evidence too.
    #[arg(long, short)]
    verbose: bool,
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
    }
}

fn load_all(paths: &[PathBuf]) -> Result<Vec<Scenario>, ExitCode> {
    let files = scenario::discover(paths).map_err(|e| {
        eprintln!("harness: {e}");
        ExitCode::from(2)
    })?;
    if files.is_empty() {
        eprintln!("harness: no scenario files found");
        return Err(ExitCode::from(2));
    }
    let mut out = Vec::new();
    let mut bad = false;
    for f in files {
        match scenario::load(&f) {
            Ok(s) => out.push(s),
            Err(e) => {
                eprintln!("{e}");
                bad = true;
            }
        }
    }
    let mut ids = std::collections::BTreeMap::new();
    for s in &out {
        if let Some(other) = ids.insert(s.id.clone(), s.path.clone()) {
            eprintln!(
                "{}: id {:?} is also used by {}",
                s.path.display(),
                s.id,
                other.display()
            );
            bad = true;
        }
    }
    if bad { Err(ExitCode::from(2)) } else { Ok(out) }
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
    let scenarios = match load_all(&args.paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("harness: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let options = RunOptions {
        subject: args.subject.clone(),
    };
    let started = jiff::Timestamp::now();
    let wall = std::time::Instant::now();
    let total = scenarios.len();
    let progress = indicatif::ProgressBar::new(total as u64);
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    progress.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let reports = runtime.block_on(async {
        let jobs = args.jobs.max(1);
        let semaphore = Arc::new(tokio::sync::Semaphore::new(jobs));
        let mut tasks = Vec::new();
        for s in scenarios {
            let s = Arc::new(s);
            let options = options.clone();
            let permit = semaphore.clone();
            let progress = progress.clone();
            tasks.push(tokio::spawn(async move {
                let _permit = permit.acquire_owned().await;
                progress.set_message(s.id.clone());
                let r = run_scenario(s, &options).await;
                progress.inc(1);
                r
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            match t.await {
                Ok(r) => out.push(r),
                Err(e) => eprintln!("harness: a scenario task failed: {e}"),
            }
        }
        out
    });
    progress.finish_and_clear();
    let suite = SuiteReport {
        harness_version: env!("CARGO_PKG_VERSION"),
        started,
        wall_seconds: wall.elapsed().as_secs_f64(),
        scenarios: reports,
    };
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
    code
}
