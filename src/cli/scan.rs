//! `tensorscope scan` (not built yet).

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

pub fn run(_args: Args) -> anyhow::Result<u8> {
    anyhow::bail!("`scan` is not implemented yet")
}
