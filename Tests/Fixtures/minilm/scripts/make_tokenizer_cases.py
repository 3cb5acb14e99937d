#!/usr/bin/env python3
"""Generates Tests/Fixtures/minilm/tokenizer_cases.json: token ids of Hugging Face's BertTokenizer (the slow, pure
Python one; do_lower_case=True, max_length=256, truncation) for all-MiniLM-L6-v2, on tricky Unicode inputs.

Each case is also run through BertTokenizerFast; where the two disagree the slow tokenizer's ids are recorded and the
case carries "fast_input_ids" with the fast tokenizer's answer (the Swift WordPieceTokenizer follows the slow one).

Usage (transformers 4.x: in 5.x `BertTokenizer` is the Rust-backed one):
    python3 -m venv /tmp/tokvenv4 && /tmp/tokvenv4/bin/pip install "transformers<5"
    /tmp/tokvenv4/bin/python Tests/Fixtures/minilm/scripts/make_tokenizer_cases.py models/all-MiniLM-L6-v2
"""
import json
import os
import platform
import random
import sys
import unicodedata

import tokenizers
import transformers
from transformers import BertTokenizer, BertTokenizerFast

MAX_LEN = 256


def cases():
    out = [
        # accents in many scripts
        "Café, naïve, résumé, coöperate, façade, jalapeño, Ærøskøbing, Łódź, Dvořák, Škoda",
        "Ελληνικά: Άλφα, Έψιλον, Ήτα, Ίωτα, Όμικρον, Ύψιλον, Ώμέγα, ΐ, ΰ",
        "ΟΔΟΣ ΚΑΙ ΛΟΓΟΣ. Σίσυφος ΣΊΣΥΦΟΣ",  # capital sigma: final-sigma context
        "Tiếng Việt có nhiều dấu: Nguyễn, Hồ Chí Minh, phở, bánh mì",
        "Čeština, Slovenčina, Română: ș ț ă â î, Magyar: ő ű",
        "Français: Ça, où, Noël, cœur, Œuvre",
        "Ñandú, Pingüino, ÁÉÍÓÚ áéíóú",
        "Cafe\u0301 decomposed vs Caf\u00e9 composed",
        "A\u030a ring decomposed, \u212b angstrom sign, \u00c5 composed",
        "Kelvin \u212a and Ohm \u2126",
        "Кириллица: Ёлка, йод, Їжак, ґанок",
        "עברית עם ניקוד: שָׁלוֹם",
        "العربية مع التشكيل: مَرْحَبًا",
        "हिन्दी: क़िला, ज़िंदगी",
        # Turkish dotted/dotless I, German sharp s, ligatures
        "İstanbul İSTANBUL istanbul ıĞdır IĞDIR",
        "I\u0307 combining dot above",
        "Straße STRASSE straße ẞ",
        "ﬁnance ﬂow ﬀ ﬃ ﬄ ﬅ ﬆ Ĳ ĳ",
        # full-width forms
        "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ ！？（）",
        "ｶﾀｶﾅ half-width katakana",
        # zero-width characters
        "zero\u200bwidth\u200bspace",
        "zero\u200cwidth\u200dnon\u2060joiner\ufeffbom",
        "soft\u00adhyphen",
        # emoji
        "👨‍👩‍👧‍👦 family, 👍🏽 thumbs, 🏳️‍🌈 flag, ❤️ heart, 🇫🇷 France",
        "emoji😀inside😀words",
        "☕ coffee ☀ sun ✓ check ★ star © ® ™",
        # control characters
        "bell\x07char, null\x00char, esc\x1bchar, del\x7fchar",
        "vertical\x0btab and form\x0cfeed",
        "carriage\rreturn and\r\nCRLF",
        "next\x85line and \u2028line sep and \u2029para sep",
        "replacement \ufffd char",
        "private use \ue000 char",
        "bidi \u202eoverride\u202c and \u200fmarks\u200e",
        # unicode spaces
        "non\u00a0breaking\u00a0space",
        "en\u2002em\u2003thin\u2009hair\u200anarrow\u202fideographic\u3000space",
        "ogham\u1680space and math\u205fspace",
        "   leading and trailing   ",
        "\t\n\r",
        # long words
        "a" * 100,
        "a" * 101,
        "x " + "b" * 100 + " y " + "c" * 101 + " z",
        "\u00e9" * 100,  # 100 chars, 200 after NFD, 100 after strip
        "e\u0301" * 60,  # 120 code points, 60 after strip
        "supercalifragilisticexpialidocious " * 3,
        # repeated punctuation
        "Wait!!! What??? No... Yes!?!? ---- ____ ~~~~",
        "((([[[{{{nested}}}]]])))",
        "«quotes» „German“ “curly” ‘single’ ‹angle› 「Japanese」",
        "dash – em — minus − bullet • ellipsis … middot ·",
        "$ ^ ` | < > = + ~ are ASCII punctuation here",
        "¡Hola! ¿Qué tal? § ¶ † ‡ ‰ ‱",
        # CJK mixed with Latin, Korean, Japanese, Thai
        "我爱NLP和machine learning",
        "東京タワーはTokyo Towerです",
        "한국어 텍스트: 안녕하세요 세계",
        "ภาษาไทยไม่มีช่องว่างระหว่างคำ",
        "CJK ext A \u3400\u4db5, ext B \U00020000\U0002a6d6, compat \uf900\ufa0e, compat supp \U0002f800",
        "Kangxi radicals \u2f00\u2f01 and CJK symbols \u3001\u3002",
        # combining marks on their own
        "\u0301",
        "\u0301\u0302\u0303 alone",
        "a \u0300 b \u0327 c",
        "\u0e31\u0e34 thai vowel marks alone",
        # numbers and URLs
        "1,234,567.89 and 1.234.567,89 and 1 234 567 and 12'345",
        "Phone: +1 (555) 123-4567, ext. 89",
        "ftp://user:pass@host.example.com:2121/dir/file.tar.gz",
        "https://例子.测试/路径?q=检索&x=1",
        "<html><body class=\"x\">Hello &amp; bye</body></html>",
        "snake_case_name camelCaseName kebab-case-name PascalCase",
        "2024-06-01T12:34:56.789Z",
        "π ≈ 3.14159, √2 ≈ 1.414, ∞, ∑, ∫, ½ ¼ ¾, x² y³",
        "₀₁₂ ⁰¹² ① ② Ⅻ ⅻ",
        # special tokens inside text
        "Hello [SEP] world [CLS] again [MASK] [UNK] [PAD]",
        "lowercase [sep] and [cls] are not special",
        "glued[SEP]tokens[MASK]here",
        "[unused1] [UNK",
        # misc
        "",
        " ",
        "a",
        "A",
        "UNAFFABLE unaffable",
        "Mr. O'Neil's dog's bone — isn't it?",
        "#1 @user $100 %50 ^caret &and *star",
        "tab\tseparated\tvalues\n1\t2\t3",
        "Ⓐⓑⓒ 𝐁𝐨𝐥𝐝 𝕯𝖔𝖚𝖇𝖑𝖊 𝓢𝓬𝓻𝓲𝓹𝓽",
        # unassigned code points (category Cn): the slow tokenizer drops them, the fast one keeps them as [UNK]
        "unassigned\u0378here and \u0e5e there \ufffe",
        # assigned after Unicode 14.0 (Python 3.11's unicodedata): Cn for the slow tokenizer
        "\U0001fae8 shaking face and \U0001f6dc wireless (Unicode 15)",
    ]
    # seeded random mixtures of many blocks
    rng = random.Random(20240601)
    blocks = [(0x20, 0x7E)] * 6 + [
        (0x0, 0x20), (0x80, 0x24F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x6FF), (0x900, 0x97F),
        (0xE00, 0xE7F), (0x1100, 0x11FF), (0x1E00, 0x1FFF), (0x2000, 0x206F), (0x2070, 0x2BFF), (0x3000, 0x30FF),
        (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xF900, 0xFAFF), (0xFB00, 0xFB4F), (0xFE00, 0xFE6F),
        (0xFF00, 0xFFEF), (0x1D400, 0x1D7FF), (0x1F300, 0x1FAFF), (0x20000, 0x2A6DF), (0x2F800, 0x2FA1F),
        (0xE0000, 0xE007F)]
    for _ in range(20):
        chars = (chr(rng.randint(*rng.choice(blocks))) for _ in range(rng.randint(1, 60)))
        out.append("".join(c for c in chars if not 0xD800 <= ord(c) <= 0xDFFF))
    # truncation: 300+ words
    words = ("the quick brown fox jumps over the lazy dog while recommender systems estimate "
             "causal effects of exposure on engagement").split()
    out.append(" ".join(words[i % len(words)] for i in range(320)))
    out.append(" ".join(["unaffable"] * 130))  # 390 wordpieces, truncation inside a word
    out.append("word " * 253 + "end")  # exactly 254 wordpieces: no truncation
    out.append("word " * 254 + "end")  # 255: truncated by one
    out.append("我" * 300)
    return out


def main():
    model_dir = sys.argv[1] if len(sys.argv) > 1 else "models/all-MiniLM-L6-v2"
    out_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tokenizer_cases.json")
    slow = BertTokenizer.from_pretrained(model_dir)
    fast = BertTokenizerFast.from_pretrained(model_dir)
    assert slow.do_lower_case and not isinstance(slow, transformers.PreTrainedTokenizerFast)
    records = []
    disagreements = 0
    for text in cases():
        s = slow(text, truncation=True, max_length=MAX_LEN)["input_ids"]
        f = fast(text, truncation=True, max_length=MAX_LEN)["input_ids"]
        rec = {"text": text, "input_ids": s}
        if s != f:
            disagreements += 1
            rec["fast_input_ids"] = f
            print("slow/fast disagree:", repr(text[:80]), file=sys.stderr)
            print("  slow:", slow.convert_ids_to_tokens(s)[:40], file=sys.stderr)
            print("  fast:", fast.convert_ids_to_tokens(f)[:40], file=sys.stderr)
        records.append(rec)
    doc = {
        "generated_with": {
            "script": "Tests/Fixtures/minilm/scripts/make_tokenizer_cases.py",
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "python": platform.python_version(),
            "unicodedata": unicodedata.unidata_version,
            "tokenizer": "BertTokenizer (slow), do_lower_case=True, truncation=True, max_length=%d" % MAX_LEN,
            "vocab": "sentence-transformers/all-MiniLM-L6-v2 vocab.txt",
            "slow_fast_disagreements": disagreements,
        },
        "cases": records,
    }
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=True, indent=1)
        fh.write("\n")
    print(f"{len(records)} cases, {disagreements} slow/fast disagreements -> {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
