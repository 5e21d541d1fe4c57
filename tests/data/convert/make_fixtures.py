#!/usr/bin/env python3
"""Fixtures for tests/cli_convert.rs that the shared torch fixtures do not cover. Run with any Python that
has torch (the repository used /tmp/peers/bin/python, torch 2.15.0):
    python tests/data/convert/make_fixtures.py

- expanded-4tib.pt: {"small": F32 [2], "huge": a 1-element storage expanded to [2^20, 2^20] (strides [0, 0])}.
  torch.save stores 4 bytes for "huge"; materialised it would be 4 TiB. The converter must refuse it
  (exit 2) before allocating or writing anything.
"""
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
huge = torch.ones(1).expand(1 << 20, 1 << 20)
assert huge.stride() == (0, 0)
torch.save({"small": torch.tensor([1.0, 2.0]), "huge": huge}, os.path.join(HERE, "expanded-4tib.pt"))
print("wrote expanded-4tib.pt")
