#!/usr/bin/env python3
"""Writes a Hugging Face BERT folder as users get one (no framework needed): config.json,
tokenizer_config.json, a WordPiece vocab.txt built from a text file (BERT's specials first,
whole lower-cased words, their "##" continuations, single characters), and model.safetensors of
random weights under BertModel's names (no prefix) or BertForPreTraining's ("bert.", "cls.").

usage: make_hf_bert.py DIR --text FILE [--hidden 32 --heads 2 --layers 2 --intermediate 64
                       --positions 64 --words 400] [--pretraining] [--seed 1]
"""
import argparse
import collections
import json
import os
import random
import re
import struct

p = argparse.ArgumentParser()
p.add_argument("dir")
p.add_argument("--text", required=True)
p.add_argument("--hidden", type=int, default=32)
p.add_argument("--heads", type=int, default=2)
p.add_argument("--layers", type=int, default=2)
p.add_argument("--intermediate", type=int, default=64)
p.add_argument("--positions", type=int, default=64)
p.add_argument("--words", type=int, default=400)
p.add_argument("--pretraining", action="store_true")
p.add_argument("--seed", type=int, default=1)
args = p.parse_args()
os.makedirs(args.dir, exist_ok=True)
rng = random.Random(args.seed)

text = open(args.text, encoding="utf-8", errors="replace").read().lower()
words = collections.Counter(re.findall(r"[a-z]+", text))
chars = sorted({c for c in text if not c.isspace() and ord(c) < 0x250})
vocab = ["[PAD]"] + [f"[unused{i}]" for i in range(4)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
vocab += chars + ["##" + c for c in chars if c.isalnum()]
for w, _ in words.most_common(args.words):
    if w not in vocab:
        vocab.append(w)
    if len(w) > 3 and "##" + w[2:] not in vocab:
        vocab.append("##" + w[2:])
with open(os.path.join(args.dir, "vocab.txt"), "w", encoding="utf-8") as f:
    f.write("\n".join(vocab) + "\n")
V, C, FF, P = len(vocab), args.hidden, args.intermediate, args.positions

json.dump({"architectures": ["BertForPreTraining" if args.pretraining else "BertModel"], "model_type": "bert",
           "vocab_size": V, "hidden_size": C, "num_hidden_layers": args.layers, "num_attention_heads": args.heads,
           "intermediate_size": FF, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
           "max_position_embeddings": P, "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12,
           "pad_token_id": 0, "position_embedding_type": "absolute"},
          open(os.path.join(args.dir, "config.json"), "w"), indent=2)
json.dump({"do_lower_case": True, "tokenizer_class": "BertTokenizer", "model_max_length": P},
          open(os.path.join(args.dir, "tokenizer_config.json"), "w"), indent=2)

pre = "bert." if args.pretraining else ""
tensors = {}


def normal(*shape):
    n = 1
    for d in shape:
        n *= d
    return list(shape), [rng.gauss(0, 0.02) for _ in range(n)]


def const(value, *shape):
    n = 1
    for d in shape:
        n *= d
    return list(shape), [value] * n


tensors[pre + "embeddings.word_embeddings.weight"] = normal(V, C)
tensors[pre + "embeddings.position_embeddings.weight"] = normal(P, C)
tensors[pre + "embeddings.token_type_embeddings.weight"] = normal(2, C)
tensors[pre + "embeddings.LayerNorm.weight"] = const(1.0, C)
tensors[pre + "embeddings.LayerNorm.bias"] = const(0.0, C)
for i in range(args.layers):
    L = f"{pre}encoder.layer.{i}."
    for name, out, inp in [("attention.self.query", C, C), ("attention.self.key", C, C), ("attention.self.value", C, C),
                           ("attention.output.dense", C, C), ("intermediate.dense", FF, C), ("output.dense", C, FF)]:
        tensors[L + name + ".weight"] = normal(out, inp)
        tensors[L + name + ".bias"] = normal(out)
    for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
        tensors[L + norm + ".weight"] = const(1.0, C)
        tensors[L + norm + ".bias"] = const(0.0, C)
tensors[pre + "pooler.dense.weight"] = normal(C, C)
tensors[pre + "pooler.dense.bias"] = normal(C)
if args.pretraining:
    tensors["cls.predictions.transform.dense.weight"] = normal(C, C)
    tensors["cls.predictions.transform.dense.bias"] = normal(C)
    tensors["cls.predictions.transform.LayerNorm.weight"] = const(1.0, C)
    tensors["cls.predictions.transform.LayerNorm.bias"] = const(0.0, C)
    tensors["cls.predictions.bias"] = const(0.0, V)
    tensors["cls.seq_relationship.weight"] = normal(2, C)
    tensors["cls.seq_relationship.bias"] = const(0.0, 2)
position_ids = struct.pack(f"<{P}q", *range(P))  # a buffer some files carry

header, data = {}, b""
for name, (shape, values) in sorted(tensors.items()):
    blob = struct.pack(f"<{len(values)}f", *values)
    header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(blob)]}
    data += blob
header[pre + "embeddings.position_ids"] = {"dtype": "I64", "shape": [1, P], "data_offsets": [len(data), len(data) + len(position_ids)]}
data += position_ids
header["__metadata__"] = {"format": "pt"}
blob = json.dumps(header).encode()
blob += b" " * (-len(blob) % 8)
with open(os.path.join(args.dir, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(blob)) + blob + data)
print(f"wrote {args.dir}: {'BertForPreTraining' if args.pretraining else 'BertModel'}, vocab {V}, hidden {C}, "
      f"{args.layers} layers, {len(tensors)} tensors")
