//! `tensorscope convert IN OUT [--max-shard-size SIZE] [--no-verify] [--force]`: pickle checkpoints to
//! `.safetensors`, verified byte for byte. Exit 0 converted, 1 refused by the scanner (nothing
//! written), 2 error (nothing written).

use std::io::Write;
use std::path::PathBuf;

use tensorscope::convert::{self, Flagged, Options, Outcome, Report};
use tensorscope::text::{bytes, escape, parse_size, path as show, plural};

pub const EXAMPLES: &str = "\
Examples:
  tensorscope convert pytorch_model.bin model.safetensors
  tensorscope convert ./sharded-bin ./out/ --max-shard-size 2GB";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A torch.save file, a folder with pytorch_model.bin.index.json, or a diffusers folder with .bin weights.
    pub input: PathBuf,
    /// A .safetensors file, or a folder (a folder input, an existing folder, or a path ending with /).
    pub output: PathBuf,
    /// Largest shard in a folder output, e.g. 5GB, 500MB, 2GiB (default 5GB, as transformers).
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub max_shard_size: Option<u64>,
    /// Do not reopen and compare the output with the input.
    #[arg(long)]
    pub no_verify: bool,
    /// Convert input the scanner calls suspicious (the objects it cannot rebuild are left out).
    #[arg(long)]
    pub allow_suspicious: bool,
    /// Leave out tensors of dtypes safetensors cannot store (complex128, quantized) instead of failing.
    #[arg(long)]
    pub skip_unsupported: bool,
    /// Replace an existing output file (only a regular file: devices, FIFOs, sockets and links are never replaced).
    #[arg(long)]
    pub force: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn size(s: &str) -> Result<u64, String> {
    match parse_size(s) {
        Some(n) if n > 0 => Ok(n),
        _ => Err(format!("{s:?} is not a size (examples: 5GB, 500MB, 2GiB)")),
    }
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let opts = Options {
        max_shard_size: args.max_shard_size.unwrap_or(convert::DEFAULT_MAX_SHARD_SIZE),
        shard_size_given: args.max_shard_size.is_some(),
        verify: !args.no_verify,
        allow_suspicious: args.allow_suspicious,
        skip_unsupported: args.skip_unsupported,
        force: args.force,
    };
    remove_temporaries_on_signal();
    let outcome = convert::convert(&args.input, &args.output, &opts)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &outcome)?;
        writeln!(out)?;
    }
    let code = match &outcome {
        Outcome::Refused { files: flagged } => {
            if !args.json {
                refused(&mut out, flagged)?;
            }
            super::FINDING
        }
        Outcome::Converted(report) => {
            if !args.json {
                converted(&mut out, report)?;
            }
            0
        }
    };
    out.flush()?;
    Ok(code)
}

fn findings(out: &mut impl Write, f: &Flagged) -> std::io::Result<()> {
    writeln!(out, "{}: {}", escape(&f.path), f.verdict)?;
    for x in &f.findings {
        let global = x.global.as_deref().map(escape).unwrap_or_default();
        writeln!(
            out,
            "  {} {} {}: {}",
            x.severity.as_str(),
            escape(&x.entry),
            global,
            escape(&x.why)
        )?;
    }
    Ok(())
}

fn refused(out: &mut impl Write, flagged: &[Flagged]) -> std::io::Result<()> {
    for f in flagged {
        findings(out, f)?;
    }
    let dangerous = flagged.iter().any(|f| f.verdict.as_str() == "dangerous");
    let hint = if dangerous {
        ""
    } else {
        " (--allow-suspicious converts it, leaving out what cannot be rebuilt)"
    };
    writeln!(
        out,
        "refused: the scanner did not call the input safe; nothing was written{hint}"
    )
}

fn converted(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    for f in &r.suspicious {
        findings(out, f)?;
    }
    for w in &r.left_out {
        writeln!(out, "warning: {}", escape(w))?;
    }
    for (name, dtype) in &r.skipped {
        writeln!(out, "skipped: {} ({dtype}: safetensors cannot store it)", escape(name))?;
    }
    for (dropped, kept) in &r.aliases {
        writeln!(out, "alias: {} is {} (written once)", escape(dropped), escape(kept))?;
    }
    for f in &r.files {
        let what = if f.tensors > 0 {
            format!("{}, ", plural(f.tensors as u64, "tensor"))
        } else {
            String::new()
        };
        writeln!(out, "wrote {} ({what}{})", show(&f.path), bytes(f.bytes))?;
    }
    if !r.copied.is_empty() {
        let n = plural(r.copied.len() as u64, "other file");
        writeln!(out, "copied {n} unchanged")?;
    }
    writeln!(
        out,
        "{}: {}, {} of tensor data in {:.2} s",
        show(&r.output),
        plural(r.tensors as u64, "tensor"),
        bytes(r.data_bytes),
        r.write_seconds
    )?;
    match &r.verification {
        Some(v) => writeln!(
            out,
            "verified: {} reopened, {} ({} of tensor data) read back equal byte for byte to the input ({:.2} s of comparing, while writing)",
            plural(v.files as u64, "file"),
            plural(v.tensors as u64, "name"),
            bytes(v.bytes),
            v.seconds
        ),
        None => writeln!(out, "not verified (--no-verify)"),
    }
}

/// On SIGTERM, SIGINT or SIGHUP, remove the temporary output (a watcher thread does it: a signal
/// handler may not touch the file system), then end as the signal would have. SIGKILL cannot be
/// caught: its temporary stays until the next run to the same output sweeps it.
fn remove_temporaries_on_signal() {
    crate::signal_pipe::catch(&[libc::SIGTERM, libc::SIGINT, libc::SIGHUP], |sig| {
        convert::remove_temporaries();
        // SAFETY: back to the default action, then the signal again: the process ends as it would have
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    });
}
