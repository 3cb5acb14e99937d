#!/usr/bin/env python3
"""Generates Tests/Fixtures/minilm/slow_fast_codepoints.json: every assigned code point (Unicode of this Python's
unicodedata) on which Hugging Face's slow BertTokenizer and the fast (Rust) BertTokenizerFast give different ids for
all-MiniLM-L6-v2, with both answers. Causa's WordPieceTokenizer follows the slow tokenizer (BERT's original rules).

Each code point is tokenized inside the text "a<cp>b", so a character that is its own word (CJK), one that is
dropped, and one that joins its neighbours give different ids.

Usage (transformers 4.x: in 5.x `BertTokenizer` is the Rust-backed one):
    python3 -m venv /tmp/tokvenv4 && /tmp/tokvenv4/bin/pip install "transformers==4.57.6" "tokenizers==0.22.2"
    /tmp/tokvenv4/bin/python Tests/Fixtures/minilm/scripts/make_slow_fast_codepoints.py models/all-MiniLM-L6-v2
"""
import json
import platform
import sys
import unicodedata

import tokenizers
import transformers
from transformers import BertTokenizer, BertTokenizerFast


def main():
    model = sys.argv[1]
    slow = BertTokenizer.from_pretrained(model)
    fast = BertTokenizerFast.from_pretrained(model)
    rows = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        category = unicodedata.category(chr(cp))
        if category == "Cn":  # unassigned: known to differ, not listed
            continue
        text = "a" + chr(cp) + "b"
        s = slow(text)["input_ids"]
        f = fast(text)["input_ids"]
        if s != f:
            rows.append({"code_point": "U+%04X" % cp, "category": category,
                         "name": unicodedata.name(chr(cp), ""), "text": text, "input_ids": s, "fast_input_ids": f})
    out = {
        "generated_with": {
            "script": "Tests/Fixtures/minilm/scripts/make_slow_fast_codepoints.py",
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "python": platform.python_version(),
            "unicodedata": unicodedata.unidata_version,
            "scope": "every assigned code point (category not Cn, no surrogates), tokenized as 'a' + cp + 'b'",
            "disagreements": len(rows),
        },
        "cases": rows,
    }
    path = "Tests/Fixtures/minilm/slow_fast_codepoints.json"
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=True)
        f.write("\n")
    print(f"{len(rows)} assigned code points differ; written to {path}")


if __name__ == "__main__":
    main()
