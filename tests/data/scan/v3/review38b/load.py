"""Confirm review 38b's files with the real loaders, each in a fresh interpreter (whose torch.load
holds the checkpoint on fd 3): the payload must touch /tmp/r38b-pwned-<tag>. Usage: python load.py
[MALICIOUS_DIR] (default: ../malicious). Needs torch (tested with 2.x) and pandas."""
import glob, os, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "malicious")
TORCH = "import torch; torch.load(F, weights_only=False)"
CASES = [(os.path.join(d, f"review38b-{n}.pt"), t, [TORCH]) for n, t in [
    ("tar_vt_checksum", "vt"), ("tar_late_vt_checksum", "late-vt"), ("tar_pax_path_slash", "slash"),
    ("tar_pax_nonl", "nonl"), ("tar_long_name_then_pax", "lx"), ("tar_pax_plus_length", "plus"),
    ("tar_symlink_procfd", "procfd")]]
CASES += [(f, "zst", ["import pandas; pandas.read_pickle(F)"])
          for f in sorted(glob.glob(os.path.join(here, "zstd_folder", "*.zst")))]
CASES += [(os.path.join(here, "checkpoint-500", n), t, [TORCH]) for n, t in [
    ("training_args.bin", "ck-args"), ("scheduler.pt", "ck-sched"), ("rng_state.pth", "ck-rng"),
    ("optimizer.pt", "ck-opt")]]
bad = 0
for path, tag, loaders in CASES:
    for code in loaders:
        marker = f"/tmp/r38b-pwned-{tag}"
        if os.path.exists(marker):
            os.remove(marker)
        subprocess.run([sys.executable, "-c", f"F = {path!r}\n{code}"], capture_output=True)
        ran = os.path.exists(marker)
        bad += not ran
        print(f"{'RAN ' if ran else 'not run'}  {os.path.basename(path)}: {code}")
sys.exit(1 if bad else 0)
