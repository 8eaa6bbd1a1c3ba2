//! `trove-bench`: Trove's benchmark harness, outside the product (the app and the `trove`
//! CLI do not link it). Every figure is a ratio against a reference run in the same process
//! (see BENCHMARKS.md). Its own executable is also the PDF sandbox child
//! (`trove-bench __extract <path>`), exactly as `trove` is for the product.

// The same allocator as the product binary, so embedding figures match it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bench;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "trove-bench",
    about = "Measure Trove's ingestion, queue and search speed"
)]
struct Cli {
    /// Machine-readable output
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    child: Option<Child>,
    #[command(flatten)]
    args: bench::BenchArgs,
}

#[derive(Debug, Subcommand)]
enum Child {
    /// Internal: serve extraction requests as a sandboxed child process
    #[command(name = "__extract", hide = true)]
    Extract,
}

/// Whether to print human lines or one JSON report at the end.
pub struct Out {
    pub json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Child::Extract) = &cli.child {
        return trove_extract::sandbox::child_main();
    }
    trove_runtime::init_logging();
    match bench::run(&cli.args, &Out { json: cli.json }) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("trove-bench: {e:#}");
            ExitCode::from(1)
        }
    }
}
