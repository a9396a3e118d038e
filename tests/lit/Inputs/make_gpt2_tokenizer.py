"""Writes a GPT-2-format tokenizer (vocab.json with GPT-2's byte-to-unicode mapping and
\\u escapes, merges.txt with a version line) to the folder given: the 256 byte tokens, three
merges (" t", "he", " the") and <|endoftext|>."""
import json
import os
import sys


def bytes_to_unicode():  # GPT-2's mapping
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


out = sys.argv[1]
os.makedirs(out, exist_ok=True)
table = bytes_to_unicode()
vocab = {table[b]: b for b in range(256)}
merges = [("\u0120", "t"), ("h", "e"), ("\u0120t", "he")]
for a, b in merges:
    vocab[a + b] = len(vocab)
vocab["<|endoftext|>"] = len(vocab)
json.dump(vocab, open(os.path.join(out, "vocab.json"), "w"))  # ensure_ascii: \\u escapes, as GPT-2's file
with open(os.path.join(out, "merges.txt"), "w", encoding="utf-8") as f:
    f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
