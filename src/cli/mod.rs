//! Command-line front end: one file per command. Each command returns the exit code it wants
//! (0 success, 1 a finding); any error becomes one `error:` line on stderr and exit 2.
//!
//! `tensorscope PATH` opens the TUI (or prints `inspect` when stdout is not a terminal) and
//! `tensorscope A B` opens compare mode (or prints `diff`). A first word that is neither a
//! command nor an existing path is a mistyped command: clap answers it with suggestions.

mod bench;
mod convert;
mod diff;
mod extra;
mod fit;
mod inspect;
mod inspect_extra;
mod scan;
mod show;
mod sign;
pub mod style;
mod verify;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  tensorscope model.safetensors              open the TUI on a checkpoint
  tensorscope a.safetensors b.bin            compare two checkpoints in the TUI
  tensorscope inspect model.bin --tree       module tree with parameters per subtree
  tensorscope scan ./downloads               safety verdict for every file (exit 1 if not safe)
  tensorscope convert model.bin out.safetensors
  tensorscope verify ./model --public-key signer.pub   check an OpenSSF Model Signing signature
  tensorscope completions bash > ~/.local/share/bash-completion/completions/tensorscope";

/// Look inside model checkpoints, prove they are safe, convert them, measure how fast they load.
#[derive(Debug, Parser)]
#[command(
    name = "tensorscope",
    version,
    about,
    args_conflicts_with_subcommands = true,
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// File or folder to open (the current folder when omitted); two paths open compare mode.
    #[arg(value_name = "PATH", num_args = 0..=2)]
    paths: Vec<PathBuf>,
    /// When to use colour: auto (a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, value_name = "WHEN", default_value = "auto", global = true)]
    color: clap::ColorChoice,
    /// Remote paths (hf://, https://): use the cache alone, make no request.
    #[arg(long, global = true)]
    offline: bool,
    /// The TUI's Files tab: the signer's public key (PEM) that `h` verifies a model.sig beside PATH with.
    #[arg(long, value_name = "PEM")]
    public_key: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List tensors and metadata without loading tensor data.
    #[command(after_help = inspect::EXAMPLES)]
    Inspect(inspect::Args),
    /// Preview the values of one tensor, with statistics and a histogram.
    #[command(after_help = show::EXAMPLES)]
    Show(show::Args),
    /// Safety verdict per file and per pickle inside it (exit 1 when anything is not safe).
    #[command(after_help = scan::EXAMPLES)]
    Scan(scan::Args),
    /// Convert a pickle checkpoint to .safetensors, verified byte for byte.
    #[command(after_help = convert::EXAMPLES)]
    Convert(convert::Args),
    /// Compare two checkpoints tensor by tensor (exit 1 when they differ).
    #[command(after_help = diff::EXAMPLES)]
    Diff(diff::Args),
    /// Time loading checkpoints every way (safetensors, torch.load-like, mmap), with reports.
    #[command(after_help = bench::EXAMPLES)]
    Bench(bench::Args),
    /// Will it fit? Weights, KV cache and a per-device plan with llama.cpp flags.
    #[command(after_help = fit::EXAMPLES)]
    Fit(fit::Args),
    /// Check a model against its OpenSSF Model Signing signature, or a Hugging Face cache folder
    /// against its blob names (exit 1 when not verified).
    #[command(after_help = verify::EXAMPLES)]
    Verify(verify::Args),
    /// Sign a model file or folder: write an OpenSSF Model Signing v1.0 bundle (key method).
    #[command(after_help = sign::EXAMPLES)]
    Sign(sign::Args),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_help = extra::COMPLETIONS_EXAMPLES)]
    Completions(extra::CompletionsArgs),
    /// Print the man page (roff) to stdout.
    #[command(after_help = extra::MAN_EXAMPLES)]
    Man,
    /// Internal: run one benchmark case in a child process (see tensorscope::bench::child).
    #[command(name = "__bench-child", hide = true)]
    BenchChild { spec: String },
}

/// Exit code for "a finding" (scan: not safe; diff: different).
pub const FINDING: u8 = 1;

/// The clap command, for completions and the man page.
pub fn command() -> clap::Command {
    Cli::command()
}

pub fn main() -> ExitCode {
    let args = hoist_global_options(std::env::args_os().collect());
    if let Some(e) = mistyped_command(&args) {
        return usage_error(&e);
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) if e.use_stderr() => return usage_error(&e),
        Err(e) => {
            // --help, --version: to stdout, as clap writes them
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    style::set_choice(cli.color);
    // how remote paths are read: built once here from the flags and the environment, passed down
    let env = tensorscope::remote::Env::from_env(cli.offline);
    let result = match cli.command {
        Some(Command::Inspect(a)) => {
            let path = a.path.clone();
            inspect::run(a, &env).map_err(|e| with_verdict(&path, e))
        }
        Some(Command::Show(a)) => {
            let path = a.path.clone();
            show::run(a, &env).map_err(|e| with_verdict(&path, e))
        }
        Some(Command::Scan(a)) => scan::run(a, &env),
        Some(Command::Convert(a)) => convert::run(a),
        Some(Command::Diff(a)) => diff::run(a, &env),
        Some(Command::Bench(a)) => bench::run(a),
        Some(Command::Fit(a)) => fit::run(a, &env),
        Some(Command::Verify(a)) => verify::run(a, &env),
        Some(Command::Sign(a)) => sign::run(a),
        Some(Command::Completions(a)) => extra::completions(a),
        Some(Command::Man) => extra::man(),
        Some(Command::BenchChild { spec }) => tensorscope::bench::child::serve(&spec, &mut std::io::stdout().lock())
            .map(|()| 0)
            .map_err(Into::into),
        None => open(cli.paths, cli.public_key.as_deref(), &env),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let line = error_line(&e);
            let line = line.replacen("error:", &style::paint(style::DANGEROUS, "error:"), 1);
            let _ = writeln!(style::stderr(), "{line}");
            ExitCode::from(2)
        }
    }
}

/// A command-line error as one line, `error: … (tip …); usage: …` (clap writes a block of lines), exit 2.
fn usage_error(e: &clap::Error) -> ExitCode {
    let line = one_line(&e.render().to_string());
    let line = line.replacen("error:", &style::paint(style::DANGEROUS, "error:"), 1);
    let _ = writeln!(style::stderr(), "{line}");
    ExitCode::from(2)
}

/// clap's error block in one line: the message, the items listed under it, its tips in brackets and
/// the usage; the "For more information" line is left out (the usage names the command).
fn one_line(block: &str) -> String {
    let mut msg = String::new();
    let mut tips = Vec::new();
    let mut usage = None;
    for l in block.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(t) = l.strip_prefix("tip: ") {
            tips.push(t);
        } else if let Some(u) = l.strip_prefix("Usage: ") {
            usage = Some(u);
        } else if l.starts_with("For more information") {
        } else if msg.is_empty() {
            msg.push_str(l);
        } else {
            msg.push(' ');
            msg.push_str(l);
        }
    }
    for t in tips {
        msg.push_str(&format!(" ({t})"));
    }
    if let Some(u) = usage {
        msg.push_str(&format!("; usage: {u}"));
    }
    msg
}

/// `tensorscope [PATH]` and `tensorscope A B`: the TUI on a terminal, else the headless equivalent.
fn open(mut paths: Vec<PathBuf>, key: Option<&std::path::Path>, env: &tensorscope::remote::Env) -> anyhow::Result<u8> {
    if paths.is_empty() {
        paths.push(PathBuf::from("."));
    }
    let first = paths[0].clone();
    let opened = if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
        crate::tui::run(&paths, key, env)
    } else {
        match <[PathBuf; 2]>::try_from(paths) {
            Ok([a, b]) => diff::run(diff::Args::for_paths(a, b), env),
            Err(mut one) => inspect::run(inspect::Args::for_path(one.remove(0)), env),
        }
    };
    opened.map_err(|e| with_verdict(&first, e))
}

/// The legacy tar error's advice (formats/pickle/legacy.rs), left out where the scanner flags the file.
const LOAD_WITH_TORCH: &str = "; load and re-save it with torch";

/// An error opening a local file that the scanner calls not safe says so: whoever ran
/// `tensorscope evil.pkl` learns that it is dangerous, not only that it holds no tensors (a format
/// error, "not a checkpoint", an unsupported legacy tar alike), and is not told to load it with torch.
fn with_verdict(path: &std::path::Path, e: anyhow::Error) -> anyhow::Error {
    // only files (a folder's scan is its own command), and only a file that does not open (not a
    // missing tensor or key in one that does)
    let ours = e.chain().any(|c| c.downcast_ref::<tensorscope::Error>().is_some());
    if !ours || !std::fs::metadata(path).is_ok_and(|m| m.is_file()) || tensorscope::checkpoint::open(path).is_ok() {
        return e;
    }
    let scan = tensorscope::scan::scan_file(path);
    // what the scan found imported, or anything dangerous (code an archive ships): a damaged or
    // truncated file is suspicious to the scanner too, and its read error already says all there is
    let Some(worst) = scan
        .findings
        .iter()
        .filter(|f| f.global.is_some() || f.severity == tensorscope::scan::Severity::Dangerous)
        .max_by_key(|f| f.severity)
    else {
        return e;
    };
    let verdict = match worst.severity {
        tensorscope::scan::Severity::Dangerous => "DANGEROUS",
        tensorscope::scan::Severity::Suspicious => "SUSPICIOUS",
    };
    let what = worst
        .global
        .as_deref()
        .or((!worst.entry.is_empty()).then_some(worst.entry.as_str()))
        .map(|g| format!(" ({})", tensorscope::text::escape(g)))
        .unwrap_or_default();
    // the advice to load a legacy tar with torch is no advice for a file that the scanner flags
    let line = error_line(&e);
    let line = line.trim_start_matches("error: ").replace(LOAD_WITH_TORCH, "");
    anyhow::anyhow!(
        "{line}; the scanner calls it {verdict}{what}: run `tensorscope scan {}` before loading it anywhere",
        tensorscope::text::path(path)
    )
}

/// A first word that is not a command, not a flag and not an existing path is a mistyped command:
/// parse again without the bare PATH so clap reports it with "a similar subcommand exists".
fn mistyped_command(args: &[std::ffi::OsString]) -> Option<clap::Error> {
    let first = args.iter().skip(1).find(|a| {
        let s = a.to_string_lossy();
        !(s.starts_with('-') || s == "auto" || s == "always" || s == "never")
    })?;
    let cmd = Cli::command();
    let word = first.to_str()?;
    let known = cmd
        .get_subcommands()
        .any(|s| s.get_name() == word || s.get_all_aliases().any(|a| a == word))
        || word == "help";
    if known || std::path::Path::new(first).exists() || std::fs::symlink_metadata(first).is_ok() {
        return None;
    }
    // only words that read as a command: a path with a separator or an extension is a missing file
    if word.contains(['/', '.']) || word.is_empty() {
        return None;
    }
    let subcommands_only = clap::Command::new("tensorscope")
        .subcommands(cmd.get_subcommands().cloned())
        .arg(
            clap::Arg::new("color")
                .long("color")
                .global(true)
                .value_parser(["auto", "always", "never"]),
        );
    subcommands_only.try_get_matches_from(args).err()
}

/// `error: …` with each cause once: a core error that already quotes the OS error it wraps is not
/// followed by the same text again.
pub fn error_line(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if msg.contains(&text) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&text);
    }
    format!("error: {}", msg.replace('\n', " "))
}

/// Global options written before the subcommand (`tensorscope --color never inspect X`) move after
/// it: clap would otherwise read the subcommand's name as the bare PATH of the TUI form.
fn hoist_global_options(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let cmd = Cli::command();
    let mut i = 1;
    while let Some(a) = args.get(i).and_then(|a| a.to_str()) {
        if a == "--offline" || a.starts_with("--color=") {
            i += 1;
        } else if a == "--color" && i + 1 < args.len() {
            i += 2;
        } else {
            break;
        }
    }
    let Some(word) = args.get(i).and_then(|a| a.to_str()) else {
        return args;
    };
    let is_command = cmd
        .get_subcommands()
        .any(|s| s.get_name() == word || s.get_all_aliases().any(|a| a == word));
    if i == 1 || !is_command {
        return args;
    }
    let moved: Vec<std::ffi::OsString> = args.drain(1..i).collect();
    // after the subcommand's name
    let tail = args.split_off(2);
    args.extend(moved);
    args.extend(tail);
    args
}

/// The exit code the work earned when writing its output found stdout closed (`| head -1`): a
/// closed pipe is not an error and must not turn a finding into success.
pub fn quiet_pipe(written: std::io::Result<()>, code: u8) -> anyhow::Result<u8> {
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(code),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_line_prints_each_cause_once() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let e: anyhow::Error = tensorscope::Error::io("/nope/x", io).into();
        let line = error_line(&e);
        assert_eq!(line.matches("entity not found").count(), 1, "{line}");
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(error_line(&e), "error: outer: inner");
    }

    #[test]
    fn global_options_before_the_command_move_after_it() {
        let args = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert_eq!(
            hoist_global_options(args(&["t", "--color", "never", "--offline", "inspect", "x"])),
            args(&["t", "inspect", "--color", "never", "--offline", "x"])
        );
        let same = args(&["t", "--color", "never", "x.bin"]);
        assert_eq!(hoist_global_options(same.clone()), same);
    }

    /// A file the TUI cannot open and the scanner flags gets the verdict, whichever error it is
    /// ("not a checkpoint", a legacy tar, a format error), and no advice to load it with torch.
    #[test]
    fn every_file_that_does_not_open_and_is_flagged_gets_the_verdict() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for rel in [
            "tests/data/scan/malicious/legacy-and-tar.pt",
            "tests/data/scan/malicious/int-hex.pkl",
            "tests/data/scan/malicious/long-hex.pkl",
            "samples/malicious.pkl",
            // dangerous for the code it ships, with no global: named by the entry
            "tests/data/scan/v3/malicious/review39b-pt2_sympy_expr.pt2",
            "tests/data/scan/v3/malicious/review39b-aoti_constructor.pt2",
        ] {
            let path = root.join(rel);
            let e = crate::tui::load(&path, &Default::default())
                .err()
                .expect("does not open");
            let msg = with_verdict(&path, e).to_string();
            assert!(msg.contains("the scanner calls it"), "{rel}: {msg}");
            assert!(!msg.contains("with torch"), "{rel}: {msg}");
        }
        // a file that opens keeps its error as it is (a missing key, not a read error)
        let path = root.join("samples/tiny.gguf");
        let e = with_verdict(&path, anyhow::anyhow!(tensorscope::Error::Usage("no key".into())));
        assert_eq!(e.to_string(), "no key");
    }

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }
}
