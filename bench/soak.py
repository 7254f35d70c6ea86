"""The soak load and sampler (stdlib only): a mixed load against one CloudDocs server, and
every INTERVAL seconds one CSV row of its RSS, open file descriptors, database pool and the
interval's p99 latency. See bench/soak.sh."""

import csv
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

base, pid, duration, interval, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
host = urllib.parse.urlparse(base)
PASSWORD = "correct-horse-battery-staple-42"
stop = threading.Event()
lock = threading.Lock()
latencies = []
errors = {"5xx": 0, "other": 0}


def request(conn, method, path, body=None, headers=None, form=False):
    headers = dict(headers or {})
    data = None
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
    started = time.perf_counter()
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    elapsed = time.perf_counter() - started
    with lock:
        latencies.append(elapsed)
        if response.status >= 500:
            errors["5xx"] += 1
    try:
        return response.status, json.loads(payload) if payload else None
    except ValueError:
        return response.status, None


def worker(n):
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    email = f"soak{n}@example.com"
    request(conn, "POST", "/auth/register", {"email": email, "password": PASSWORD, "display_name": f"Soak {n}"})
    _, tokens = request(conn, "POST", "/oauth/token", {"grant_type": "password", "username": email, "password": PASSWORD}, form=True)
    access, refresh = tokens["access_token"], tokens["refresh_token"]
    auth = {"Authorization": f"Bearer {access}"}
    _, org = request(conn, "POST", "/orgs", {"name": f"soak {n}"}, auth)
    docs = []
    while not stop.is_set():
        roll = random.random()
        try:
            if roll < 0.55:
                request(conn, "GET", "/me", headers=auth)
            elif roll < 0.70 and docs:
                request(conn, "GET", f"/documents/{random.choice(docs)}", headers=auth)
            elif roll < 0.75:
                request(conn, "GET", "/documents?limit=20", headers=auth)
            elif roll < 0.88:
                status, doc = request(conn, "POST", f"/orgs/{org['id']}/documents", {"title": f"t{len(docs)}", "body": "x" * 200}, auth)
                if status == 201:
                    docs.append(doc["id"])
                    request(conn, "PATCH", f"/documents/{doc['id']}", {"body": "y" * 200}, auth)
                if len(docs) > 500:
                    gone = docs.pop(0)
                    request(conn, "DELETE", f"/documents/{gone}", headers=auth)
            elif roll < 0.97:
                status, rotated = request(conn, "POST", "/oauth/token", {"grant_type": "refresh_token", "refresh_token": refresh}, form=True)
                if status == 200:
                    refresh, access = rotated["refresh_token"], rotated["access_token"]
                    auth = {"Authorization": f"Bearer {access}"}
            else:
                request(conn, "POST", "/auth/login", {"email": email, "password": PASSWORD})
        except (OSError, http.client.HTTPException):
            with lock:
                errors["other"] += 1
            conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)


def sample():
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024
    import os
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    gauges = {}
    for line in text.splitlines():
        if line.startswith("clouddocs_db_pool_"):
            name, value = line.rsplit(" ", 1)
            gauges[name] = float(value)
    return rss, fds, gauges.get("clouddocs_db_pool_connections", 0), gauges.get("clouddocs_db_pool_idle", 0)


threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(6)]
for t in threads:
    t.start()
started = time.time()
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["seconds", "rss_mib", "open_fds", "pool_connections", "pool_idle", "requests", "p99_ms", "server_errors"])
    while time.time() - started < duration:
        time.sleep(interval)
        with lock:
            batch, latencies[:] = sorted(latencies), []
            fives = errors["5xx"]
        rss, fds, pool, idle = sample()
        p99 = batch[int(len(batch) * 0.99) - 1] * 1000 if batch else 0
        w.writerow([round(time.time() - started), round(rss, 1), fds, pool, idle, len(batch), round(p99, 2), fives])
        f.flush()
stop.set()
print(f"5xx answers: {errors['5xx']}, transport errors: {errors['other']}")
