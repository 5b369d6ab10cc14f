#!/usr/bin/env python3
"""Builds a knowledge base from Banking77 for support-answer's retrieval
figures: one article per intent (title: the intent's name), its train
utterances as `questions`; the dev utterances are the queries.

  scripts/data/banking77-kb.py OUT_DIR     # writes OUT_DIR/articles.jsonl and OUT_DIR/queries.csv
"""
import csv
import json
import pathlib
import sys

DATA = pathlib.Path(__file__).resolve().parents[3] / "shared/datasets/banking77"


def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    questions = {}
    with open(DATA / "train.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            questions.setdefault(row["label"], []).append(row["text"])
    with open(out / "articles.jsonl", "w", encoding="utf-8") as f:
        for label in sorted(questions):
            title = label.replace("_", " ").rstrip("?").strip().capitalize()
            article = {"id": label, "title": title, "body": title, "questions": questions[label], "language": "en"}
            f.write(json.dumps(article, ensure_ascii=False) + "\n")
    with open(DATA / "dev.csv", encoding="utf-8") as src, open(out / "queries.csv", "w", encoding="utf-8", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(["text", "article_id"])
        for row in csv.DictReader(src):
            writer.writerow([row["text"], row["label"]])
    print(f"{len(questions)} articles, {sum(map(len, questions.values()))} questions -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
