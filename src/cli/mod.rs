//! Command-line front end: one file per command. Each command returns the exit code it wants
//! (0 success, 1 a finding); any error becomes one `error:` line on stderr and exit 2.

mod bench;
mod convert;
mod diff;
mod inspect;
mod scan;
mod show;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Look inside model checkpoints, prove they are safe, convert them, measure how fast they load.
#[derive(Debug, Parser)]
#[command(name = "tensorscope", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// File or folder to open (the current folder when omitted).
    path: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List tensors and metadata without loading tensor data.
    Inspect(inspect::Args),
    /// Preview the values of one tensor, with statistics and a histogram.
    Show(show::Args),
    /// Safety verdict per file and per pickle inside it (exit 1 when anything is not safe).
    Scan(scan::Args),
    /// Convert a pickle checkpoint to .safetensors, verified byte for byte.
    Convert(convert::Args),
    /// Compare two checkpoints tensor by tensor (exit 1 when they differ).
    Diff(diff::Args),
    /// Time loading checkpoints every way (safetensors, torch.load-like, mmap), with reports.
    Bench(bench::Args),
    /// Internal: run one benchmark case in a child process (see tensorscope::bench::child).
    #[command(name = "__bench-child", hide = true)]
    BenchChild { spec: String },
}

/// Exit code for "a finding" (scan: not safe; diff: different).
#[allow(dead_code)] // used by the scan and diff commands
pub const FINDING: u8 = 1;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Some(Command::Inspect(a)) => inspect::run(a),
        Some(Command::Show(a)) => show::run(a),
        Some(Command::Scan(a)) => scan::run(a),
        Some(Command::Convert(a)) => convert::run(a),
        Some(Command::Diff(a)) => diff::run(a),
        Some(Command::Bench(a)) => bench::run(a),
        Some(Command::BenchChild { spec }) => tensorscope::bench::child::serve(&spec, &mut std::io::stdout().lock())
            .map(|()| 0)
            .map_err(Into::into),
        None => {
            let path = cli.path.unwrap_or_else(|| PathBuf::from("."));
            if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
                crate::tui::run(&path)
            } else {
                inspect::run(inspect::Args::for_path(path))
            }
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let msg = format!("{e:#}").replace('\n', " ");
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

/// `tensorscope inspect big | head` closes our stdout early: that is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}
