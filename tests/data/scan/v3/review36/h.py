# shared by the review-36 generators: build a file, run it under its real loader in a fresh
# process (the payload touches a marker), then print what tensorscope says about it
import os, subprocess, struct
TS = "/work/main/target/release/tensorscope"
PY = "/tmp/peers/bin/python"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "malicious")
MARK = "/tmp/r36-markers"
os.makedirs(MARK, exist_ok=True)

def sh(n):
    return f"touch {MARK}/PWNED_{n}"

def evil(n, tail=b""):
    """A protocol-2 pickle calling posix.system, then `tail` (opcodes) before STOP."""
    cmd = sh(n).encode()
    return b"\x80\x02cposix\nsystem\nX" + struct.pack("<I", len(cmd)) + cmd + b"\x85R" + tail + b"."

LOADERS = {
    "pickle": "import pickle;pickle.load(open({p!r},'rb'))",
    "gzip": "import pickle,gzip;pickle.load(gzip.open({p!r}))",
    "torch": "import torch;torch.load({p!r},weights_only=False)",
    "joblib": "import joblib;joblib.load({p!r})",
}

def report(name, n, loader):
    path = os.path.join(OUT, name)
    m = f"{MARK}/PWNED_{n}"
    if os.path.exists(m):
        os.remove(m)
    r = subprocess.run([PY, "-c", LOADERS[loader].format(p=path)], capture_output=True, text=True, timeout=120)
    ran = os.path.exists(m)
    s = subprocess.run([TS, "scan", path], capture_output=True, text=True)
    err = r.stderr.strip().splitlines()[-1:] if r.stderr else ""
    said = (s.stdout.splitlines() or s.stderr.splitlines() or [""])[0]
    print(f"== {name} [{loader}] payload ran={ran} loader error={err}\n   scan rc={s.returncode}: {said}")
    return ran
