use super::*;

#[test]
fn whole_modules_and_submodules() {
    for (m, n) in [
        ("os", "system"),
        ("os.path", "join"),
        ("posix", "system"),
        ("nt", "system"),
        ("subprocess", "Popen"),
        ("socket", "create_connection"),
        ("urllib.request", "urlopen"),
        ("torch.jit._script", "RecursiveScriptModule"),
        ("torch._inductor.codecache", "compile_file"),
        ("numpy.testing._private.utils", "runstring"),
        ("runpy", "_run_code"),
        ("webbrowser", "open"),
    ] {
        assert!(why(m, n).is_some(), "{m}.{n}");
    }
}

#[test]
fn named_entries() {
    for (m, n) in [
        ("builtins", "eval"),
        ("__builtin__", "exec"),
        ("builtins", "__import__"),
        ("operator", "attrgetter"),
        ("functools", "partial"),
        ("types", "CodeType"),
        ("torch.serialization", "load"),
        ("torch.storage", "_load_from_bytes"),
        ("numpy", "load"),
    ] {
        assert!(why(m, n).is_some(), "{m}.{n}");
    }
}

#[test]
fn dotted_names_reach_dangerous_parts() {
    assert!(why("pathlib", "os.system").is_some());
    assert!(why("collections", "os.system").is_some());
    assert!(why("torch", "serialization.load").is_some());
    assert!(why("builtins", "getattr.__call__").is_some());
    assert!(why("x", "y.subprocess").is_some());
    // private aliases of dangerous modules, reached as attributes
    assert!(why("random", "_os.system").is_some());
    // a built-in function's __self__ is its module; enum imports builtins as bltns
    assert!(why("builtins", "len.__self__.exec").is_some());
    assert!(why("posixpath", "_path_normpath.__self__.system").is_some());
    assert!(why("random", "_urandom.__self__.system").is_some());
    assert!(why("enum", "bltns.exec").is_some());
    assert!(why("collections", "OrderedDict.__new__").is_none());
    assert!(why("builtins", "len.__self__").is_none());
    assert!(why("tempfile", "_os.popen").is_some());
    assert!(why("torch._utils", "_rebuild_tensor_v2").is_none());
    assert!(why("numpy._core.multiarray", "_reconstruct").is_none());
}

/// Protocol 4 follows attribute paths of any length: a dangerous part past the 64th is still found,
/// and a name of a million parts is searched in linear time.
#[test]
fn long_dotted_names_are_searched_to_the_end() {
    let padded = format!("{}os.system", "os.path.".repeat(32));
    assert!(why("torch.serialization", &padded).is_some());
    let long = format!("{}system", "a.".repeat(1_000_000));
    assert!(why("collections", &long).is_none());
    let hidden = format!("{}posix.system", "a.".repeat(1_000_000));
    assert!(why("collections", &hidden).is_some());
}

/// Module and attribute names that the review of stop 36 found running code or writing files.
#[test]
fn gadgets_of_review_36() {
    for (m, n) in [
        ("sympy", "sympify"),
        ("sympy.parsing.sympy_parser", "parse_expr"),
        ("_xxsubinterpreters", "run_string"),
        ("numpy", "savetxt"),
        ("numpy", "savez_compressed"),
        ("numpy.lib._format_impl", "open_memmap"),
        ("numpy.lib._npyio_impl", "load"),
        ("torch", "save"),
    ] {
        assert!(why(m, n).is_some(), "{m}.{n}");
    }
}

#[test]
fn python2_names_are_mapped() {
    assert!(why("cStringIO", "open").is_some());
    assert!(why("__builtin__", "reduce").is_some());
    assert!(why("__builtin__", "intern").is_some());
    assert!(why("commands", "getoutput").is_some());
    assert!(why("__builtin__", "set").is_none());
    // every module of CPython's IMPORT_MAPPING that leads to files, processes or the network
    for (m, n) in [
        ("anydbm", "open"),
        ("whichdb", "whichdb"),
        ("dumbdbm", "open"),
        ("gdbm", "open"),
        ("dbhash", "open"),
        ("DocXMLRPCServer", "DocXMLRPCServer"),
        ("robotparser", "RobotFileParser"),
        ("urlparse", "urljoin"),
        ("cookielib", "CookieJar"),
        ("Cookie", "SimpleCookie"),
        ("_socket", "fromfd"),
    ] {
        assert!(why(m, n).is_some(), "{m}.{n}");
    }
}

/// Every entry of picklescan's (1.0.5) and modelscan's lists, as facts: each must be dangerous
/// here too (`*` is tried with a made-up name).
#[test]
fn covers_picklescan_and_modelscan() {
    let theirs: &[(&str, &str)] = &[
        ("__builtin__", "__import__"),
        ("__builtin__", "apply"),
        ("__builtin__", "breakpoint"),
        ("__builtin__", "compile"),
        ("__builtin__", "eval"),
        ("__builtin__", "exec"),
        ("__builtin__", "getattr"),
        ("__builtin__", "open"),
        ("_aix_support", "*"),
        ("_io", "FileIO"),
        ("_operator", "attrgetter"),
        ("_operator", "itemgetter"),
        ("_operator", "methodcaller"),
        ("_osx_support", "*"),
        ("_pickle", "*"),
        ("_pyrepl", "*"),
        ("aiohttp", "*"),
        ("aiohttp.client", "*"),
        ("asyncio", "*"),
        ("bdb", "*"),
        ("builtins", "__import__"),
        ("builtins", "apply"),
        ("builtins", "breakpoint"),
        ("builtins", "compile"),
        ("builtins", "eval"),
        ("builtins", "exec"),
        ("builtins", "getattr"),
        ("builtins", "open"),
        ("cProfile", "*"),
        ("cloudpickle.cloudpickle", "_builtin_type"),
        ("cloudpickle.cloudpickle", "_function_setstate"),
        ("cloudpickle.cloudpickle", "_make_cell"),
        ("cloudpickle.cloudpickle", "_make_empty_cell"),
        ("cloudpickle.cloudpickle", "_make_function"),
        ("cloudpickle.cloudpickle", "subimport"),
        ("code", "InteractiveInterpreter.runcode"),
        ("commands", "*"),
        ("ctypes", "*"),
        ("distutils.file_util", "*"),
        ("doctest", "debug_script"),
        ("ensurepip", "_run_pip"),
        ("functools", "partial"),
        ("httplib", "*"),
        ("idlelib.autocomplete", "AutoComplete.fetch_completions"),
        ("idlelib.autocomplete", "AutoComplete.get_entity"),
        ("idlelib.calltip", "Calltip.fetch_tip"),
        ("idlelib.calltip", "get_entity"),
        ("idlelib.debugobj", "ObjectTreeItem.SetText"),
        ("idlelib.pyshell", "ModifiedInterpreter.runcode"),
        ("idlelib.pyshell", "ModifiedInterpreter.runcommand"),
        ("idlelib.run", "Executive.runcode"),
        ("imaplib", "IMAP4_stream"),
        ("lib2to3.pgen2.grammar", "Grammar.loads"),
        ("lib2to3.pgen2.pgen", "ParserGenerator.make_label"),
        ("logging", "FileHandler"),
        ("nt", "*"),
        ("numpy.f2py", "*"),
        ("numpy.testing._private.utils", "*"),
        ("operator", "attrgetter"),
        ("operator", "itemgetter"),
        ("operator", "methodcaller"),
        ("os", "*"),
        ("pdb", "*"),
        ("pickle", "*"),
        ("pip", "*"),
        ("pkgutil", "resolve_name"),
        ("posix", "*"),
        ("profile", "*"),
        ("pty", "*"),
        ("pydoc", "*"),
        ("requests.api", "*"),
        ("runpy", "*"),
        ("shutil", "*"),
        ("socket", "*"),
        ("ssl", "*"),
        ("subprocess", "*"),
        ("sys", "*"),
        ("test", "*"),
        ("timeit", "*"),
        ("torch._dynamo.guards", "GuardBuilder.get"),
        ("torch._inductor.codecache", "compile_file"),
        (
            "torch.fx.experimental.symbolic_shapes",
            "ShapeEnv.evaluate_guards_expression",
        ),
        ("torch.jit.unsupported_tensor_ops", "execWrapper"),
        ("torch.serialization", "load"),
        ("torch.utils._config_module", "ConfigModule.load_config"),
        ("torch.utils.bottleneck.__main__", "run_autograd_prof"),
        ("torch.utils.bottleneck.__main__", "run_cprofile"),
        ("torch.utils.collect_env", "run"),
        ("torch.utils.data.datapipes.utils.decoder", "basichandlers"),
        ("trace", "Trace.run"),
        ("trace", "Trace.runctx"),
        ("types", "CodeType"),
        ("urllib.request", "*"),
        ("uuid", "*"),
        ("venv", "*"),
        ("webbrowser", "*"),
    ];
    let missing: Vec<_> = theirs
        .iter()
        .filter(|(m, n)| why(m, if *n == "*" { "anything" } else { n }).is_none())
        .collect();
    assert!(missing.is_empty(), "{missing:?}");
}

#[test]
fn ordinary_names_are_not_on_the_list() {
    for (m, n) in [
        ("collections", "OrderedDict"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch", "FloatStorage"),
        ("builtins", "set"),
        ("numpy", "dtype"),
        ("operator", "add"),
        ("ossify", "system"),
        ("torch.nn.modules.linear", "Linear"),
        ("mymodule", "eval"),
    ] {
        assert!(why(m, n).is_none(), "{m}.{n}");
    }
}
