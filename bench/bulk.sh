#!/usr/bin/env bash
# Bulk pregeneration rate, bulk-client RSS and CPU, server peak RSS and CPU (BENCHMARKS.md, "Issue 11").
# Usage: bench/bulk.sh target/release/dyad TYPES PEOPLE CONCURRENCY  (DBURL=postgres://… for PostgreSQL;
# SERVE_BIN=another/dyad runs the server from another build, for an A/B of one side;
# SETUP_POOL=N passes --setup-pool N, the warm setup pool)
set -euo pipefail
BIN=$1; TYPES=$2; N=$3; C=$4
d=$(mktemp -d); chmod 700 "$d"; cd "$d"
"${SERVE_BIN:-$BIN}" serve --listen 127.0.0.1:0 --data-dir data ${DBURL:+--database-url "$DBURL"} 2> serve.log &
spid=$!
for i in $(seq 100); do grep -q "listening on" serve.log && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' serve.log | head -1)
key=$("$BIN" app create --data-dir data ${DBURL:+--database-url "$DBURL"} --name bench --env beta --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["apiKey"])')
python3 -c "
import sys
print('email')
for i in range($N): print(f'p{i}@example.com')" > people.csv
export DYAD_URL=$url DYAD_API_KEY=$key DYAD_VAULT_KEY=$(head -c 32 /dev/urandom | base64)
cpu() { awk '{print $14 + $15}' /proc/$spid/stat; }
before=$(cpu)
/usr/bin/time -v "$BIN" pregen bulk --csv people.csv --types "$TYPES" --vault v.vault --concurrency "$C" ${SETUP_POOL:+--setup-pool "$SETUP_POOL"} --json > out.json 2> bulk.log || true
cat out.json | python3 -c 'import json,sys; d=json.load(sys.stdin); print("created",d["created"],"skipped",d["skipped"],"failed",len(d["failed"]),"seconds",round(d["seconds"],2),"rate/s",round(d["created"]/d["seconds"],1))'
after=$(cpu)
grep -E "Maximum resident|User time|System time" bulk.log | sed 's/^/bulk client /'
echo "server CPU seconds during the run: $(python3 -c "print(round(($after - $before) / $(getconf CLK_TCK), 2))")"
grep VmHWM /proc/$spid/status | sed 's/^/server /'
kill $spid
