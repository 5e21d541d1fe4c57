# Two torch.save files whose key paths flatten to one tensor name (run with torch installed):
# collide.pt {"a.b": ones(2), "a": {"b": zeros(3)}} and intkey.pt {1: ones(2), "1": zeros(3)}.
import torch
torch.save({"a.b": torch.ones(2), "a": {"b": torch.zeros(3)}}, "collide.pt")
torch.save({1: torch.ones(2), "1": torch.zeros(3)}, "intkey.pt")
