#!/usr/bin/python3
"""Numeric parity with PyTorch: the same initial weights (kiln's initial state exported as
safetensors, loaded into ../shared/bench/torch_gpt.py's GPT) give the same loss on the same batch.

    /usr/bin/python3 bench/torch_parity.py [--model gpt-mini]

Prints both losses and their relative difference; exits 1 above 1e-4.
"""
import argparse, importlib.util, json, os, random, struct, subprocess, sys, tempfile

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location("torch_gpt", os.path.join(ROOT, "..", "shared", "bench", "torch_gpt.py"))
torch_gpt = importlib.util.module_from_spec(spec)
spec.loader.exec_module(torch_gpt)
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
    m = torch_gpt.GPT(vocab, ctx, layers, heads, d, 4 * d)
    with torch.no_grad():
        m.wte.copy_(w["wte.weight"]); m.wpe.copy_(w["wpe.weight"])
        m.ln_f.weight.copy_(w["ln_f.weight"]); m.ln_f.bias.copy_(w["ln_f.bias"])
        for i, blk in enumerate(m.h):
            p = f"h.{i}."
            blk.ln_1.weight.copy_(w[p + "ln_1.weight"]); blk.ln_1.bias.copy_(w[p + "ln_1.bias"])
            blk.ln_2.weight.copy_(w[p + "ln_2.weight"]); blk.ln_2.bias.copy_(w[p + "ln_2.bias"])
            blk.c_attn_w.copy_(w[p + "attn.c_attn.weight"]); blk.c_attn_b.copy_(w[p + "attn.c_attn.bias"])
            blk.c_proj_w.copy_(w[p + "attn.c_proj.weight"]); blk.c_proj_b.copy_(w[p + "attn.c_proj.bias"])
            blk.fc_w.copy_(w[p + "mlp.c_fc.weight"]); blk.fc_b.copy_(w[p + "mlp.c_fc.bias"])
            blk.fcp_w.copy_(w[p + "mlp.c_proj.weight"]); blk.fcp_b.copy_(w[p + "mlp.c_proj.bias"])
    idx = torch.tensor(tokens, dtype=torch.long).reshape(batch, ctx + 1)
    with torch.no_grad():
        torch_loss = float(m(idx[:, :-1], idx[:, 1:]))
    rel = abs(kiln_loss - torch_loss) / abs(torch_loss)
    print(json.dumps({"model": a.model, "kiln_loss": kiln_loss, "pytorch_loss": torch_loss, "relative_difference": rel}))
    sys.exit(0 if rel < 1e-4 else 1)


if __name__ == "__main__":
    main()
