#!/usr/bin/python3
"""Computes the pinned values of tests/unit/test_optimizer.cpp with PyTorch (Debian's
python3-torch), in float64: torch.optim.AdamW / torch.optim.SGD and clip_grad_norm_, with the
learning rate set by hand each step from the schedule's definition. Run it to regenerate:
    /usr/bin/python3 tests/tools/pin_optimizer_values.py
"""
import math
import torch

torch.set_default_dtype(torch.float64)


def schedule(kind, t, lr, warmup, total, min_lr):
    if warmup > 0 and t <= warmup:
        return lr * t / warmup
    if kind == "constant":
        return lr
    p = min(max((t - warmup) / max(1, total - warmup), 0.0), 1.0)
    f = 0.5 * (1 + math.cos(math.pi * p)) if kind == "cosine" else 1 - p
    return min_lr + (lr - min_lr) * f


def grads(t):
    gw = torch.tensor([[math.sin(0.7 * t + 0.3 * i) * (1 + 0.1 * i) for i in range(j * 3, j * 3 + 3)] for j in range(2)])
    gb = torch.tensor([math.cos(0.5 * t + i) for i in range(3)])
    return gw, gb


def run(name, make_opt, kind="constant", lr=0.01, warmup=0, total=10, min_lr=0.0, clip=0.0):
    w = torch.tensor([[0.5, -0.25, 1.0], [2.0, -1.5, 0.125]], requires_grad=True)
    b = torch.tensor([0.1, 0.2, -0.3], requires_grad=True)
    opt = make_opt(w, b)
    for t in range(1, 11):
        gw, gb = grads(t)
        w.grad, b.grad = gw.clone(), gb.clone()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_([w, b], clip)
        for g in opt.param_groups:
            g["lr"] = schedule(kind, t, lr, warmup, total, min_lr)
        opt.step()
    vals = [repr(v) for v in w.detach().flatten().tolist() + b.detach().tolist()]
    print(f'    {{"{name}", {{{", ".join(vals)}}}}},')


run("adamw", lambda w, b: torch.optim.AdamW([{"params": [w], "weight_decay": 0.1}, {"params": [b], "weight_decay": 0.0}],
                                           lr=0.01, betas=(0.9, 0.999), eps=1e-8))
run("adamw_clip_cosine", lambda w, b: torch.optim.AdamW([{"params": [w], "weight_decay": 0.01}, {"params": [b], "weight_decay": 0.0}],
                                                       lr=0.02, betas=(0.8, 0.99), eps=1e-6),
    kind="cosine", lr=0.02, warmup=3, total=10, min_lr=0.001, clip=0.5)
run("sgd", lambda w, b: torch.optim.SGD([w, b], lr=0.1), lr=0.1)
run("sgd_momentum_decay", lambda w, b: torch.optim.SGD([{"params": [w], "weight_decay": 0.01}, {"params": [b], "weight_decay": 0.0}],
                                                      lr=0.1, momentum=0.9), lr=0.1)
run("sgd_nesterov_linear", lambda w, b: torch.optim.SGD([w, b], lr=0.05, momentum=0.9, nesterov=True),
    kind="linear", lr=0.05, warmup=2, total=8, min_lr=0.0)
run("sgd_clip", lambda w, b: torch.optim.SGD([w, b], lr=0.1), lr=0.1, clip=0.3)
