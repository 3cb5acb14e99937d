#!/usr/bin/env python3
"""Load client for `causa recommend` (used by benchmarks/policy-latency.sh).

Two transports:
  --mode zmq   talks to the coordinator directly: a ZeroMQ DEALER socket per client process sends one frame, an
               Envelope{protocol_version: 3, recommend: Recommend{user_key, top}} (Sources/Cluster/causa.proto),
               and waits for the Envelope{recommendation} reply (closed loop: one request in flight per client).
               Needs pyzmq and protobuf, and the module protoc --python_out wrote (--proto-dir).
  --mode cli   spawns `causa recommend --coordinator ... --user KEY --json` per request (process start-up included).

Each of --clients processes sends --requests requests (users drawn uniformly from --users, seeded), stopping early
after --max-seconds or once --stop-file exists. Latency is measured per request with time.perf_counter_ns around send..reply (zmq) or
spawn..exit (cli). Percentiles are exact, from the sorted samples of all clients (nearest-rank); with
--hdr the samples are also recorded into an HdrHistogram (hdrhistogram package, 1 us..60 s, 3 significant digits)
and its percentiles printed next to the exact ones.

With --check RECOMMENDATIONS.csv every answer is compared with that file's top-k items of the user (order and
item keys) and the number of mismatches reported; a reply that is not ok is an error.

Prints one JSON object on stdout (--label names the phase), a human-readable line on stderr.
"""
import argparse
import csv
import json
import math
import multiprocessing as mp
import os
import random
import subprocess
import sys
import time


def load_recs(path):
    recs = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            recs.setdefault(row["user_id"], []).append((int(row["rank"]), row["item_id"]))
    return {u: [i for _, i in sorted(v)] for u, v in recs.items()}


def client_zmq(args, index, queue):
    sys.path.insert(0, args.proto_dir)
    import zmq
    import causa_pb2

    rng = random.Random(args.seed * 1000 + index)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(args.coordinator)
    recs = load_recs(args.check) if args.check else None
    lat, errors, mismatches, unknown = [], [], 0, 0
    versions = {}
    deadline = time.monotonic() + args.max_seconds
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)
    t_start = time.perf_counter()
    for _ in range(args.requests):
        if time.monotonic() > deadline or (args.stop_file and os.path.exists(args.stop_file)):
            break
        user = str(rng.randrange(args.users)) if rng.random() >= args.unknown_fraction else f"unknown-{rng.randrange(10**9)}"
        env = causa_pb2.Envelope(protocol_version=3)
        env.recommend.user_key.append(user)
        env.recommend.top = args.top
        payload = env.SerializeToString()
        t0 = time.perf_counter_ns()
        sock.send(payload)
        if not poller.poll(args.timeout * 1000):
            errors.append(f"timeout after {args.timeout} s for user {user}")
            # the socket may get the late reply; start afresh
            sock.close()
            sock = ctx.socket(zmq.DEALER)
            sock.setsockopt(zmq.LINGER, 0)
            sock.connect(args.coordinator)
            poller = zmq.Poller()
            poller.register(sock, zmq.POLLIN)
            continue
        frames = sock.recv_multipart()
        t1 = time.perf_counter_ns()
        lat.append(t1 - t0)
        reply = causa_pb2.Envelope()
        reply.ParseFromString(frames[-1])
        r = reply.recommendation
        if not r.ok:
            errors.append(r.message)
            continue
        versions[r.policy_version] = versions.get(r.policy_version, 0) + 1
        if not r.known_user:
            unknown += 1
        if recs is not None and r.known_user and list(r.items) != recs.get(user, [])[: len(r.items)]:
            mismatches += 1
    elapsed = time.perf_counter() - t_start
    sock.close()
    ctx.term()
    queue.put((index, lat, errors[:5], len(errors), mismatches, unknown, elapsed, versions))


def client_cli(args, index, queue):
    rng = random.Random(args.seed * 1000 + index)
    recs = load_recs(args.check) if args.check else None
    lat, errors, mismatches, unknown = [], [], 0, 0
    versions = {}
    deadline = time.monotonic() + args.max_seconds
    t_start = time.perf_counter()
    for _ in range(args.requests):
        if time.monotonic() > deadline or (args.stop_file and os.path.exists(args.stop_file)):
            break
        user = str(rng.randrange(args.users)) if rng.random() >= args.unknown_fraction else f"unknown-{rng.randrange(10**9)}"
        cmd = [args.causa, "recommend", "--coordinator", args.coordinator, "--user", user, "--json"]
        if args.top:
            cmd += ["--top", str(args.top)]
        t0 = time.perf_counter_ns()
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout + 5)
        t1 = time.perf_counter_ns()
        lat.append(t1 - t0)
        if p.returncode != 0:
            errors.append(f"exit {p.returncode}: {p.stderr.strip()[:200]}")
            continue
        a = json.loads(p.stdout)
        versions[a["policy_version"]] = versions.get(a["policy_version"], 0) + 1
        if not a["known_user"]:
            unknown += 1
        if recs is not None and a["known_user"] and a["items"] != recs.get(user, [])[: len(a["items"])]:
            mismatches += 1
    elapsed = time.perf_counter() - t_start
    queue.put((index, lat, errors[:5], len(errors), mismatches, unknown, elapsed, versions))


def client_spawn(args, index, queue):
    """Process start-up only: `causa --version` (no network)."""
    lat = []
    for _ in range(args.requests):
        t0 = time.perf_counter_ns()
        subprocess.run([args.causa, "--version"], capture_output=True, check=True)
        lat.append(time.perf_counter_ns() - t0)
    queue.put((index, lat, [], 0, 0, 0, sum(lat) / 1e9, {}))


def pct(sorted_ns, q):
    """Nearest-rank percentile of sorted samples (ns)."""
    if not sorted_ns:
        return float("nan")
    k = max(1, math.ceil(q * len(sorted_ns) / 100 - 1e-9))  # nearest rank: ceil(q/100 * n), q in percent
    return sorted_ns[min(k, len(sorted_ns)) - 1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--coordinator", default="")
    ap.add_argument("--mode", choices=["zmq", "cli", "spawn"], default="zmq")
    ap.add_argument("--users", type=int, default=4000, help="user ids 0..N-1")
    ap.add_argument("--unknown-fraction", type=float, default=0.0)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--requests", type=int, default=1000, help="per client")
    ap.add_argument("--max-seconds", type=float, default=60.0, help="per client")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    ap.add_argument("--top", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--proto-dir", default="")
    ap.add_argument("--causa", default="causa")
    ap.add_argument("--check", default="", help="recommendations.csv to compare answers with")
    ap.add_argument("--hdr", action="store_true")
    ap.add_argument("--stop-file", default="", help="stop sending once this file exists")
    ap.add_argument("--label", default="")
    args = ap.parse_args()

    target = {"zmq": client_zmq, "cli": client_cli, "spawn": client_spawn}[args.mode]
    queue = mp.Queue()
    procs = [mp.Process(target=target, args=(args, i, queue)) for i in range(args.clients)]
    wall0 = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - wall0
    lat = sorted(x for r in results for x in r[1])
    errors = [e for r in results for e in r[2]]
    n_errors = sum(r[3] for r in results)
    mismatches = sum(r[4] for r in results)
    unknown = sum(r[5] for r in results)
    # throughput over the span the clients were sending (the slowest client's loop), not process start-up
    busy = max(r[6] for r in results)
    versions = {}
    for r in results:
        for v, n in r[7].items():
            versions[v] = versions.get(v, 0) + n
    out = {
        "label": args.label, "mode": args.mode, "clients": args.clients, "requests": len(lat) + n_errors,
        "answered": len(lat), "errors": n_errors, "first_errors": errors, "mismatches": mismatches if args.check else None,
        "unknown_users_answered": unknown, "policy_versions": versions, "loop_seconds": busy, "wall_seconds": wall,
        "requests_per_s": len(lat) / busy if busy > 0 else float("nan"),
        "percentiles": "exact (nearest-rank over all samples)",
        "p50_ms": pct(lat, 50) / 1e6, "p90_ms": pct(lat, 90) / 1e6, "p99_ms": pct(lat, 99) / 1e6,
        "p999_ms": pct(lat, 99.9) / 1e6, "max_ms": (lat[-1] / 1e6) if lat else float("nan"),
        "mean_ms": (sum(lat) / len(lat) / 1e6) if lat else float("nan"),
        "min_ms": (lat[0] / 1e6) if lat else float("nan"),
    }
    if args.hdr and lat:
        from hdrh.histogram import HdrHistogram

        h = HdrHistogram(1, 60 * 1000 * 1000, 3)  # microseconds
        for x in lat:
            h.record_value(max(1, x // 1000))
        out["hdr"] = {f"p{q}_ms": h.get_value_at_percentile(q) / 1000 for q in (50, 90, 99, 99.9)}
        out["hdr"]["max_ms"] = h.get_max_value() / 1000
    print(json.dumps(out))
    print(f"{args.label or args.mode}: {len(lat)} answered, {n_errors} errors, rps {out['requests_per_s']:.0f}, "
          f"p50 {out['p50_ms']:.3f} p90 {out['p90_ms']:.3f} p99 {out['p99_ms']:.3f} max {out['max_ms']:.3f} ms",
          file=sys.stderr)
    if errors:
        print("first errors: " + "; ".join(errors), file=sys.stderr)


if __name__ == "__main__":
    main()
