#!/usr/bin/env python3
"""Checks a kiln export against Hugging Face transformers: the folder loads with the Auto class
of its architecture and AutoTokenizer; the tokenizer gives kiln's ids on a text with CJK, emoji,
accents and whitespace runs; and the model's loss (and a classifier's logits, a BERT's last
hidden states) on one batch equal the trainer's own on the same inputs (`score --tokens` for a causal LM, `score --inputs` for the
others), to --rtol.

usage: hf_check.py --trainer TRAINER --checkpoint CKPT --export DIR --text FILE [--rtol 1e-5]
  DIR is the Hugging Face folder: the trainer's export, or the folder the trainer started from
  (objective.init_from; CKPT then from `TRAINER init --init-from DIR`).
"""
import argparse
import os
import random
import re
import subprocess
import sys

import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoTokenizer

SAMPLE = ("Hello, world! It's kiln's export: don't stop.\n\n  Two  spaces\tand a tab.\n"
          "你好，世界！日本語のテキスト。한국어 문장.\n"
          "Emoji: 😀🎉👩‍💻 and flags 🇫🇷; naïve café, Ångström, Ελληνικά, русский.\n"
          "Numbers 12345 and 3.14159, symbols @#$%^&*()[]{}<>~`|\\ \u00a0nbsp\u3000ideographic space.\n")

AUTO = {
    "GPT2LMHeadModel": "AutoModelForCausalLM",
    "GPT2ForSequenceClassification": "AutoModelForSequenceClassification",
    "BertForPreTraining": "AutoModelForPreTraining",
    "BertForMaskedLM": "AutoModelForMaskedLM",
    "BertForSequenceClassification": "AutoModelForSequenceClassification",
    "BartForConditionalGeneration": "AutoModelForSeq2SeqLM",
}


def run(*args):
    return subprocess.run(list(args), check=True, capture_output=True, text=True).stdout


def relative(a, b):
    return (a - b).abs().max().item() / max(b.abs().max().item(), 1e-30)


def eval_inputs(info):
    """eval_step's inputs from `TRAINER info`: name -> (dtype, shape)."""
    line = next(l for l in info.splitlines() if l.startswith("eval_step inputs:"))
    out = {}
    for name, dtype, dims in re.findall(r"(\w+) (\w+)\[([0-9,]*)\]", line):
        out[name] = (dtype, [int(d) for d in dims.split(",") if d])
    return out


class Check:
    def __init__(self, args):
        self.args, self.failures = args, 0
        self.path = lambda name: os.path.join(args.export, name)

    def verdict(self, what, ok, detail):
        print(f"{what}: {detail} ({'within' if ok else 'OVER'} {self.args.rtol:g})")
        self.failures += not ok

    def score(self, inputs):
        """The trainer's eval_step on `inputs`: scalar outputs by name, and every output."""
        save_file(inputs, self.path("inputs.safetensors"))
        text = run(self.args.trainer, "score", "--inputs", self.path("inputs.safetensors"), "--outputs",
                   self.path("outputs.safetensors"), "--checkpoint", self.args.checkpoint)
        scalars = {l.split()[0]: float(l.split()[1]) for l in text.splitlines() if l.strip()}
        return scalars, load_file(self.path("outputs.safetensors"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--trainer", required=True)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--export", required=True)
    p.add_argument("--text", required=True, help="text the inputs are cut from")
    p.add_argument("--rtol", type=float, default=1e-5)
    args = p.parse_args()
    check = Check(args)
    rng = random.Random(1)
    torch.manual_seed(1)

    config = AutoConfig.from_pretrained(args.export)
    arch = config.architectures[0]
    auto = getattr(transformers, AUTO[arch])
    model = auto.from_pretrained(args.export).eval()
    tok = AutoTokenizer.from_pretrained(args.export)
    print(f"transformers {transformers.__version__}: {AUTO[arch]} loaded {type(model).__name__}, AutoTokenizer {type(tok).__name__}")
    if type(model).__name__ != arch:
        print(f"  expected {arch}")
        check.failures += 1

    # The tokenizer: kiln's ids on a text of many scripts, and back to the text.
    with open(check.path("sample.txt"), "w", encoding="utf-8") as f:
        f.write(SAMPLE)
    mine = [int(x) for x in run(args.trainer, "tokenize", "--file", check.path("sample.txt")).split()]
    theirs = tok(SAMPLE, add_special_tokens=False)["input_ids"]
    same = mine == theirs
    print(f"tokenizer: {len(mine)} ids from kiln, {len(theirs)} from transformers: {'the same' if same else 'DIFFERENT'}")
    if not same:
        at = next((i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b), min(len(mine), len(theirs)))
        print(f"  first difference at id {at}: kiln {mine[at:at + 8]}, transformers {theirs[at:at + 8]}")
        check.failures += 1
    if arch.startswith("Bert"):  # one text is wrapped as [CLS] text [SEP], as kiln's rows are
        cls, sep = tok.convert_tokens_to_ids("[CLS]"), tok.convert_tokens_to_ids("[SEP]")
        wrapped = tok(SAMPLE)["input_ids"] == [cls] + mine + [sep]
        print(f"tokenizer: one text becomes {'[CLS] text [SEP]' if wrapped else 'SOMETHING ELSE than [CLS] text [SEP]'}")
        check.failures += not wrapped
    if type(tok.backend_tokenizer.model).__name__ == "WordPiece":
        print("tokenizer: WordPiece (lower-cased, [UNK] for unknown words): not expected to round-trip")
    else:
        round_trip = tok.decode(theirs) == SAMPLE
        print(f"tokenizer: decode(encode(text)) {'round-trips' if round_trip else 'DIFFERS'}")
        check.failures += not round_trip

    info = run(args.trainer, "info")
    shapes = eval_inputs(info)
    ids = tok(open(args.text, encoding="utf-8", errors="replace").read()[:200000], add_special_tokens=False)["input_ids"]
    specials = {t: tok.convert_tokens_to_ids(t) for t in ("[PAD]", "[CLS]", "[SEP]", "[MASK]")}

    def span(n):
        at = rng.randrange(0, len(ids) - n)
        return ids[at:at + n]

    with torch.no_grad():
        if arch == "GPT2LMHeadModel":
            B, T1 = shapes["tokens"][1]
            rows = torch.tensor([span(T1) for _ in range(B)])
            with open(check.path("batch.txt"), "w") as f:
                f.write("\n".join(" ".join(str(int(x)) for x in r) for r in rows))
            kiln_loss = float(run(args.trainer, "score", "--tokens", check.path("batch.txt"), "--checkpoint", args.checkpoint))
            logits = model(rows[:, :-1]).logits
            hf_loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).double(), rows[:, 1:].reshape(-1)).item()
            check.verdict(f"loss of {B} x {T1} ids", abs(kiln_loss - hf_loss) <= args.rtol * abs(hf_loss),
                          f"kiln {kiln_loss:.9g}, transformers {hf_loss:.9g}")

        elif arch in ("GPT2ForSequenceClassification", "BertForSequenceClassification"):
            B, T = shapes["input_ids"][1]
            encoder = arch.startswith("Bert")
            pad = specials["[PAD]"] if encoder else tok.convert_tokens_to_ids("<|endoftext|>")
            input_ids = torch.full((B, T), pad, dtype=torch.int32)
            mask = torch.zeros((B, T), dtype=torch.float32)
            for r in range(B):
                n = rng.randrange(1, T - 1 if encoder else T + 1)
                row = ([specials["[CLS]"]] + span(n) + [specials["[SEP]"]]) if encoder else span(n)
                input_ids[r, :len(row)] = torch.tensor(row)
                mask[r, :len(row)] = 1
            labels = torch.tensor([rng.randrange(config.num_labels) for _ in range(B)], dtype=torch.int32)
            scalars, outs = check.score({"input_ids": input_ids, "attention_mask": mask, "labels": labels})
            hf = model(input_ids=input_ids.long(), attention_mask=mask.long(), labels=labels.long())
            check.verdict(f"logits of {B} rows", relative(outs["val_logits"].double(), hf.logits.double()) <= args.rtol,
                          f"largest difference {relative(outs['val_logits'].double(), hf.logits.double()):.2e} of the largest logit")
            check.verdict("loss", abs(scalars["val_loss"] - hf.loss.item()) <= args.rtol * abs(hf.loss.item()),
                          f"kiln {scalars['val_loss']:.9g}, transformers {hf.loss.item():.9g}")

        elif arch in ("BertForPreTraining", "BertForMaskedLM"):
            B, T = shapes["input_ids"][1]
            nsp = "nsp_labels" in shapes
            input_ids = torch.full((B, T), specials["[PAD]"], dtype=torch.int32)
            segments = torch.zeros((B, T), dtype=torch.int32)
            mask = torch.zeros((B, T), dtype=torch.float32)
            mlm_labels = torch.full((B, T), -100, dtype=torch.int32)
            for r in range(B):
                a = span(rng.randrange(2, (T - 3) // 2))
                b = span(rng.randrange(2, (T - 3) // 2))
                row = [specials["[CLS]"]] + a + [specials["[SEP]"]] + b + [specials["[SEP]"]]
                input_ids[r, :len(row)] = torch.tensor(row)
                segments[r, len(a) + 2:len(row)] = 1
                mask[r, :len(row)] = 1
                for t in range(1, len(row) - 1):
                    if row[t] != specials["[SEP]"] and rng.random() < 0.2:
                        mlm_labels[r, t] = row[t]
                        input_ids[r, t] = specials["[MASK]"]
            inputs = {"input_ids": input_ids, "segment_ids": segments, "attention_mask": mask, "mlm_labels": mlm_labels}
            kwargs = dict(input_ids=input_ids.long(), token_type_ids=segments.long(), attention_mask=mask.long(), labels=mlm_labels.long())
            if nsp:
                inputs["nsp_labels"] = torch.tensor([rng.randrange(2) for _ in range(B)], dtype=torch.int32)
                kwargs["next_sentence_label"] = inputs["nsp_labels"].long()
            scalars, outs = check.score(inputs)
            hf = model(**kwargs, output_hidden_states=True)
            # The encoder's last hidden states (BertModel's last_hidden_state), padding included.
            hidden = relative(outs["val_hidden"].double(), hf.hidden_states[-1].double())
            check.verdict(f"encoder hidden states of {B} x {T} positions", hidden <= args.rtol,
                          f"largest difference {hidden:.2e} of the largest value")
            check.verdict(f"loss (MLM{' + NSP' if nsp else ''}) of {B} rows", abs(scalars["val_loss"] - hf.loss.item()) <= args.rtol * abs(hf.loss.item()),
                          f"kiln {scalars['val_loss']:.9g}, transformers {hf.loss.item():.9g}")

        elif arch == "BartForConditionalGeneration":
            B, S = shapes["input_ids"][1]
            pad, eos = config.pad_token_id, config.eos_token_id
            input_ids = torch.full((B, S), pad, dtype=torch.int32)
            mask = torch.zeros((B, S), dtype=torch.float32)
            dec = torch.full((B, S), pad, dtype=torch.int32)
            labels = torch.full((B, S), -100, dtype=torch.int32)
            for r in range(B):
                src = span(rng.randrange(4, S + 1))
                tgt = span(rng.randrange(2, S)) + [eos]
                input_ids[r, :len(src)] = torch.tensor(src)
                mask[r, :len(src)] = 1
                dec[r, :len(tgt)] = torch.tensor([eos] + tgt[:-1])
                labels[r, :len(tgt)] = torch.tensor(tgt)
            scalars, _ = check.score({"input_ids": input_ids, "attention_mask": mask, "decoder_input_ids": dec, "labels": labels})
            hf = model(input_ids=input_ids.long(), attention_mask=mask.long(), decoder_input_ids=dec.long(), labels=labels.long())
            check.verdict(f"loss of {B} source/target pairs", abs(scalars["val_loss"] - hf.loss.item()) <= args.rtol * abs(hf.loss.item()),
                          f"kiln {scalars['val_loss']:.9g}, transformers {hf.loss.item():.9g}")

    print(f"hf_check: {'passed' if check.failures == 0 else f'{check.failures} check(s) failed'}")
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
