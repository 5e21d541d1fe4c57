//! Colour for the human output: verdicts (safe green, suspicious yellow, dangerous red), headers and
//! dimmed units. Styles are written into the text and [`stdout`] strips them when colour is off
//! (`--color never`, `NO_COLOR`, or stdout not a terminal), as cargo and ripgrep do. JSON never
//! carries any.

use anstyle::{AnsiColor, Style};

/// A verdict that is safe.
pub const SAFE: Style = AnsiColor::Green.on_default().bold();
/// A verdict that is suspicious, and warnings.
pub const SUSPICIOUS: Style = AnsiColor::Yellow.on_default().bold();
/// A verdict that is dangerous.
pub const DANGEROUS: Style = AnsiColor::Red.on_default().bold();
/// Section and column headers.
pub const HEADER: Style = Style::new().bold();
/// Units and secondary text.
pub const DIM: Style = Style::new().dimmed();

/// Apply `--color` to every stream of the process.
pub fn set_choice(c: clap::ColorChoice) {
    let choice = match c {
        clap::ColorChoice::Auto => anstream::ColorChoice::Auto,
        clap::ColorChoice::Always => anstream::ColorChoice::Always,
        clap::ColorChoice::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
}

/// `text` in `style` (the escape codes are stripped later when colour is off).
pub fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// Standard output that keeps colour only where it belongs.
pub fn stdout() -> anstream::AutoStream<std::io::StdoutLock<'static>> {
    anstream::AutoStream::auto(std::io::stdout().lock())
}

/// Standard error that keeps colour only where it belongs.
pub fn stderr() -> anstream::AutoStream<std::io::StderrLock<'static>> {
    anstream::AutoStream::auto(std::io::stderr().lock())
}

/// The style of a scan verdict.
pub fn verdict(v: tensorscope::scan::Verdict) -> Style {
    use tensorscope::scan::Verdict;
    match v {
        Verdict::Safe => SAFE,
        Verdict::Suspicious => SUSPICIOUS,
        Verdict::Dangerous | Verdict::Error => DANGEROUS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paint_wraps_in_escape_codes() {
        let s = paint(DANGEROUS, "DANGEROUS");
        assert!(s.starts_with("\x1b["), "{s:?}");
        assert!(s.ends_with("\x1b[0m"), "{s:?}");
        assert!(s.contains("DANGEROUS"));
    }
}
