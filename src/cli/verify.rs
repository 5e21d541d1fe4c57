//! `tensorscope verify PATH [--signature F] [--public-key PEM | --certificate-chain PEM...]
//! [--ignore-unsigned-files] [--json]`: an OpenSSF Model Signing v1.0 bundle checked with a public key
//! or a certificate chain, a Hugging Face cache folder
//! checked blob by blob, or (`--against hf://ORG/NAME[@REV]`) local files against the Hub's listing.
//! Exit 0 verified, 1 not verified (file by file, why), 2 error.

use std::io::Write;
use std::path::{Path, PathBuf};

use tensorscope::text::{self, escape};
use tensorscope::verify::{self, Report, Status, cert::TrustStore, hf, keys::PublicKey, oms};

use super::style::{self, DANGEROUS, DIM, SAFE, paint};

pub const EXAMPLES: &str = "\
Examples:
  tensorscope verify ./model --public-key signer.pub             model/model.sig, every file
  tensorscope verify model.safetensors --public-key k.pub --signature model.sig
  tensorscope verify ./model --certificate-chain root-ca.pem      certificate method, chain to this root
  tensorscope verify ./model --certificate-chain root.pem --certificate-chain intermediate.pem
  tensorscope verify ./model --public-key k.pub --ignore-unsigned-files --json
  tensorscope verify ~/.cache/huggingface/hub/models--gpt2--gpt2  each blob against its name
  tensorscope verify ./model --public-key k.pub --format sarif > verify.sarif
  tensorscope verify ./gpt2 --against hf://openai-community/gpt2    the Hub's sha256 / git blob ids
  tensorscope verify model.safetensors --against hf://org/name@v1.0/model.safetensors";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model: a file or a folder signed with OMS, or a Hugging Face cache folder
    /// (models--ORG--NAME, or snapshots/REV inside one).
    pub path: PathBuf,
    /// The OMS signature bundle [default: model.sig inside a folder PATH, else beside PATH].
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,
    /// The signer's ECDSA public key (PEM; P-256, P-384 or P-521): verify an OMS signature.
    #[arg(long, value_name = "PEM", conflicts_with = "certificate_chain")]
    pub public_key: Option<PathBuf>,
    /// Verify an OMS signature made with the certificate method: its signing certificate must chain
    /// to a self-signed root among these PEM certificates (repeatable; a file may hold several, roots
    /// and intermediates). Validity is checked at the current time.
    #[arg(long, value_name = "PEM")]
    pub certificate_chain: Vec<PathBuf>,
    /// Compare with a Hugging Face Hub repository instead of a signature: each file's size and the
    /// Hub's SHA-256 (LFS files) or git blob id (small files), without downloading anything.
    #[arg(long, value_name = "hf://ORG/NAME[@REV][/PATH]", conflicts_with_all = ["public_key", "signature", "certificate_chain"])]
    pub against: Option<String>,
    /// Accept files that the signature (or the repository) does not list (they are not checked).
    #[arg(long)]
    pub ignore_unsigned_files: bool,
    /// With --against: accept repository files that are not here (a partial download).
    #[arg(long, requires = "against")]
    pub ignore_missing_files: bool,
    /// Leave out a path relative to the model (repeatable), besides .git, .gitattributes, .github,
    /// .gitignore, the signature itself and the signature's own ignore_paths.
    #[arg(long, value_name = "PATH")]
    pub ignore_paths: Vec<PathBuf>,
    /// Print JSON (the same as --format json).
    #[arg(long)]
    pub json: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// List every file, not only those that failed, and the hashing speed.
    #[arg(long, short)]
    pub verbose: bool,
    /// Hashing threads [default: one per core].
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub threads: usize,
}

/// Output formats of `verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A verdict and one line per failing file.
    Human,
    /// The report as JSON.
    Json,
    /// SARIF 2.1.0 for code-scanning services.
    Sarif,
}

/// The signature used when `--signature` is not given: `model.sig` inside a folder (or beside it when
/// only that exists), `model.sig` beside a file.
pub fn default_signature(path: &Path) -> PathBuf {
    let beside = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("model.sig");
    if path.is_dir() {
        let inside = path.join("model.sig");
        if inside.exists() || !beside.exists() {
            return inside;
        }
    }
    beside
}

pub fn run(args: Args, env: &tensorscope::remote::Env) -> anyhow::Result<u8> {
    let report = match &args.public_key {
        _ if args.against.is_some() => {
            let opts = verify::against::Options {
                ignore_unsigned_files: args.ignore_unsigned_files,
                ignore_missing_files: args.ignore_missing_files,
                ignore_paths: args.ignore_paths.clone(),
                threads: args.threads,
            };
            verify::against::verify(&args.path, args.against.as_deref().unwrap_or(""), env, &opts)?
        }
        _ if !args.certificate_chain.is_empty() => {
            let store = TrustStore::from_files(&args.certificate_chain)?;
            let signature = args.signature.clone().unwrap_or_else(|| default_signature(&args.path));
            let mut opts = oms::Options::new(signature, store);
            opts.ignore_unsigned_files = args.ignore_unsigned_files;
            opts.ignore_paths = args.ignore_paths.clone();
            opts.threads = args.threads;
            oms::verify(&args.path, &opts)?
        }
        Some(key) => {
            let pem = std::fs::read_to_string(key)
                .map_err(|e| anyhow::anyhow!("cannot read the public key {}: {e}", escape(&key.to_string_lossy())))?;
            let key = PublicKey::from_pem(&pem).map_err(|e| anyhow::anyhow!("{}: {e}", text::path(key)))?;
            let signature = args.signature.clone().unwrap_or_else(|| default_signature(&args.path));
            let mut opts = oms::Options::new(signature, key);
            opts.ignore_unsigned_files = args.ignore_unsigned_files;
            opts.ignore_paths = args.ignore_paths.clone();
            opts.threads = args.threads;
            oms::verify(&args.path, &opts)?
        }
        None if hf::detect(&std::fs::canonicalize(&args.path).unwrap_or_else(|_| args.path.clone())).is_some() => {
            hf::verify(&args.path, args.threads)?
        }
        None => anyhow::bail!(
            "{}: pass --public-key PEM or --certificate-chain PEM to check an OpenSSF Model Signing signature \
             (or give a Hugging Face cache folder models--ORG--NAME)",
            text::path(&args.path)
        ),
    };
    let format = if args.json { Format::Json } else { args.format };
    match format {
        Format::Json | Format::Sarif => {
            let mut out = std::io::stdout().lock();
            if format == Format::Json {
                serde_json::to_writer_pretty(&mut out, &report)?;
            } else {
                serde_json::to_writer_pretty(&mut out, &verify::sarif::log(&report))?;
            }
            writeln!(out)?;
            out.flush()?;
        }
        Format::Human => {
            let mut out = style::stdout();
            human(&mut out, &report, args.verbose)?;
            out.flush()?;
        }
    }
    Ok(if report.verified { 0 } else { super::FINDING })
}

fn human(out: &mut impl Write, r: &Report, verbose: bool) -> std::io::Result<()> {
    let what = match (&r.signature, r.kind) {
        (Some(s), _) => {
            let how = s.serialization.as_ref().map_or(String::new(), |ser| {
                let method = match ser.method {
                    verify::Method::Files => "files".to_string(),
                    verify::Method::Shards { shard_size } => format!("shards of {}", text::bytes(shard_size)),
                };
                format!(", {method}, {}", ser.hash_type)
            });
            let key = if s.key.is_empty() { "no key reached" } else { s.key };
            format!("OMS v1.0 signature {} ({}{how})", escape(&s.file), key)
        }
        (None, "hf-hub") => match &r.against {
            Some(a) => format!(
                "against {}{}: sha256 of LFS files, git blob ids of the others",
                escape(&a.remote),
                a.commit
                    .as_deref()
                    .map_or(String::new(), |c| format!(" at {}", c.get(..12).unwrap_or(c)))
            ),
            None => "against the Hub".to_string(),
        },
        (None, _) => "Hugging Face cache: blobs against their names, snapshot links".to_string(),
    };
    let failed = r.failures().count();
    if r.verified {
        let n = r.files.len() as u64;
        writeln!(
            out,
            "{}  {}  {}",
            paint(SAFE, "VERIFIED"),
            escape(&r.path),
            paint(DIM, &what)
        )?;
        signer(out, r)?;
        writeln!(
            out,
            "{} {}",
            text::plural(n, "file"),
            if n == 1 { "matches" } else { "match" }
        )?;
        if r.kind == "hf-cache" {
            // a link swapped to another blob of the same cache passes: nothing local says which
            // blob each name should reach
            let note = "each blob is what its name says; which blob each file links to only the Hub \
                        records: --against hf://ORG/NAME checks that";
            writeln!(out, "{}", paint(DIM, note))?;
        }
    } else {
        writeln!(
            out,
            "{}  {}  {}",
            paint(DANGEROUS, "NOT VERIFIED"),
            escape(&r.path),
            paint(DIM, &what)
        )?;
        signer(out, r)?;
        if let Some(p) = &r.problem {
            writeln!(out, "  {}", escape(p))?;
        } else {
            writeln!(
                out,
                "{failed} of {} failed:",
                text::plural(r.files.len() as u64, "file")
            )?;
        }
    }
    let width = r
        .files
        .iter()
        .map(|f| escape(&f.name).chars().count())
        .max()
        .unwrap_or(0)
        .min(60);
    for f in &r.files {
        if f.status == Status::Ok && !verbose {
            continue;
        }
        let word = format!("{:<11}", f.status.word());
        let word = if f.status == Status::Ok {
            paint(SAFE, word)
        } else {
            paint(DANGEROUS, word)
        };
        let extra = if f.status == Status::Ok {
            f.digest.clone().unwrap_or_default()
        } else {
            f.why.clone()
        };
        writeln!(out, "  {word} {:<width$}  {}", escape(&f.name), escape(&extra))?;
    }
    if verbose && let Some(gbps) = r.gbps() {
        writeln!(
            out,
            "{}",
            paint(
                DIM,
                format!(
                    "hashed {} in {:.2} s: {gbps:.2} GB/s on {}",
                    text::bytes(r.bytes_hashed),
                    r.hash_seconds,
                    text::plural(r.threads as u64, "thread")
                )
            )
        )?;
    }
    Ok(())
}

/// Who signed, for the certificate method: the leaf, and the path to the root when one was found.
fn signer(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    if let Some(c) = r.signature.as_ref().and_then(|s| s.certificate.as_ref()) {
        writeln!(
            out,
            "  signing certificate {} (issuer {}, serial {}), valid {} to {}",
            escape(&c.subject),
            escape(&c.issuer),
            escape(&c.serial),
            c.not_before.get(..10).unwrap_or(&c.not_before),
            c.not_after.get(..10).unwrap_or(&c.not_after)
        )?;
        if !c.chain.is_empty() {
            let chain: Vec<_> = c.chain.iter().map(|s| escape(s).into_owned()).collect();
            writeln!(
                out,
                "  {}",
                paint(
                    DIM,
                    format!("chain {}, checked at {}", chain.join(" -> "), c.checked_at)
                )
            )?;
        }
    }
    Ok(())
}
