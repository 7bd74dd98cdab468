//! Entry point: parse arguments, start the runtime, run, and map the outcome
//! to an exit code. The only place that decides how the process ends.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use ecs_key_preflight::cli::{Cli, Command};
use ecs_key_preflight::report::exit;

// glibc's allocator slows down as the heap of a 100,000-cluster offline run
// grows (a quarter of the time in _int_malloc); mimalloc keeps the cost per
// allocation flat, which keeps offline evaluation linear.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ExitCode::SUCCESS,
                // clap's own code for usage errors is 2, which here means "unknown".
                _ => ExitCode::from(exit::ERROR),
            };
        }
    };
    // Colour in the logs only on a terminal, and never against --color never or NO_COLOR.
    let never = match &cli.command {
        Command::Check(a) => a.out.color == ecs_key_preflight::cli::ColorMode::Never,
        Command::WhatIf(a) => a.check.out.color == ecs_key_preflight::cli::ColorMode::Never,
        Command::Audit(a) => a.out.color == ecs_key_preflight::cli::ColorMode::Never,
    };
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    init_logging(cli.verbose, !never && !no_color && std::io::IsTerminal::is_terminal(&std::io::stderr()));

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    let verbose = cli.verbose;
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Check(args) => ecs_key_preflight::app::check(args, verbose).await,
            Command::Audit(args) => ecs_key_preflight::app::audit(args).await,
            Command::WhatIf(args) => ecs_key_preflight::app::what_if(args, verbose).await,
        }
    });
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // Errors quote paths, names and AWS messages: never raw control bytes.
            eprintln!("error: {}", ecs_key_preflight::render::text::visible(&e.to_string()));
            if let Some(hint) = e.hint() {
                eprintln!("hint: {}", ecs_key_preflight::render::text::visible(&hint));
            }
            ExitCode::from(exit::ERROR)
        }
    }
}

/// Logs go to stderr so that stdout carries only the report.
fn init_logging(verbose: u8, ansi: bool) {
    let level = match verbose {
        0 => tracing::Level::ERROR,
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    // Below -vvv the SDK only speaks when it fails; its debug output is a
    // flood, and its warnings (an instance-metadata probe off EC2) are noise
    // that our own error message already explains.
    let sdk_level = match verbose {
        0 => tracing::Level::ERROR,
        1 | 2 => tracing::Level::WARN,
        _ => level,
    };
    let filter =
        tracing_subscriber::filter::Targets::new().with_target("ecs_key_preflight", level).with_default(sdk_level);
    use tracing_subscriber::prelude::*;
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false).with_ansi(ansi))
        .with(filter)
        .init();
}
