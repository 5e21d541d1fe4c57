//! `tensorscope inspect`.
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// File or folder.
    pub path: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    pub fn for_path(path: PathBuf) -> Self {
        Args { path, json: false }
    }
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let _ck = tensorscope::checkpoint::open(&args.path)?;
    Ok(0)
}
