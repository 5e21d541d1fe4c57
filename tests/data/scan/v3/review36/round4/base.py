import torch
class M(torch.nn.Module):
    def __init__(s):
        super().__init__(); s.l = torch.nn.Linear(2,2)
    def forward(s, x): return s.l(x)
ep = torch.export.export(M(), (torch.randn(1,2),))
torch.export.save(ep, 'base.pt2')
