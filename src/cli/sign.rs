//! `tensorscope sign PATH --private-key PEM [--certificate PEM [--certificate-chain PEM]...]
//! [--signature F] [--shard-size SIZE]`: write an OpenSSF Model Signing v1.0 bundle (key or certificate
//! method) that `model_signing verify key|certificate` and `tensorscope verify` accept.

use std::io::Write;
use std::path::PathBuf;

use tensorscope::text::{self, escape};
use tensorscope::verify::{Method, cert::TrustStore, keys::PrivateKey, sign};

pub const EXAMPLES: &str = "\
Examples:
  openssl ecparam -name prime256v1 -genkey -noout -out signer.key
  openssl ec -in signer.key -pubout -out signer.pub
  tensorscope sign ./model --private-key signer.key            writes model/model.sig
  tensorscope sign ./model --private-key signer.key --shard-size 1GB
  tensorscope verify ./model --public-key signer.pub
  tensorscope sign ./model --private-key signer.key --certificate signer.pem --certificate-chain int.pem
  tensorscope verify ./model --certificate-chain root.pem";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model file or folder to sign.
    pub path: PathBuf,
    /// The signer's ECDSA private key (PEM, PKCS#8 or SEC1, unencrypted; P-256, P-384 or P-521).
    #[arg(long, value_name = "PEM")]
    pub private_key: PathBuf,
    /// Sign with the certificate method: the signing certificate (PEM; its key is --private-key's),
    /// written into the bundle.
    #[arg(long, value_name = "PEM")]
    pub certificate: Option<PathBuf>,
    /// With --certificate: intermediate certificates to put in the bundle after it (repeatable; the
    /// root is usually left out, verifiers bring their own).
    #[arg(long, value_name = "PEM", requires = "certificate")]
    pub certificate_chain: Vec<PathBuf>,
    /// Where to write the bundle [default: model.sig inside a folder PATH, else beside PATH].
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,
    /// Sign shards of this size (the `shards` serialization) instead of whole files.
    #[arg(long, value_name = "SIZE", value_parser = parse_shard_size)]
    pub shard_size: Option<u64>,
    /// Leave out a path relative to the model (repeatable), besides .git, .gitattributes, .github,
    /// .gitignore and the signature itself.
    #[arg(long, value_name = "PATH")]
    pub ignore_paths: Vec<PathBuf>,
    /// Print what was signed as JSON.
    #[arg(long)]
    pub json: bool,
    /// Hashing threads [default: one per core].
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub threads: usize,
}

fn parse_shard_size(s: &str) -> Result<u64, String> {
    text::parse_size(s)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{s:?} is not a size such as 1GB or 500MiB"))
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let pem = std::fs::read_to_string(&args.private_key).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the private key {}: {e}",
            escape(&args.private_key.to_string_lossy())
        )
    })?;
    let key = PrivateKey::from_pem(&pem).map_err(|e| anyhow::anyhow!("{}: {e}", text::path(&args.private_key)))?;
    let signature = match args.signature {
        Some(s) => s,
        None if args.path.is_dir() => args.path.join("model.sig"),
        None => super::verify::default_signature(&args.path),
    };
    let mut certificates = Vec::new();
    if let Some(leaf) = &args.certificate {
        let leaf = TrustStore::from_files(std::slice::from_ref(leaf))?;
        let [first] = leaf.certificates() else {
            anyhow::bail!(
                "{}: holds {} certificates; --certificate takes the signing certificate alone \
                 (put the others in --certificate-chain)",
                text::path(args.certificate.as_deref().unwrap_or(std::path::Path::new(""))),
                leaf.len()
            );
        };
        certificates.push(first.clone());
        if !args.certificate_chain.is_empty() {
            certificates.extend_from_slice(TrustStore::from_files(&args.certificate_chain)?.certificates());
        }
    }
    let opts = sign::Options {
        signature,
        key,
        certificates,
        method: args
            .shard_size
            .map_or(Method::Files, |shard_size| Method::Shards { shard_size }),
        ignore_paths: args.ignore_paths,
        threads: args.threads,
    };
    let signed = sign::sign(&args.path, &opts)?;
    let mut out = super::style::stdout();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &signed)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "signed {} ({}) of {} into {} (root sha256 {})",
            text::plural(
                signed.resources as u64,
                if args.shard_size.is_some() { "shard" } else { "file" }
            ),
            text::bytes(signed.bytes),
            escape(&args.path.to_string_lossy()),
            escape(&signed.signature),
            signed.root_sha256
        )?;
    }
    out.flush()?;
    Ok(0)
}
