"""Run each file with the loader that reads it; prints whether the payload touched its marker.
Usage: load_frame.py DIR   (the directory holding review37-frame_*)"""
import os, sys

d = sys.argv[1] if len(sys.argv) > 1 else "."
cases = [
    ("review37-frame_straddle.pkl", "pkl", "pickle"),
    ("review37-frame_straddle.pkl", "pkl", "pandas"),
    ("review37-frame_zip_straddle.pt", "zip", "torch"),
    ("review37-frame_npy_straddle.npy", "npy", "numpy"),
    ("review37-frame_legacy.pt", "legacy", "torch"),
]
for name, tag, loader in cases:
    marker = "/tmp/r37-pwned-frame-" + tag
    if os.path.exists(marker):
        os.remove(marker)
    f = os.path.join(d, name)
    try:
        if loader == "pickle":
            import pickle
            with open(f, "rb") as fh:
                r = pickle.load(fh)
        elif loader == "pandas":
            import pandas
            r = pandas.read_pickle(f)
        elif loader == "torch":
            import torch
            r = torch.load(f, weights_only=False)
        else:
            import numpy
            r = numpy.load(f, allow_pickle=True)
        res = "returned " + repr(r)[:40]
    except Exception as e:
        res = "raised " + type(e).__name__
    print(f"{name} ({loader}): {res}; payload ran: {os.path.exists(marker)}")
