"""Writes the fuzz targets' seed corpora (tests/fuzz/seeds/<target>/) from files in the tree and
from a small trainer: `python3 tests/fuzz/make_seeds.py TRAINER` where TRAINER was compiled from
tests/lit/Inputs/e2e.toml. Seeds are small (libFuzzer's inputs are capped at a few KiB by
default) and deterministic; rerun after a format change."""
import json
import os
import shutil
import struct
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
out = os.path.join(root, "tests", "fuzz", "seeds")
trainer = sys.argv[1]


def put(target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def read(path):
    with open(os.path.join(root, path), "rb") as f:
        return f.read()


# Inputs that once crashed a target ("regression-*") are kept across regenerations.
kept = {}
for target in os.listdir(out) if os.path.isdir(out) else []:
    for name in os.listdir(os.path.join(out, target)):
        if name.startswith("regression-"):
            kept[(target, name)] = open(os.path.join(out, target, name), "rb").read()
shutil.rmtree(out, ignore_errors=True)
for path in ["examples/mlp.kir", "tests/lit/Inputs/affine.kir", "tests/lit/Inputs/gather_oob.kir", "tests/lit/autodiff/single_ops.kir"]:
    put("ir", os.path.basename(path), read(path))
for path in ["models/gpt-tiny.toml", "models/bert-tiny.toml", "models/t5-tiny.toml", "models/gpt-reinforce-tiny.toml",
             "models/bert-cloze-tiny.toml", "tests/lit/Inputs/e2e.toml"]:
    put("spec", os.path.basename(path), read(path))

# The trainer's payload: launcher | runtime | payload | u64 size | u64 checksum | "KILNEXE1", then
# the launcher's trailer: u64 launcher size | u64 runtime size | u64 file size | "KILNLNC1".
data = open(trainer, "rb").read()
if data.endswith(b"KILNLNC1"):
    data = data[:-32]
size = struct.unpack("<Q", data[-24:-16])[0]
payload = data[-24 - size:-24]
sections, at = {}, 12
while at < len(payload):
    n = struct.unpack("<I", payload[at:at + 4])[0]
    name = payload[at + 4:at + 4 + n].decode()
    m = struct.unpack("<Q", payload[at + 4 + n:at + 12 + n])[0]
    sections[name] = payload[at + 12 + n:at + 12 + n + m]
    at += 12 + n + m


def serialize(secs):
    p = b"KILNPAY1" + struct.pack("<I", 1)
    for name, body in sorted(secs.items()):
        p += struct.pack("<I", len(name)) + name.encode() + struct.pack("<Q", len(body)) + body
    return p


# A loadable executable without its device sections, and its parts alone.
put("executable", "whole", serialize({k: sections[k] for k in ["config", "module", "vocab.json", "merges.txt"]}))
put("executable", "config-only", serialize({"config": sections["config"]}))
put("executable", "module-only", serialize({"module": read("examples/mlp.kir")}))
put("executable", "tokenizer-only", serialize({"vocab.json": sections["vocab.json"], "merges.txt": sections["merges.txt"]}))
put("tokenizer", "e2e", sections["vocab.json"] + b"\0" + sections["merges.txt"])
vocab = {chr(0x100 + i) if i < 33 else chr(i): i for i in range(40)}
put("tokenizer", "small", json.dumps(vocab).encode() + b"\0" + b"#version: 0.2\nT h\n")


def safetensors(tensors, meta):
    header, body = {"__metadata__": meta}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(body), len(body) + len(raw)]}
        body += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


put("safetensors", "small", safetensors({"w": ("F32", [2, 3], struct.pack("<6f", 1, 2, 3, 4, 5, 6)),
                                          "step": ("I64", [], struct.pack("<q", 7))}, {"kiln.step": "7"}))
put("safetensors", "kinds", safetensors({"a": ("BF16", [2], b"\x80\x3f\x00\x40"), "b": ("F16", [1], b"\x00\x3c"),
                                          "c": ("F64", [1], struct.pack("<d", 0.5)), "d": ("BOOL", [2], b"\x01\x00")}, {}))
put("corpus", "fortunes", read("tests/lit/Inputs/empty_corpus.txt") + b"%\nA fortune.\n%\nAnother \xe2\x80\x94 one.\n")
put("corpus", "jsonl", b'{"text": "a day at the beach", "label": "leisure"}\n{"text": "tax law", "label": 3}\n\n')
for (target, name), data in kept.items():
    put(target, name, data)
