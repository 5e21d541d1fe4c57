"""bzip2 and zstd pickles (issue 23, class 3): tests/data/scan/compress/ and manifest.json.

Run by hand outside the test suite (needs numpy, joblib, pandas, zstandard):
    python tests/data/scan/compress/gen_compress.py

joblib.load sniffs and opens bzip2 (`compress="bz2"`, `.bz2`); pandas.read_pickle opens `.bz2` with
Python's bz2 module and `.zst` with the zstandard package. Every malicious file is confirmed against
its loader in a child process started in a throwaway folder: an audit hook stops the child (exit 0,
after writing a marker) the moment the unpickler resolves `posix.system` (`pickle.find_class`), so
nothing runs. Every benign file is loaded by its loader in a child. tests/scan_compress.rs reads the
manifest; bombs/ holds two decompression bombs for tests/inflate_limit.rs.
"""
import bz2, json, os, pathlib, pickle, struct, subprocess, sys, tempfile

import numpy as np
import zstandard

ROOT = pathlib.Path(__file__).resolve().parent
PY = sys.executable
manifest = []

PAYLOAD = b"\x80\x02cposix\nsystem\nX\x04\x00\x00\x00trueq\x00\x85R."
# zstandard's reader has no readline, which GLOBAL needs: pandas' own pickles use STACK_GLOBAL
PAYLOAD4 = b"\x80\x04\x8c\x05posix\x8c\x06system\x93\x8c\x04true\x85R."

CHILD = r"""
import sys, os
def hook(event, args):
    if event == "pickle.find_class" and tuple(args) == ("posix", "system"):
        open("REACHED", "w").write("posix.system")
        os._exit(0)
sys.addaudithook(hook)
path, how = sys.argv[1], sys.argv[2]
if how == "joblib":
    import joblib
    print(repr(joblib.load(path))[:200])
elif how == "pandas":
    import pandas
    print(repr(pandas.read_pickle(path))[:200])
"""


def child(path, how):
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([PY, "-c", CHILD, str(path), how], cwd=d, capture_output=True, text=True, timeout=300)
        return os.path.exists(os.path.join(d, "REACHED")), r


def reached_by(*hows):
    def run(path):
        for how in hows:
            reached, r = child(path, how)
            if not reached:
                raise SystemExit(f"{path}: {how} did not reach posix.system (rc {r.returncode}: {r.stderr[-300:]})")
        return " and ".join(f"{h} reaches posix.system" for h in hows)
    return run


def loads_with(*hows):
    def run(path):
        for how in hows:
            reached, r = child(path, how)
            assert not reached and r.returncode == 0, (path, how, r.stderr[-300:])
        return " and ".join(f"{h} loads it" for h in hows)
    return run


def add(kind, name, data, expect, global_, confirm, note=""):
    path = ROOT / kind / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    entry = {"file": f"{kind}/{name}", "class": "compressed", "expect": expect, "global": global_, "note": note}
    entry["confirmed"] = confirm(path)
    manifest.append(entry)
    print(f"{kind}/{name}: {entry['confirmed']}")


def zst(data, **kw):
    return zstandard.ZstdCompressor(**kw).compress(data)


def skippable(body):
    return struct.pack("<II", 0x184D2A50, len(body)) + body


half = len(PAYLOAD) // 2
# bzip2: joblib sniffs the magic; pandas infers it from the name
add("malicious", "payload.pkl.bz2", bz2.compress(PAYLOAD), "dangerous", "posix.system", reached_by("joblib", "pandas"))
add("malicious", "payload-two-streams.pkl.bz2", bz2.compress(PAYLOAD[:half]) + bz2.compress(PAYLOAD[half:]),
    "dangerous", "posix.system", reached_by("joblib", "pandas"),
    "the pickle is split across two bzip2 streams; BZ2File reads one after the other")
add("malicious", "payload-trailing.pkl.bz2", bz2.compress(PAYLOAD) + b"not a stream" * 8, "dangerous",
    "posix.system", reached_by("joblib", "pandas"), "data after the stream, which BZ2File ignores")
# zstd: pandas infers it from the name
add("malicious", "payload.pkl.zst", zst(PAYLOAD4), "dangerous", "posix.system", reached_by("pandas"))
add("malicious", "payload-checksum.pkl.zst", zst(PAYLOAD4, level=19, write_checksum=True), "dangerous",
    "posix.system", reached_by("pandas"))
add("malicious", "payload-skippable.pkl.zst", skippable(b"decoy" * 10) + zst(PAYLOAD4), "dangerous",
    "posix.system", reached_by("pandas"), "a skippable frame first, which zstd readers skip")
add("malicious", "payload-two-frames.pkl.zst", zst(PAYLOAD4[:9]) + zst(PAYLOAD4[9:]), "dangerous",
    "posix.system", reached_by("pandas"), "the pickle is split across two zstd frames")

# benign: what joblib and pandas write
with tempfile.TemporaryDirectory() as d:
    import joblib, pandas
    p = os.path.join(d, "numeric.joblib.bz2")
    joblib.dump({"w": np.arange(12, dtype="f4").reshape(3, 4), "b": np.ones(3)}, p, compress="bz2")
    add("benign", "numeric.joblib.bz2", open(p, "rb").read(), "safe", None, loads_with("joblib"))
    p = os.path.join(d, "state.pkl.bz2")
    pandas.to_pickle({"w": [1.0, 2.0], "name": "layer"}, p)
    add("benign", "state.pkl.bz2", open(p, "rb").read(), "safe", None, loads_with("joblib", "pandas"))
    p = os.path.join(d, "state.pkl.zst")
    pandas.to_pickle({"w": [1.0, 2.0], "name": "layer"}, p)
    add("benign", "state.pkl.zst", open(p, "rb").read(), "safe", None, loads_with("pandas"))
    p = os.path.join(d, "array.pkl.zst")
    # protocol 4: at protocol 5 (pandas' default) numpy writes numpy._core.numeric._frombuffer, which
    # the scanner's allowlist does not hold yet (a false alarm of its own, not of the compression)
    pandas.to_pickle(np.arange(1000, dtype="<i8"), p, protocol=4)
    add("benign", "array.pkl.zst", open(p, "rb").read(), "safe", None, loads_with("pandas"))

# decompression bombs (not in the manifest: nothing runs, they only cost memory): 300 MiB of zeros,
# past the scanner's 256 MiB limit, in a few kilobytes. tests/inflate_limit.rs scans them.
zeros = bytes(300 << 20)
(ROOT / "bombs").mkdir(exist_ok=True)
(ROOT / "bombs" / "zeros-300m.pkl.bz2").write_bytes(bz2.compress(zeros, 9))
(ROOT / "bombs" / "zeros-300m.pkl.zst").write_bytes(zst(zeros, level=19))
for b in sorted((ROOT / "bombs").iterdir()):
    print(f"bombs/{b.name}: {b.stat().st_size} bytes")

(ROOT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
print(f"{len(manifest)} files")
