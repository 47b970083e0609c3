//! The command line: argument parsing and one module per group of commands.
//!
//! **Exit codes: 0 success (no changes with `--detailed-exitcode`), 1 error,
//! 2 changes present (`plan --detailed-exitcode`) or drift found (`drift`),
//! 3 `fmt --check` found files to change.** Every error is printed as a diagnostic before exit.

mod arguments;
mod context;
mod drift;
mod files;
mod printer;
mod run;
mod state_commands;

pub use arguments::{Cli, Command};
pub use printer::Printer;

use clap::Parser as _;

/// Exit codes.
pub const EXIT_OK: i32 = 0;
pub const EXIT_ERROR: i32 = 1;
pub const EXIT_CHANGES: i32 = 2;
pub const EXIT_FORMAT: i32 = 3;

/// Runs the command line and returns the exit code.
pub fn main() -> i32 {
    // Usage errors exit 1 like every error (clap's own code, 2, means "changes" here).
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let _ = error.print();
            return code;
        }
    };
    init_logging();
    let printer = Printer::new(cli.global.no_color);
    if let Some(folder) = &cli.global.chdir
        && let Err(error) = std::env::set_current_dir(folder)
    {
        printer.err(&format!("error: cannot change to {}: {error}", folder.display()));
        return EXIT_ERROR;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            printer.err(&format!("error: cannot start the async runtime: {error}"));
            return EXIT_ERROR;
        }
    };
    runtime.block_on(run::run(cli, printer))
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .try_init();
}
