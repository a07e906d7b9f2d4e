#!/usr/bin/env python3
"""Load test for claim tokens (issue #4): fetch N tokens from a running
server with `buzon token fetch`, then spend them all concurrently as new
questions on the entity's reporter form, and print throughput.

Not part of CI; needs only python3 (standard library) and a built `buzon`.

Usage:

    tests/load/tokens.py --server http://127.0.0.1:18090 --entity demo \\
        --code XXXX-XXXX-XXXX-XXXX [--count 200] [--concurrency 8] \\
        [--type 1] [--buzon target/release/buzon] [--tokens-file FILE]

The entity must have the `token` policy and the code must yield at least
--count tokens this epoch. A throwaway server, e.g.:

    printf '[limits]\\nnew_threads_per_hour = 100000\\n' > /tmp/loadtok.toml
    target/release/buzon --data /tmp/loadtok serve --demo \\
        --listen 127.0.0.1:18090 --config /tmp/loadtok.toml &
    target/release/buzon --data /tmp/loadtok token policy --entity demo token
    target/release/buzon --data /tmp/loadtok token codes --entity demo \\
        --count 1 --tokens-per-code 200

What it does, in order:

1. fetch: `buzon token fetch` in batches of at most 100 (its limit), one
   process after another; prints tokens/s. Each token is blinded, sent,
   evaluated or signed, and finalised (proof or signature checked), so
   this is client plus server cost.
2. spend: every token once, --concurrency at a time, each a multipart POST
   to /e/{entity}/enviar (fresh draft id, kind=question, a short message,
   every coordinator of the entity page as reader). Prints submissions/s,
   latency percentiles and the outcome of each (HTTP status and the page's
   data-error code when refused). Every submission pays the receipt's
   Argon2id, so this is bounded by the server's KDF concurrency, not by
   the tokens.
3. respend: the first min(16, N) tokens again, all at once; each must be
   refused as already used (409, data-error="token-spent").

With --tokens-file, tokens already in that file (one per line) are used and
nothing is fetched. With --no-token, nothing is fetched and --count
submissions are sent without a token (step 2 only): the baseline, on an
entity whose policy is `open` (set it with `token policy --entity E open`;
mind the open limit of new threads per hour, lifted by the config above). The exit status is 1 if any first spend was refused or
any respend accepted.
"""

import argparse
import concurrent.futures
import http.client
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

MESSAGE = (
    "Prueba de carga: ¿puedo aceptar una invitación a comer de un proveedor "
    "que participa en una licitación de mi área?"
)


def fetch(args, path):
    left = args.count
    start = time.monotonic()
    while left > 0:
        n = min(100, left)
        cmd = [
            args.buzon, "token", "fetch",
            "--server", args.server,
            "--entity", args.entity,
            "--code", args.code,
            "--count", str(n),
            "--type", str(args.type),
            "--out", path,
        ]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"buzon token fetch failed: {r.stderr.strip()}")
        left -= n
    elapsed = time.monotonic() - start
    print(f"fetch: {args.count} tokens of type {args.type} in {elapsed:.2f} s "
          f"= {args.count / elapsed:.1f} tokens/s ({1000 * elapsed / args.count:.1f} ms each, sequential)")


def readers(args):
    """Coordinator ids offered by the entity page's reader checkboxes."""
    u = urllib.parse.urlsplit(args.server)
    c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60)
    c.request("GET", f"/e/{args.entity}")
    r = c.getresponse()
    html = r.read().decode("utf-8", "replace")
    if r.status != 200:
        sys.exit(f"GET /e/{args.entity}: {r.status}")
    ids = re.findall(r'name="reader" value="([0-9a-f]{32})"', html)
    if not ids:
        sys.exit("the entity page offers no reader")
    if 'name="token"' not in html and not args.no_token:
        print(f"note: /e/{args.entity} shows no token field: is its policy `token`?")
    return ids


def multipart(fields):
    boundary = "buzonload" + secrets.token_hex(12)
    out = []
    for k, v in fields:
        out.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
    out.append(f"--{boundary}--\r\n")
    return boundary, "".join(out).encode("utf-8")


class Spender:
    """One keep-alive connection per worker thread."""

    def __init__(self, args, reader_ids):
        self.u = urllib.parse.urlsplit(args.server)
        self.entity = args.entity
        self.readers = reader_ids
        self.local = __import__("threading").local()

    def conn(self):
        c = getattr(self.local, "c", None)
        if c is None:
            c = http.client.HTTPConnection(self.u.hostname, self.u.port or 80, timeout=120)
            self.local.c = c
        return c

    def spend(self, token):
        fields = [("draft", secrets.token_hex(16)), ("kind", "question"), ("message", MESSAGE)]
        fields += [("reader", r) for r in self.readers]
        if token:
            fields.append(("token", token))
        boundary, body = multipart(fields)
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        start = time.monotonic()
        for attempt in range(2):
            try:
                c = self.conn()
                c.request("POST", f"/e/{self.entity}/enviar", body=body, headers=headers)
                r = c.getresponse()
                page = r.read().decode("utf-8", "replace")
                break
            except (http.client.HTTPException, OSError):
                # A connection the server closed while idle: once more on a new one.
                self.local.c = None
                if attempt:
                    raise
        elapsed = time.monotonic() - start
        m = re.search(r'data-error="([^"]+)"', page)
        return r.status, (m.group(1) if m else ""), elapsed


def run(spender, tokens, concurrency):
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(spender.spend, tokens))
    return results, time.monotonic() - start


def summary(results):
    counts = {}
    for status, code, _ in results:
        key = f"{status} {code}".strip()
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", required=True)
    ap.add_argument("--entity", required=True)
    ap.add_argument("--code", help="issuance code (not needed with --tokens-file)")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--type", type=int, default=1, choices=[1, 2])
    ap.add_argument("--buzon", default=os.path.join(os.path.dirname(__file__), "../../target/release/buzon"))
    ap.add_argument("--tokens-file")
    ap.add_argument("--no-token", action="store_true", help="baseline: submit without tokens")
    args = ap.parse_args()
    args.server = args.server.rstrip("/")

    if args.no_token:
        path = None
    elif args.tokens_file and os.path.exists(args.tokens_file):
        path = args.tokens_file
    else:
        if not args.code:
            sys.exit("--code is needed to fetch tokens")
        path = args.tokens_file or os.path.join(tempfile.mkdtemp(prefix="buzon-load-"), "tokens.txt")
        fetch(args, path)
    if path is None:
        tokens = [""] * args.count
    else:
        with open(path) as f:
            tokens = [line.strip() for line in f if line.strip()]
    if not tokens:
        sys.exit("no tokens")

    spender = Spender(args, readers(args))
    results, elapsed = run(spender, tokens, args.concurrency)
    lat = [e for _, _, e in results]
    ok = sum(1 for s, _, _ in results if s == 200)
    what = "without a token" if args.no_token else "with a token"
    print(f"spend: {len(tokens)} submissions {what}, {args.concurrency} at a time, "
          f"in {elapsed:.2f} s = {len(tokens) / elapsed:.1f} submissions/s")
    print(f"       latency p50 {1000 * statistics.median(lat):.0f} ms, "
          f"p95 {1000 * pct(lat, 95):.0f} ms, max {1000 * max(lat):.0f} ms")
    print(f"       outcomes: {summary(results)}")

    if args.no_token:
        sys.exit(0 if ok == len(tokens) else 1)
    again = tokens[:16]
    results2, elapsed2 = run(spender, again, len(again))
    refused = sum(1 for s, c, _ in results2 if s == 409 and c == "token-spent")
    print(f"respend: {len(again)} used tokens at once in {elapsed2:.2f} s: "
          f"{refused} refused as already used; outcomes: {summary(results2)}")

    if ok != len(tokens) or refused != len(again):
        sys.exit(1)


if __name__ == "__main__":
    main()
