import os, subprocess, sys, pickle, io, struct
TS="/work/main/target/release/tensorscope"
PY="/tmp/peers/bin/python"
def scan(path):
    r=subprocess.run([TS,"scan",path],capture_output=True,text=True)
    lines=[l for l in r.stdout.splitlines() if l.strip()]
    return r.returncode, "\n".join(lines[:6])
def sh(n): return f"touch /tmp/hunt_scan/PWNED_{n}"
def confirm(path, n, loader="pickle"):
    m=f"/tmp/hunt_scan/PWNED_{n}"
    if os.path.exists(m): os.remove(m)
    code={"pickle":f"import pickle;pickle.load(open({path!r},'rb'))",
          "pickle_bytes":f"import pickle;pickle.loads(open({path!r},'rb').read())",
          "torch":f"import torch;torch.load({path!r},weights_only=False)",
          "numpy":f"import numpy;x=numpy.load({path!r},allow_pickle=True);[x[k] for k in x.files] if hasattr(x,'files') else x",
          "joblib":f"import joblib;joblib.load({path!r})"}[loader]
    r=subprocess.run([PY,"-c",code],capture_output=True,text=True,timeout=120)
    ok=os.path.exists(m)
    return ok, r.stderr.strip().splitlines()[-1:] if r.stderr else ""
def report(path,n,loader="pickle"):
    ok,err=confirm(path,n,loader)
    rc,out=scan(path)
    print(f"== {path} [{loader}] executed={ok} err={err}\n   scan rc={rc}: {out}")
