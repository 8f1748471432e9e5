#!/usr/bin/env python3
"""Load and fault run: thousands of customers through whole flows against a
real `gridbot serve`, then the database is checked.

  tests/load/load.py GRIDBOT_BINARY WORKDIR [--customers N] [--concurrency C]
                     [--kills K] [--term] [--seed S] [--report FILE]
                     [--pg CONNINFO --instances N]

With --pg the servers share one PostgreSQL database (a libpq key=value
string; the run empties its schema first) and --instances N of them run at
once: every message of a customer goes to an instance picked at random, a
WeChat retry and the gateway's second notify to another one than the first
try, and the kills hit a random instance. The checks are the same.
With --restart-db the PostgreSQL server itself is restarted mid-run
(tests/pg/pg.sh restart: sessions cut, down for a second): turns in flight
fail with 503 and are sent again, and still every one runs once.

Each customer (half on /api/chat, half on signed /wechat pushes) binds its
own 户号, asks for last month's bill, then either recharges a prepaid card
(customers 0 and 1 of every four) or orders its arrears by Alipay and has the
gateway notify twice at once (the other two). About one WeChat push in five is sent twice at
once on two connections, as WeChat's retries do; every message that gets no
answer (connection refused, reset, 503) is sent again, the same message (the
same MsgId, the same /api/chat "id"), until it is answered.

With --kills K the server is SIGKILLed K times at random moments and started
again on the same database; with --term it also gets a SIGTERM under load,
which must finish what is in flight and exit 0.

Afterwards, from the database:
  - every message is logged once, in the order the customer sent it;
  - every card recharged is used once and credited once, every other card
    untouched; every order notified is paid and credited once;
  - each account's balance and bills add up: credited = paid bills + balance.

Loopback only, bounded in time and size; exit 0 if every check holds.
Only Python's standard library (Debian's python3).
"""

import argparse
import asyncio
import csv
import hashlib
import hmac
import io
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time

TOKEN = "loadtoken"
PAY_SECRET = "load-pay-secret-0123456789"
CITY = "南宁"
BILL_FEN = 12980  # each account's one unpaid bill (2024-07)
CARD_FEN = 20000  # each card's value
ORDER_RE = re.compile(r"PO\d{8}[0-9A-Z]{26}")


def account_no(i):
    return "0301%09d" % (100000 + i)


def card_no(i):
    return "8801%012d" % (500000 + i)


def fixtures(n):
    accounts, bills, cards = [], [], []
    for i in range(n):
        accounts.append({
            "account_no": account_no(i), "service_password": "%06d" % (100000 + i * 7 % 900000),
            "holder": "黄*明", "city": "南宁市", "district": "青秀区",
            "address": "南宁市青秀区民族大道%d号" % (i + 1), "reading_day": 5,
            "supply_unit": "南宁供电局青秀供电分局", "voltage_level": "交流220V",
            "reading_type": "远程自动抄表", "usage_category": "城乡居民生活用电",
            "metering": "低供低计", "settlement_unit": "南宁供电局", "phone": "13800138000",
            "balance": "0.00"})
        bills.append({"account_no": account_no(i), "month": "2024-06", "kwh": 200,
                      "amount": "99.00", "due_date": "2024-07-20", "paid": True})
        bills.append({"account_no": account_no(i), "month": "2024-07", "kwh": 246,
                      "amount": "%d.%02d" % divmod(BILL_FEN, 100), "due_date": "2024-08-20",
                      "paid": False})
        cards.append({"card_no": card_no(i), "password": "%06d" % (200000 + i * 13 % 800000),
                      "amount": "%d.%02d" % divmod(CARD_FEN, 100), "used": False})
    return {"accounts": accounts, "bills": bills, "payments": [], "outages": [],
            "business": [], "outlets": [], "prepaid_cards": cards}


class Server:
    def __init__(self, binary, workdir, fixtures_path, db=None, tag="", load_fixtures=True):
        self.binary, self.workdir = binary, workdir
        self.db = db or os.path.join(workdir, "load.db")
        self.tag = tag
        self.load_fixtures = load_fixtures
        self.fixtures_path = fixtures_path
        self.proc = None
        self.port = None
        self.starts = 0
        self.term_exit = []
        self.extra_args = []  # for the next start only

    def start(self):
        # Like systemd's Restart=on-failure: an instance started while its
        # database is away (--restart-db) exits; it is started again.
        for attempt in range(40):
            try:
                return self.start_once()
            except RuntimeError:
                if self.starts <= 1 or attempt == 39:
                    raise
                time.sleep(0.25)

    def start_once(self):
        args = [self.binary, "serve", "--listen", "127.0.0.1:0", "--db", self.db,
                "--now", "2024-08-04", "--wechat-token", TOKEN, "--pay-simulator",
                "--pay-secret", PAY_SECRET, "--rate-per-customer", "0",
                "--rate-per-address", "0", "--threads", "2"]
        if self.starts == 0 and self.load_fixtures:
            args += ["--fixtures", self.fixtures_path]
        if not self.db.endswith(".db"):  # PostgreSQL: one key for every instance
            args += ["--secrets-key", os.path.join(self.workdir, "secrets.key")]
        if self.port:
            args[3] = "127.0.0.1:%d" % self.port
        args += self.extra_args
        self.extra_args = []
        log = open(os.path.join(self.workdir, "serve%s-%d.log" % (self.tag, self.starts)), "w")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        self.starts += 1
        deadline = time.time() + 60
        path = log.name
        while time.time() < deadline:
            with open(path) as f:
                m = re.search(r"listening on [^ ]*:(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("gridbot did not start: " + open(path).read()[-2000:])

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def term(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=60)
        self.term_exit.append(rc)
        return rc


class Conn:
    """One keep-alive HTTP/1.1 connection; reconnects when needed."""

    def __init__(self, server):
        self.server = server
        self.reader = self.writer = None

    async def close(self):
        if self.writer:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except Exception:
                pass
        self.reader = self.writer = None

    async def request(self, method, target, body=b"", ctype="application/json", headers=None):
        """(status, body) or None when the server is not there / went away."""
        try:
            if self.writer is None:
                self.reader, self.writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", self.server.port), 5)
            head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %d\r\n" % (
                method, target, ctype, len(body))
            for k, v in (headers or {}).items():
                head += "%s: %s\r\n" % (k, v)
            self.writer.write(head.encode() + b"\r\n" + body)
            await self.writer.drain()
            status_line = await asyncio.wait_for(self.reader.readline(), 30)
            if not status_line:
                raise ConnectionError("closed")
            status = int(status_line.split()[1])
            length, close = 0, False
            while True:
                line = await self.reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                k, _, v = line.decode("latin-1").partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v.strip())
                if k.strip().lower() == "connection" and v.strip().lower() == "close":
                    close = True
            data = await self.reader.readexactly(length) if length else b""
            if close:
                await self.close()
            return status, data.decode("utf-8", "replace")
        except (OSError, ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError,
                ValueError, IndexError):
            await self.close()
            return None


class Stats:
    def __init__(self):
        self.turns = 0
        self.retries = 0
        self.duplicates = 0
        self.notifies = 0
        self.latencies = []
        self.failures = []


async def answered(conn, stats, method, target, body, ctype="application/json", headers=None):
    """Sends until a 2xx/4xx answer (the same request each time)."""
    delay = 0.05
    for _ in range(400):
        t = time.perf_counter()
        res = await conn.request(method, target, body, ctype, headers)
        if res is not None and res[0] != 503:
            stats.latencies.append(time.perf_counter() - t)
            return res
        stats.retries += 1
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)
    raise RuntimeError("no answer to %s %s" % (method, target))


def wechat_query(nonce):
    ts = str(int(time.time()))
    sig = hashlib.sha1("".join(sorted([TOKEN, ts, nonce])).encode()).hexdigest()
    return "/wechat?signature=%s&timestamp=%s&nonce=%s" % (sig, ts, nonce)


def wechat_body(user, text, msg_id):
    return ("<xml><ToUserName><![CDATA[gh_load]]></ToUserName><FromUserName><![CDATA[%s]]>"
            "</FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            "<Content><![CDATA[%s]]></Content><MsgId>%s</MsgId></xml>" % (
                user, int(time.time()), text, msg_id)).encode()


async def customer(i, servers, stats, rng, sent, orders, recharged):
    web = i % 2 == 0
    user = ("lw%05d" if web else "oLoad%05d") % i
    conns = [Conn(s) for s in servers]
    twins = [Conn(s) for s in servers]

    def pick():
        """A connection to a random instance, and one to another (or the same, if one)."""
        a = rng.randrange(len(servers))
        b = (a + 1 + rng.randrange(len(servers) - 1)) % len(servers) if len(servers) > 1 else a
        return conns[a], twins[b]
    acc = fixtures_row_password(i)
    script = ["绑定户号", CITY, account_no(i), acc, "上个月电费多少"]
    if i % 4 in (0, 1):
        script += ["充值卡充值", card_no(i), card_password(i), "确认"]
    else:
        script += ["用支付宝缴费", "确认"]
    sent[user] = []
    replies = []
    for n, text in enumerate(script):
        msg_id = "%d%04d" % (i + 1, n)
        conn, twin = pick()
        if web:
            body = json.dumps({"user": user, "text": text, "id": msg_id}, ensure_ascii=False).encode()
            status, data = await answered(conn, stats, "POST", "/api/chat", body)
            reply = " ".join(r.get("text", "") for r in json.loads(data).get("replies", [])) if status == 200 else data
        else:
            query = wechat_query("n%d_%d_%d" % (i, n, rng.randrange(1 << 30)))
            body = wechat_body(user, text, msg_id)
            if rng.random() < 0.2:  # WeChat's retry racing the first try
                a, b = await asyncio.gather(
                    answered(conn, stats, "POST", query, body, "text/xml"),
                    answered(twin, stats, "POST", query, body, "text/xml"))
                stats.duplicates += 1
                status, data = a
                content = lambda xml: re.sub(r"<CreateTime>\d+</CreateTime>", "", xml)
                if content(a[1]) != content(b[1]):
                    stats.failures.append("%s: a push and its retry were answered differently: %r / %r" % (user, a[1][-300:], b[1][-300:]))
            else:
                status, data = await answered(conn, stats, "POST", query, body, "text/xml")
            m = re.search(r"<Content><!\[CDATA\[(.*?)\]\]></Content>", data, re.S)
            reply = m.group(1) if m else data
        stats.turns += 1
        if status != 200:
            stats.failures.append("%s: %r answered %d %s" % (user, text, status, data[:200]))
        sent[user].append(text)
        replies.append(reply)
    if "绑定成功" not in replies[3]:
        stats.failures.append("%s: not bound: %s" % (user, replies[3][:200]))
    if script[5] == "充值卡充值":
        if "充值成功" not in replies[-1]:
            stats.failures.append("%s: card not recharged: %s" % (user, replies[-1][:200]))
        recharged.add(i)
    else:
        m = ORDER_RE.search(replies[-1])
        if not m:
            stats.failures.append("%s: no order: %s" % (user, replies[-1][:200]))
        else:
            order = m.group(0)
            orders[order] = i
            amount = "%d.%02d" % divmod(BILL_FEN, 100)
            sign = hmac.new(PAY_SECRET.encode(), ("order_no=%s&amount=%s&status=success" % (
                order, amount)).encode(), hashlib.sha256).hexdigest()
            form = ("order_no=%s&amount=%s&status=success&sign=%s" % (order, amount, sign)).encode()
            # The gateway notifies twice at once (it retries until "success").
            conn, twin = pick()
            results = await asyncio.gather(
                answered(conn, stats, "POST", "/pay/notify", form, "application/x-www-form-urlencoded"),
                answered(twin, stats, "POST", "/pay/notify", form, "application/x-www-form-urlencoded"))
            stats.notifies += 2
            for status, data in results:
                if status != 200:
                    stats.failures.append("%s: notify answered %d %s" % (user, status, data[:200]))
    for c in conns + twins:
        await c.close()


def fixtures_row_password(i):
    return "%06d" % (100000 + i * 7 % 900000)


def card_password(i):
    return "%06d" % (200000 + i * 13 % 800000)


async def faults(servers, kills, term, stop, rng):
    """SIGKILLs (and one SIGTERM) at random moments, each followed by a restart."""
    events = ["kill"] * kills + (["term"] if term else [])
    rng.shuffle(events)
    for e in events:
        await asyncio.sleep(rng.uniform(0.5, 2.5))
        if stop.is_set():
            return
        server = rng.choice(servers)
        if e == "kill":
            server.kill()
        else:
            rc = await asyncio.get_running_loop().run_in_executor(None, server.term)
            if rc != 0:
                print("SIGTERM: exit %d" % rc)
        await asyncio.sleep(rng.uniform(0.05, 0.5))
        await asyncio.get_running_loop().run_in_executor(None, server.start)


async def restart_db(args, stop, rng):
    """The database away for a second, at a random moment of the run."""
    await asyncio.sleep(rng.uniform(0.8, 1.5))
    if stop.is_set():
        return
    pg_sh = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pg", "pg.sh")
    host = re.search(r"host=(\S+)", args.pg).group(1)
    port = re.search(r"port=(\d+)", args.pg).group(1)
    await asyncio.get_running_loop().run_in_executor(None, lambda: subprocess.run(
        ["bash", pg_sh, "restart", host, port, "1"], check=True))
    args.db_restarts += 1


async def run(args, servers, stats):
    rng = random.Random(args.seed)
    sent, orders, recharged = {}, {}, set()
    sem = asyncio.Semaphore(args.concurrency)
    stop = asyncio.Event()

    async def one(i):
        async with sem:
            await customer(i, servers, stats, random.Random(args.seed * 100003 + i), sent, orders, recharged)

    fault_task = asyncio.create_task(faults(servers, args.kills, args.term, stop, rng))
    db_task = asyncio.create_task(restart_db(args, stop, rng)) if args.restart_db else None
    await asyncio.gather(*(one(i) for i in range(args.customers)))
    stop.set()
    await fault_task
    if db_task:
        await db_task
    return sent, orders, recharged


def pg_snapshot(conninfo):
    """What check() reads, copied from PostgreSQL into an SQLite memory
    database (no PostgreSQL driver in Debian's python3; one psql per table)."""
    tables = {
        "dialog_log": "id INTEGER, external_id TEXT, text TEXT",
        "prepaid_cards": "card_no TEXT, used INTEGER",
        "payments": "reference TEXT, account_no TEXT, amount_fen INTEGER",
        "payment_orders": "order_no TEXT, status TEXT",
        "accounts": "account_no TEXT, balance_fen INTEGER",
        "bills": "account_no TEXT, paid INTEGER",
    }
    con = sqlite3.connect(":memory:")
    for table, cols in tables.items():
        con.execute("CREATE TABLE %s (%s)" % (table, cols))
        names = ", ".join(c.split()[0] for c in cols.split(", "))
        out = subprocess.run(["psql", conninfo, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                              "COPY (SELECT %s FROM %s) TO STDOUT WITH CSV" % (names, table)],
                             check=True, capture_output=True, text=True).stdout
        rows = list(csv.reader(io.StringIO(out)))
        con.executemany("INSERT INTO %s VALUES (%s)" % (table, ",".join("?" * len(cols.split(", ")))),
                        [[None if v == "" else v for v in r] for r in rows])
    return con


def psql(conninfo, sql):
    subprocess.run(["psql", conninfo, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True,
                   capture_output=True)


def check(db, sent, orders, recharged, n, stats):
    con = sqlite3.connect(db) if db.endswith(".db") else pg_snapshot(db)
    problems = list(stats.failures)
    secret = {i: {fixtures_row_password(i), card_password(i)} for i in range(n)}
    # Every message once, in order (passwords are logged masked).
    logged = {}
    for ext, text in con.execute("SELECT external_id, text FROM dialog_log ORDER BY id"):
        logged.setdefault(ext, []).append(text)
    for user, texts in sent.items():
        i = int(re.sub(r"\D", "", user))
        got = logged.get(user, [])
        want = ["******" if t in secret[i] else t for t in texts]
        if len(got) != len(want):
            problems.append("%s: %d messages sent, %d logged: %s" % (user, len(want), len(got), got))
            continue
        # A secret must be logged as ******; a 户号 or card number may be
        # logged masked; everything else as sent.
        numbers = {account_no(i), card_no(i)}
        for w, g in zip(want, got):
            if w != g and not (w in numbers and "*" in g):
                problems.append("%s: logged %s where %s was sent (out of order, or a secret in clear?)" % (user, g, w))
                break
    extra = set(logged) - set(sent)
    if extra:
        problems.append("turns of customers nobody played: %s" % sorted(extra)[:5])
    # Cards: each recharged one used and credited once; the others untouched.
    for i in range(n):
        used = con.execute("SELECT used FROM prepaid_cards WHERE card_no = ?", (card_no(i),)).fetchone()[0]
        credits = con.execute("SELECT COUNT(*) FROM payments WHERE reference = ?", (card_no(i),)).fetchone()[0]
        if i in recharged and (used != 1 or credits != 1):
            problems.append("card %s: used %s, credited %d times" % (card_no(i), used, credits))
        if i not in recharged and (used != 0 or credits != 0):
            problems.append("card %s of nobody used: %s, %d" % (card_no(i), used, credits))
    # Orders: each paid and credited once.
    for order, i in orders.items():
        status = con.execute("SELECT status FROM payment_orders WHERE order_no = ?", (order,)).fetchone()
        credits = con.execute("SELECT COUNT(*) FROM payments WHERE reference = ?", (order,)).fetchone()[0]
        if not status or status[0] != "paid" or credits != 1:
            problems.append("order %s: %s, credited %d times" % (order, status, credits))
    # Balances add up: what was credited = bills it paid + what is left.
    played = {int(re.sub(r"\D", "", u)) for u in sent}
    for i in played:
        acc = account_no(i)
        credited = con.execute("SELECT COALESCE(SUM(amount_fen), 0) FROM payments WHERE account_no = ?",
                               (acc,)).fetchone()[0]
        balance = con.execute("SELECT balance_fen FROM accounts WHERE account_no = ?", (acc,)).fetchone()[0]
        unpaid = con.execute("SELECT COUNT(*) FROM bills WHERE account_no = ? AND paid = 0", (acc,)).fetchone()[0]
        paid_now = 0 if unpaid else BILL_FEN
        if credited != paid_now + balance:
            problems.append("%s: credited %d, paid %d, balance %d" % (acc, credited, paid_now, balance))
        if unpaid:
            problems.append("%s: the bill is still unpaid after %d credited" % (acc, credited))
    rows = con.execute("SELECT COUNT(*) FROM dialog_log").fetchone()[0]
    con.close()
    return problems, rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("workdir")
    p.add_argument("--customers", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=200)
    p.add_argument("--kills", type=int, default=0)
    p.add_argument("--term", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--report")
    p.add_argument("--pg", help="a PostgreSQL conninfo (key=value) instead of an SQLite file")
    p.add_argument("--instances", type=int, default=1)
    p.add_argument("--restart-db", action="store_true",
                   help="restart the PostgreSQL server (started by tests/pg/pg.sh) mid-run")
    args = p.parse_args()
    args.db_restarts = 0
    if args.restart_db and not args.pg:
        p.error("--restart-db needs --pg")
    os.makedirs(args.workdir, exist_ok=True)
    for f in os.listdir(args.workdir):
        if f.startswith("load.db") or f.startswith("serve"):
            os.remove(os.path.join(args.workdir, f))
    fx = os.path.join(args.workdir, "fixtures.json")
    with open(fx, "w") as f:
        json.dump(fixtures(args.customers), f, ensure_ascii=False)
    db = None
    if args.pg:
        # A schema of its own, new: the run's rows only.
        psql(args.pg, "DROP SCHEMA IF EXISTS load_run CASCADE; CREATE SCHEMA load_run")
        db = args.pg + " options=-csearch_path=load_run"
    servers = [Server(args.binary, args.workdir, fx, db=db, tag="" if k == 0 else "-i%d" % k,
                      load_fixtures=k == 0) for k in range(max(1, args.instances))]
    servers[0].start()  # (it loads the fixtures; the others start on them)
    for s in servers[1:]:
        s.start()
    stats = Stats()
    started = time.time()
    try:
        sent, orders, recharged = asyncio.run(run(args, servers, stats))
        elapsed = time.time() - started
        for s in servers:
            s.term()
    finally:
        for s in servers:
            if s.proc and s.proc.poll() is None:
                s.proc.kill()
    if args.restart_db and args.db_restarts == 0:
        stats.failures.append("the run ended before the database was restarted (make it longer)")
    problems, rows = check(servers[0].db, sent, orders, recharged, args.customers, stats)
    term_exit = [c for s in servers for c in s.term_exit]
    if any(code != 0 for code in term_exit):
        problems.append("SIGTERM exits: %s (want 0)" % term_exit)
    lat = sorted(stats.latencies) or [0]
    report = {
        "customers": args.customers, "concurrency": args.concurrency, "kills": args.kills,
        "sigterm_under_load": args.term, "messages": stats.turns, "logged_turns": rows,
        "racing_wechat_retries": stats.duplicates, "notifies": stats.notifies,
        "resent_after_no_answer": stats.retries, "cards_recharged": len(recharged),
        "orders_paid": len(orders), "seconds": round(elapsed, 1),
        "messages_per_second": round(stats.turns / elapsed, 1) if elapsed else 0,
        "p50_ms": round(lat[len(lat) // 2] * 1000, 1), "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 1),
        "instances": len(servers), "database": "postgresql" if args.pg else "sqlite",
        "database_restarts": args.db_restarts,
        "server_starts": sum(s.starts for s in servers), "sigterm_exit_codes": term_exit,
        "problems": len(problems)}
    print(json.dumps(report, ensure_ascii=False))
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report, f, ensure_ascii=False, indent=1)
    for pr in problems[:30]:
        print("PROBLEM:", pr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
