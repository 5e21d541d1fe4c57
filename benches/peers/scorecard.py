#!/usr/bin/env python3
"""The public scorecard: tensorscope, picklescan, fickling, modelscan and ModelAudit on tensorscope's own
regression corpus (issue 23).

    python3 benches/peers/scorecard.py [--jobs 2] [--out benches/peers/scorecard]

The corpus is every `manifest.json` under tests/data/scan/: each entry names a file (`malicious/…` or
`benign/…`, relative to its manifest), its class, and for a malicious file how the generator beside it
confirmed it against its real loader in a throwaway process (`confirmed`: the unpickler reached the
payload's global, a template reached os.system, or the loader died of it). A malicious entry without a
`confirmed` record is left out and listed. Nothing here is needed by the build or the tests.

Each scanner is run on each file on its own (the file given by path, as a user would), in a throwaway
working folder (fickling writes safety_results.json there), with a time limit. What counts as *flagged*
is each scanner's own verdict, read from its documented exit code or the field behind it:

- tensorscope: `scan --json FILE`, the file's `verdict` is `suspicious` or `dangerous` (exit 1 under the
  default `--fail-on suspicious`); `error` is an error. The strict row counts `dangerous` only.
- picklescan: exit 1 (dangerous globals found); exit 2 is an error.
- fickling: `--check-safety FILE`, exit 1 (likely unsafe); any other non-zero exit is an error.
- modelscan: `-p FILE`, exit 1 (issues found); exit 2 (scan failed), 3 (no supported file) and 4 are
  errors; its console report's issue severities are not read.
- ModelAudit: `scan --format json FILE…` (all files in one run: it takes ~15 s to start), a file is flagged
  when an issue located in it has severity `warning` or `critical` (what makes its exit code 1); the strict
  row counts `critical` only. Telemetry is switched off (PROMPTFOO_DISABLE_TELEMETRY=1).

A file a scanner could not scan or that ran past the time limit is an *error*: never counted as caught,
never as a false alarm. Scanners are found on PATH or given with --tensorscope/--picklescan/… ; a missing
one is reported as not installed. The versions are read from each scanner's own Python environment.
Outputs: OUT.md (the tables, the versions, the command) and OUT.json (every file's outcome per scanner
with the scanner's own words, cut to 300 characters).
"""
import argparse, collections, concurrent.futures, datetime, json, os, pathlib, shutil, subprocess, sys, tempfile

REPO = pathlib.Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "data" / "scan"
TOOLS = ["tensorscope", "picklescan", "fickling", "modelscan", "modelaudit"]
PACKAGES = {"picklescan": "picklescan", "fickling": "fickling", "modelscan": "modelscan", "modelaudit": "modelaudit"}


def corpus():
    files, left_out = [], []
    for m in sorted(CORPUS.rglob("manifest.json")):
        for e in json.loads(m.read_text()):
            if "class" not in e:
                # the chat-template manifests (templates/, template_files/) record the verdict a
                # renderer check gave, not a pickle confirmed against its loader: not in this scorecard
                left_out.append(f"{m.parent.relative_to(REPO)}/{e['file']} (a chat-template entry, no loader check)")
                continue
            path = (m.parent / e["file"]).resolve()
            malicious = e["file"].startswith("malicious/")
            rel = str(path.relative_to(REPO))
            if malicious and not e.get("confirmed"):
                left_out.append(f"{rel} ({e.get('note') or 'no execution check'})")
                continue
            files.append({"path": str(path), "rel": rel, "class": e["class"], "malicious": malicious,
                          "expect": e["expect"]})
    return files, left_out


def run(cmd, timeout, env=None):
    with tempfile.TemporaryDirectory() as cwd:
        try:
            r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env,
                               errors="replace")
            return r.returncode, (r.stdout + "\n" + r.stderr).strip()
        except subprocess.TimeoutExpired:
            return None, f"timed out after {timeout} s"


def cut(text, n=300):
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "…"


def tensorscope(exe, f, timeout):
    rc, out = run([exe, "scan", "--json", f["path"]], timeout)
    if rc is None:
        return "error", False, out
    try:
        start = out.index("{")
        v = json.loads(out[start:out.rindex("}") + 1])["files"][0]
    except (ValueError, KeyError, IndexError):
        return "error", False, cut(out)
    verdict = v["verdict"]
    why = "; ".join(x["why"] for x in v.get("findings", [])[:3]) or v.get("error", "")
    if verdict == "error":
        return "error", False, cut(why)
    return ("flag" if verdict in ("suspicious", "dangerous") else "clean"), verdict == "dangerous", cut(f"{verdict}: {why}")


def by_exit_code(cmd, errors):
    def scan(exe, f, timeout):
        rc, out = run([exe, *cmd, f["path"]], timeout)
        if rc is None or rc in errors or rc not in (0, 1):
            return "error", False, cut(f"exit {rc}: {out}")
        return ("flag" if rc == 1 else "clean"), rc == 1, cut(f"exit {rc}: {out}")
    return scan


SCANS = {
    "tensorscope": tensorscope,
    "picklescan": by_exit_code(["-p"], {2}),
    "fickling": by_exit_code(["--check-safety"], set()),
    "modelscan": by_exit_code(["-p"], {2, 3, 4}),
}


def modelaudit(exe, files, timeout):
    """One run over every file; each issue is given to the file its location starts with."""
    env = dict(os.environ, PROMPTFOO_DISABLE_TELEMETRY="1", NO_ANALYTICS="1")
    rc, out = run([exe, "scan", "--format", "json", *[f["path"] for f in files]], timeout, env)
    results = {}
    try:
        report = json.loads(out[out.index("{"):out.rindex("}") + 1])
    except ValueError:
        for f in files:
            results[f["path"]] = ("error", False, cut(f"exit {rc}: {out}"))
        return results
    issues = collections.defaultdict(list)
    paths = sorted((f["path"] for f in files), key=len, reverse=True)
    for i in report.get("issues", []):
        loc = str(i.get("location") or "")
        owner = next((p for p in paths if loc == p or loc.startswith(p + ":") or loc.startswith(p + " ")), None)
        if owner:
            issues[owner].append(i)
    scanned = {a.get("path") for a in report.get("assets", [])}
    for f in files:
        mine = issues[f["path"]]
        sev = {str(i.get("severity")).lower() for i in mine}
        words = "; ".join(f"{i.get('severity')}: {i.get('message')}" for i in mine[:3])
        if sev & {"warning", "critical"}:
            results[f["path"]] = ("flag", "critical" in sev, cut(words))
        elif f["path"] not in scanned and not mine:
            results[f["path"]] = ("error", False, "not in ModelAudit's report")
        else:
            results[f["path"]] = ("clean", False, cut(words or "no issue"))
    return results


def version(tool, exe):
    if tool == "tensorscope":
        rc, out = run([exe, "--version"], 30)
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        return f"{out.strip()} (commit {commit})"
    py = pathlib.Path(exe).resolve().parent / "python"
    if not py.exists():
        py = pathlib.Path(exe).parent / "python"
    rc, out = run([str(py), "-c", f"import importlib.metadata as m; print(m.version({PACKAGES[tool]!r}))"], 60)
    return out.strip() if rc == 0 else "unknown"


def find(tool, given):
    if given:
        return given
    if tool == "tensorscope":
        target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
        for p in (target / "release" / "tensorscope", target / "debug" / "tensorscope"):
            if p.exists():
                return str(p)
    return shutil.which(tool)


def table(files, results, tools, strict):
    classes = sorted({f["class"] for f in files})
    mal = [f for f in files if f["malicious"]]
    ben = [f for f in files if not f["malicious"]]
    lines = ["| scanner | caught (malicious) | missed | errors on malicious | false alarms (benign) | errors on benign |",
             "|---|---|---|---|---|---|"]
    for t in tools:
        o = results[t]
        n = collections.Counter(o[f["path"]][0] for f in mal)
        b = collections.Counter(o[f["path"]][0] for f in ben)
        lines.append(f"| {t} | {n['flag']}/{len(mal)} | {n['clean']} | {n['error']} | {b['flag']}/{len(ben)} | {b['error']} |")
        if t in strict:
            s = sum(1 for f in mal if o[f["path"]][1])
            sb = sum(1 for f in ben if o[f["path"]][1])
            lines.append(f"| {t} ({strict[t]} only) | {s}/{len(mal)} | {len(mal) - s - n['error']} | {n['error']} | {sb}/{len(ben)} | {b['error']} |")
    per = ["| class | files (malicious / benign) | " + " | ".join(tools) + " |",
           "|---|---|" + "---|" * len(tools)]
    for c in classes:
        m = [f for f in mal if f["class"] == c]
        bb = [f for f in ben if f["class"] == c]
        cells = []
        for t in tools:
            o = results[t]
            cell = []
            if m:
                cell.append(f"{sum(o[f['path']][0] == 'flag' for f in m)}/{len(m)} caught")
            if bb:
                cell.append(f"{sum(o[f['path']][0] == 'flag' for f in bb)}/{len(bb)} false")
            errs = sum(o[f["path"]][0] == "error" for f in m + bb)
            if errs:
                cell.append(f"{errs} err")
            cells.append(", ".join(cell))
        per.append(f"| {c} | {len(m)} / {len(bb)} | " + " | ".join(cells) + " |")
    return "\n".join(lines), "\n".join(per)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for t in TOOLS:
        ap.add_argument(f"--{t}", help=f"the {t} command (default: found on PATH)")
    ap.add_argument("--jobs", type=int, default=2, help="scans run at once (default 2)")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per scan (default 300)")
    ap.add_argument("--out", default=str(REPO / "benches" / "peers" / "scorecard"), help="OUT.md and OUT.json")
    a = ap.parse_args()
    files, left_out = corpus()
    exes = {t: find(t, getattr(a, t)) for t in TOOLS}
    tools = [t for t in TOOLS if exes[t]]
    missing = [t for t in TOOLS if not exes[t]]
    versions = {t: version(t, exes[t]) for t in tools}
    print(f"{len(files)} files; scanners: {versions}; not installed: {missing}", file=sys.stderr)
    results = {t: {} for t in tools}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        jobs = {}
        if "modelaudit" in tools:
            jobs[pool.submit(modelaudit, exes["modelaudit"], files, a.timeout * 4)] = ("modelaudit", None)
        for t in tools:
            if t == "modelaudit":
                continue
            for f in files:
                jobs[pool.submit(SCANS[t], exes[t], f, a.timeout)] = (t, f)
        for done in concurrent.futures.as_completed(jobs):
            t, f = jobs[done]
            if f is None:
                results[t].update(done.result())
            else:
                results[t][f["path"]] = done.result()
    strict = {t: s for t, s in (("tensorscope", "dangerous"), ("modelaudit", "critical")) if t in tools}
    summary, per_class = table(files, results, tools, strict)
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    n_mal = sum(f["malicious"] for f in files)
    md = [f"# Scanner scorecard ({when})", "",
          f"Corpus: {len(files)} files of tests/data/scan/ ({n_mal} malicious, each confirmed against its real "
          f"loader by its generator; {len(files) - n_mal} benign).", "",
          "Versions: " + ", ".join(f"{t} {versions[t]}" for t in tools) +
          (f"; not installed: {', '.join(missing)}" if missing else "") + ".", "",
          "Command: `python3 benches/peers/scorecard.py` (see its docstring for what counts as flagged).", "",
          summary, "", per_class, ""]
    if left_out:
        md += ["Left out (malicious entries without an execution check):", ""] + [f"- {x}" for x in left_out] + [""]
    out = pathlib.Path(a.out)
    out.with_suffix(".md").write_text("\n".join(md))
    raw = {"when": when, "versions": versions, "missing": missing, "left_out": left_out,
           "files": [{**f, "path": f["rel"],
                      "results": {t: dict(zip(("outcome", "strong", "said"), results[t][f["path"]])) for t in tools}}
                     for f in files]}
    out.with_suffix(".json").write_text(json.dumps(raw, indent=1) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
