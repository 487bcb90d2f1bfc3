"""Training-loop example for stablemath.torch (the one in README.md): a tiny MLP classifier trained
with stablemath.torch.cross_entropy. Run: python bench/train_example.py [--steps N]

`train(loss_fn=...)` takes any F.cross_entropy-like loss, so the test suite can check that the
loss curve matches PyTorch's own cross_entropy step for step.
"""
from __future__ import annotations

import argparse

import torch
from torch import nn

import stablemath.torch as smt


def train(steps: int = 50, loss_fn=smt.cross_entropy, seed: int = 0) -> list[float]:
    torch.manual_seed(seed)
    x = torch.randn(512, 20)                         # 512 samples, 20 features
    y = (x @ torch.randn(20, 5)).argmax(dim=1)       # 5 classes from a hidden linear rule
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 5))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(x), y)                  # logits (N, C), class indices (N,)
        opt.zero_grad()
        loss.backward()                              # gradients through stablemath's log_softmax op
        opt.step()
        losses.append(loss.item())
    return losses


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=50)
    losses = train(p.parse_args().steps)
    print(f"cross-entropy: step 1 {losses[0]:.4f} -> step {len(losses)} {losses[-1]:.4f}")
