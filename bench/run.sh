#!/usr/bin/env bash
# Benchmark harness: CloudDocs (release build, SQLite; PostgreSQL too when
# CLOUDDOCS_TEST_DATABASE_URL is set) side by side with the FastAPI reference
# (../shared/peers/fastapi_ref, its best configuration: 2 workers, uvloop, httptools),
# both on loopback, both driven by the same wrk in the same run. Writes
# bench/results/latest.md; servers are stopped by PID on exit.
#
#   bench/run.sh                         # 10 s per endpoint, 32 connections, 100k documents
#   DURATION=5 DOCS=20000 bench/run.sh
#   SKIP_REFERENCE=1 bench/run.sh        # CloudDocs only
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DOCS="${DOCS:-100000}"
DURATION="${DURATION:-10}"
CONNS="${CONNS:-32}"
PORT="${PORT:-18181}"
REF_PORT="${REF_PORT:-18001}"
REF_DIR="${REF_DIR:-$(cd "$ROOT/.." && pwd)/shared/peers/fastapi_ref}"
REF_VENV="${REF_VENV:-$HOME/.cache/clouddocs-fastapi-ref}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/clouddocs-target}"

command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
cargo build --release -p clouddocs >/dev/null 2>&1
cargo build --release -p clouddocs-auth --example argon2_ceiling >/dev/null 2>&1
cargo build --release -p clouddocs-authz --example decision_latency >/dev/null 2>&1
BIN="$CARGO_TARGET_DIR/release/clouddocs"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

rows=()
wrk_run() { # system, endpoint, then wrk arguments; prints "rps p50 p99 non2xx"
  shift 2
  local out
  out=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$@")
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  echo "$rps $p50 $p99 ${non2xx:-0}"
}
lua_post() { # file, path-less body, content type, extra header line
  cat >"$1" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "$3"
$4
wrk.body = '$2'
LUA
}
rss_kib() { local total=0; for p in "$@"; do total=$((total + $(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done; echo "$total"; }

# --- the reference --------------------------------------------------------------------
declare -A REF
declare -A LOGIN_RPS
if [ -z "${SKIP_REFERENCE:-}" ] && [ -d "$REF_DIR" ]; then
  if [ ! -x "$REF_VENV/bin/uvicorn" ]; then
    python3 -m venv "$REF_VENV" && "$REF_VENV/bin/pip" install -q -r "$REF_DIR/requirements.txt"
  fi
  mkdir -p "$WORK/refkeys"
  openssl genpkey -algorithm ed25519 -out "$WORK/refkeys/ed25519.pem" 2>/dev/null
  openssl pkey -in "$WORK/refkeys/ed25519.pem" -pubout -out "$WORK/refkeys/ed25519.pub.pem"
  (cd "$REF_DIR" && PEER_KEYDIR="$WORK/refkeys" exec "$REF_VENV/bin/uvicorn" --app-dir . app:app \
    --host 127.0.0.1 --port "$REF_PORT" --workers 2 --loop uvloop --http httptools --no-access-log \
    >"$WORK/ref.log" 2>&1) &
  REF_PID=$!
  PIDS+=("$REF_PID")
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$REF_PORT/docs" && break; sleep 0.2; done
  REF_BASE="http://127.0.0.1:$REF_PORT"
  REF_HS=$(curl -sf "$REF_BASE/token" -d username=alice -d password=wonderland | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
  REF_ED=$(curl -sf "$REF_BASE/token/eddsa" -d username=alice -d password=wonderland | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
  lua_post "$WORK/ref_login.lua" "username=alice&password=wonderland" "application/x-www-form-urlencoded" ""
  cat >"$WORK/ref_delete.lua" <<LUA
wrk.method = "DELETE"
wrk.headers["Authorization"] = "Bearer $REF_HS"
LUA
  REF[me_hs]=$(wrk_run ref "GET /me" -H "Authorization: Bearer $REF_HS" "$REF_BASE/me")
  REF[me_ed]=$(wrk_run ref "GET /me/eddsa" -H "Authorization: Bearer $REF_ED" "$REF_BASE/me/eddsa")
  REF[login]=$(wrk_run ref "POST /token" -s "$WORK/ref_login.lua" "$REF_BASE/token")
  REF[delete]=$(wrk_run ref "DELETE /articles/1" -s "$WORK/ref_delete.lua" "$REF_BASE/articles/1")
  ref_pids=("$REF_PID" $(pgrep -P "$REF_PID" || true))
  REF[rss]=$(rss_kib "${ref_pids[@]}")
  kill "$REF_PID" 2>/dev/null || true
  sleep 1
fi

# --- CloudDocs ----------------------------------------------------------------------------
CEILING=$("$CARGO_TARGET_DIR/release/examples/argon2_ceiling" 5 | awk '{print $3}')
echo "argon2id ceiling: $CEILING verifies/s"
DECISIONS=$("$CARGO_TARGET_DIR/release/examples/decision_latency")
echo "$DECISIONS"

run_clouddocs() { # label, extra server flags...
  local label=$1; shift
  local data="$WORK/data-$label"
  mkdir -p "$data"
  local base="http://127.0.0.1:$PORT"
  local pw='bench-violet-staple-4711'
  printf '%s' "$pw" | "$BIN" --dev --data-dir "$data" "$@" users create --email admin@bench.local --admin >/dev/null
  "$BIN" --dev --data-dir "$data" "$@" serve --bind "127.0.0.1:$PORT" $BENCH_SERVE_FLAGS >"$data/server.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done
  local idle
  idle=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  local user_id token admin
  user_id=$(curl -sf "$base/auth/register" -H 'content-type: application/json' \
    -d "{\"email\":\"bench@example.com\",\"password\":\"$pw\",\"display_name\":\"Bench\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["id"])')
  token=$(curl -sf "$base/oauth/token" -d grant_type=password -d username=bench@example.com -d "password=$pw" | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
  admin=$(curl -sf "$base/oauth/token" -d grant_type=password -d username=admin@bench.local -d "password=$pw" | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
  local client secret
  read -r client secret < <(curl -sf "$base/admin/clients" -H "authorization: Bearer $admin" -H 'content-type: application/json' \
    -d '{"name":"bench","grant_types":["client_credentials"],"scopes":["documents:read"],"confidential":true}' \
    | python3 -c 'import sys,json;d=json.load(sys.stdin);print(d["client_id"], d["client_secret"])')
  local basic
  basic=$(printf '%s:%s' "$client" "$secret" | base64 -w0)
  local doc_id=""
  if [ "$label" = sqlite ]; then
    local seeded
    seeded=$(python3 bench/seed.py "$data/clouddocs.db" "$user_id" "$DOCS")
    doc_id=${seeded##* }
  fi
  lua_post "$WORK/login.lua" "grant_type=password&username=bench@example.com&password=$pw" "application/x-www-form-urlencoded" ""
  lua_post "$WORK/cc.lua" "grant_type=client_credentials" "application/x-www-form-urlencoded" "wrk.headers[\"Authorization\"] = \"Basic $basic\""
  lua_post "$WORK/introspect.lua" "token=$token" "application/x-www-form-urlencoded" "wrk.headers[\"Authorization\"] = \"Basic $basic\""
  lua_post "$WORK/check.lua" "{\"action\":\"read\",\"resource\":{\"type\":\"Document\",\"id\":\"$doc_id\"}}" "application/json" "wrk.headers[\"Authorization\"] = \"Bearer $token\""
  cat >"$WORK/delete.lua" <<LUA
wrk.method = "DELETE"
wrk.headers["Authorization"] = "Bearer $admin"
LUA
  local r
  r=$(wrk_run cd "GET /me" -H "Authorization: Bearer $token" "$base/me")
  rows+=("| GET /me, bearer EdDSA | CloudDocs ($label) | $r |${REF[me_ed]:+ ${REF[me_ed]%% *} (EdDSA), ${REF[me_hs]%% *} (HS256) |}")
  r=$(wrk_run cd "login" -s "$WORK/login.lua" "$base/oauth/token")
  rows+=("| password login | CloudDocs ($label) | $r |${REF[login]:+ ${REF[login]%% *} |}")
  LOGIN_RPS[$label]=${r%% *}
  # Login storm and GET /me together: does hashing starve the executor?
  wrk -t1 -c16 -d"${DURATION}s" -s "$WORK/login.lua" "$base/oauth/token" >"$WORK/storm.txt" &
  local storm=$!
  sleep 1
  r=$(CONNS=16 wrk_run cd "GET /me during login storm" -H "Authorization: Bearer $token" "$base/me")
  wait "$storm" || true
  rows+=("| GET /me during a login storm | CloudDocs ($label) | $r | |")
  r=$(wrk_run cd "DELETE admin" -s "$WORK/delete.lua" "$base/admin/clients/cdc_absent")
  rows+=("| admin-only DELETE (404: no such client) | CloudDocs ($label) | $r |${REF[delete]:+ ${REF[delete]%% *} |}")
  if [ -n "$doc_id" ]; then
    r=$(wrk_run cd "GET /documents/{id}" -H "Authorization: Bearer $token" "$base/documents/$doc_id")
    rows+=("| GET /documents/{id}, policy engine | CloudDocs ($label) | $r | |")
    r=$(wrk_run cd "GET /documents" -H "Authorization: Bearer $token" "$base/documents")
    rows+=("| GET /documents first page, $DOCS docs | CloudDocs ($label) | $r | |")
    r=$(wrk_run cd "POST /authz/check" -s "$WORK/check.lua" "$base/authz/check")
    rows+=("| POST /authz/check | CloudDocs ($label) | $r | |")
  fi
  r=$(wrk_run cd "client_credentials" -s "$WORK/cc.lua" "$base/oauth/token")
  rows+=("| client_credentials issuance | CloudDocs ($label) | $r | 5,030 (node oidc-provider, README) |")
  r=$(wrk_run cd "introspect" -s "$WORK/introspect.lua" "$base/oauth/introspect")
  rows+=("| introspection | CloudDocs ($label) | $r | |")
  local peak
  peak=$(rss_kib "$pid")
  local mem_ratio=" "
  [ -n "${REF[rss]:-}" ] && mem_ratio=$(awk -v a="$peak" -v b="${REF[rss]}" 'BEGIN { printf "%.2f× (peak)", a / b }')
  rows+=("RAW| memory (RSS) | CloudDocs ($label) | idle $((idle / 1024)) MiB | peak $((peak / 1024)) MiB | | | ${REF[rss]:+reference peak $((REF[rss] / 1024)) MiB} | $mem_ratio |")
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# The brute-force limits would turn a login benchmark into a 429 benchmark: lift them.
BENCH_SERVE_FLAGS="${BENCH_SERVE_FLAGS:---login-limit 1000000000/1 --account-limit 1000000000/1 --client-credentials-limit 1000000000/1}"
run_clouddocs sqlite
if [ -n "${CLOUDDOCS_TEST_DATABASE_URL:-}" ]; then
  db="cdbench_$$"
  psql "$CLOUDDOCS_TEST_DATABASE_URL" -qc "CREATE DATABASE $db" >/dev/null
  run_clouddocs postgres --database-url "${CLOUDDOCS_TEST_DATABASE_URL%/*}/$db"
  psql "$CLOUDDOCS_TEST_DATABASE_URL" -qc "DROP DATABASE $db WITH (FORCE)" >/dev/null || true
fi

mkdir -p bench/results
{
  echo "# CloudDocs vs the FastAPI reference, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "$(nproc) cores ($(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | xargs)); wrk -t1 -c$CONNS -d${DURATION}s on the same machine;"
  echo "Argon2id ceiling (all cores, memory reused): $CEILING verifies/s."
  echo "Policy decision in process (default Cedar set, one at a time): $DECISIONS."
  echo
  echo "| endpoint | system | requests/s | p50 | p99 | non-2xx | reference requests/s | ratio (vs best reference) |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  for row in "${rows[@]}"; do
    if [[ $row == RAW* ]]; then echo "${row#RAW}"; continue; fi
    # "| a | b | rps p50 p99 non2xx | ref |" -> table cells, plus CloudDocs / best reference
    echo "$row" | awk -F'|' '{
      split($4, m, " "); best = 0; ref = $5; gsub(/,/, "", ref)
      while (match(ref, /[0-9]+(\.[0-9]+)?/)) { v = substr(ref, RSTART, RLENGTH) + 0; if (v > best) best = v; ref = substr(ref, RSTART + RLENGTH) }
      ratio = (best > 0 && $5 !~ /README/) ? sprintf("%.2f×", m[1] / best) : (best > 0 ? sprintf("%.2f× (vs README figure)", m[1] / best) : " ")
      printf "|%s|%s| %s | %s | %s | %s |%s| %s |\n", $2, $3, m[1], m[2], m[3], m[4], ($5 == "" ? " " : $5), ratio }'
  done
  echo
  for label in "${!LOGIN_RPS[@]}"; do
    awk -v l="$label" -v r="${LOGIN_RPS[$label]}" -v c="$CEILING" \
      'BEGIN { printf "Login on %s: %.1f/s = %.0f%% of the Argon2id ceiling (%.1f/s).\n", l, r, 100 * r / c, c }'
  done
} | tee bench/results/latest.md
