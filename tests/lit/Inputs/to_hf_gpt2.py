"""Rewrites a kiln checkpoint as a Hugging Face GPT2LMHeadModel file would store it: names under
"transformer.", the causal-mask buffers h.N.attn.bias, a tied lm_head.weight, no optimizer
state. Standard library only (safetensors is a simple format)."""
import json
import struct
import sys

src, dst = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
body = data[8 + n:]
out_header, out_body = {}, b""


def add(name, dtype, shape, raw):
    global out_body
    out_header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(out_body), len(out_body) + len(raw)]}
    out_body += raw


for name, e in header.items():
    if name == "__metadata__" or name.startswith("optimizer."):
        continue
    b, end = e["data_offsets"]
    add("transformer." + name, e["dtype"], e["shape"], body[b:end])
    if name == "wte.weight":
        add("lm_head.weight", e["dtype"], e["shape"], body[b:end])
    if name.endswith("ln_1.weight"):
        layer = name[: -len("ln_1.weight")]
        add("transformer." + layer + "attn.bias", "F32", [1, 1, 2, 2], struct.pack("<4f", 1, 0, 1, 1))
h = json.dumps(out_header).encode()
open(dst, "wb").write(struct.pack("<Q", len(h)) + h + out_body)
