#!/usr/bin/env python3
"""Makes a Hugging Face BERT folder the way transformers users get one: a WordPiece vocabulary
trained by `tokenizers` on a text (uncased), a BertForPreTraining with random weights (or
--bert-model: BertModel, no heads, names without a prefix), both saved by save_pretrained.

usage: make_hf_bert.py DIR --text FILE [--bert-model] [--hidden 64 --layers 2 --heads 2 --vocab 2000]
"""
import argparse
import os

import torch
from tokenizers import BertWordPieceTokenizer
from transformers import BertConfig, BertForPreTraining, BertModel, BertTokenizerFast

p = argparse.ArgumentParser()
p.add_argument("dir")
p.add_argument("--text", required=True)
p.add_argument("--bert-model", action="store_true")
p.add_argument("--hidden", type=int, default=64)
p.add_argument("--layers", type=int, default=2)
p.add_argument("--heads", type=int, default=2)
p.add_argument("--vocab", type=int, default=2000)
args = p.parse_args()
os.makedirs(args.dir, exist_ok=True)
torch.manual_seed(1)

wp = BertWordPieceTokenizer(lowercase=True)
wp.train([args.text], vocab_size=args.vocab, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
wp.save_model(args.dir)
tok = BertTokenizerFast(vocab=os.path.join(args.dir, "vocab.txt"), do_lower_case=True)
tok.save_pretrained(args.dir)
config = BertConfig(vocab_size=tok.vocab_size, hidden_size=args.hidden, num_hidden_layers=args.layers,
                    num_attention_heads=args.heads, intermediate_size=4 * args.hidden, max_position_embeddings=128)
model = (BertModel(config) if args.bert_model else BertForPreTraining(config)).eval()
model.save_pretrained(args.dir)
print(f"wrote {args.dir}: {type(model).__name__}, vocab {tok.vocab_size}, hidden {args.hidden}, {args.layers} layers")
