"""Extra torch.save fixtures for the pickle reader: a whole nn.Module (torch.save(model)) and numpy
arrays pickled at protocol 3 (bytes stored as-is, so they can be viewed in place)."""
import sys, pathlib
import numpy as np
import torch

out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/data/pickle")
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU())
torch.save(model, out / "whole-module.pt")
arr = np.arange(12, dtype=np.float32).reshape(3, 4)
torch.save({"a": arr, "at": arr.T, "s": np.float64(0.5)}, out / "numpy-proto3.pt", pickle_protocol=3)
(out / "whole-module.expected.txt").write_text(
    "\n".join(f"{k} {v.flatten().tolist()}" for k, v in model.state_dict().items()) + "\n")
