#!/usr/bin/env python3
"""Writes a safetensors file of constant tensors (no framework needed).

usage: write_safetensors.py OUT NAME:DTYPE:D0,D1,...:VALUE ...   (DTYPE F32 or I32)
"""
import json
import struct
import sys

header, data = {}, b""
for arg in sys.argv[2:]:
    name, dtype, dims, value = arg.split(":")
    shape = [int(d) for d in dims.split(",") if d]
    n = 1
    for d in shape:
        n *= d
    blob = struct.pack(f"<{n}{'f' if dtype == 'F32' else 'i'}", *([float(value) if dtype == "F32" else int(value)] * n))
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(blob)]}
    data += blob
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data)
