#!/usr/bin/env bash
# Benchmark harness: builds the release binary, starts CloudDocs on SQLite on loopback,
# seeds a 100k-document world, and drives it with wrk. Writes bench/results/latest.md.
#
#   bench/run.sh                 # defaults: 100000 documents, 10 s per endpoint, 32 connections
#   DOCS=20000 DURATION=5 bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DOCS="${DOCS:-100000}"
DURATION="${DURATION:-10}"
CONNS="${CONNS:-32}"
PORT="${PORT:-18181}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/clouddocs-target}"

command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
cargo build --release -p clouddocs >/dev/null
BIN="$CARGO_TARGET_DIR/release/clouddocs"
DATA="$(mktemp -d)"
BASE="http://127.0.0.1:$PORT"
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$DATA"' EXIT

"$BIN" --dev serve --bind "127.0.0.1:$PORT" --data-dir "$DATA" >"$DATA/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 50); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.2; done
idle_rss=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")

PASSWORD='bench-violet-staple-4711'
USER_ID=$(curl -sf "$BASE/auth/register" -H 'content-type: application/json' \
  -d "{\"email\":\"bench@example.com\",\"password\":\"$PASSWORD\",\"display_name\":\"Bench\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["id"])')
TOKEN=$(curl -sf "$BASE/oauth/token" -d grant_type=password -d username=bench@example.com -d "password=$PASSWORD" \
  | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
SEED_OUT=$(python3 bench/seed.py "$DATA/clouddocs.db" "$USER_ID" "$DOCS")
DOC_ID=${SEED_OUT##* }
echo "$SEED_OUT"

cat >"$DATA/check.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.body = '{"action":"read","resource":{"type":"Document","id":"$DOC_ID"}}'
LUA

results=()
run() { # name, then wrk arguments
  local name=$1; shift
  local out
  out=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$@")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  local non2xx
  non2xx=$(awk '/Non-2xx/ {print $4}' <<<"$out")
  results+=("| $name | ${rps} | ${p50} | ${p99} | ${non2xx:-0} |")
  echo "$name: $rps req/s p50 $p50 p99 $p99 non-2xx ${non2xx:-0}"
}

run "GET /me (bearer, EdDSA)" -H "Authorization: Bearer $TOKEN" "$BASE/me"
run "GET /documents first page ($DOCS docs)" -H "Authorization: Bearer $TOKEN" "$BASE/documents"
run "GET /documents/{id} (policy engine)" -H "Authorization: Bearer $TOKEN" "$BASE/documents/$DOC_ID"
run "POST /authz/check (one decision)" -s "$DATA/check.lua" "$BASE/authz/check"
peak_rss=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")

mkdir -p bench/results
{
  echo "# CloudDocs benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "$(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | xargs); SQLite; wrk -t1 -c$CONNS -d${DURATION}s on the same machine."
  echo
  echo "| endpoint | requests/s | p50 | p99 | non-2xx |"
  echo "|---|---:|---:|---:|---:|"
  printf '%s\n' "${results[@]}"
  echo
  echo "Idle RSS $((idle_rss / 1024)) MiB; peak RSS $((peak_rss / 1024)) MiB."
} | tee bench/results/latest.md
