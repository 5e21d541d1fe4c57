//! Globals known to run code, touch files, the network or processes, or load another pickle.
//!
//! This list only decides between *dangerous* and *suspicious*: anything not on the allowlist is
//! already not safe. It is at least as broad as picklescan's and modelscan's lists together (their
//! facts, our own table), and every entry says why it is here.
//!
//! A `*` entry covers the module, every name in it and every submodule (`os` covers `os.path.join`);
//! a named entry covers that name and attributes reached through it (`ShapeEnv.evaluate_guards_expression`).

/// One entry: module, name (`*` for the whole module), why it is dangerous.
type Entry = (&'static str, &'static str, &'static str);

const SHELL: &str = "runs shell commands or processes";
const FILES: &str = "reads or writes files";
const NET: &str = "opens network connections";
const CODE: &str = "runs arbitrary Python code";
const IMPORT: &str = "imports arbitrary modules";
const PICKLE: &str = "loads another pickle (a pickle inside a pickle)";
const NATIVE: &str = "loads native code or touches raw memory";
const ATTR: &str = "reaches any attribute of any object (a step to os.system)";
const CALL: &str = "calls a callable chosen by the pickle";
const DEBUG: &str = "starts a debugger or interactive shell";

/// Names in `builtins` (and Python 2's `__builtin__`) that run code, import or touch files.
const BUILTIN_NAMES: [(&str, &str); 22] = [
    ("eval", CODE),
    ("exec", CODE),
    ("execfile", CODE),
    ("compile", "compiles code objects for exec/eval"),
    ("getattr", ATTR),
    ("setattr", "overwrites attributes of any object"),
    ("delattr", "deletes attributes of any object"),
    ("open", FILES),
    ("file", FILES),
    ("__import__", IMPORT),
    ("reload", IMPORT),
    ("breakpoint", DEBUG),
    ("input", "reads from the terminal (and evaluates it on Python 2)"),
    ("raw_input", "reads from the terminal"),
    ("help", "starts the interactive help (pydoc, a pager process)"),
    ("globals", "exposes the interpreter's globals"),
    ("locals", "exposes the interpreter's locals"),
    ("vars", "exposes the attributes of any object"),
    ("apply", CALL),
    ("exit", "stops the interpreter"),
    ("quit", "stops the interpreter"),
    ("memoryview", NATIVE),
];

const TABLE: &[Entry] = &[
    // processes and the operating system
    ("os", "*", SHELL),
    (
        "posix",
        "*",
        "os on Linux and macOS: runs shell commands, touches files",
    ),
    ("nt", "*", "os on Windows: runs shell commands, touches files"),
    ("subprocess", "*", SHELL),
    ("_posixsubprocess", "*", SHELL),
    ("_winapi", "*", SHELL),
    ("pty", "*", "spawns processes on a terminal"),
    ("commands", "*", "Python 2 subprocess: runs shell commands"),
    ("popen2", "*", SHELL),
    ("platform", "popen", SHELL),
    ("sys", "*", "reaches the interpreter: modules, hooks, exit"),
    ("signal", "*", "installs signal handlers, kills processes"),
    ("resource", "*", "changes process limits"),
    ("fcntl", "*", "controls file descriptors"),
    ("msvcrt", "*", "Windows console and file descriptor control"),
    ("winreg", "*", "reads and writes the Windows registry"),
    ("_winreg", "*", "reads and writes the Windows registry"),
    ("multiprocessing", "*", SHELL),
    ("concurrent", "*", "runs callables in threads or processes"),
    ("threading", "*", "runs callables in threads"),
    ("_thread", "*", "runs callables in threads"),
    ("thread", "*", "runs callables in threads"),
    ("asyncio", "*", "runs processes, sockets and callbacks"),
    ("uuid", "*", "uuid._get_command_stdout runs commands"),
    ("_osx_support", "*", SHELL),
    ("_aix_support", "*", SHELL),
    ("_pyrepl", "*", "pagers run shell commands"),
    ("ensurepip", "*", "runs pip"),
    ("pip", "*", "installs packages (runs their code)"),
    ("venv", "*", "creates environments, runs pip"),
    ("setuptools", "*", "builds and installs packages (runs their code)"),
    ("distutils", "*", "builds packages, spawns compilers, writes files"),
    ("webbrowser", "*", "opens URLs by starting a browser process"),
    ("ctypes", "*", NATIVE),
    ("_ctypes", "*", NATIVE),
    ("mmap", "*", NATIVE),
    ("cffi", "*", NATIVE),
    // running code
    ("runpy", "*", CODE),
    ("code", "*", CODE),
    ("codeop", "*", "compiles code for exec"),
    ("pdb", "*", DEBUG),
    ("bdb", "*", DEBUG),
    ("trace", "*", CODE),
    ("timeit", "*", "timeit runs code strings with exec"),
    ("cProfile", "*", "cProfile.run runs code strings with exec"),
    ("profile", "*", "profile.run runs code strings with exec"),
    ("pydoc", "*", "pydoc.locate imports anything; pagers run shell commands"),
    ("doctest", "*", "runs code found in docstrings"),
    ("idlelib", "*", "IDLE runs code and shells"),
    ("lib2to3", "*", "grammar loading unpickles files"),
    ("test", "*", "test.support runs Python subprocesses"),
    ("inspect", "*", "reaches frames, globals and source of any object"),
    ("gc", "*", "reaches every live object"),
    ("atexit", "*", "registers callables to run at exit"),
    ("types", "CodeType", "builds code objects from bytes"),
    ("types", "FunctionType", "builds functions from code objects"),
    ("types", "LambdaType", "builds functions from code objects"),
    ("types", "MethodType", "binds callables to objects"),
    ("types", "ModuleType", "creates modules"),
    ("operator", "attrgetter", ATTR),
    (
        "operator",
        "itemgetter",
        "reaches items of any object (a step to os.system)",
    ),
    ("operator", "methodcaller", "calls a method chosen by the pickle"),
    ("_operator", "attrgetter", ATTR),
    (
        "_operator",
        "itemgetter",
        "reaches items of any object (a step to os.system)",
    ),
    ("_operator", "methodcaller", "calls a method chosen by the pickle"),
    (
        "functools",
        "partial",
        "binds arguments to any callable (partial(os.system, cmd))",
    ),
    ("functools", "reduce", CALL),
    ("operator", "call", CALL),
    ("_operator", "call", CALL),
    ("typing", "_eval_type", "evaluates a string annotation with eval"),
    ("typing", "get_type_hints", "evaluates string annotations with eval"),
    ("typing", "ForwardRef", "forward references are evaluated with eval"),
    ("mailcap", "*", "mailcap.findmatch builds shell commands"),
    ("nturl2path", "*", FILES),
    ("functools", "partialmethod", CALL),
    ("functools", "cached_property", CALL),
    ("_functools", "*", CALL),
    ("copyreg", "_reconstructor", "calls a constructor chosen by the pickle"),
    ("copy_reg", "_reconstructor", "calls a constructor chosen by the pickle"),
    ("pkgutil", "*", "pkgutil.resolve_name imports any module:attribute"),
    ("importlib", "*", IMPORT),
    ("torch._utils", "_import_dotted_name", IMPORT),
    ("imp", "*", IMPORT),
    ("zipimport", "*", IMPORT),
    ("builtins", "__dict__", "exposes every builtin"),
    ("__builtins__", "*", "the builtins: eval, exec, open, __import__"),
    // pickles inside pickles and other object loaders
    ("pickle", "*", PICKLE),
    ("_pickle", "*", PICKLE),
    ("cPickle", "*", PICKLE),
    ("pickletools", "*", PICKLE),
    ("marshal", "*", "loads code objects from bytes"),
    // subinterpreters run code strings
    ("_xxsubinterpreters", "*", CODE),
    ("_interpreters", "*", CODE),
    ("_xxinterpchannels", "*", CODE),
    ("_interpqueues", "*", CODE),
    ("interpreters", "*", CODE),
    ("concurrent.interpreters", "*", CODE),
    // sympy (installed with torch) evaluates strings as Python
    ("sympy", "sympify", CODE),
    ("sympy", "parse_expr", CODE),
    ("sympy", "lambdify", CODE),
    ("sympy.core.sympify", "*", CODE),
    ("sympy.parsing", "*", CODE),
    ("sympy.utilities.lambdify", "*", CODE),
    ("shelve", "*", PICKLE),
    ("dill", "*", "loads pickled code and functions"),
    (
        "cloudpickle",
        "*",
        "rebuilds functions from code objects; subimport imports anything",
    ),
    ("joblib", "*", PICKLE),
    ("copyreg", "*", "registers pickle reducers"),
    ("torch.serialization", "load", PICKLE),
    ("torch.serialization", "_load", PICKLE),
    ("torch.serialization", "_legacy_load", PICKLE),
    ("torch", "load", PICKLE),
    ("torch.storage", "_load_from_bytes", PICKLE),
    ("torch.hub", "*", "downloads and runs repositories (hubconf.py)"),
    ("torch", "save", FILES),
    ("torch.serialization", "save", FILES),
    ("torch.jit", "*", "compiles and runs TorchScript, loads archives"),
    ("torch._jit_internal", "*", "compiles and runs TorchScript"),
    (
        "torch._inductor",
        "*",
        "compiles code and runs compilers (codecache.compile_file)",
    ),
    ("torch._dynamo", "*", "evaluates guard code"),
    ("torch.fx", "*", "generates and runs Python code"),
    ("torch.package", "*", PICKLE),
    ("torch.utils.cpp_extension", "*", "compiles and loads native extensions"),
    ("torch.utils._config_module", "*", PICKLE),
    ("torch.utils.collect_env", "*", SHELL),
    ("torch.utils.bottleneck", "*", "profiles (runs) scripts"),
    ("torch.utils.data.datapipes", "*", "decoders unpickle data"),
    ("torch.utils.model_zoo", "*", "downloads and loads checkpoints"),
    ("torch.ops", "load_library", NATIVE),
    ("torch.classes", "load_library", NATIVE),
    ("torch._ops", "*", "calls registered operators, loads libraries"),
    ("torch._C", "*", "calls into the native runtime directly"),
    ("numpy", "load", PICKLE),
    ("numpy", "loads", PICKLE),
    ("numpy", "fromfile", FILES),
    ("numpy", "tofile", FILES),
    ("numpy", "save", FILES),
    ("numpy", "savez", FILES),
    ("numpy", "loadtxt", FILES),
    ("numpy", "genfromtxt", FILES),
    ("numpy", "memmap", FILES),
    ("numpy", "savetxt", FILES),
    ("numpy", "savez_compressed", FILES),
    ("numpy", "fromregex", FILES),
    ("numpy.lib.npyio", "*", "numpy.load unpickles files"),
    ("numpy.lib.format", "*", "reads arrays (and their pickles) from files"),
    // numpy 2 keeps the code of those two here, under their own names
    ("numpy.lib._npyio_impl", "*", "numpy.load unpickles files"),
    (
        "numpy.lib._format_impl",
        "*",
        "reads arrays (and their pickles) from files",
    ),
    ("numpy.lib._datasource", "*", "opens files and URLs"),
    ("numpy.f2py", "*", "evaluates strings and runs compilers"),
    ("numpy.distutils", "*", "runs compilers"),
    ("numpy.testing", "*", "numpy.testing._private.utils.runstring is exec"),
    ("numpy.ctypeslib", "*", NATIVE),
    ("pandas", "read_pickle", PICKLE),
    ("pandas.io.pickle", "*", PICKLE),
    ("pandas", "eval", CODE),
    ("sklearn.utils._joblib", "*", PICKLE),
    // files
    ("shutil", "*", "copies, moves and deletes files; runs archivers"),
    ("tempfile", "*", FILES),
    ("glob", "*", "lists the file system"),
    ("io", "open", FILES),
    ("io", "FileIO", FILES),
    ("io", "open_code", FILES),
    ("_io", "*", FILES),
    ("codecs", "open", FILES),
    ("fileinput", "*", FILES),
    ("linecache", "*", FILES),
    // a path class itself is only suspicious (see `why`); its methods reached by a dotted name
    // (`Path.write_text`) touch files
    ("pathlib", "*", "reads, writes and deletes files (Path methods)"),
    ("zipfile", "*", FILES),
    ("tarfile", "*", FILES),
    ("gzip", "open", FILES),
    ("bz2", "open", FILES),
    ("lzma", "open", FILES),
    ("dbm", "*", FILES),
    ("sqlite3", "*", "opens databases (files) and runs SQL"),
    ("logging", "FileHandler", "creates files"),
    ("logging.handlers", "*", "writes files, sockets, syslog, mail"),
    (
        "logging.config",
        "*",
        "listen() runs a config server; configs import anything",
    ),
    // network
    ("socket", "*", NET),
    ("_socket", "*", NET),
    ("ssl", "*", NET),
    ("select", "*", NET),
    ("selectors", "*", NET),
    ("socketserver", "*", NET),
    ("urllib", "*", NET),
    ("urllib2", "*", NET),
    ("urllib3", "*", NET),
    ("http", "*", NET),
    ("httplib", "*", NET),
    ("httpx", "*", NET),
    ("requests", "*", NET),
    ("aiohttp", "*", NET),
    ("ftplib", "*", NET),
    ("smtplib", "*", NET),
    ("poplib", "*", NET),
    ("imaplib", "*", "opens network connections; IMAP4_stream runs commands"),
    ("nntplib", "*", NET),
    ("telnetlib", "*", NET),
    ("xmlrpc", "*", NET),
    ("xmlrpclib", "*", NET),
    ("paramiko", "*", NET),
    ("huggingface_hub", "*", "downloads files"),
];

/// Why `module.name` is dangerous, looking at that exact pair only (no dotted-name search).
fn lookup_exact(module: &str, name: &str) -> Option<&'static str> {
    let first = name.split('.').next().unwrap_or(name);
    if matches!(module, "builtins" | "__builtin__")
        && let Some((_, why)) = BUILTIN_NAMES.iter().find(|(n, _)| *n == first)
    {
        return Some(why);
    }
    for &(m, n, why) in TABLE {
        let module_hit = if n == "*" { under(module, m) } else { module == m };
        if module_hit
            && (n == "*" || n == name || n == first || name.starts_with(n) && name[n.len()..].starts_with('.'))
        {
            return Some(why);
        }
    }
    None
}

/// `module` is `parent` or a submodule of it.
fn under(module: &str, parent: &str) -> bool {
    module == parent
        || module.len() > parent.len() && module.starts_with(parent) && module[parent.len()..].starts_with('.')
}

/// Why the global `module` + `name` is dangerous, or `None` when it is on no list (then it is
/// suspicious unless allowlisted).
///
/// Dotted names are searched part by part, because protocol 4 resolves `name` attribute by
/// attribute: `pathlib` + `os.system` reaches `os.system`, so any dotted suffix that names a
/// dangerous global makes the whole name dangerous.
///
/// ```
/// use tensorscope::formats::pickle::dangerous::why;
/// assert!(why("posix", "system").is_some());
/// assert!(why("pathlib", "os.system").is_some());
/// assert!(why("builtins", "getattr").is_some());
/// assert!(why("collections", "OrderedDict").is_none());
/// ```
pub fn why(module: &str, name: &str) -> Option<&'static str> {
    if module == "pathlib" && PATH_CLASSES.contains(&name) {
        return None;
    }
    if let Some(w) = lookup_exact(module, name) {
        return Some(w);
    }
    // Python 3 unpicklers rename Python 2 modules (fix_imports): look at what is really imported
    if let Some(&(_, to)) = PY2_MODULES.iter().find(|(from, _)| *from == module)
        && let Some(w) = why_dotted(to, name)
    {
        return Some(w);
    }
    if let Some(&(_, _, m, n)) = PY2_NAMES.iter().find(|(m, n, _, _)| *m == module && *n == name)
        && let Some(w) = lookup_exact(m, n)
    {
        return Some(w);
    }
    why_dotted(module, name)
}

/// `pathlib` classes: building a path touches nothing (their methods do, and stay dangerous).
const PATH_CLASSES: [&str; 6] = [
    "Path",
    "PosixPath",
    "WindowsPath",
    "PurePath",
    "PurePosixPath",
    "PureWindowsPath",
];

/// Python 2 module names that Python 3's unpickler maps to others: all of CPython's
/// `_compat_pickle.IMPORT_MAPPING` (3.11 to 3.14), applied to the module of a global when the pickle's
/// protocol is below 3.
const PY2_MODULES: [(&str, &str); 55] = [
    ("BaseHTTPServer", "http.server"),
    ("CGIHTTPServer", "http.server"),
    ("ConfigParser", "configparser"),
    ("Cookie", "http.cookies"),
    ("Dialog", "tkinter.dialog"),
    ("DocXMLRPCServer", "xmlrpc.server"),
    ("FileDialog", "tkinter.filedialog"),
    ("HTMLParser", "html.parser"),
    ("Queue", "queue"),
    ("ScrolledText", "tkinter.scrolledtext"),
    ("SimpleDialog", "tkinter.simpledialog"),
    ("SimpleHTTPServer", "http.server"),
    ("SimpleXMLRPCServer", "xmlrpc.server"),
    ("SocketServer", "socketserver"),
    ("StringIO", "io"),
    ("Tix", "tkinter.tix"),
    ("Tkconstants", "tkinter.constants"),
    ("Tkdnd", "tkinter.dnd"),
    ("Tkinter", "tkinter"),
    ("UserDict", "collections"),
    ("UserList", "collections"),
    ("UserString", "collections"),
    ("__builtin__", "builtins"),
    ("_abcoll", "collections.abc"),
    ("_elementtree", "xml.etree.ElementTree"),
    ("_winreg", "winreg"),
    ("anydbm", "dbm"),
    ("cPickle", "pickle"),
    ("cStringIO", "io"),
    ("commands", "subprocess"),
    ("cookielib", "http.cookiejar"),
    ("copy_reg", "copyreg"),
    ("dbhash", "dbm.bsd"),
    ("dbm", "dbm.ndbm"),
    ("dumbdbm", "dbm.dumb"),
    ("dummy_thread", "_dummy_thread"),
    ("gdbm", "dbm.gnu"),
    ("htmlentitydefs", "html.entities"),
    ("httplib", "http.client"),
    ("markupbase", "_markupbase"),
    ("repr", "reprlib"),
    ("robotparser", "urllib.robotparser"),
    ("test.test_support", "test.support"),
    ("thread", "_thread"),
    ("tkColorChooser", "tkinter.colorchooser"),
    ("tkCommonDialog", "tkinter.commondialog"),
    ("tkFileDialog", "tkinter.filedialog"),
    ("tkFont", "tkinter.font"),
    ("tkMessageBox", "tkinter.messagebox"),
    ("tkSimpleDialog", "tkinter.simpledialog"),
    ("ttk", "tkinter.ttk"),
    ("urllib2", "urllib.request"),
    ("urlparse", "urllib.parse"),
    ("whichdb", "dbm"),
    ("xmlrpclib", "xmlrpc.client"),
];

/// Python 2 names mapped to other modules (`_compat_pickle.NAME_MAPPING`).
const PY2_NAMES: [(&str, &str, &str, &str); 4] = [
    ("__builtin__", "reduce", "functools", "reduce"),
    ("__builtin__", "intern", "sys", "intern"),
    (
        "_multiprocessing",
        "Connection",
        "multiprocessing.connection",
        "Connection",
    ),
    ("_socket", "fromfd", "socket", "fromfd"),
];

/// Why a protocol-4 attribute path through a dunder is dangerous.
const THROUGH_DUNDER: &str = "an attribute path through a dunder (a built-in function's __self__ is its module: \
     builtins.len.__self__.exec is exec): it reaches any function";

/// Modules' aliases of other modules under another name (`import builtins as bltns` in `enum`),
/// which an attribute path reaches them through. Private `_name` aliases are found by their name.
const RENAMED: [(&str, &str); 1] = [("bltns", "builtins")];

/// What the dotted-name search needs to know of [`TABLE`]: the most parts of a module and of a name
/// in it, and every module's first part.
struct Shape {
    module_parts: usize,
    name_parts: usize,
    firsts: std::collections::HashSet<&'static str>,
}

fn shape() -> &'static Shape {
    static SHAPE: std::sync::OnceLock<Shape> = std::sync::OnceLock::new();
    SHAPE.get_or_init(|| {
        let parts = |s: &str| s.split('.').count();
        let mut firsts: std::collections::HashSet<&'static str> =
            TABLE.iter().map(|(m, _, _)| m.split('.').next().unwrap_or(m)).collect();
        firsts.extend(["builtins", "__builtin__"]);
        Shape {
            module_parts: TABLE.iter().map(|(m, _, _)| parts(m)).max().unwrap_or(1),
            name_parts: TABLE.iter().map(|(_, n, _)| parts(n)).max().unwrap_or(1),
            firsts,
        }
    })
}

/// The dotted-name search of [`why`]: every run of parts that starts a module of [`TABLE`] is looked
/// up with the parts after it as the name. A module has at most `module_parts` parts and a name is
/// matched on its first `name_parts` parts only, so the search is linear in the parts, however many
/// a name has (protocol 4 follows attribute paths of any length).
fn why_dotted(module: &str, name: &str) -> Option<&'static str> {
    if let Some(w) = lookup_exact(module, name) {
        return Some(w);
    }
    let shape = shape();
    let mut parts: Vec<&str> = module.split('.').chain(name.split('.')).collect();
    // an attribute path through a dunder (`len.__self__` is the builtins module, `f.__globals__`
    // a module's namespace) reaches what no table can list
    let inner = parts.len().saturating_sub(1);
    if parts[..inner]
        .iter()
        .skip(1)
        .any(|p| p.len() > 4 && p.starts_with("__") && p.ends_with("__"))
    {
        return Some(THROUGH_DUNDER);
    }
    for start in 0..parts.len() {
        if let Some(&(_, m)) = RENAMED
            .iter()
            .find(|(alias, _)| *alias == parts[start])
            .filter(|_| start > 0)
        {
            parts[start] = m;
        }
        if !shape.firsts.contains(parts[start]) {
            // a module's private alias of another (`random._os`, `tempfile._os`) reaches it
            let bare = parts[start].trim_start_matches('_');
            match shape.firsts.get(bare) {
                Some(&m) if start > 0 && bare.len() < parts[start].len() => parts[start] = m,
                _ => continue,
            }
        }
        for m_end in start + 1..=(start + shape.module_parts).min(parts.len()) {
            let n_end = (m_end + shape.name_parts).min(parts.len());
            if let Some(w) = lookup_exact(&parts[start..m_end].join("."), &parts[m_end..n_end].join(".")) {
                return Some(w);
            }
        }
    }
    None
}

#[cfg(test)]
#[path = "dangerous_tests.rs"]
mod tests;
