//! `tensorscope completions SHELL` and `tensorscope man`: generated from the clap definition.

use std::io::Write;

pub const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  tensorscope completions bash > ~/.local/share/bash-completion/completions/tensorscope
  tensorscope completions zsh > ~/.zfunc/_tensorscope
  tensorscope completions fish > ~/.config/fish/completions/tensorscope.fish";

pub const MAN_EXAMPLES: &str = "\
Examples:
  tensorscope man | man -l -
  tensorscope man > ~/.local/share/man/man1/tensorscope.1";

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to write the script for.
    pub shell: clap_complete::Shell,
}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<u8> {
    let mut cmd = super::command();
    // generated into memory: clap_complete panics when its writer fails (a closed pipe)
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "tensorscope", &mut script);
    let mut out = std::io::stdout().lock();
    super::quiet_pipe(out.write_all(&script).and_then(|()| out.flush()), 0)
}

pub fn man() -> anyhow::Result<u8> {
    let mut page = Vec::new();
    clap_mangen::Man::new(super::command()).render(&mut page)?;
    let mut out = std::io::stdout().lock();
    super::quiet_pipe(out.write_all(&page).and_then(|()| out.flush()), 0)
}
