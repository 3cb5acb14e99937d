#!/usr/bin/env python3
"""Python peer for benchmarks/embed: sentence-transformers on CPU.

Encodes a JSONL corpus ({"id", "text"} per line) with all-MiniLM-L6-v2 via
sentence-transformers and prints one JSON line on stdout:

  {"texts": n, "seconds": s, "texts_per_s": x, "threads": T,
   "batch_size": B, "total_tokens": tok, "matmul_flops": f,
   "torch": ver, "sentence_transformers": ver}

total_tokens counts each text's tokens as the model sees them (truncated to
max_seq_length, [CLS] and [SEP] included); matmul_flops is the matrix-product
FLOP count of the encoder over the corpus, per text with L tokens:
  6 layers x (2*L*384*3*384 [QKV] + 2*L*384*384 [attention output]
              + 2*L*384*1536*2 [FFN up, down] + 2*L*L*384*2 [scores, context])
(no padding counted). Both are computed outside the timed region.

Runs fully offline (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE). Optional --out
writes the vectors as JSONL {"id", "embedding"} for parity checks.
"""

import argparse
import json
import os
import sys
import time

HIDDEN = 384
FFN = 1536
LAYERS = 6


def parse_args():
    here = os.path.dirname(os.path.abspath(__file__))
    default_model = os.path.join(os.path.dirname(here), "models", "all-MiniLM-L6-v2")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--texts", required=True, help='JSONL file, one {"id","text"} per line')
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--model-dir", default=default_model)
    p.add_argument("--out", help='write vectors as JSONL {"id","embedding"}')
    p.add_argument("--warmup", type=int, default=32, help="texts encoded before timing")
    return p.parse_args()


def matmul_flops(L):
    per_layer = (2 * L * HIDDEN * 3 * HIDDEN      # Q, K, V projections
                 + 2 * L * HIDDEN * HIDDEN        # attention output projection
                 + 2 * L * HIDDEN * FFN * 2       # FFN up and down
                 + 2 * L * L * HIDDEN * 2)        # scores QK^T and context AV
    return LAYERS * per_layer


def main():
    args = parse_args()
    if args.threads < 1:
        sys.exit("--threads must be >= 1")
    t = str(args.threads)
    # Thread pools must be sized before torch (and its OpenMP/MKL) loads.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = t
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    import torch
    import sentence_transformers
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(args.threads)

    ids, texts = [], []
    with open(args.texts, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            rec = json.loads(line)
            ids.append(rec["id"])
            texts.append(rec["text"])
    if not texts:
        sys.exit(f"no texts in {args.texts}")

    model = SentenceTransformer(args.model_dir, device="cpu")
    model.eval()

    # Token counts as the model sees them (truncation, [CLS]/[SEP] included).
    enc = model.tokenizer(texts, truncation=True, max_length=model.max_seq_length,
                          add_special_tokens=True)
    lengths = [len(x) for x in enc["input_ids"]]
    total_tokens = sum(lengths)
    flops = sum(matmul_flops(L) for L in lengths)

    def encode(batch):
        return model.encode(batch, batch_size=args.batch_size, normalize_embeddings=True,
                            convert_to_numpy=True, show_progress_bar=False)

    with torch.inference_mode():
        encode(texts[: args.warmup])
        t0 = time.perf_counter()
        vectors = encode(texts)
        seconds = time.perf_counter() - t0

    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            for i, v in zip(ids, vectors):
                f.write(json.dumps({"id": i, "embedding": [float(x) for x in v]}) + "\n")

    print(json.dumps({
        "texts": len(texts),
        "seconds": round(seconds, 4),
        "texts_per_s": round(len(texts) / seconds, 2),
        "threads": args.threads,
        "torch_threads": torch.get_num_threads(),
        "batch_size": args.batch_size,
        "max_seq_length": model.max_seq_length,
        "total_tokens": total_tokens,
        "matmul_flops": flops,
        "matmul_gflops_per_s": round(flops / seconds / 1e9, 2),
        "torch": torch.__version__,
        "sentence_transformers": sentence_transformers.__version__,
    }), flush=True)


if __name__ == "__main__":
    main()
