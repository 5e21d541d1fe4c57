"""Check tensorscope's synthetic torch.save writer against real torch.

Write the files first:  SYNTH_OUT=/tmp/synth cargo test --lib write_for_torch_check -- --ignored
Then:                   /tmp/peers/bin/python benches/peers/check_synth.py /tmp/synth
For every STEM.bin next to a STEM.safetensors: torch.load(weights_only=True) and torch.load(mmap=True)
must return an OrderedDict equal (names, order, dtypes, shapes, values) to safetensors' load_file."""
import collections, sys, zipfile
from pathlib import Path
import torch
from safetensors.torch import load_file

d = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/synth")
bad = 0
for st in sorted(d.glob("*.safetensors")):
    pt = st.with_suffix(".bin")
    want = load_file(st)
    z = zipfile.ZipFile(pt)
    assert z.testzip() is None, f"{pt}: CRC mismatch"
    for mmap in (False, True):
        got = torch.load(pt, weights_only=True, mmap=mmap)
        ok = isinstance(got, collections.OrderedDict) and list(got) == list(want) and all(
            got[k].dtype == want[k].dtype and got[k].shape == want[k].shape and torch.equal(got[k], want[k])
            for k in want)
        bad += not ok
        print(f"{pt.name:12s} mmap={mmap!s:5s} {len(got):6d} tensors  {'equal' if ok else 'DIFFERENT'}")
sys.exit(1 if bad else 0)
