#!/usr/bin/env python3
"""make bench-http: gridbot's full turns next to the bare HTTP limit and the
Node middleware people deploy, on this machine, in one run.

Everything is measured with wrk over loopback (keep-alive, fixed
connections): a bare Beast server (the limit), npm `wechat` on Express (the
peer), gridbot /wechat and /api/chat on generated data (full turns by
customers bound to accounts), and the growth runs (data 1k -> 1M accounts,
1k -> 1M distinct customers). Prints a table and writes it as JSON.

  python3 bench/http/run.py [--quick] [--duration S] [--connections C]
                            [--build DIR] [--out FILE] [--only PARTS]
"""
import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOKEN = "benchtoken"
NOW = "2024-08-04"  # the day the generated bills end before
CLK_TCK = os.sysconf("SC_CLK_TCK")

# The customers' mix: bills, arrears, outages, help, small talk, unknown.
MIX = [
    "上个月电费多少", "这个月电费多少钱", "7月份电费", "我欠多少钱", "有没有欠费",
    "我家停电了吗", "明天会停电吗", "你能做什么", "帮助", "你好", "谢谢", "今天天气好吗",
]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def memory_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class Server:
    """A server process, started and waited for until it accepts."""

    def __init__(self, name, argv, port, env=None):
        self.name, self.port = name, port
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=env, start_new_session=True)
        deadline = time.time() + 600
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{name} exited at start; see {self.log.name}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"{name} did not start listening; see {self.log.name}")

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wechat_requests(path, count, customers, seed):
    """Signed plaintext pushes, each with its own nonce and MsgId."""
    rnd = random.Random(seed)
    ts = str(int(time.time()))
    with open(path, "w") as f:
        for k in range(count):
            user = "bench%07d" % rnd.randrange(customers)
            nonce = "%d%06d" % (seed, k)
            sig = hashlib.sha1("".join(sorted([TOKEN, ts, nonce])).encode()).hexdigest()
            body = ("<xml><ToUserName><![CDATA[gh_95598]]></ToUserName>"
                    f"<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{ts}</CreateTime>"
                    "<MsgType><![CDATA[text]]></MsgType>"
                    f"<Content><![CDATA[{rnd.choice(MIX)}]]></Content>"
                    f"<MsgId>{seed}{k:09d}</MsgId></xml>")
            f.write(f"/wechat?signature={sig}&timestamp={ts}&nonce={nonce}&openid={user}\t{body}\n")


def chat_requests(path, count, customers, seed):
    rnd = random.Random(seed)
    with open(path, "w") as f:
        for k in range(count):
            user = "bench%07d" % rnd.randrange(customers)
            body = json.dumps({"user": user, "text": rnd.choice(MIX), "id": f"m{seed}-{k}"},
                              ensure_ascii=False)
            f.write(f"/api/chat\t{body}\n")


def wrk(port, script, args, duration, connections, pace_ms=0, done_file=None):
    """One wrk run (one thread, `connections` keep-alive connections)."""
    lua = script
    if pace_ms:
        # A paced copy: each connection waits pace_ms between requests.
        fd, lua = tempfile.mkstemp(prefix="bench-paced-", suffix=".lua")
        with os.fdopen(fd, "w") as f:
            f.write(open(script).read() + f"\nfunction delay() return {pace_ms} end\n")
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", lua,
           f"http://127.0.0.1:{port}"]
    if args:
        cmd += ["--"] + list(args)
    if done_file:
        # Until the script says it is done (wrk's own -d would sleep on).
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + duration
        while not os.path.exists(done_file) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
        out = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
        os.unlink(done_file) if os.path.exists(done_file) else None
    else:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration * 4 + 600)
    if pace_ms:
        os.unlink(lua)
    for line in out.stdout.splitlines():
        if line.startswith("WRKJSON "):
            return json.loads(line[len("WRKJSON "):])
    raise SystemExit("wrk printed no summary:\n" + out.stdout + out.stderr)


def measure(server, script, args, duration, connections, warmup=None, pace_ms=0):
    """wrk against `server`: req/s, latency, CPU per 1,000 requests, RSS."""
    if warmup:
        wrk(server.port, script, warmup, 2, connections)
    cpu0 = cpu_seconds(server.pid)
    r = wrk(server.port, script, args, duration, connections, pace_ms)
    cpu = cpu_seconds(server.pid) - cpu0
    secs = r["duration_us"] / 1e6
    errors = sum(r["errors"].values())
    return {
        "req_per_s": round(r["requests"] / secs),
        "p50_ms": round(r["p50_us"] / 1000, 2),
        "p99_ms": round(r["p99_us"] / 1000, 2),
        "p999_ms": round(r["p999_us"] / 1000, 2),
        "requests": r["requests"],
        "errors": errors,
        "cpu_s_per_1000": round(cpu / max(1, r["requests"]) * 1000, 3),
        "cpu_cores": round(cpu / secs, 2),
        "peak_rss_mb": round(memory_kb(server.pid, "VmHWM") / 1024, 1),
    }


def gen_data(gridbot, db, accounts, customers):
    for suffix in ("", "-wal", "-shm", ".key"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    t = time.time()
    subprocess.run([gridbot, "gen-data", "--db", db, "--accounts", str(accounts), "--customers",
                    str(customers), "--now", NOW], check=True, stdout=subprocess.DEVNULL)
    log(f"  generated {accounts:,} accounts in {time.time() - t:.0f} s "
        f"({os.path.getsize(db) / 1e6:,.0f} MB)")


def start_gridbot(gridbot, db, port):
    return Server("gridbot", [
        gridbot, "serve", "--db", db, "--listen", f"127.0.0.1:{port}", "--now", NOW,
        "--wechat-token", TOKEN, "--wechat-appid", "wxbench", "--wechat-appsecret", "benchsecret",
        "--wechat-api-base", "http://127.0.0.1:9", "--corpus", os.path.join(ROOT, "corpus")], port)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="growth runs up to 100k only, 5 s runs (the full run takes ~20 min)")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--customers", type=int, default=20000)
    ap.add_argument("--accounts", type=int, default=100000, help="data of the main runs")
    ap.add_argument("--build", default=os.path.join(ROOT, "build-release"))
    ap.add_argument("--work", default="/tmp/gridbot-bench")
    ap.add_argument("--out", default=os.path.join(HERE, "results.json"))
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs per data size (the median is reported)")
    ap.add_argument("--only", default="limit,peer,wechat,chat,data,customers",
                    help="comma-separated parts to run")
    a = ap.parse_args()
    if a.quick:
        a.duration = min(a.duration, 5)
    parts = set(a.only.split(","))
    gridbot = os.path.join(a.build, "bot", "gridbot")
    bare = os.path.join(a.build, "bench", "bare_server")
    os.makedirs(a.work, exist_ok=True)
    lua = os.path.join(HERE, "replay.lua")
    results = {
        "machine": {
            "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                         if l.startswith("model name")), platform.processor()),
            "cores": os.cpu_count(),
            "kernel": platform.release(),
            "wrk": f"-t1 -c{a.connections} -d{a.duration}s, loopback, keep-alive",
        },
        "date": time.strftime("%Y-%m-%d"),
        "runs": {},
    }
    runs = results["runs"]
    n = a.connections
    # Enough requests that no nonce repeats within a run (a repeat would be
    # a cheaper WeChat retry), assuming up to 40,000 turns a second.
    count = 40000 * a.duration
    reqs = os.path.join(a.work, "wechat.txt")
    warm = os.path.join(a.work, "wechat-warm.txt")

    def fresh_wechat(seed):
        wechat_requests(reqs, count, a.customers, seed)
        wechat_requests(warm, 60000, a.customers, seed + 1)

    if "limit" in parts:
        log("limit: bare Beast server")
        fresh_wechat(11)
        port = free_port()
        srv = Server("bare", [bare, f"127.0.0.1:{port}", str(os.cpu_count())], port)
        try:
            runs["limit"] = measure(srv, lua, [reqs], a.duration, n, warmup=[warm])
        finally:
            srv.stop()
    if "peer" in parts:
        log("peer: npm wechat on Express")
        fresh_wechat(13)
        port = free_port()
        srv = Server("peer", ["node", os.path.join(HERE, "peer", "server.js"), str(port), TOKEN], port)
        try:
            runs["peer"] = measure(srv, lua, [reqs], a.duration, n, warmup=[warm])
        finally:
            srv.stop()

    main_db = os.path.join(a.work, "main.db")
    if "wechat" in parts or "chat" in parts:
        log(f"gridbot: {a.accounts:,} accounts, {a.customers:,} bound customers")
        gen_data(gridbot, main_db, a.accounts, a.customers)
        pristine = main_db + ".pristine"
        shutil.copy(main_db, pristine)
        for kind in ("wechat", "chat"):
            if kind not in parts:
                continue
            shutil.copy(pristine, main_db)
            for suffix in ("-wal", "-shm"):
                if os.path.exists(main_db + suffix):
                    os.unlink(main_db + suffix)
            port = free_port()
            srv = start_gridbot(gridbot, main_db, port)
            try:
                if kind == "wechat":
                    fresh_wechat(17)
                    warmup, args = [warm], [reqs]
                else:
                    chat_requests(reqs, count, a.customers, 19)
                    chat_requests(warm, 60000, a.customers, 23)
                    warmup, args = [warm, "application/json"], [reqs, "application/json"]
                log(f"gridbot /{'wechat' if kind == 'wechat' else 'api/chat'}: peak")
                peak = measure(srv, lua, args, a.duration, n, warmup=warmup)
                runs[f"gridbot_{kind}"] = peak
                # Half of the peak rate: each connection paced.
                pace = max(1, round(n * 1000 / (peak["req_per_s"] / 2)))
                if kind == "wechat":
                    fresh_wechat(29)
                else:
                    chat_requests(reqs, count, a.customers, 31)
                log(f"gridbot /{kind}: at half the peak ({pace} ms between requests)")
                runs[f"gridbot_{kind}_half"] = measure(srv, lua, args, a.duration, n, pace_ms=pace)
            finally:
                srv.stop()
        os.unlink(pristine)

    if "data" in parts:
        sizes = [1000, 10000, 100000] + ([] if a.quick else [1000000])
        runs["data_growth"] = []
        for size in sizes:
            log(f"data growth: {size:,} accounts")
            db = os.path.join(a.work, f"data-{size}.db")
            gen_data(gridbot, db, size, a.customers)
            port = free_port()
            srv = start_gridbot(gridbot, db, port)
            try:
                # The median of a few runs: one run on this shared machine
                # varies by a third from one minute to the next.
                tries = []
                for rep in range(a.repeat):
                    fresh_wechat(37 + 2 * rep)
                    tries.append(measure(srv, lua, [reqs], a.duration, n, warmup=[warm]))
            finally:
                srv.stop()
            tries.sort(key=lambda t: t["req_per_s"])
            r = tries[len(tries) // 2]
            r["req_per_s_runs"] = [t["req_per_s"] for t in tries]
            r["accounts"] = size
            runs["data_growth"].append(r)
            for suffix in ("", "-wal", "-shm", ".key"):
                if os.path.exists(db + suffix):
                    os.unlink(db + suffix)

    if "customers" in parts:
        stages = [1000, 10000, 100000] + ([] if a.quick else [1000000])
        runs["customer_growth"] = []
        db = os.path.join(a.work, "customers.db")
        gen_data(gridbot, db, 10000, 0)
        port = free_port()
        srv = start_gridbot(gridbot, db, port)
        distinct = os.path.join(HERE, "distinct.lua")
        try:
            seen = 0
            for stage in stages:
                log(f"customer growth: {stage:,} distinct customers")
                t = time.time()
                cpu0 = cpu_seconds(srv.pid)
                done = os.path.join(a.work, "distinct.done")
                r = wrk(port, distinct, [str(seen), str(stage - seen), done], 3600, n,
                        done_file=done)
                secs = time.time() - t
                seen = stage
                runs["customer_growth"].append({
                    "customers": stage,
                    "rss_mb": round(memory_kb(srv.pid, "VmRSS") / 1024, 1),
                    "req_per_s": round(r["requests"] / (r["duration_us"] / 1e6)),
                    "cpu_s_per_1000": round((cpu_seconds(srv.pid) - cpu0) / max(1, r["requests"]) * 1000, 3),
                    "errors": r["errors"]["status"],
                    "seconds": round(secs, 1),
                })
        finally:
            srv.stop()
        for suffix in ("", "-wal", "-shm", ".key"):
            if os.path.exists(db + suffix):
                os.unlink(db + suffix)

    # The ratios the issue asks for.
    ratios = {}
    for kind in ("wechat", "chat"):
        g = runs.get(f"gridbot_{kind}")
        if g and "limit" in runs:
            ratios[f"{kind}/limit"] = round(g["req_per_s"] / runs["limit"]["req_per_s"], 3)
        if g and "peer" in runs:
            ratios[f"{kind}/peer"] = round(g["req_per_s"] / runs["peer"]["req_per_s"], 2)
    if runs.get("data_growth"):
        rates = [r["req_per_s"] for r in runs["data_growth"]]
        ratios["data_growth_change"] = round(1 - min(rates) / max(rates), 3)
    if runs.get("customer_growth") and len(runs["customer_growth"]) > 1:
        c = runs["customer_growth"]
        ratios["rss_last/first"] = round(c[-1]["rss_mb"] / c[0]["rss_mb"], 2)
    results["ratios"] = ratios
    with open(a.out, "w") as f:
        json.dump(results, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(table(results))
    log(f"written to {a.out}")


def table(results):
    runs, lines = results["runs"], []
    m = results["machine"]
    lines.append(f"{m['cpu']}, {m['cores']} cores, Linux {m['kernel']}; wrk {m['wrk']}")
    lines.append("")
    lines.append("| server | req/s | p50 ms | p99 ms | p99.9 ms | CPU s / 1,000 | peak RSS MB | errors |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    names = [("limit", "bare Beast server, fixed reply (the limit)"),
             ("peer", "npm wechat on Express, fixed reply (the peer)"),
             ("gridbot_wechat", "gridbot /wechat, full turn"),
             ("gridbot_wechat_half", "gridbot /wechat at half its peak"),
             ("gridbot_chat", "gridbot /api/chat, full turn"),
             ("gridbot_chat_half", "gridbot /api/chat at half its peak")]
    for key, label in names:
        r = runs.get(key)
        if r:
            lines.append(f"| {label} | {r['req_per_s']:,} | {r['p50_ms']} | {r['p99_ms']} | "
                         f"{r['p999_ms']} | {r['cpu_s_per_1000']} | {r['peak_rss_mb']} | {r['errors']} |")
    if runs.get("data_growth"):
        lines += ["", "| accounts (24 months of bills) | req/s (median) | the runs | p99 ms | CPU s / 1,000 |",
                  "| ---: | ---: | ---: | ---: | ---: |"]
        for r in runs["data_growth"]:
            each = " / ".join(f"{x:,}" for x in r.get("req_per_s_runs", [r["req_per_s"]]))
            lines.append(f"| {r['accounts']:,} | {r['req_per_s']:,} | {each} | {r['p99_ms']} | "
                         f"{r['cpu_s_per_1000']} |")
    if runs.get("customer_growth"):
        lines += ["", "| distinct customers | RSS MB | req/s | CPU s / 1,000 |",
                  "| ---: | ---: | ---: | ---: |"]
        for r in runs["customer_growth"]:
            lines.append(f"| {r['customers']:,} | {r['rss_mb']} | {r['req_per_s']:,} | {r['cpu_s_per_1000']} |")
    if results.get("ratios"):
        lines += ["", "ratios: " + ", ".join(f"{k} {v}" for k, v in results["ratios"].items())]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
