#!/usr/bin/env python3
"""No reply before its commit: the server is killed between a batch's last
turn and its COMMIT, and nothing it answered may be missing afterwards.

  tests/load/commit_kill.py GRIDBOT_BINARY WORKDIR [--customers N] [--at K]

Group commit (storage/store.h) runs the turns of many conversations in one
SQLite transaction and releases their replies only once it is committed.
Here `gridbot serve --inject-kill-before-commit K` SIGKILLs itself just before
the COMMIT of the K-th batch holding two transactions or more, while N
customers (half on /api/chat, half on signed /wechat pushes) each send one
message after another. Then, from the database:

  - every message that was answered is in the dialog log;
  - each customer's log is a prefix of what the customer sent, in order;
  - some message was in flight and is not in the log (the killed batch);

and after a restart on the same database, every unanswered message sent
again (the same id / MsgId) is answered, and every message is logged once.
Exit 0 if all of that holds.
"""

import argparse
import asyncio
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import load  # noqa: E402  (the server, connection and WeChat helpers)

TEXTS = ["你好", "停电了吗", "营业厅在哪", "怎么交电费", "谢谢", "查电费", "人工服务时间"]


def message(user_index, n):
    # Distinct texts, so the log says which message a row is.
    return "%s（%d-%d）" % (TEXTS[(user_index + n) % len(TEXTS)], user_index, n)


async def send(conn, web, user, text, msg_id):
    """The reply text, or None if the server did not answer."""
    if web:
        body = json.dumps({"user": user, "text": text, "id": msg_id}, ensure_ascii=False).encode()
        res = await conn.request("POST", "/api/chat", body)
        if res is None or res[0] != 200:
            return None
        return " ".join(r.get("text", "") for r in json.loads(res[1]).get("replies", []))
    query = load.wechat_query("c%s_%s" % (user, msg_id))
    res = await conn.request("POST", query, load.wechat_body(user, text, msg_id), "text/xml")
    if res is None or res[0] != 200:
        return None
    m = re.search(r"<Content><!\[CDATA\[(.*?)\]\]></Content>", res[1], re.S)
    return m.group(1) if m else res[1]


async def customer(i, server, sent, answered, limit):
    web = i % 2 == 0
    user = ("ck%04d" if web else "oKill%04d") % i
    conn = load.Conn(server)
    sent[user], answered[user] = [], []
    for n in range(limit):
        text, msg_id = message(i, n), "%d%04d" % (i + 1, n)
        sent[user].append((text, msg_id, web))
        reply = await send(conn, web, user, text, msg_id)
        if reply is None:  # the server died: this one is in flight
            break
        answered[user].append(text)
    await conn.close()


def logged_texts(db):
    import sqlite3
    con = sqlite3.connect(db)
    out = {}
    for ext, text in con.execute("SELECT external_id, text FROM dialog_log ORDER BY id"):
        out.setdefault(ext, []).append(text)
    ok = con.execute("PRAGMA integrity_check").fetchone()[0]
    con.close()
    return out, ok


async def run(args):
    os.makedirs(args.workdir, exist_ok=True)
    for f in os.listdir(args.workdir):
        os.remove(os.path.join(args.workdir, f))
    fixtures = os.path.join(args.workdir, "fixtures.json")
    with open(fixtures, "w") as f:
        json.dump(load.fixtures(10), f, ensure_ascii=False)
    server = load.Server(args.binary, args.workdir, fixtures)
    server.extra_args = ["--inject-kill-before-commit", str(args.at)]
    server.start()
    sent, answered = {}, {}
    tasks = [customer(i, server, sent, answered, args.messages) for i in range(args.customers)]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
    except asyncio.TimeoutError:
        pass
    problems = []
    try:
        rc = server.proc.wait(timeout=10)
    except load.subprocess.TimeoutExpired:
        server.kill()
        rc = None
        problems.append("the server was not killed at its commit (batches too small?)")
    log = open(os.path.join(args.workdir, "serve-0.log")).read()
    m = re.search(r"killed before the commit of a batch of (\d+) transactions", log)
    if rc is not None and (rc != -9 or not m):
        problems.append("the server ended with %s, not at its kill point: %s" % (rc, log[-500:]))
    batch = int(m.group(1)) if m else 0

    logged, integrity = logged_texts(server.db)
    if integrity != "ok":
        problems.append("integrity_check: %s" % integrity)
    in_flight_lost = 0
    for user, texts in sent.items():
        got = logged.get(user, [])
        want = [t for t, _, _ in texts]
        for t in answered[user]:
            if t not in got:
                problems.append("%s: %r was answered but is not in the database" % (user, t))
        if got != want[:len(got)]:
            problems.append("%s: the log %s is not a prefix of what was sent %s" % (user, got, want))
        if len(answered[user]) < len(want) and want[len(answered[user])] not in got:
            in_flight_lost += 1
    if in_flight_lost == 0:
        problems.append("no message in flight was lost: the kill did not fall between a batch and its commit")

    # Restart without the kill; resend what was not answered, as clients do.
    server.start()
    resent = 0
    for i in range(args.customers):
        user = ("ck%04d" if i % 2 == 0 else "oKill%04d") % i
        if len(answered[user]) == len(sent[user]):
            continue
        text, msg_id, web = sent[user][len(answered[user])]
        conn = load.Conn(server)
        reply = None
        for _ in range(50):
            reply = await send(conn, web, user, text, msg_id)
            if reply is not None:
                break
            await asyncio.sleep(0.1)
        await conn.close()
        if reply is None:
            problems.append("%s: %r was not answered after the restart" % (user, text))
        resent += 1
    server.term()
    logged, integrity = logged_texts(server.db)
    for user, texts in sent.items():
        want = [t for t, _, _ in texts]
        if logged.get(user, []) != want:
            problems.append("%s: after the restart the log is %s, not %s" % (user, logged.get(user), want))
    report = {"customers": args.customers, "answered": sum(len(a) for a in answered.values()),
              "killed_batch_transactions": batch, "in_flight_lost": in_flight_lost,
              "resent": resent, "problems": problems[:50]}
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 1 if problems else 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("workdir")
    p.add_argument("--customers", type=int, default=60)
    p.add_argument("--messages", type=int, default=400)
    p.add_argument("--at", type=int, default=30)
    args = p.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
