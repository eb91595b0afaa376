#!/usr/bin/env bash
# Listing at scale (BENCHMARKS.md, "Listing 100 000 wallets"): make 20 real Solana wallets with
# `dyad pregen bulk`, copy their rows to PEOPLE wallets in the SQLite file (each copy a real
# key and address under a new id and identifier), then time one page and the whole listing.
# Usage: bench/listing.sh target/release/dyad PEOPLE
set -euo pipefail
BIN=$1; N=$2
d=$(mktemp -d); chmod 700 "$d"; cd "$d"
serve() {
  "$BIN" serve --listen 127.0.0.1:0 --data-dir data 2> serve.log &
  spid=$!
  for i in $(seq 100); do grep -q "listening on" serve.log && break; sleep 0.1; done
  url=$(grep -o 'http://[0-9.:]*' serve.log | tail -1)
}
serve
key=$("$BIN" app create --data-dir data --name bench --env beta --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["apiKey"])')
python3 -c "
print('email')
for i in range(20): print(f'seed{i}@example.com')" > people.csv
export DYAD_URL=$url DYAD_API_KEY=$key DYAD_VAULT_KEY=$(head -c 32 /dev/urandom | base64)
"$BIN" pregen bulk --csv people.csv --types SOLANA --vault v.vault --json > /dev/null
kill $spid; wait $spid 2>/dev/null || true
python3 - "$N" <<'PY'
import sqlite3, sys, uuid
n = int(sys.argv[1])
db = sqlite3.connect("data/dyad.db")
cols = [r[1] for r in db.execute("PRAGMA table_info(wallets)")]
seeds = db.execute(f"SELECT {', '.join(cols)} FROM wallets WHERE status = 'pregen'").fetchall()
rows = []
for i in range(n - len(seeds)):
    r = dict(zip(cols, seeds[i % len(seeds)]))
    r["id"] = str(uuid.uuid4())
    r["pregen_value"] = f"copy{i}@example.com"
    r["created_at"] = r["created_at"] + 1 + i // 100
    rows.append(tuple(r[c] for c in cols))
db.executemany(f"INSERT INTO wallets ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
db.commit()
print("wallets:", db.execute("SELECT COUNT(*) FROM wallets").fetchone()[0])
PY
serve
export DYAD_URL=$url
python3 - "$url" "$key" <<'PY'
import json, sys, time, urllib.request
url, key = sys.argv[1], sys.argv[2]
def get(path):
    req = urllib.request.Request(url + path, headers={"x-api-key": key})
    t = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        body = json.load(r)
    return body, time.perf_counter() - t
first, t_first = get("/v1/wallets?limit=1000")
times, cursor, pages, total = [t_first], first.get("nextCursor"), 1, len(first["wallets"])
mid = None
while cursor:
    body, t = get(f"/v1/wallets?limit=1000&cursor={cursor}")
    times.append(t); pages += 1; total += len(body["wallets"])
    if pages == 50: mid = t
    cursor = body.get("nextCursor")
times.sort()
print(f"pages {pages}, wallets {total}, first page {t_first*1000:.1f} ms, page 50 {mid*1000 if mid else float('nan'):.1f} ms, "
      f"median page {times[len(times)//2]*1000:.1f} ms, slowest {times[-1]*1000:.1f} ms, all pages {sum(times):.2f} s")
PY
start=$(date +%s.%N)
"$BIN" pregen list --json > list.json
end=$(date +%s.%N)
python3 -c "import json; print('dyad pregen list (no identifier):', len(json.load(open('list.json'))), 'wallets in', round($end - $start, 2), 's')"
kill $spid
