//! The names real chat templates use: Jinja's built-in filters and tests, the few globals, and the
//! string, list and dict methods seen in templates of real models
//! (`tests/data/scan/templates/real/`). Anything outside these lists is a finding.

/// Jinja2 built-in filters (plus `tojson`, which every chat renderer provides). `attr` is here
/// but checked like an attribute access.
pub(crate) const FILTERS: &[&str] = &[
    "abs",
    "attr",
    "batch",
    "capitalize",
    "center",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "filesizeformat",
    "first",
    "float",
    "forceescape",
    "format",
    "groupby",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "pprint",
    "random",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "safe",
    "select",
    "selectattr",
    "slice",
    "sort",
    "string",
    "striptags",
    "sum",
    "title",
    "tojson",
    "trim",
    "truncate",
    "unique",
    "upper",
    "urlencode",
    "urlize",
    "wordcount",
    "wordwrap",
    "xmlattr",
];

/// Jinja2 built-in tests.
pub(crate) const TESTS: &[&str] = &[
    "boolean",
    "callable",
    "defined",
    "divisibleby",
    "eq",
    "equalto",
    "escaped",
    "even",
    "false",
    "filter",
    "float",
    "ge",
    "greaterthan",
    "gt",
    "in",
    "integer",
    "iterable",
    "le",
    "lessthan",
    "lower",
    "lt",
    "mapping",
    "ne",
    "none",
    "number",
    "odd",
    "sameas",
    "sequence",
    "string",
    "test",
    "true",
    "undefined",
    "upper",
];

/// Methods of strings, lists and dicts that chat templates call. `format` and `format_map` are
/// here but checked: their fields read attributes.
pub(crate) const METHODS: &[&str] = &[
    "append",
    "capitalize",
    "count",
    "endswith",
    "extend",
    "find",
    "format",
    "get",
    "index",
    "insert",
    "isalnum",
    "isalpha",
    "isdigit",
    "islower",
    "isnumeric",
    "isspace",
    "isupper",
    "items",
    "join",
    "keys",
    "lower",
    "lstrip",
    "pop",
    "removeprefix",
    "removesuffix",
    "replace",
    "rfind",
    "rsplit",
    "rstrip",
    "split",
    "splitlines",
    "startswith",
    "strip",
    "title",
    "update",
    "upper",
    "values",
    "cycle",
    "changed",
    "call",
    "next",
    "reset",
    "current",
];

/// Jinja globals that are objects with attributes leading to Python internals: used as values
/// (aliased, indexed, filtered) rather than called, they are gadgets.
pub(crate) const GADGETS: &[&str] = &["cycler", "joiner", "namespace", "lipsum", "range", "dict"];

/// Jinja globals a chat template has no use for: calling one is suspicious.
pub(crate) const UNUSED_GLOBALS: &[&str] = &["cycler", "joiner", "lipsum"];

/// Attribute names without a leading underscore that lead to Python internals (frames, code,
/// generators, method resolution, the template environment).
pub(crate) const INTERNALS: &[&str] = &[
    "mro",
    "func_globals",
    "func_code",
    "func_closure",
    "im_func",
    "im_self",
    "im_class",
    "gi_frame",
    "gi_code",
    "cr_frame",
    "cr_code",
    "ag_frame",
    "ag_code",
    "f_globals",
    "f_builtins",
    "f_locals",
    "f_back",
    "f_code",
    "tb_frame",
    "tb_next",
    "co_code",
    "co_consts",
    "environment",
    "format_map",
    "globals",
    "builtins",
    "modules",
    "import_module",
];

/// Filters whose named arguments (`attribute=…`) or first argument name an attribute.
pub(crate) fn attribute_args(filter: &str) -> (bool, &'static [&'static str]) {
    match filter {
        // (first positional argument is an attribute name, keyword arguments that are)
        "selectattr" | "rejectattr" | "groupby" => (true, &["attribute"]),
        "map" | "sort" | "sum" | "unique" | "min" | "max" => (false, &["attribute"]),
        _ => (false, &[]),
    }
}

/// Whether an attribute or item name is one a template may read: no leading `_`, no Python
/// internal. Dotted paths (`map(attribute='a.b')`) are checked part by part.
pub(crate) fn bad_name(name: &str) -> Option<String> {
    for part in name.split('.') {
        if part.starts_with('_') {
            return Some(if part.starts_with("__") {
                format!("the Python attribute {part}")
            } else {
                format!("the private attribute {part}")
            });
        }
        if INTERNALS.contains(&part) {
            return Some(format!("the Python internal {part}"));
        }
    }
    None
}
