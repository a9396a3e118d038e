#!/usr/bin/env python3
"""Pretrains a BERT with Hugging Face transformers on a text corpus (masked LM, no NSP) and saves
it as users get pretrained encoders: save_pretrained's config.json + model.safetensors and an
uncased WordPiece vocab.txt trained by `tokenizers`. The recipe's stand-in for a downloaded
encoder (docs/recipe.md, "From a Hugging Face encoder").

usage: pretrain_hf_bert.py DIR --files GLOB [--steps 1500 --batch 8 --context 128]
"""
import argparse
import glob
import os
import random
import time

import torch
from tokenizers import BertWordPieceTokenizer
from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

p = argparse.ArgumentParser()
p.add_argument("dir")
p.add_argument("--files", required=True)
p.add_argument("--steps", type=int, default=1500)
p.add_argument("--batch", type=int, default=8)
p.add_argument("--context", type=int, default=128)
p.add_argument("--vocab", type=int, default=2048)
p.add_argument("--lr", type=float, default=5e-4)
args = p.parse_args()
os.makedirs(args.dir, exist_ok=True)
torch.manual_seed(1)
rng = random.Random(1)

files = sorted(f for f in glob.glob(args.files) if not f.endswith((".dat", ".u8")) and os.path.isfile(f))
wp = BertWordPieceTokenizer(lowercase=True)
wp.train(files, vocab_size=args.vocab, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
wp.save_model(args.dir)
tok = BertTokenizerFast(vocab=os.path.join(args.dir, "vocab.txt"), do_lower_case=True)
tok.save_pretrained(args.dir)
stream = []
for f in files:
    for doc in open(f, encoding="utf-8", errors="replace").read().split("\n%\n"):
        stream += tok(doc, add_special_tokens=False)["input_ids"] + [tok.sep_token_id]
print(f"{len(stream)} tokens from {len(files)} files, vocab {tok.vocab_size}")

config = BertConfig(vocab_size=tok.vocab_size, hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024,
                    max_position_embeddings=args.context, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
model = BertForMaskedLM(config)
opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 100) * max(0.1, 1 - s / args.steps))
T = args.context - 2
start = time.time()
for step in range(1, args.steps + 1):
    rows = []
    for _ in range(args.batch):
        at = rng.randrange(0, len(stream) - T)
        rows.append([tok.cls_token_id] + stream[at:at + T] + [tok.sep_token_id])
    ids = torch.tensor(rows)
    labels = torch.full_like(ids, -100)
    pick = (torch.rand(ids.shape) < 0.15) & (ids != tok.cls_token_id) & (ids != tok.sep_token_id)
    labels[pick] = ids[pick]
    how = torch.rand(ids.shape)
    ids = ids.clone()
    ids[pick & (how < 0.8)] = tok.mask_token_id
    rand = pick & (how >= 0.8) & (how < 0.9)
    ids[rand] = torch.randint(5, tok.vocab_size, (int(rand.sum()),))
    loss = model(input_ids=ids, labels=labels).loss
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    sched.step()
    if step % 250 == 0 or step == args.steps:
        print(f"step {step}/{args.steps} mlm loss {loss.item():.4f} ({time.time() - start:.0f} s)", flush=True)
model.save_pretrained(args.dir)
print(f"wrote {args.dir}: BertForMaskedLM, {sum(p.numel() for p in model.parameters())} parameters")
