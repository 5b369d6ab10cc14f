#!/usr/bin/env python3
"""Writes crates/support-embed/tests/fixtures/reference.json: embeddings of a
few Spanish and English texts by the weights' reference engine (e5.c, through
scripts/dev/e5-reference.sh), which the embedding test compares with candle's.
Run once after changing the texts; the output is committed (about 40 KB)."""
import json
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEXTS = {
    "query": [
        "¿Cómo restablezco mi contraseña?",
        "No me ha llegado el reembolso de mi pedido 4521",
        "My card was charged twice for the same order",
        "The app crashes every time I open the invoices page",
        "Alguien ha entrado en mi cuenta y ha cambiado el correo",
    ],
    "passage": [
        "Reset your password: open Settings, choose Security and follow the link we send to your email.",
        "Los reembolsos tardan entre 5 y 10 días hábiles en aparecer en tu cuenta bancaria.",
        "hola",
    ],
}


def main():
    cases = []
    for role, texts in TEXTS.items():
        out = subprocess.run(
            [ROOT / "scripts/dev/e5-reference.sh", role, "vectors"],
            input="\n".join(texts) + "\n", capture_output=True, text=True, check=True,
        ).stdout.splitlines()
        cases += [{"role": role, "text": t, "vector": json.loads(v)} for t, v in zip(texts, out, strict=True)]
    path = ROOT / "crates/support-embed/tests/fixtures/reference.json"
    path.write_text(json.dumps(cases, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(cases)} reference embeddings to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
