"""Two torch.save files whose complex128, complex32 and qint8 tensors differ in one element, and
torch's own max/mean |a - b| for each (complex-expected.json), and two complex64 pairs (B = -A and
B = conj(A)) with torch's cosine of the tensors as vectors of real and imaginary parts, for tests/cli_diff.rs. Run with torch:
python gen_complex.py"""

import json
from pathlib import Path

import torch

HERE = Path(__file__).parent


def main():
    g = torch.Generator().manual_seed(7)
    c128 = torch.randn(64, dtype=torch.complex128, generator=g)
    c32 = torch.randn(64, dtype=torch.complex64, generator=g).to(torch.complex32)
    q = torch.quantize_per_tensor(torch.randn(16, generator=g), 0.1, 0, torch.qint8)
    c64 = torch.randn(64, dtype=torch.complex64, generator=g)
    a = {"c128": c128, "c32": c32, "q": q, "neg": c64, "conj": c64}
    b = {"c128": c128.clone(), "c32": c32.clone(), "q": torch.quantize_per_tensor(q.dequantize() + 1.0, 0.1, 0, torch.qint8),
         "neg": -c64, "conj": c64.conj().resolve_conj()}
    # 1 + 0i against 0 + 1i: the same magnitude, a difference of sqrt(2)
    b["c128"][3] = c128[3] + complex(1.0, -1.0)
    b["c32"][5] = c32[5] * 2
    torch.save(a, HERE / "complex-a.pt")
    torch.save(b, HERE / "complex-b.pt")
    out = {}
    for k in ("c128", "c32", "neg", "conj"):
        x, y = a[k].to(torch.complex128), b[k].to(torch.complex128)
        d = (x - y).abs()
        cos = torch.nn.functional.cosine_similarity(torch.view_as_real(x).flatten(), torch.view_as_real(y).flatten(), dim=0)
        out[k] = {"max_abs_diff": d.max().item(), "mean_abs_diff": d.mean().item(), "cosine_similarity": cos.item()}
    (HERE / "complex-expected.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
