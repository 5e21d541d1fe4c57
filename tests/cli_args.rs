//! The command line itself: typo suggestions, bare paths, completions, the man page, `--help`
//! examples and error lines that name each cause once.

mod common;

use common::{assert_clean_error, run, sample};

#[test]
fn a_mistyped_command_suggests_the_closest_one() {
    let r = run(&["inpsect", "x"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unrecognized subcommand 'inpsect'"), "{}", r.stderr);
    assert!(r.stderr.contains("'inspect'"), "{}", r.stderr);
    let r = run(&["sacn", "model.bin"]);
    assert!(r.stderr.contains("'scan'"), "{}", r.stderr);
    assert_clean_error(&r, "a mistyped command");
}

/// review 38: clap wrote a block (the error, a tip, the usage, "For more information"); every error
/// is one line, as the README promises, with the tip and the usage kept in it.
#[test]
fn command_line_errors_are_one_line() {
    for args in [
        &["show"][..],
        &["convert", "a", "b", "--max-shard-size", "0"],
        &["inspect", "--lmit", "3", "x"],
        &["fit", "x", "--margin", "100"],
        &["inpsect", "x"],
    ] {
        let r = run(args);
        assert_clean_error(&r, &format!("{args:?}"));
        assert!(!r.stderr.contains("For more information"), "{args:?}: {}", r.stderr);
    }
    let r = run(&["show"]);
    assert!(
        r.stderr
            .contains("not provided: <PATH> <TENSOR>; usage: tensorscope show <PATH> <TENSOR>"),
        "{}",
        r.stderr
    );
    for ok in [&["--help"][..], &["--version"], &["show", "--help"]] {
        let r = run(ok);
        assert_eq!(r.code, 0, "{ok:?}: {}", r.stderr);
        assert!(!r.stdout.is_empty() && r.stderr.is_empty(), "{ok:?}");
    }
}

#[test]
fn a_bare_path_still_opens_it() {
    // stdout is a pipe here, so the bare path prints what `inspect` prints
    let r = run(&[&sample("gpt2-tiny.safetensors")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("wte.weight"));
}

#[test]
fn two_bare_paths_compare_them() {
    let r = run(&[&sample("gpt2-tiny.bin"), &sample("gpt2-tiny.safetensors")]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert!(r.stdout.contains("common tensors compared"), "{}", r.stdout);
}

#[test]
fn a_missing_file_names_its_os_error_once() {
    for args in [
        vec!["inspect", "/nope/x.safetensors"],
        vec!["scan", "/nope/x.safetensors"],
        vec!["/nope/x.safetensors"],
    ] {
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr.matches("os error 2").count(), 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.starts_with("error: /nope/x.safetensors"), "{}", r.stderr);
    }
}

#[test]
fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef tensorscope"),
        ("fish", "complete -c tensorscope"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion"),
    ] {
        let r = run(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(r.stdout.contains(marker), "{shell}");
        assert!(r.stdout.contains("inspect"), "{shell}");
    }
    let r = run(&["completions", "tcsh"]);
    assert_eq!(r.code, 2);
}

#[test]
fn man_page_is_roff_with_every_command() {
    let r = run(&["man"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(".TH tensorscope 1"),
        "{}",
        &r.stdout[..200.min(r.stdout.len())]
    );
    for c in ["inspect", "show", "scan", "convert", "diff", "bench", "completions"] {
        assert!(r.stdout.contains(c), "{c}");
    }
    assert!(!r.stdout.contains("__bench-child"));
}

#[test]
fn every_command_help_has_examples() {
    for c in [
        "inspect",
        "show",
        "scan",
        "convert",
        "diff",
        "bench",
        "completions",
        "man",
    ] {
        let r = run(&[c, "--help"]);
        assert_eq!(r.code, 0, "{c}");
        let ex = r
            .stdout
            .find("Examples:")
            .unwrap_or_else(|| panic!("{c}: no Examples:"));
        assert!(r.stdout[ex..].contains(&format!("tensorscope {c}")), "{c}");
    }
    let r = run(&["--help"]);
    assert!(r.stdout.contains("Examples:"));
    assert!(r.stdout.contains("--color <WHEN>"));
}

/// `bench --help` lists every method `--method` accepts, and each one it lists is accepted.
#[test]
fn bench_help_names_every_method() {
    use tensorscope::bench::Method;
    let help = run(&["bench", "--help"]).stdout;
    let start = help.find("--method <METHOD>").expect("--method in the help");
    let text: String = help[start..]
        .split("--report")
        .next()
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for m in Method::LOADS.into_iter().chain(Method::SLICES) {
        let name = m.as_str();
        let listed = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .any(|w| w == name);
        assert!(listed, "{name} is not in the help: {text}");
    }
    let words = text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'));
    for w in words.filter(|w| w.starts_with("safetensors-") || w.starts_with("pickle-") || w.starts_with("gguf-")) {
        assert!(Method::parse(w).is_some(), "the help lists {w}, which --method refuses");
    }
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let m = sample("malicious.bin");
    let r = run(&["scan", "--color", "always", &m]);
    assert!(r.stdout.contains("\x1b[1m\x1b[31mDANGEROUS\x1b[0m"), "{:?}", r.stdout);
    // a pipe: none
    let r = run(&["scan", &m]);
    assert!(!r.stdout.contains('\x1b'), "{:?}", r.stdout);
    let r = run(&["scan", "--color", "never", &m]);
    assert!(!r.stdout.contains('\x1b'));
    // JSON never carries any
    let r = run(&["scan", "--json", "--color", "always", &m]);
    assert!(!r.stdout.contains('\x1b'));
    // headers bold, units dimmed
    let r = run(&["inspect", "--color", "always", &sample("gpt2-tiny.safetensors")]);
    assert!(r.stdout.contains("\x1b[1mNAME"), "{:?}", &r.stdout[..200]);
    assert!(r.stdout.contains(" \x1b[2mkB\x1b[0m"), "{:?}", &r.stdout[..400]);
    let r = run(&["inspect", &sample("gpt2-tiny.safetensors")]);
    assert!(!r.stdout.contains('\x1b'));
    let r = run(&["inspect", "--color", "always", "/nope/x"]);
    assert!(r.stderr.starts_with("\x1b["), "{:?}", r.stderr);
}

/// Run under a pseudo-terminal with util-linux `script`, so "auto" sees a terminal.
fn on_a_tty(args: &str, no_color: bool) -> Option<String> {
    let script = std::path::Path::new("/usr/bin/script");
    if !script.exists() {
        common::skip("util-linux `script` is not installed, so no pseudo-terminal can be made");
        return None;
    }
    let mut c = std::process::Command::new(script);
    c.args([
        "-qec",
        &format!("{} {args}", env!("CARGO_BIN_EXE_tensorscope")),
        "/dev/null",
    ])
    .current_dir(env!("CARGO_MANIFEST_DIR"))
    .env_remove("NO_COLOR");
    if no_color {
        c.env("NO_COLOR", "1");
    }
    let out = c.output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn colour_on_a_terminal_unless_no_color() {
    let Some(tty) = on_a_tty("scan samples/malicious.bin", false) else {
        return;
    };
    assert!(tty.contains("\x1b[1m\x1b[31mDANGEROUS"), "{tty:?}");
    let plain = on_a_tty("scan samples/malicious.bin", true).unwrap();
    assert!(plain.contains("DANGEROUS") && !plain.contains('\x1b'), "{plain:?}");
}

/// Opening a file that holds no tensors but that the scanner calls dangerous says so: `tensorscope
/// evil.pkl` (and `inspect`, `show`) said only "not a torch.save file".
#[test]
fn a_dangerous_file_that_cannot_be_opened_names_the_verdict() {
    let m = sample("malicious.pkl");
    for args in [vec![m.as_str()], vec!["inspect", &m], vec!["show", &m, "x"]] {
        let r = run(&args);
        assert_clean_error(&r, &format!("{args:?}"));
        assert!(
            r.stderr.contains("the scanner calls it ") && r.stderr.contains("tensorscope scan"),
            "{args:?}: {}",
            r.stderr
        );
    }
    // a safe file's errors stay as they were
    let r = run(&["show", &sample("gpt2-tiny.safetensors"), "no.such.tensor"]);
    assert_eq!(r.code, 2);
    assert!(!r.stderr.contains("scanner"), "{}", r.stderr);
}
