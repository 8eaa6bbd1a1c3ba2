//! The `trove` binary: with no arguments (or only `--db PATH`) it opens the desktop window;
//! with a command it is the command line (`trove --help`).

// mimalloc: the embedding model allocates large temporaries per batch; glibc malloc returns
// them to the kernel and maps them again each time (measured 1.5× slower).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "gui")]
mod app;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    #[cfg(feature = "gui")]
    if let Some(db) = gui_db(&args) {
        return app::run(db);
    }
    trove_cli::main_with_args(args)
}

/// The database to open in a window, when the arguments ask for the window: no command,
/// only global options (`--db PATH`, `TROVE_DB`). Anything else (a command, `--help`,
/// `--version`, a typo) goes to the CLI, which explains itself.
#[cfg(feature = "gui")]
fn gui_db(args: &[std::ffi::OsString]) -> Option<std::path::PathBuf> {
    use clap::Parser;
    let cli = trove_cli::Cli::try_parse_from(args).ok()?;
    if cli.command.is_some() {
        return None;
    }
    match trove_cli::db_path(&cli) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("trove: {e:#}");
            std::process::exit(1)
        }
    }
}
