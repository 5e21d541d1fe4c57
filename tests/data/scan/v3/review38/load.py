"""Confirm review 38's files with the real loaders, each in a fresh interpreter: the payload must
touch /tmp/r38-pwned-<tag>. Usage: python load.py [MALICIOUS_DIR] (default: ../malicious).
Needs torch (tested with 2.x) and joblib."""
import os, subprocess, sys

d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "malicious")
CASES = [
    ("review38-zstd_skippable_polyglot.bin", "zstd", [
        "import torch; torch.load(F, weights_only=False)",
        "import pickle; pickle.load(open(F, 'rb'))",
        "import joblib; joblib.load(F)"]),
    ("review38-zstd_polyglot_datapkl.pt", "zstd-zip", [
        "import torch; torch.load(F, weights_only=False)",
        "import torch; torch.load(F, weights_only=False, mmap=True)"]),
    ("review38-lzma_polyglot.pth.tar", "lzma", [
        "import torch; torch.load(F, weights_only=False)",
        "import pickle; pickle.load(open(F, 'rb'))"]),
    ("review38-tar_hardlink_storages.pt", "tar-link", [
        "import torch; torch.load(F, weights_only=False)"]),
]
bad = 0
for name, tag, loaders in CASES:
    for code in loaders:
        marker = f"/tmp/r38-pwned-{tag}"
        if os.path.exists(marker):
            os.remove(marker)
        subprocess.run([sys.executable, "-c", f"F = {os.path.join(d, name)!r}\n{code}"], capture_output=True)
        ran = os.path.exists(marker)
        bad += not ran
        print(f"{'RAN ' if ran else 'not run'}  {name}: {code}")
sys.exit(1 if bad else 0)
