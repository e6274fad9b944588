#!/usr/bin/env python3
"""Measures a planned switchover and a node loss under write load against deploy/ha/loopback.sh:
the write outage, the 503s, acknowledged writes and access-log entries lost, and the time to the
first checkpoint after each event. Driven by bench/failover.sh; prints one JSON object."""
import json, os, subprocess, sys, threading, time, urllib.request, urllib.error, uuid

HA_DIR = os.environ.get("HA_DIR", "/tmp/planpro-ha")
URLS = ["http://127.0.0.1:18081", "http://127.0.0.1:18082"]
TOKEN = os.environ["TOKEN"]
WORKERS = int(os.environ.get("WORKERS", "8"))
SUBJECT = json.dumps({"kind": "client", "given_name": "Mari", "family_name": "Maasikas",
                      "source": {"type": "data_subject"}}).encode()

def call(url, method="GET", body=None, headers=None, timeout=15):
    req = urllib.request.Request(url, data=body, method=method)
    req.add_header("Authorization", "Bearer " + TOKEN)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except Exception:
        return 0, b""

def create(base, key):
    return call(base + "/v1/subjects", "POST", SUBJECT,
                {"Content-Type": "application/json", "Idempotency-Key": key})

records, lock, stop = [], threading.Lock(), threading.Event()

def worker(w):
    i = 0
    while not stop.is_set():
        i += 1
        base, key = URLS[i % 2], f"w{w}-{i}-{uuid.uuid4().hex[:6]}"
        t0 = time.time()
        status, body = create(base, key)
        sid = json.loads(body).get("id") if status == 201 else None
        read = None
        if sid:
            rid = "read-" + key
            rs, _ = call(base + f"/v1/subjects/{sid}", headers={"X-Request-Id": rid})
            read = (rid, rs)
        with lock:
            records.append({"key": key, "t0": t0, "t1": time.time(), "status": status, "id": sid, "read": read})

def checkpoint_size():
    status, body = call(URLS[0] + "/v1/access-logs/checkpoint")
    try:
        return int(body.decode().split("\n")[1]) if status == 200 else 0
    except Exception:
        return 0

def patroni(*args):
    return subprocess.run(["patronictl", "-c", f"{HA_DIR}/pg1.yml", *args], capture_output=True, text=True)

def leader_and_sync():
    out = json.loads(patroni("list", "-f", "json").stdout)
    leader = next(m["Member"] for m in out if m["Role"] == "Leader")
    sync = next((m["Member"] for m in out if m["Role"] == "Sync Standby"), None)
    return leader, sync

def wait_sync(limit=120):
    end = time.time() + limit
    while time.time() < end:
        try:
            out = json.loads(patroni("list", "-f", "json").stdout)
            if any(m["Role"] == "Sync Standby" for m in out) and all(m["State"] in ("running", "streaming") for m in out):
                return True
        except Exception:
            pass
        time.sleep(0.5)
    return False

sizes = []  # (time, checkpoint size), sampled every 0.2 s

def monitor():
    while not stop.is_set():
        sizes.append((time.time(), checkpoint_size()))
        time.sleep(0.2)

def event_figures(name, at):
    """The longest gap between two acknowledged writes around the event, the non-2xx answers to
    writes started meanwhile, and how long after the first write acknowledged after the gap a
    larger checkpoint than the one served at the event was served."""
    with lock:
        ok = sorted(r["t1"] for r in records if r["status"] == 201 and at - 2 <= r["t1"] <= at + 30)
        gaps = [(b - a, a, b) for a, b in zip(ok, ok[1:]) if b >= at]
        gap, start, end = max(gaps, default=(0, at, at))
        failed = {}
        for r in records:
            if r["status"] != 201 and at - 1 <= r["t0"] <= end:
                failed[r["status"]] = failed.get(r["status"], 0) + 1
    before = max((s for t, s in sizes if t <= at), default=0)
    after = next((t for t, s in sizes if t >= end and s > before), None)
    return {"event": name, "write_outage_s": round(gap, 2), "non_2xx_by_status": failed,
            "checkpoint_after_writes_resume_s": round(after - end, 2) if after else None}

def main():
    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(WORKERS)]
    for t in threads: t.start()
    threading.Thread(target=monitor, daemon=True).start()
    time.sleep(10)
    results = []
    # A planned switchover to the synchronous standby.
    leader, sync = leader_and_sync()
    at = time.time()
    out = patroni("switchover", "--leader", leader, "--candidate", sync, "--force")
    switch_took = time.time() - at
    time.sleep(12)
    fig = event_figures("switchover", at)
    fig["patronictl_s"] = round(switch_took, 2)
    fig["patronictl_ok"] = out.returncode == 0
    results.append(fig)
    wait_sync()
    time.sleep(5)
    # A node loss: the primary's Patroni and PostgreSQL killed at once.
    leader, _ = leader_and_sync()
    n = leader[-1]
    pid = open(f"{HA_DIR}/run/pg{n}.pid").read().strip()
    at = time.time()
    subprocess.run(["kill", "-9", pid])
    try:
        pm = open(f"{HA_DIR}/pg{n}/data/postmaster.pid").readline().strip()
        subprocess.run(["kill", "-9", pm])
    except Exception:
        pass
    time.sleep(25)
    results.append(event_figures("node loss", at))
    stop.set()
    for t in threads: t.join(timeout=30)
    # Every write not acknowledged is retried with its key until it is; acknowledged ones must
    # answer as replays (the same subject).
    replays_differ, retried, unanswered = 0, 0, 0
    for r in records:
        status, body = 0, b""
        for _ in range(100):
            status, body = create(URLS[0], r["key"])
            if status == 201:
                break
            time.sleep(0.3)
        if status != 201:
            unanswered += 1
            continue
        sid = json.loads(body)["id"]
        if r["status"] == 201 and sid != r["id"]:
            replays_differ += 1
        if r["status"] != 201:
            retried += 1
            r["id"] = sid
    acknowledged = [r for r in records if r["status"] == 201]
    reads = [r["read"][0] for r in records if r["read"] and r["read"][1] == 200]
    url = open(f"{HA_DIR}/secrets/database_url").read().strip()
    def psql(sql):
        return subprocess.run(["psql", url, "-Atc", sql], capture_output=True, text=True).stdout.split()
    ids = set(psql("SELECT id FROM subjects"))
    logged = set(psql("SELECT request_id FROM access_log WHERE action = 'subject.read'"))
    lost_writes = sum(1 for r in acknowledged if r["id"] not in ids)
    lost_entries = sum(1 for rid in reads if rid not in logged)
    dupes = len(ids) - len({r["id"] for r in records if r["id"]})
    alarms = [json.loads(call(u + "/readyz")[1] or b"{}").get("alarms") for u in URLS]
    status, verify = call(URLS[0] + "/v1/access-logs/verify", timeout=120)
    print(json.dumps({
        "requests": len(records), "acknowledged_writes": len(acknowledged),
        "acknowledged_reads": len(reads), "events": results,
        "lost_acknowledged_writes": lost_writes, "lost_read_entries": lost_entries,
        "retried_until_acknowledged": retried, "replays_with_another_answer": replays_differ,
        "never_acknowledged": unanswered, "subjects_beyond_keys": dupes,
        "alarms_after": alarms, "verify": json.loads(verify or b"{}").get("ok") if status == 200 else status,
    }, indent=2))

main()
