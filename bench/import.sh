#!/usr/bin/env bash
# `clouddocs users import` of N users (default 100,000) into a fresh SQLite database,
# timed. Every row carries a real Django pbkdf2_sha256 hash (the import stores hashes as
# they are; each is upgraded at its user's first sign-in).
#   bench/import.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/clouddocs-target}"
cargo build --release -q -p clouddocs
bin="$CARGO_TARGET_DIR/release/clouddocs"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/data"
python3 - "$n" "$work/users.csv" <<'PY'
import base64, csv, hashlib, sys
n, path = int(sys.argv[1]), sys.argv[2]
key = hashlib.pbkdf2_hmac("sha256", b"imported password", b"benchsalt", 1000)
digest = "pbkdf2_sha256$1000$benchsalt$" + base64.b64encode(key).decode()
with open(path, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["email", "display_name", "password_hash"])
    for i in range(n):
        w.writerow([f"user{i}@example.com", f"User {i}", digest])
PY
start=$(date +%s.%N)
"$bin" --data-dir "$work/data" --dev users import "$work/users.csv" 2>/dev/null | tail -1
end=$(date +%s.%N)
python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'{int(sys.argv[3])} users in {s:.1f} s wall ({int(sys.argv[3])/s:,.0f} users/s), SQLite')" "$start" "$end" "$n"
