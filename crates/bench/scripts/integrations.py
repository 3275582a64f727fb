#!/usr/bin/env python3
"""Measures two integration figures against a running release server
(a program, not a test):

1. the hosted form's throughput with the rate limiter on (wrk, POST /f/<key>):
   once with the limits raised so every post is accepted and stored, once with
   the default limits, where nearly every post is refused (429) after being
   counted and logged;
2. the delay from an automatic assignment (a lead sent with an intake key and
   routed round robin) to the arrival of its `lead.assigned` event at a
   receiver on a local port.

Start the server first, allowing loopback webhooks:

    LEADTEAM_WEBHOOK_ALLOW_NETWORKS=127.0.0.0/8 ./target/release/leadteam serve --bind 127.0.0.1:18080
    python3 crates/bench/scripts/integrations.py http://127.0.0.1:18080
"""

import http.server
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:18080"
SECONDS = int(os.environ.get("SECONDS_PER_RUN", "10"))


def call(method, path, token=None, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req) as r:
        text = r.read()
        return r.status, (json.loads(text) if text else None)


def wrk(url, body):
    lua = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    lua.write('wrk.method = "POST"\n')
    lua.write('wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n')
    lua.write('wrk.body = "%s"\n' % body)
    lua.write("""
statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
""")
    lua.close()
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{SECONDS}s", "--latency", "-s", lua.name, url],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return rps, p50, p99, total, int(non2xx.group(1)) if non2xx else 0


def main():
    stamp = str(int(time.time()))
    _, s = call("POST", "/api/v1/signup", body={
        "account_name": "Bench " + stamp, "name": "Ann Owner",
        "email": f"bench{stamp}@example.com", "password": "correct horse battery"})
    token = s["token"]
    _, me = call("GET", "/api/v1/me", token)
    owner = me["member_id"]

    # 1. The hosted form.
    _, src = call("POST", "/api/v1/lead-sources", token, {"kind": "form", "name": "Form"})
    form = src["form"]
    form.update({"per_address_per_minute": 10000, "per_source_per_minute": 1000000})
    call("PATCH", f"/api/v1/lead-sources/{src['id']}", token, {"form": form})
    body = "name=Wes+Site&email=wes%40example.com&message=Call+me"
    rps, p50, p99, total, refused = wrk(src["form_url"], body)
    print(f"form, limits raised (every post stored): {rps:.0f} posts/s, p50 {p50}, p99 {p99}, "
          f"{total} posts, {refused} not 2xx")
    form.update({"per_address_per_minute": 10, "per_source_per_minute": 600})
    _, src2 = call("POST", "/api/v1/lead-sources", token, {"kind": "form", "name": "Form 2"})
    rps, p50, p99, total, refused = wrk(src2["form_url"], body)
    print(f"form, default limits (10/address/min): {rps:.0f} posts/s, p50 {p50}, p99 {p99}, "
          f"{total} posts, {refused} refused (429)")

    # 2. Assignment -> outbound delivery.
    arrived = {}

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("content-length", "0"))
            ev = json.loads(self.rfile.read(n))
            if ev["type"] == "lead.assigned":
                arrived[ev["data"]["client_id"]] = time.monotonic()
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{server.server_port}/hook"
    call("POST", "/api/v1/webhooks", token, {"url": hook_url, "events": ["lead.assigned"]})
    call("PUT", "/api/v1/assignment-rules/default", token,
         {"type": "round_robin", "members": [{"member_id": owner}]})
    _, zap = call("POST", "/api/v1/lead-sources", token, {"kind": "webhook", "name": "Zap"})
    _, key = call("POST", "/api/v1/api-keys", token, {"name": "k", "lead_source_ids": [zap["id"]]})
    sent = {}
    n = int(os.environ.get("LEADS", "200"))
    for i in range(n):
        t0 = time.monotonic()
        _, r = call("POST", "/api/v1/leads", key["token"], {"source_id": zap["id"], "name": f"Lead {i}"})
        if r["assignee_id"] is None:
            raise SystemExit("the lead was not assigned: " + r["reason"])
        sent[r["client_id"]] = t0
        time.sleep(0.02)
    deadline = time.monotonic() + 10
    while len(arrived) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    delays = sorted((arrived[c] - t0) * 1000 for c, t0 in sent.items() if c in arrived)
    q = statistics.quantiles(delays, n=100)
    print(f"assignment -> lead.assigned delivered: {len(delays)}/{n} events, "
          f"median {statistics.median(delays):.1f} ms, p95 {q[94]:.1f} ms, max {delays[-1]:.1f} ms "
          "(from sending the lead, so the intake request is included)")
    server.shutdown()


if __name__ == "__main__":
    main()
