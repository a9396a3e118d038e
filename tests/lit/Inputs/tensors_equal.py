"""Compares tensor NAME in two safetensors files: exit 0 when the bytes are equal, 1 otherwise."""
import json
import struct
import sys


def tensor(path, name):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        begin, end = header[name]["data_offsets"]
        f.seek(8 + n + begin)
        return f.read(end - begin)


a, b, name = sys.argv[1], sys.argv[2], sys.argv[3]
same = tensor(a, name) == tensor(b, name)
print(f"{name}: {'equal' if same else 'different'}")
sys.exit(0 if same else 1)
