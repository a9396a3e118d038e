#!/usr/bin/env python3
"""Prints a safetensors file's metadata and its tensors' names, dtypes and shapes, one per line,
sorted by name (no framework needed). With --zero-rows NAME, also how many leading rows of that
F32 tensor are all zeros and how many of the rest are not.

usage: safetensors_names.py FILE [--zero-rows NAME]
"""
import json
import struct
import sys

with open(sys.argv[1], "rb") as f:
    (n,) = struct.unpack("<Q", f.read(8))
    header = json.loads(f.read(n))
    data = f.read()
print("metadata", json.dumps(header.pop("__metadata__", {}), sort_keys=True))
for name in sorted(header):
    print(name, header[name]["dtype"], header[name]["shape"])
if len(sys.argv) > 3 and sys.argv[2] == "--zero-rows":
    t = header[sys.argv[3]]
    begin, end = t["data_offsets"]
    values = struct.unpack(f"<{(end - begin) // 4}f", data[begin:end])
    width = len(values) // t["shape"][0]
    rows = [values[i * width:(i + 1) * width] for i in range(t["shape"][0])]
    leading = next((i for i, r in enumerate(rows) if any(r)), len(rows))
    print(f"{sys.argv[3]}: {leading} leading zero row(s), {sum(any(r) for r in rows[leading:])} nonzero row(s) after them")
