#!/usr/bin/env python3
"""Prints a safetensors file's metadata and its tensors' names, dtypes and shapes, one per line,
sorted by name (the header only; no framework needed).

usage: safetensors_names.py FILE
"""
import json
import struct
import sys

with open(sys.argv[1], "rb") as f:
    (n,) = struct.unpack("<Q", f.read(8))
    header = json.loads(f.read(n))
print("metadata", json.dumps(header.pop("__metadata__", {}), sort_keys=True))
for name in sorted(header):
    print(name, header[name]["dtype"], header[name]["shape"])
