#!/usr/bin/env bash
# Soak: DURATION seconds (default 600) of a mixed load (reads, writes, logins, refresh,
# listing) against one CloudDocs on SQLite. Every INTERVAL seconds (default 10) it samples
# RSS, open file descriptors, the database pool (/metrics) and p99 into
# bench/results/soak.csv, then plots bench/results/soak.png. It fails if RSS or descriptors
# keep growing after the warm-up (the first fifth of the run), or on any 5xx.
#   bench/soak.sh            DURATION=180 bench/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-600}"
INTERVAL="${INTERVAL:-10}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/clouddocs-target}"
cargo build --release -q -p clouddocs
python3 -c 'import matplotlib' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check matplotlib
WORK="$(mktemp -d)"
PORT="${PORT:-18282}"
"$CARGO_TARGET_DIR/release/clouddocs" --dev --data-dir "$WORK/data" serve --bind "127.0.0.1:$PORT" \
  --login-limit 1000000000/1 --account-limit 1000000000/1 --register-limit 1000000/1 >/dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
mkdir -p bench/results
python3 bench/soak.py "http://127.0.0.1:$PORT" "$PID" "$DURATION" "$INTERVAL" bench/results/soak.csv
python3 - <<'PY'
import csv, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
rows = list(csv.DictReader(open("bench/results/soak.csv")))
t = [int(r["seconds"]) for r in rows]
series = [("rss_mib", "RSS (MiB)"), ("open_fds", "open file descriptors"), ("pool_connections", "pool connections"), ("p99_ms", "p99 (ms)")]
fig, axes = plt.subplots(len(series), 1, figsize=(8, 9), sharex=True)
for ax, (key, label) in zip(axes, series):
    ax.plot(t, [float(r[key]) for r in rows])
    ax.set_ylabel(label)
    ax.grid(True, alpha=0.3)
axes[-1].set_xlabel("seconds")
fig.suptitle("CloudDocs soak (SQLite, mixed load)")
fig.tight_layout()
fig.savefig("bench/results/soak.png", dpi=90)

def slope(xs, ys):
    n = len(xs); mx = sum(xs) / n; my = sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs) or 1
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den

warm = max(1, len(rows) // 5)
after = rows[warm:]
xs = [int(r["seconds"]) for r in after]
rss = [float(r["rss_mib"]) for r in after]
fds = [float(r["open_fds"]) for r in after]
rss_slope = slope(xs, rss) * 60
fd_slope = slope(xs, fds) * 60
errors = int(rows[-1]["server_errors"])
requests = sum(int(r["requests"]) for r in rows)
print(f"soak: {len(rows)} samples, {requests} requests, RSS {rss[0]:.1f} -> {rss[-1]:.1f} MiB "
      f"(slope {rss_slope:+.2f} MiB/min after warm-up), fds {fds[0]:.0f} -> {fds[-1]:.0f} "
      f"(slope {fd_slope:+.2f}/min), 5xx {errors}")
grows = rss_slope > 0.5 and rss[-1] > rss[0] * 1.25
fds_grow = fd_slope > 1 and fds[-1] > fds[0] + 20
if grows or fds_grow or errors:
    print("soak FAILED: steady growth or server errors")
    sys.exit(1)
PY
