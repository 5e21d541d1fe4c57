"""The fast safetensors loaders side by side on one file, on the CPU (issue 28): safetensors'
`load_file`, Run:ai Model Streamer, fastsafetensors (`nogds`), InstantTensor where it runs, and
tensorscope's safetensors methods, warm and cold, in alternating rounds.

usage: PYTHON benches/peers/loaders.py [FILE] [RUNS] [TENSORSCOPE] [DEVICE]
  FILE         a .safetensors file (default /tmp/ck/model.safetensors, the 498 MB one setup-peers.sh makes);
               the cold rows drop its pages from the cache, so give a copy if others measure the file too
  RUNS         rounds (default 5); each round times every loader once per case and runs tensorscope
               bench once per case (1 warm-up + 1 timed run)
  TENSORSCOPE  the binary (default target/release/tensorscope)
  DEVICE       cpu (default) or cuda: with cuda every loader puts the tensors on the GPU (load_file
               device="cuda", Run:ai streamed to cuda, fastsafetensors with GDS and with nogds,
               InstantTensor), timed until torch.cuda.synchronize(), and tensorscope's rows are its
               `bench --gpu` rows (wgpu uploads through the ring); the "touched" cases sum on the GPU

PYTHON needs torch and safetensors (the peers venv) plus, where they install, runai-model-streamer,
fastsafetensors and instanttensor (`pip install runai-model-streamer fastsafetensors instanttensor`).
A loader that does not import or refuses the CPU is listed with its reason instead of a time.

Cases, each a full state dict on the CPU:
  warm          the file in the page cache; the state dict built (every tensor handed out)
  warm touched  the same, then the sum of every tensor (`t.sum()` on torch's threads), like for like
                with tensorscope's touched rows (its touch reads every byte on every core)
  cold touched  pages dropped with posix_fadvise(DONTNEED) before every run and checked with fincore
                (a loader run that finds any page of the file resident is reported), then as warm touched

What is timed: the peers from the call to the last tensor (and its sum); the state dict is freed after
the clock stops, as tensorscope releases its owned memory and unmaps its map between runs.
tensorscope's owned rows are its fresh-memory rows (new pages every run, as a peer's malloc gets).
Medians over the rounds with min-max; ratio = the median of `load_file` / the row's median."""
import json, os, statistics, subprocess, sys, tempfile, time

import torch

from pagecache import drop, resident  # beside this script
from safetensors.torch import load_file

path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/ck/model.safetensors"
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
exe = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), "../../target/release/tensorscope")
device = sys.argv[4] if len(sys.argv) > 4 else "cpu"
if device not in ("cpu", "cuda"):
    sys.exit(f"DEVICE must be cpu or cuda, not {device!r}")
if device == "cuda" and not torch.cuda.is_available():
    sys.exit("DEVICE cuda: torch sees no CUDA device here")


def version(dist):
    try:
        from importlib.metadata import version as v
        return v(dist)
    except Exception:  # noqa: BLE001
        return "?"


# Each loader: file -> {name: CPU tensor}, or a reason it cannot run here.
loaders, unavailable = {}, {}
loaders[f"safetensors load_file {version('safetensors')}"] = lambda p: load_file(p, device=device)

try:
    from runai_model_streamer import SafetensorsStreamer

    def runai(p):
        with SafetensorsStreamer() as s:
            # owned=True (the default): every tensor stays valid after the loop
            s.stream_file(p, device=device)
            return dict(s.get_tensors())

    loaders[f"Run:ai streamer {version('runai-model-streamer')}"] = runai
except Exception as e:  # noqa: BLE001
    unavailable["Run:ai Model Streamer"] = f"does not import: {e}"

try:
    from fastsafetensors import fastsafe_open

    def fst_with(nogds):
        def fst(p):
            # nogds: pread through a bounce buffer; GDS: cuFile reads straight into GPU memory
            with fastsafe_open(p, device=device if device == "cpu" else "cuda:0", nogds=nogds) as f:
                return {k: f.get_tensor(k) for k in f.keys()}  # each keeps its buffer alive
        return fst

    loaders[f"fastsafetensors {version('fastsafetensors')} nogds"] = fst_with(True)
    if device == "cuda":
        try:
            fst_with(False)(path)
            loaders[f"fastsafetensors {version('fastsafetensors')} GDS"] = fst_with(False)
        except Exception as e:  # noqa: BLE001
            unavailable[f"fastsafetensors {version('fastsafetensors')} GDS"] = f"not here: {e}"
except Exception as e:  # noqa: BLE001
    unavailable["fastsafetensors"] = f"does not import: {e}"

try:
    import instanttensor

    def instant(p):
        with instanttensor.safe_open(p, framework="pt", device=device) as f:
            return dict(f.tensors())

    try:
        instant(path)
        loaders[f"InstantTensor {version('instanttensor')}"] = instant
    except Exception as e:  # noqa: BLE001
        unavailable[f"InstantTensor {version('instanttensor')}"] = f"refuses {device}: {e}"
except Exception as e:  # noqa: BLE001
    unavailable["InstantTensor"] = f"does not import: {e}"


def sum_all(sd):
    s = 0.0
    for t in sd.values():
        s += float(t.sum())
    return s


def settle():
    """The loads are done when the GPU has finished them (nothing to wait for on the CPU)."""
    if device == "cuda":
        torch.cuda.synchronize()


CASES = ("warm", "warm touched", "cold touched")
not_cold = {}  # loader -> most bytes found resident after a drop


def time_peer(name, load, case):
    if case == "cold touched":
        drop(path)
        left = resident(path)
        if left:
            not_cold[name] = max(not_cold.get(name, 0), left)
    settle()
    t = time.perf_counter()
    sd = load(path)
    if case != "warm":
        sum_all(sd)
    settle()
    dt = time.perf_counter() - t
    del sd  # freed after the clock stops
    return dt


OURS = [("safetensors-mmap", None), ("safetensors-read", "fresh"), ("safetensors-pread", "fresh"),
        ("safetensors-direct", "fresh")]
# on the GPU: tensorscope's upload rows (`bench --gpu`, device "gpu" in its report)
GPU_OURS = [("safetensors-mmap", None), ("safetensors-pread", "fresh")]


def ours(case):
    """One tensorscope bench run for `case` -> {(method, memory): s}."""
    with tempfile.TemporaryDirectory() as d:
        report = os.path.join(d, "r.json")
        args = [exe, "bench", path, "--no-twin", "--runs", "1", "--report", report]
        if case == "cold touched":
            args.append("--cold")
        for m, _ in GPU_OURS if device == "cuda" else OURS:
            args += ["--method", m]
        if device == "cuda":
            args.append("--gpu")
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        doc = json.load(open(report))
        touched = case != "warm"
        got = {}
        for r in doc["results"]:
            on_gpu = r.get("device") == "gpu"
            if device == "cuda":
                # an upload reads every byte: the same row stands for every case
                if on_gpu and r.get("memory") in (None, "fresh"):
                    got[(r["method"], r.get("memory"))] = r["median_s"]
            elif not on_gpu and r["touched"] == touched and r.get("memory") in (None, "fresh"):
                got[(r["method"], r.get("memory"))] = r["median_s"]
            if case == "cold touched" and r.get("cache_dropped") is False:
                not_cold["tensorscope " + r["method"]] = r.get("pages_left")
        return got


def fig(v):
    return f"{statistics.median(v) * 1e3:9.1f} ({min(v) * 1e3:.1f}-{max(v) * 1e3:.1f})"


size = os.path.getsize(path)
for load in loaders.values():  # warm the cache, the imports and the CUDA context
    load(path)
    settle()
peer_t = {(n, c): [] for n in loaders for c in CASES}
our_t = {}
for _ in range(runs):
    for case in CASES:
        for name, load in loaders.items():
            peer_t[(name, case)].append(time_peer(name, load, case))
        for k, v in ours(case).items():
            our_t.setdefault((k, case), []).append(v)
    drop(path)  # leave the cache as a cold run does, then warm it for the next round's warm rows
    sum_all(load_file(path))

gpu = f", {torch.cuda.get_device_name(0)}" if device == "cuda" else ""
print(f"{path} ({size / 1e6:.1f} MB), {runs} alternating rounds, to {device}{gpu}; torch {torch.__version__} on "
      f"{torch.get_num_threads()} thread(s), {os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}")
ref = next(iter(loaders))
print(f"{'loader':46s} " + " ".join(f"{c + ' ms (min-max)':>26s} {'vs lf':>6s}" for c in CASES))
rows = [(n, {c: peer_t[(n, c)] for c in CASES}) for n in loaders]
for m, mem in GPU_OURS if device == "cuda" else OURS:
    label = f"tensorscope {m}" + (" to gpu" if device == "cuda" else "") + (f" ({mem} memory)" if mem else "")
    rows.append((label, {c: our_t.get(((m, mem), c), []) for c in CASES}))
for label, by_case in rows:
    cells = []
    for c in CASES:
        v = by_case[c]
        if not v:
            cells.append(f"{'-':>26s} {'':>6s}")
            continue
        ratio = statistics.median(peer_t[(ref, c)]) / statistics.median(v)
        cells.append(f"{fig(v):>26s} {ratio:5.2f}x")
    print(f"{label:46s} " + " ".join(cells))
for name, why in unavailable.items():
    print(f"{name}: not run, {why}")
for name, left in not_cold.items():
    print(f"warning: {name} found {left} bytes of the file resident after the drop (not fully cold)")
