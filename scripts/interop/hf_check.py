#!/usr/bin/env python3
"""Checks a kiln export against Hugging Face transformers: the folder loads with the Auto
classes, the tokenizer gives kiln's ids on a text with CJK, emoji, accents and whitespace runs,
and the model's loss on one batch of token ids equals the trainer's `score` of the same ids.

usage: hf_check.py --trainer TRAINER --checkpoint CKPT --export DIR --text FILE [--rtol 1e-5]
"""
import argparse
import subprocess
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

SAMPLE = ("Hello, world! It's kiln's export: don't stop.\n\n  Two  spaces\tand a tab.\n"
          "你好，世界！日本語のテキスト。한국어 문장.\n"
          "Emoji: 😀🎉👩‍💻 and flags 🇫🇷; naïve café, Ångström, Ελληνικά, русский.\n"
          "Numbers 12345 and 3.14159, symbols @#$%^&*()[]{}<>~`|\\ \u00a0nbsp\u3000ideographic space.\n")


def kiln(*args):
    return subprocess.run(list(args), check=True, capture_output=True, text=True).stdout


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--trainer", required=True)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--export", required=True)
    p.add_argument("--text", required=True, help="text the batch of token ids is cut from")
    p.add_argument("--rtol", type=float, default=1e-5)
    args = p.parse_args()
    print(f"transformers {transformers.__version__}, torch {torch.__version__}")
    failures = 0

    tok = AutoTokenizer.from_pretrained(args.export)
    model = AutoModelForCausalLM.from_pretrained(args.export)
    model.eval()
    print(f"loaded {type(model).__name__} and {type(tok).__name__} from {args.export}")

    # The tokenizer: the same ids as the trainer's own on a text of many scripts.
    with open(args.export + "/sample.txt", "w", encoding="utf-8") as f:
        f.write(SAMPLE)
    mine = [int(x) for x in kiln(args.trainer, "tokenize", "--file", args.export + "/sample.txt").split()]
    theirs = tok(SAMPLE, add_special_tokens=False)["input_ids"]
    same = mine == theirs
    print(f"tokenizer: {len(mine)} ids from kiln, {len(theirs)} from transformers: {'the same' if same else 'DIFFERENT'}")
    if not same:
        at = next((i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b), min(len(mine), len(theirs)))
        print(f"  first difference at id {at}: kiln {mine[at:at + 8]}, transformers {theirs[at:at + 8]}")
        failures += 1
    round_trip = tok.decode(theirs) == SAMPLE
    print(f"tokenizer: decode(encode(text)) {'round-trips' if round_trip else 'DIFFERS'}")
    failures += not round_trip

    # The loss of one batch: rows of context + 1 ids cut from the text.
    info = kiln(args.trainer, "info")
    batch = int(info.split("batch ")[1].split()[0].rstrip(","))
    context = int(info.split("context ")[1].split(",")[0])
    ids = tok(open(args.text, encoding="utf-8", errors="replace").read(), add_special_tokens=False)["input_ids"]
    need = batch * (context + 1)
    if len(ids) < need:
        sys.exit(f"hf_check: {args.text} gives {len(ids)} ids, the batch needs {need}")
    rows = torch.tensor(ids[:need]).view(batch, context + 1)
    with open(args.export + "/batch.txt", "w") as f:
        f.write("\n".join(" ".join(str(int(x)) for x in r) for r in rows))
    kiln_loss = float(kiln(args.trainer, "score", "--tokens", args.export + "/batch.txt", "--checkpoint", args.checkpoint))
    with torch.no_grad():
        logits = model(rows[:, :-1]).logits
        hf_loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).double(), rows[:, 1:].reshape(-1)).item()
    rel = abs(kiln_loss - hf_loss) / abs(hf_loss)
    ok = rel <= args.rtol
    print(f"loss of one batch ({batch} x {context + 1} ids): kiln {kiln_loss:.9g}, transformers {hf_loss:.9g}, "
          f"relative difference {rel:.2e} ({'within' if ok else 'OVER'} {args.rtol:g})")
    failures += not ok
    print(f"hf_check: {'passed' if failures == 0 else f'{failures} check(s) failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
