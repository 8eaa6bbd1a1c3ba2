//! The `trove` binary: with no arguments it opens the desktop window; with arguments it is
//! the command line (`trove --help`).

// mimalloc: the embedding model allocates large temporaries per batch; glibc malloc returns
// them to the kernel and maps them again each time (measured 1.5× slower).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    trove_cli::main_with_args(std::env::args_os())
}
