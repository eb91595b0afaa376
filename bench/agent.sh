#!/usr/bin/env bash
# The agent's latency (BENCHMARKS.md, "The agent"): a fresh `dyad serve` on SQLite and a
# `dyad agent` beside it, then N creates and N sign-messages per type, one after another over
# one kept-alive HTTP connection (Python's http.client), p50/p99 of wall time per call.
# Usage: bench/agent.sh target/release/dyad N TYPES (e.g. 50 SOLANA,EVM)
set -euo pipefail
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); N=$2; TYPES=$3
d=$(mktemp -d); chmod 700 "$d"; cd "$d"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$d"' EXIT
key=$("$BIN" app create --data-dir data --name bench --env beta --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["apiKey"])')
"$BIN" serve --listen 127.0.0.1:0 --data-dir data 2> serve.log &
for i in $(seq 100); do grep -q "listening on" serve.log && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' serve.log | head -1)
agent_key=$("$BIN" agent key create --keys agent.keys 2>/dev/null)
DYAD_URL=$url DYAD_API_KEY=$key DYAD_VAULT_KEY=$(head -c 32 /dev/urandom | base64) \
  "$BIN" agent --listen 127.0.0.1:0 --keys agent.keys --vault v.vault --state agent.db 2> agent.log &
for i in $(seq 100); do grep -qs "listening on" agent.log && break; sleep 0.1; done
agent=$(grep -o 'listening on http://[0-9.:]*' agent.log | head -1 | sed 's/listening on //')
python3 - "$agent" "$agent_key" "$N" "$TYPES" <<'PY'
import http.client, json, sys, time, urllib.parse
url, key, n, types = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].split(",")
u = urllib.parse.urlparse(url)
c = http.client.HTTPConnection(u.hostname, u.port)
def call(path, body):
    t = time.perf_counter()
    c.request("POST", path, json.dumps(body), {"X-API-Key": key, "Content-Type": "application/json"})
    r = c.getresponse(); data = json.loads(r.read())
    assert r.status in (200, 201), (r.status, data)
    return data, (time.perf_counter() - t) * 1000
def stats(xs):
    xs = sorted(xs); return f"p50 {xs[len(xs)//2]:.1f} ms, p99 {xs[min(len(xs)-1, int(len(xs)*0.99))]:.1f} ms"
for t in types:
    creates, signs, ids = [], [], []
    for i in range(n):
        w, ms = call("/v1/wallets", {"type": t, "userIdentifier": f"{t.lower()}-{i}", "userIdentifierType": "CUSTOM_ID"})
        creates.append(ms); ids.append(w["id"])
    for i in range(n):
        _, ms = call(f"/v1/wallets/{ids[i % len(ids)]}/sign-message", {"message": f"bench {i}"})
        signs.append(ms)
    print(f"{t}: create {stats(creates)}; sign-message {stats(signs)} ({n} each)")
PY
