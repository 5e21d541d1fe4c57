#!/usr/bin/env python3
"""Collect the real-template corpus: chat templates shipped by real models, copied verbatim.

Run once by hand, with local git mirrors of the source repositories (bare clones) under MIRRORS
(default /work/.mirror/<owner>+<name>/repo). The build and the tests never run this: they read the
.jinja files it writes and SOURCES, which names the repository, commit, path and model of each.

Sources:
- huggingface/huggingface.js packages/ollama-utils/src/chat-template-automap.ts: the `gguf` field of
  each entry is the tokenizer.chat_template of that Ollama library model's GGUF;
- huggingface/huggingface.js packages/jinja/test/e2e.test.js: templates of Hub models (the
  TEST_CUSTOM_TEMPLATES table, keyed by repo id);
- chujiezheng/chat_templates: chat_templates/*.jinja (templates of well-known instruct models);
- contrapuntal/chat-template-patches: templates/*/upstream/*.jinja (Gemma 4 and Qwen 3.5/3.6 as
  shipped);
- google/minja tests_files; EchoCog/gpt-oss-20b (a copy of openai/gpt-oss-20b's repo) and other
  copies of model repositories (chat_template.jinja, tokenizer_config.json);
- abetlen/llama-cpp-python llama_cpp/llama_chat_format.py: its built-in `*_TEMPLATE` constants.

Templates are deduplicated by content; the first source of each is named.
"""
import hashlib
import json
import os
import re
import subprocess
import sys

MIRRORS = os.environ.get("MIRRORS", "/work/.mirror")
OUT = os.path.dirname(os.path.abspath(__file__))


def git(repo, *args):
    d = os.path.join(MIRRORS, repo.replace("/", "+"), "repo")
    return subprocess.run(["git", "-C", d, *args], check=True, capture_output=True).stdout


def head(repo):
    return git(repo, "rev-parse", "HEAD").decode().strip()


def show(repo, path):
    return git(repo, "show", f"HEAD:{path}").decode("utf-8")


def ls(repo):
    return git(repo, "ls-tree", "-r", "--name-only", "HEAD").decode().splitlines()


def js_string(text, i):
    """The JS string literal starting at text[i] (", ' or `): (value, end)."""
    q = text[i]
    j = i + 1
    out = []
    esc = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "`": "`", "0": "\0", "$": "$"}
    while text[j] != q:
        c = text[j]
        if c == "\\":
            n = text[j + 1]
            if n == "u":
                if text[j + 2] == "{":
                    k = text.index("}", j)
                    out.append(chr(int(text[j + 3 : k], 16)))
                    j = k + 1
                else:
                    out.append(chr(int(text[j + 2 : j + 6], 16)))
                    j += 6
                continue
            if n == "x":
                out.append(chr(int(text[j + 2 : j + 4], 16)))
                j += 4
                continue
            if n == "\n":
                j += 2
                continue
            out.append(esc.get(n, n))
            j += 2
            continue
        if q == "`" and c == "$" and text[j + 1] == "{":
            raise ValueError("template literal with a substitution")
        out.append(c)
        j += 1
    return "".join(out), j + 1


def slug(s):
    return re.sub(r"[^A-Za-z0-9._-]+", "-", s).strip("-")[:80]


def main():
    found = []  # (name, text, repo, commit, path, model)

    repo = "huggingface/huggingface.js"
    c = head(repo)
    p = "packages/ollama-utils/src/chat-template-automap.ts"
    t = show(repo, p)
    for m in re.finditer(r'model: "([^"]+)",\s*gguf:\s*', t):
        val, _ = js_string(t, m.end())
        found.append((f"ollama-{slug(m.group(1).replace('library/', ''))}", val, repo, c, p, m.group(1)))
    p = "packages/jinja/test/e2e.test.js"
    t = show(repo, p)
    for m in re.finditer(r'\n\t"([^"]+)": \{\s*chat_template:\s*', t):
        try:
            val, _ = js_string(t, m.end())
        except ValueError:
            continue
        model = m.group(1).split(" (")[0]
        found.append((f"hub-{slug(model)}", val, repo, c, p, model))

    repo = "chujiezheng/chat_templates"
    c = head(repo)
    for p in ls(repo):
        if p.startswith("chat_templates/") and p.endswith(".jinja"):
            found.append((f"chujiezheng-{slug(os.path.basename(p)[:-6])}", show(repo, p), repo, c, p, os.path.basename(p)[:-6]))

    repo = "contrapuntal/chat-template-patches"
    c = head(repo)
    for p in ls(repo):
        if re.match(r"templates/[^/]+/upstream/.*\.jinja$", p):
            fam = p.split("/")[1]
            model = f"{fam}-{os.path.basename(p)[:-6]}"
            found.append((slug(model), show(repo, p), repo, c, p, model))

    repo = "google/minja"
    c = head(repo)
    for p in ls(repo):
        if p.startswith("tests_files/") and p.endswith(".jinja"):
            found.append((f"minja-{slug(os.path.basename(p)[:-6])}", show(repo, p), repo, c, p, os.path.basename(p)[:-6]))

    repo = "EchoCog/gpt-oss-20b"
    c = head(repo)
    for p in ls(repo):
        if p.endswith("chat_template.jinja"):
            found.append(("gpt-oss-20b", show(repo, p), repo, c, p, "openai/gpt-oss-20b"))

    # copies of model repositories: chat_template.jinja, and tokenizer_config.json's chat_template
    # (a string, or a list of {name, template})
    for repo, model in [
        ("pgadet-wq/granite-docling-258M", "ibm-granite/granite-docling-258M"),
        ("RkFeeder/LG-AI-Research", "LGAI-EXAONE (baseline and optimized copies)"),
        ("Evilcarbon/DeepSeek-R1-Distill-Qwen-32B", "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"),
        ("HwwwwwwwH/MiniCPM-V-2", "openbmb/MiniCPM-V-2"),
    ]:
        c = head(repo)
        for p in ls(repo):
            base = os.path.basename(p)
            stem = slug(repo.split("/")[1] + ("-" + os.path.dirname(p) if os.path.dirname(p) else ""))
            if base == "chat_template.jinja":
                found.append((stem, show(repo, p), repo, c, p, model))
            elif base == "tokenizer_config.json":
                ct = json.loads(show(repo, p)).get("chat_template")
                if isinstance(ct, str):
                    found.append((stem, ct, repo, c, p, model))
                elif isinstance(ct, list):
                    for e in ct:
                        found.append((f"{stem}-{slug(e['name'])}", e["template"], repo, c, p, f"{model} ({e['name']})"))

    # llama-cpp-python's built-in templates (module constants named *_TEMPLATE)
    repo = "abetlen/llama-cpp-python"
    c = head(repo)
    p = "llama_cpp/llama_chat_format.py"
    import ast
    for node in ast.parse(show(repo, p)).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for t in node.targets:
                if isinstance(t, ast.Name) and t.id.endswith("_TEMPLATE") and "{%" in node.value.value:
                    found.append((f"llama-cpp-python-{slug(t.id.lower())}", node.value.value, repo, c, p, t.id))

    seen = {}
    names = set()
    rows = []
    for name, text, repo, commit, path, model in found:
        h = hashlib.sha256(text.encode()).hexdigest()
        if h in seen or not text.strip():
            continue
        seen[h] = name
        base, k = name, 2
        while name in names:
            name = f"{base}-{k}"
            k += 1
        names.add(name)
        with open(os.path.join(OUT, name + ".jinja"), "w", encoding="utf-8", newline="") as f:
            f.write(text)
        rows.append(f"{name}.jinja\t{model}\t{repo}@{commit}\t{path}")
    with open(os.path.join(OUT, "SOURCES"), "w") as f:
        f.write("# file\tmodel\trepository@commit\tpath (written by collect.py; deduplicated by content)\n")
        f.write("\n".join(rows) + "\n")
    print(f"{len(rows)} distinct templates of {len(found)} found", file=sys.stderr)


if __name__ == "__main__":
    main()
