"""Writes a small labeled JSONL corpus of four topics whose sentences share filler words but not
topic words, so a classifier (or a cloze prompt) can tell them apart. Deterministic."""
import json
import random
import sys

TOPICS = {
    "food": ["bread", "soup", "cheese", "apple", "dinner", "kitchen", "pasta", "salt"],
    "law": ["court", "judge", "lawyer", "crime", "trial", "jury", "verdict", "police"],
    "love": ["heart", "kiss", "darling", "romance", "wedding", "sweet", "lover", "hug"],
    "sports": ["ball", "team", "goal", "coach", "match", "score", "player", "race"],
}
FILLER = ["the", "a", "and", "was", "very", "with", "after", "then", "my", "old", "new", "day"]

rng = random.Random(7)
with open(sys.argv[1], "w") as out:
    for i in range(100):
        for topic, words in TOPICS.items():
            text = " ".join(rng.choice(words) if rng.random() < 0.4 else rng.choice(FILLER) for _ in range(12))
            out.write(json.dumps({"text": text, "label": topic}) + "\n")
