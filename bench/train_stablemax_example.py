"""StableMax training example for stablemath.torch (the one in README.md): a grokking-style task,
modular addition (a + b) mod p, learnt by a tiny embedding + MLP model with
stablemath.torch.stablemax_cross_entropy (Prieto et al. 2025 use StableMax there to avoid Softmax
Collapse). Run: python bench/train_stablemax_example.py [--steps N]

A few hundred steps fit the training half; grokking (test accuracy jumping long after that) takes
thousands of steps with weight decay and is not the point of this example.
"""
from __future__ import annotations

import argparse

import torch
from torch import nn

import stablemath.torch as smt


class AddMod(nn.Module):
    def __init__(self, p: int, width: int = 64):
        super().__init__()
        self.embed = nn.Embedding(p, width)
        self.mlp = nn.Sequential(nn.Linear(2 * width, 128), nn.ReLU(), nn.Linear(128, p))

    def forward(self, ab):                           # ab: (N, 2) int64 operands
        return self.mlp(self.embed(ab).flatten(1))   # logits (N, p)


def train(steps: int = 300, p: int = 23, train_fraction: float = 0.5, seed: int = 0,
          loss_fn=smt.stablemax_cross_entropy) -> tuple[list[float], float]:
    """Returns the training losses per step and the final test accuracy."""
    torch.manual_seed(seed)
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    ab, y = torch.stack([a.flatten(), b.flatten()], 1), (a + b).flatten() % p
    perm = torch.randperm(p * p)
    n_train = int(train_fraction * p * p)
    tr, te = perm[:n_train], perm[n_train:]
    model = AddMod(p)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1.0)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(ab[tr]), y[tr])         # full-batch StableMax cross-entropy
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        acc = (model(ab[te]).argmax(1) == y[te]).float().mean().item()
    return losses, acc


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    losses, acc = train(ap.parse_args().steps)
    print(f"stablemax cross-entropy: step 1 {losses[0]:.4f} -> step {len(losses)} {losses[-1]:.4e}; "
          f"test accuracy {acc:.3f}")
