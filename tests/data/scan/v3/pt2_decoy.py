"""Shared by the review generators that build torch.export archives (review39, review39b): a tiny
exported model saved as a base .pt2, and a decoy data.pkl whose persistent ids name chosen archive
members as byte storages (as torch.save writes them)."""
import collections, io, os, pickle, zipfile

import torch


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.l = torch.nn.Linear(2, 2)

    def forward(self, x):
        return self.l(x)


def export_base(path, dynamic=False):
    """torch.export.save of Tiny to `path` unless it exists (a dynamic batch dimension if asked)."""
    if os.path.exists(path):
        return
    if dynamic:
        b = torch.export.Dim("b", min=2, max=64)
        ep = torch.export.export(Tiny(), (torch.randn(4, 2),), dynamic_shapes={"x": {0: b}})
    else:
        ep = torch.export.export(Tiny(), (torch.randn(1, 2),))
    torch.export.save(ep, path)


def decoy_pickle(keys_sizes):
    """A dict of uint8 tensors over ByteStorage persistent ids with the given (key, size) pairs."""

    class Pk(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, tuple) and obj and obj[0] == "PID":
                return obj[1]
            return None

    class T:
        def __init__(s, key, n):
            s.key, s.n = key, n

        def __reduce__(s):
            return (torch._utils._rebuild_tensor_v2,
                    (("PID", ("storage", torch.ByteStorage, s.key, "cpu", s.n)), 0, (s.n,), (1,), False,
                     collections.OrderedDict()))

    buf = io.BytesIO()
    Pk(buf, protocol=2).dump({f"t{i}": T(k, n) for i, (k, n) in enumerate(keys_sizes)})
    return buf.getvalue()


def with_decoy_sample(base, out, nested):
    """`base` copied to `out` with its sample_inputs/model.pt replaced by `nested` and a decoy
    base/data.pkl naming that member a storage of its length."""
    zin = zipfile.ZipFile(base)
    with zipfile.ZipFile(out, "w") as zo:
        for i in zin.infolist():
            d = zin.read(i.filename)
            if i.filename.endswith("sample_inputs/model.pt"):
                d = nested
            zo.writestr(i, d)
        zo.writestr("base/data.pkl", decoy_pickle([("sample_inputs/model.pt", len(nested))]))
