//! The `tensorscope` binary: parse arguments, call the core, print, set the exit code.

mod cli;
mod tui;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
