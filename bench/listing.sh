#!/usr/bin/env bash
# GET /documents alone: one user's first page in a seeded 100k-document world (SQLite),
# at 32 connections and at 1, with one release binary. The server is stopped by PID.
#
#   bench/listing.sh                          # builds the release binary, 6 s per run
#   BIN=/tmp/clouddocs-before bench/listing.sh  # another build, e.g. for a before/after
#   DOCS=20000 DURATION=10 CONNS="32 1" bench/listing.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DOCS="${DOCS:-100000}"
DURATION="${DURATION:-6}"
CONNS="${CONNS:-32 1}"
PORT="${PORT:-18191}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/clouddocs-target}"
if [ -z "${BIN:-}" ]; then
  cargo build --release -p clouddocs >/dev/null 2>&1
  BIN="$CARGO_TARGET_DIR/release/clouddocs"
fi
WORK="$(mktemp -d)"
PID=""
cleanup() { if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi; rm -rf "$WORK"; }
trap cleanup EXIT

base="http://127.0.0.1:$PORT"
pw='bench-violet-staple-4711'
printf '%s' "$pw" | "$BIN" --dev --data-dir "$WORK" users create --email admin@bench.local --admin >/dev/null
"$BIN" --dev --data-dir "$WORK" serve --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done
user_id=$(curl -sf "$base/auth/register" -H 'content-type: application/json' \
  -d "{\"email\":\"bench@example.com\",\"password\":\"$pw\",\"display_name\":\"Bench\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["id"])')
python3 bench/seed.py "$WORK/clouddocs.db" "$user_id" "$DOCS" >/dev/null
token=$(curl -sf "$base/oauth/token" -d grant_type=password -d username=bench@example.com -d "password=$pw" | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
items=$(curl -sf "$base/documents" -H "Authorization: Bearer $token" | python3 -c 'import sys,json;print(len(json.load(sys.stdin)["items"]))')
echo "GET /documents: first page of $items items, $DOCS documents, $BIN"
# Warm the caches (SQLite pages, verified-token cache) before measuring
wrk -t1 -c8 -d2s -H "Authorization: Bearer $token" "$base/documents" >/dev/null
for c in $CONNS; do
  out=$(wrk -t1 -c"$c" -d"${DURATION}s" --latency -H "Authorization: Bearer $token" "$base/documents")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  echo "connections $c: $rps req/s, p50 $p50, p99 $p99, non-2xx ${non2xx:-0}"
done
