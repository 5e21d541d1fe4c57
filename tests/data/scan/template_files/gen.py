#!/usr/bin/env python3
"""Write model folders whose chat templates sit in their own files, the way transformers loads them:
`chat_template.jinja`, `additional_chat_templates/NAME.jinja`, the `chat_template` of
`tokenizer_config.json` (a string, or a list of {name, template}) and a processor's
`chat_template.json`.

The templates are taken from the template corpus beside this folder (../templates): the malicious
ones from ../templates/malicious (each confirmed there against jinja2), the benign ones from the
real-template corpus. Each malicious file written here is confirmed again, from the file itself, by
reading the template the way transformers reads it and rendering it with jinja2's plain
Environment (no sandbox): it must print the shell command's output. Each benign one is rendered in
jinja2's ImmutableSandboxedEnvironment (what transformers' apply_chat_template uses) with a short
conversation and must render. Run by hand (needs jinja2); the tests only read the files and
manifest.json.
"""
import json
import os
import shutil

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "templates")
MARK = "PWNED-BY-TEMPLATE"


def corpus(kind, name):
    with open(os.path.join(CORPUS, kind, name), encoding="utf-8") as f:
        return f.read()


def bad(name):
    # the corpus' code-running templates run `echo PWNED-BY-TEMPLATE` (gen.py there wrote CMD in)
    return corpus("malicious", name)


def good(name):
    return corpus("real", name)


def write(rel, text):
    p = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w", encoding="utf-8") as f:
        f.write(text)


def templates_of(path):
    """The templates of a file, read as transformers reads them."""
    name = os.path.basename(path)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if name.endswith(".jinja"):
        return [text]
    t = json.loads(text).get("chat_template")
    if isinstance(t, str):
        return [t]
    if isinstance(t, list):
        return [x["template"] for x in t]
    return []


MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Bye"}]


def render_plain(t):
    return jinja2.Environment().from_string(t).render(messages=MESSAGES, add_generation_prompt=True,
                                                      bos_token="<s>", eos_token="</s>")


def render_sandboxed(t):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.globals["raise_exception"] = lambda m: (_ for _ in ()).throw(jinja2.TemplateError(m))
    return env.from_string(t).render(messages=MESSAGES, add_generation_prompt=True, bos_token="<s>",
                                     eos_token="</s>", tools=None)


def main():
    for sub in ("malicious", "benign"):
        shutil.rmtree(os.path.join(HERE, sub), ignore_errors=True)
    manifest = []

    def entry(rel, verdict, confirmed):
        manifest.append({"file": rel, "verdict": verdict, "confirmed": confirmed})

    # malicious: one payload per way transformers finds a template, next to a benign one
    plain = good("chujiezheng-chatml.jinja")
    write("malicious/jinja/chat_template.jinja", bad("set-underscore-concat.jinja"))
    write("malicious/named-list/tokenizer_config.json", json.dumps({
        "bos_token": "<s>",
        "chat_template": [{"name": "default", "template": plain},
                          {"name": "tool_use", "template": bad("format-percent-c.jinja")}],
    }, indent=2))
    write("malicious/string/tokenizer_config.json",
          json.dumps({"chat_template": bad("join-list.jinja")}, indent=2))
    write("malicious/additional/chat_template.jinja", plain)
    write("malicious/additional/additional_chat_templates/rag.jinja", bad("replace-filter.jinja"))
    write("malicious/processor/chat_template.json",
          json.dumps({"chat_template": bad("renamed-gadget.jinja")}, indent=2))
    for rel in ["malicious/jinja/chat_template.jinja", "malicious/named-list/tokenizer_config.json",
                "malicious/string/tokenizer_config.json",
                "malicious/additional/additional_chat_templates/rag.jinja",
                "malicious/processor/chat_template.json"]:
        outs = [render_plain(t) for t in templates_of(os.path.join(HERE, rel))]
        assert any(MARK in o for o in outs), rel
        entry(rel, "dangerous", f"jinja2 {jinja2.__version__} Environment printed {MARK}")
    entry("malicious/additional/chat_template.jinja", "safe", "the benign template beside the payload")

    # benign: real templates in every form, and files that are not templates
    write("benign/chat_template.jinja", good("chujiezheng-qwen2.5-instruct.jinja"))
    write("benign/tokenizer_config.json", json.dumps({
        "bos_token": "<s>",
        "chat_template": [{"name": "default", "template": good("chujiezheng-llama-3-instruct.jinja")},
                          {"name": "tool_use", "template": good("hub-NousResearch-Hermes-2-Pro-Llama-3-8B.jinja")}],
    }, indent=2))
    write("benign/additional_chat_templates/zephyr.jinja", good("chujiezheng-zephyr.jinja"))
    write("benign/processor/chat_template.json",
          json.dumps({"chat_template": good("chujiezheng-gemma-it.jinja")}, indent=2))
    for rel in ["benign/chat_template.jinja", "benign/tokenizer_config.json",
                "benign/additional_chat_templates/zephyr.jinja", "benign/processor/chat_template.json"]:
        for t in templates_of(os.path.join(HERE, rel)):
            render_sandboxed(t)
        entry(rel, "safe", f"jinja2 {jinja2.__version__} ImmutableSandboxedEnvironment rendered it")
    # not template files: no chat_template in it, and a .jinja name transformers does not load
    write("benign/text_encoder/tokenizer_config.json", json.dumps({"model_max_length": 77}, indent=2))
    write("benign/templates/llama3.jinja", bad("set-underscore-concat.jinja"))
    entry("benign/text_encoder/tokenizer_config.json", "skipped", "holds no chat_template")
    entry("benign/templates/llama3.jinja", "skipped", "not a name transformers loads a template from")

    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
