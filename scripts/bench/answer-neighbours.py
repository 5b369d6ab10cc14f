#!/usr/bin/env python3
"""How support-answer's semantic vote was chosen (defaults/answer.yaml:
neighbours, temperature), on Banking77's train split only: every train
question is a query against the other 8,988 (leave-one-out), over the
embeddings of an index built from train, and the recall@1 of each setting is
printed beside the single nearest text's.

  scripts/data/banking77-kb.py /tmp/b77
  support-answer index --kb /tmp/b77/articles.jsonl --out /tmp/b77.index
  scripts/bench/answer-neighbours.py /tmp/b77.index

Needs numpy; installs it into target/bench-venv when python3 lacks it.
"""
import json
import os
import pathlib
import random
import subprocess
import sys

try:
    import numpy as np
except ImportError:
    venv = pathlib.Path(__file__).resolve().parents[2] / "target" / "bench-venv"
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([venv / "bin" / "pip", "install", "-q", "numpy"], check=True)
    os.execv(venv / "bin" / "python", [str(venv / "bin" / "python"), *sys.argv])

index_dir = pathlib.Path(sys.argv[1])
index = json.loads((index_dir / "index.json").read_text())
vectors = np.fromfile(index_dir / "vectors.f32", dtype="<f4").reshape(-1, index["dim"])
article_of = np.array([t["article"] for t in index["texts"]])
questions = [i for i, t in enumerate(index["texts"]) if t["kind"] == "question"]
articles = len(index["articles"])
random.seed(1)
sample = random.sample(questions, min(1500, len(questions)))


def vote(cosines, neighbours, temperature):
    nearest = np.argsort(-cosines, kind="stable")[:neighbours]
    scores = np.zeros(articles)
    np.add.at(scores, article_of[nearest], np.exp((cosines[nearest] - cosines[nearest[0]]) / temperature))
    return scores


results = {}
for query in sample:
    cosines = vectors @ vectors[query]
    cosines[query] = -9.0  # leave it out
    for setting in [(1, 1.0)] + [(k, t) for k in (5, 10, 20) for t in (0.01, 0.02, 0.05)]:
        right = int(np.argmax(vote(cosines, *setting)) == article_of[query])
        results[setting] = results.get(setting, 0) + right
for (neighbours, temperature), right in results.items():
    print(json.dumps({"neighbours": neighbours, "temperature": temperature, "recall_at_1": round(right / len(sample), 4)}))
