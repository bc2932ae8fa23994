#!/usr/bin/env python3
"""Write fixtures/demo: a small hand-designed bridge-exploit laundering case in
ethereum-etl export format (transactions, traces, token transfers, tokens),
with labels.csv. Deterministic: re-running gives identical files.

The story (amounts in ETH unless said):
  block 100  the bridge pays the exploiter 1000 ETH (the theft) and 500,000 USDT
  block 101  fan-out: the exploiter sends 200 ETH to each of four layer-1 wallets
  block 102  layer-1 #1 deposits 199.9 ETH at an exchange deposit address
  block 103  layer-1 #2 runs a peel chain: 20 ETH peels to an exchange, change onwards
  block 104  five clean users and layer-1 #3 each deposit 100 ETH in a mixer pool
  block 105  a relayer withdraws six 100 ETH notes to fresh addresses (internal transfers)
  block 106  one withdrawal address deposits at an exchange
  block 107  layer-1 #4 mixes in 300 clean ETH and splits to a holding wallet and an exchange
  block 108  the exploiter moves the USDT to an exchange and a holding wallet
"""
import json, os, hashlib

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "demo")
ETH = 10**18
GWEI = 10**9
GAS, PRICE = 21000, 20 * GWEI
USDT = "0xdac17f958d2ee523a2206206994597c13d831ec7"

def addr(tag, n=1):
    h = hashlib.sha256(f"{tag}{n}".encode()).hexdigest()[:36]
    return "0x" + (tag.encode().hex() + h)[:40]

BRIDGE = addr("bridge")
EXPLOITER = addr("exploiter")
L = [addr("layer", i) for i in range(1, 5)]
DEP1, DEP2, DEP3 = addr("binance", 1), addr("kraken", 1), addr("okx", 1)
MIXER, RELAYER = addr("mixer100"), addr("relayer")
W = [addr("withdraw", i) for i in range(1, 7)]
P = [addr("peel", i) for i in range(1, 4)]
HOLD, HOLD2 = addr("hold", 1), addr("hold", 2)
C = [addr("clean", i) for i in range(1, 8)]

txs, traces, transfers = [], [], []
nonce = {}

def h(*parts):
    return "0x" + hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()

def tx(block, frm, to, value, idx):
    n = nonce.get(frm, 0); nonce[frm] = n + 1
    t = {"type": "transaction", "hash": h("tx", block, idx), "nonce": n, "transaction_index": idx,
         "from_address": frm, "to_address": to, "value": value, "gas": 100000, "gas_price": PRICE,
         "input": "0x", "block_timestamp": 1700000000 + block * 12, "block_number": block,
         "block_hash": h("block", block), "receipt_cumulative_gas_used": GAS * (idx + 1),
         "receipt_gas_used": GAS, "receipt_contract_address": None, "receipt_status": 1,
         "receipt_effective_gas_price": PRICE}
    txs.append(t)
    return t

def token(block, idx, log, frm, to, value):
    transfers.append({"type": "token_transfer", "token_address": USDT, "from_address": frm,
                      "to_address": to, "value": value, "transaction_hash": h("tx", block, idx),
                      "log_index": log, "block_number": block,
                      "block_timestamp": 1700000000 + block * 12})

tx(100, BRIDGE, EXPLOITER, 1000 * ETH, 0)
tx(100, BRIDGE, USDT, 0, 1); token(100, 1, 0, BRIDGE, EXPLOITER, 500_000 * 10**6)
for i, l in enumerate(L):
    tx(101, EXPLOITER, l, 200 * ETH, i)
tx(102, L[0], DEP1, 1999 * ETH // 10, 0)
# peel chain: each hop peels 20 ETH to the exchange, passes the change on
chain = [L[1]] + P
bal = 200 * ETH
i = 0
for a, b in zip(chain, chain[1:]):
    tx(103, a, DEP2, 20 * ETH, i); i += 1
    bal -= 20 * ETH + 2 * GAS * PRICE
    tx(103, a, b, bal, i); i += 1
tx(103, P[-1], HOLD, bal - GAS * PRICE, i)
for i, c in enumerate(C[:5]):
    tx(104, c, MIXER, 100 * ETH, i)
tx(104, L[2], MIXER, 100 * ETH, 5)
tx(104, L[2], HOLD, 99 * ETH, 6)
# relayer withdrawals: a zero-value call to the pool, which pays out internally
for i, w in enumerate(W):
    t = tx(105, RELAYER, MIXER, 0, i)
    base = {"type": "trace", "transaction_hash": t["hash"], "transaction_index": i, "block_number": 105,
            "block_timestamp": t["block_timestamp"], "trace_type": "call", "call_type": "call",
            "error": None, "status": 1, "subtraces": 1}
    traces.append(dict(base, from_address=RELAYER, to_address=MIXER, value=0, trace_address=[],
                       trace_id=f"call_{t['hash']}_"))
    traces.append(dict(base, from_address=MIXER, to_address=w, value=100 * ETH, trace_address=[0],
                       subtraces=0, trace_id=f"call_{t['hash']}_0"))
tx(106, W[0], DEP1, 99 * ETH, 0)
tx(107, C[5], L[3], 300 * ETH, 0)
tx(107, L[3], HOLD2, 250 * ETH, 1)
tx(107, L[3], DEP3, 249 * ETH, 2)
tx(108, EXPLOITER, USDT, 0, 0); token(108, 0, 3, EXPLOITER, DEP3, 300_000 * 10**6)
tx(108, EXPLOITER, USDT, 0, 1); token(108, 1, 5, EXPLOITER, HOLD, 200_000 * 10**6)

os.makedirs(OUT, exist_ok=True)
def dump(name, rows):
    with open(os.path.join(OUT, name), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
dump("transactions.json", txs)
dump("traces.json", traces)
dump("token_transfers.json", transfers)
dump("tokens.json", [{"type": "token", "address": USDT, "symbol": "USDT", "name": "Tether USD",
                      "decimals": 6, "total_supply": None}])
labels = [("address", "category", "label"), (BRIDGE, "bridge", "Demo bridge"),
          (EXPLOITER, "hack", "Demo bridge exploiter"), (DEP1, "exchange", "Binance deposit"),
          (DEP2, "exchange", "Kraken deposit"), (DEP3, "exchange", "OKX deposit"),
          (MIXER, "mixer", "Mixer pool 100 ETH"), (USDT, "token", "Tether USD")]
with open(os.path.join(OUT, "..", "demo-labels.csv"), "w") as f:
    for row in labels:
        f.write(",".join(row) + "\n")
print("exploiter:", EXPLOITER)
