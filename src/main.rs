//! The `tensorscope` binary: parse arguments, call the core, print, set the exit code.

mod cli;
mod signal_pipe;
mod tui;

use std::process::ExitCode;

fn main() -> ExitCode {
    if std::env::var_os("NODEVICE_SELECT").is_none() {
        // Mesa's implicit Vulkan layer that picks a default GPU asks Wayland, which prints
        // "error: XDG_RUNTIME_DIR is invalid" on headless machines (servers, containers, CI) —
        // over the TUI's screen when its Bench tab looks for an adapter. wgpu picks the adapter
        // itself, so the layer is switched off for us and our children, before any GPU use.
        // SAFETY: first statement of main: no other thread exists yet.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
    }
    cli::main()
}
