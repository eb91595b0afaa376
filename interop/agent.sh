#!/usr/bin/env bash
# `dyad agent` end to end with curl only (issue 8): a `dyad serve` on port 0, an agent on port 0
# with a vault file, then plain HTTP in Para's REST shapes. Signatures are checked with viem and
# @solana/kit (tools/agent-verify.mjs). Prints `# pass N` / `# fail N` like node's TAP reporter.
# Usage: DYAD_BIN=target/debug/dyad bash interop/agent.sh   (after `npm ci` in interop/)
set -uo pipefail
BIN=${DYAD_BIN:-$(dirname "$0")/../target/debug/dyad}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
VERIFY=$(cd "$(dirname "$0")" && pwd)/tools/agent-verify.mjs
d=$(mktemp -d)
chmod 700 "$d"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$d"; }
trap cleanup EXIT
cd "$d" || exit 1
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { local what=$1; shift; if "$@" > check.out 2>&1; then ok "$what"; else not_ok "$what: $(cat check.out)"; fi; }

# Start "$@" with its output read here until a line matches $pattern, and set $url to the URL
# that line names. The rest of its output goes on being read (to $log) so it never blocks on a
# full pipe. (Not in a subshell: $pids must reach the cleanup.)
start() {
  local log=$1 pattern=$2 fd line; shift 2
  exec {fd}< <(exec "$@" 2>&1)
  pids+=($!)
  while IFS= read -r line <&"$fd"; do
    echo "$line" >> "$log"
    if [[ $line =~ $pattern ]]; then
      url=${BASH_REMATCH[1]}
      cat <&"$fd" >> "$log" 2>/dev/null &
      return 0
    fi
  done
  echo "no line matching $pattern; log:" >&2; cat "$log" >&2
  return 1
}

api_key=$("$BIN" app create --data-dir data --name agent-e2e --env beta --json | jq -r .apiKey)
start serve.log 'listening on (http://127\.0\.0\.1:[0-9]+)' "$BIN" serve --listen 127.0.0.1:0 --data-dir data || exit 1
agent_key=$("$BIN" agent key create --keys agent.keys 2>/dev/null)
# Secrets through the environment, not the command line (which `ps` shows).
export DYAD_URL=$url DYAD_API_KEY=$api_key DYAD_VAULT_KEY
DYAD_VAULT_KEY=$(head -c 32 /dev/urandom | base64)
start agent.log 'listening on (http://127\.0\.0\.1:[0-9]+)' \
  "$BIN" agent --listen 127.0.0.1:0 --keys agent.keys --vault shares.vault --state agent.db --allow-share-export || exit 1
agent=$url

# call METHOD PATH [BODY [IDEMPOTENCY-KEY]]: the body to response.json, the status printed.
call() {
  local args=(-s -o response.json -w '%{http_code}' -X "$1" "$agent$2" -H "X-API-Key: $agent_key" -D headers.txt)
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  [ $# -ge 4 ] && args+=(-H "Idempotency-Key: $4")
  curl "${args[@]}"
}

evm_body='{"type":"EVM","userIdentifier":"curl@example.com","userIdentifierType":"EMAIL"}'
status=$(call POST /v1/wallets "$evm_body" create-evm-1)
cp response.json evm.json
[ "$status" = 201 ] && [ "$(jq -r .status evm.json)" = ready ] && ok "EVM wallet created (201, ready)" || not_ok "EVM create: $status $(cat response.json)"
evm_id=$(jq -r .id evm.json); evm_address=$(jq -r .address evm.json)

status=$(call POST /v1/wallets "$evm_body" create-evm-1)
if [ "$status" = 201 ] && [ "$(jq -S . response.json)" = "$(jq -S . evm.json)" ] && grep -qi '^idempotent-replayed: true' headers.txt; then
  ok "the same Idempotency-Key answers the first answer again"
else
  not_ok "idempotent repeat: $status $(cat response.json)"
fi
status=$(call GET /v1/wallets)
[ "$status" = 200 ] && [ "$(jq '.wallets | length' response.json)" = 1 ] && ok "no second wallet was made" || not_ok "listing: $status $(cat response.json)"
status=$(call POST /v1/wallets '{"type":"EVM","userIdentifier":"other@example.com","userIdentifierType":"EMAIL"}' create-evm-1)
[ "$status" = 422 ] && [ "$(jq -r .code response.json)" = IDEMPOTENCY_KEY_REUSED ] && ok "the key reused with another body is 422" || not_ok "key reuse: $status $(cat response.json)"

status=$(call POST /v1/wallets '{"type":"SOLANA","userIdentifier":"curl-bot","userIdentifierType":"CUSTOM_ID"}')
cp response.json sol.json
[ "$status" = 201 ] && ok "Solana wallet created" || not_ok "Solana create: $status $(cat response.json)"
sol_id=$(jq -r .id sol.json); sol_address=$(jq -r .address sol.json)

message="hello from curl"
status=$(call POST "/v1/wallets/$evm_id/sign-message" "$(jq -nc --arg m "$message" '{message: $m}')")
[ "$status" = 200 ] || not_ok "EVM sign-message: $status $(cat response.json)"
check "viem verifies the EVM message signature" node "$VERIFY" evm-message "$evm_address" "$message" "$(jq -r .signature response.json)"

to=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
tx=$(jq -nc --arg to "$to" '{transaction: {to: $to, chainId: "0x1", type: "0x2", value: "0xde0b6b3a7640000", nonce: "0x0", gasLimit: "0x5208", maxFeePerGas: "0x3b9aca00", maxPriorityFeePerGas: "0x3b9aca00"}}')
status=$(call POST "/v1/wallets/$evm_id/sign-transaction" "$tx")
[ "$status" = 200 ] || not_ok "EVM sign-transaction: $status $(cat response.json)"
check "viem recovers the wallet from the signed EVM transaction" node "$VERIFY" evm-tx "$evm_address" "$(jq -r .signedTransaction response.json)" "$to" 1000000000000000000

unsigned=$(node "$VERIFY" solana-transfer "$sol_address")
status=$(call POST "/v1/wallets/$sol_id/sign-transaction" "$(jq -nc --arg t "$unsigned" '{transaction: $t}')")
[ "$status" = 200 ] || not_ok "Solana sign-transaction: $status $(cat response.json)"
check "kit verifies the wallet's signature in the Solana transaction" node "$VERIFY" solana-tx "$sol_address" "$unsigned" "$(jq -r .signedTransaction response.json)"
status=$(call POST "/v1/wallets/$sol_id/sign-message" "$(jq -nc --arg m "$message" '{message: $m}')")
[ "$status" = 200 ] || not_ok "Solana sign-message: $status $(cat response.json)"
check "kit verifies the Solana message signature" node "$VERIFY" solana-message "$sol_address" "$message" "$(jq -r .signature response.json)"

status=$(call POST /v1/wallets '{not json')
[ "$status" = 400 ] && [ "$(jq -r .code response.json)" = INVALID_JSON ] && ok "garbage JSON is 400 INVALID_JSON" || not_ok "garbage: $status $(cat response.json)"
status=$(curl -s -o response.json -w '%{http_code}' -X POST "$agent/v1/wallets" -H 'X-API-Key: dyad_agent_wrong' -H 'Content-Type: application/json' --data-binary "$evm_body")
[ "$status" = 403 ] && ok "a wrong agent key is 403" || not_ok "wrong key: $status $(cat response.json)"
status=$(call GET /v1/wallets)
[ "$(jq '.wallets | length' response.json)" = 2 ] && ok "refused requests made nothing" || not_ok "listing after refusals: $(cat response.json)"
status=$(call GET "/v1/wallets/$evm_id/user-share")
share=$(jq -r .userShare response.json)
[ "$status" = 200 ] && [ -n "$share" ] && [ "$share" != null ] && ok "the share is handed over for a claim (--allow-share-export)" || not_ok "user-share: $status $(cat response.json)"
grep -q "user share handed over" agent.log && ok "the hand-over is logged" || not_ok "no log line for the hand-over: $(cat agent.log)"
leaked=0
for secret in "$agent_key" "$DYAD_VAULT_KEY" "$api_key" "$share"; do
  grep -qF -- "$secret" agent.log serve.log && leaked=1
done
grep -qaF -- "$share" shares.vault shares.vault-wal agent.db agent.db-wal 2>/dev/null && leaked=1
[ "$leaked" = 0 ] && ok "no key, secret or share in the logs, and no share in clear on disk" || not_ok "a secret is in a log or on disk"

echo "# pass $pass"
echo "# fail $fail"
[ "$fail" -eq 0 ]
