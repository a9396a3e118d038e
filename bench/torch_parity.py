#!/usr/bin/env python3
"""Numeric parity with PyTorch: the same initial weights (kiln's initial state exported as
safetensors, read by the GPT-2 forward pass below, written with PyTorch's own ops) give the same
loss on the same batch.

    ~/.cache/kiln/bench-venv/bin/python bench/torch_parity.py [--model gpt-mini]   (bash bench/setup.sh makes the venv)

Prints both losses and their relative difference; exits 1 above 1e-4.
"""
import argparse, json, os, random, struct, subprocess, sys, tempfile

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPES = {"gpt-mini": (4096, 256, 6, 6, 384, 8), "gpt2-small": (50257, 512, 12, 12, 768, 4), "gpt-tiny": (512, 32, 2, 2, 32, 8)}


def read_safetensors(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        assert e["dtype"] == "F32", name
        out[name] = torch.frombuffer(bytearray(data[8 + n + b:8 + n + end]), dtype=torch.float32).reshape(e["shape"])
    return out


def gpt2_loss(w, idx, targets, layers, heads):
    """GPT-2 (pre-LN, tanh GELU, tied head) from its Hugging Face weight names, in PyTorch ops."""
    F = torch.nn.functional
    B, T = idx.shape
    C = w["wte.weight"].shape[1]

    def ln(x, name):
        return F.layer_norm(x, (C,), w[name + ".weight"], w[name + ".bias"], 1e-5)

    def conv1d(x, name):  # GPT-2's Conv1D: weight [in, out]
        return x @ w[name + ".weight"] + w[name + ".bias"]

    x = w["wte.weight"][idx] + w["wpe.weight"][:T]
    for i in range(layers):
        p = f"h.{i}."
        q, k, v = conv1d(ln(x, p + "ln_1"), p + "attn.c_attn").split(C, dim=2)
        q, k, v = (t.view(B, T, heads, C // heads).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, C)
        x = x + conv1d(y, p + "attn.c_proj")
        h = F.gelu(conv1d(ln(x, p + "ln_2"), p + "mlp.c_fc"), approximate="tanh")
        x = x + conv1d(h, p + "mlp.c_proj")
    logits = ln(x, "ln_f") @ w["wte.weight"].T
    return F.cross_entropy(logits.reshape(B * T, -1), targets.reshape(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="gpt-mini", choices=sorted(SHAPES))
    a = ap.parse_args()
    vocab, ctx, layers, heads, d, batch = SHAPES[a.model]
    work = tempfile.mkdtemp(prefix="kiln-parity-")
    trainer = os.path.join(work, "trainer")
    subprocess.run([os.path.join(ROOT, "build", "tools", "kiln"), "compile", os.path.join(ROOT, "models", a.model + ".toml"),
                    "-o", trainer], check=True, capture_output=True)
    ckpt = os.path.join(work, "init.safetensors")
    subprocess.run([trainer, "init", "--checkpoint", ckpt], check=True, capture_output=True)
    rng = random.Random(1)
    tokens = [rng.randrange(vocab) for _ in range(batch * (ctx + 1))]
    open(os.path.join(work, "tokens.txt"), "w").write(" ".join(map(str, tokens)))
    kiln_loss = float(subprocess.run([trainer, "score", "--checkpoint", ckpt, "--tokens", os.path.join(work, "tokens.txt")],
                                     check=True, capture_output=True, text=True).stdout)

    w = read_safetensors(ckpt)
    idx = torch.tensor(tokens, dtype=torch.long).reshape(batch, ctx + 1)
    with torch.no_grad():
        torch_loss = float(gpt2_loss(w, idx[:, :-1], idx[:, 1:], layers, heads))
    rel = abs(kiln_loss - torch_loss) / abs(torch_loss)
    print(json.dumps({"model": a.model, "kiln_loss": kiln_loss, "pytorch_loss": torch_loss, "relative_difference": rel}))
    sys.exit(0 if rel < 1e-4 else 1)


if __name__ == "__main__":
    main()
