#!/usr/bin/env python3
"""The Python baseline of scripts/bench: a haircut replay written the obvious way.

    python3 scripts/bench_replay.py LEDGER.jsonl --seed ADDR

Reads a fundtrail native JSON-lines file (json.loads per line), sorts the
movements into canonical order (block, tx_index, seq) and replays them with
Python integers (exact): per asset a dict address -> [balance, taint]. A
debit beyond the balance reveals missing history (tainted when the sender is
the seed); a payment carries floor(x * T / B) of the sender's taint T and
balance B before the debit; whatever the seed receives is tainted; a fee's
taint goes to the fee bucket. These are fundtrail's haircut semantics
(SPEC.md section 3) for account-model movements with one seed and no stops.

Prints one JSON object: the totals of the first asset the seed touches (or
of ETH) as decimal strings, the number of movements and the parse and replay
times in seconds. Standard library only.
"""

import argparse
import json
import sys
import time


def canonical(addr):
    # fundtrail stores EVM addresses lower-case; others as given.
    return addr.lower() if addr.startswith("0x") else addr


def load(path):
    moves = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            kind = r.get("kind")
            if kind not in ("transfer", "fee", "mint"):
                continue
            amount = int(r["amount"])
            frm = canonical(r["from"]) if kind != "mint" else None
            to = canonical(r["to"]) if kind != "fee" else None
            moves.append(
                (r["block"], r.get("tx_index", 0), r.get("seq", 0), frm, to, r["asset"], amount)
            )
    return moves


def replay(moves, seed):
    moves.sort(key=lambda m: (m[0], m[1], m[2]))
    books = {}
    totals = {}
    for _block, _txi, _seq, frm, to, asset, x in moves:
        book = books.get(asset)
        if book is None:
            book = books[asset] = {}
            totals[asset] = {"seeded": 0, "held": 0, "fees": 0}
        t = totals[asset]
        carried = 0
        if frm is not None:
            a = book.get(frm)
            if a is None:
                a = book[frm] = [0, 0]
            if a[0] < x:
                missing = x - a[0]
                a[0] += missing
                if frm == seed:
                    a[1] += missing
                    t["seeded"] += missing
            if a[1] == 0 or x == 0:
                carried = 0
            elif a[1] == a[0]:
                carried = x
            else:
                carried = x * a[1] // a[0]
            a[0] -= x
            a[1] -= carried
        if to is None:
            t["fees"] += carried
            continue
        a = book.get(to)
        if a is None:
            a = book[to] = [0, 0]
        a[0] += x
        if to == seed:
            t["seeded"] += x - carried
            a[1] += x
        else:
            a[1] += carried
    for asset, book in books.items():
        totals[asset]["held"] = sum(a[1] for a in book.values())
    return totals


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ledger")
    ap.add_argument("--seed", required=True)
    ap.add_argument("--asset", default="ETH")
    a = ap.parse_args()
    t0 = time.perf_counter()
    moves = load(a.ledger)
    t1 = time.perf_counter()
    n = len(moves)
    totals = replay(moves, canonical(a.seed))
    t2 = time.perf_counter()
    t = totals.get(a.asset, {"seeded": 0, "held": 0, "fees": 0})
    json.dump(
        {
            "asset": a.asset,
            "movements": n,
            "seeded": str(t["seeded"]),
            "held": str(t["held"]),
            "fees": str(t["fees"]),
            "conserved": t["seeded"] == t["held"] + t["fees"],
            "parse_seconds": round(t1 - t0, 3),
            "replay_seconds": round(t2 - t1, 3),
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
