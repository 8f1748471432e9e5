#!/usr/bin/env python3
"""Hostile input against a running gridbot: random and malformed bodies on
every endpoint, raw garbage on the socket. Fails if the server ever answers
500, stops answering, or is not healthy afterwards. Bounded in count and time,
loopback only.

    make fuzz                       # starts a server on a free port and runs this
    tests/fuzz/http_smoke.py PORT [REQUESTS] [SEED]
"""
import http.client
import json
import random
import socket
import sys

port = int(sys.argv[1])
count = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
random.seed(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
codes = {}


def req(method, path, body=b""):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, body=body)
        r = c.getresponse()
        r.read()
        codes[r.status] = codes.get(r.status, 0) + 1
    except (http.client.HTTPException, ConnectionError) as e:
        codes[type(e).__name__] = codes.get(type(e).__name__, 0) + 1
    finally:
        c.close()


texts = ["绑定户号", "南宁", "0301000001234", "246810", "上个月电费多少", "\x00\x01",
         "😀" * 500, "<xml>", '{"a":', "取消", "a" * 5000, "8800123456789012", "家里停电了"]
for i in range(count):
    k = random.random()
    if k < 0.4:
        body = json.dumps({"user": random.choice(["u1", "u2", "", "x" * 70, "\u0000"]),
                           "text": random.choice(texts)})
        if random.random() < 0.3:
            body = body[: random.randint(0, len(body))]
        req("POST", "/api/chat", body.encode("utf-8", "surrogatepass"))
    elif k < 0.6:
        req("POST", "/api/chat", bytes(random.getrandbits(8) for _ in range(random.randint(0, 300))))
    elif k < 0.8:
        body = random.choice([
            b"<xml><FromUserName>a</FromUserName><MsgType>text</MsgType><Content>\xff</Content></xml>",
            b"<!DOCTYPE x>", b"", bytes(random.getrandbits(8) for _ in range(200))])
        req("POST", "/wechat?signature=x&timestamp=1&nonce=2", body)
    else:
        req(random.choice(["GET", "PUT", "DELETE", "PATCH", "POST"]),
            random.choice(["/api/chat", "/wechat", "/healthz", "/metrics", "/pay/x", "/pay/notify",
                           "/../../etc/passwd", "/%ff%fe", "/pay/PO1/confirm"]))
for i in range(100):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(bytes(random.getrandbits(8) for _ in range(random.randint(1, 500))) + b"\r\n\r\n")
    s.settimeout(2)
    try:
        s.recv(100)
    except OSError:
        pass
    s.close()

print(codes)
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
c.request("GET", "/healthz")
healthy = c.getresponse().status == 200
bad = {k: v for k, v in codes.items() if not (isinstance(k, int) and k < 500)}
if bad or not healthy:
    print("FAILED: server errors or not healthy afterwards:", bad, "healthy:", healthy)
    sys.exit(1)
print("ok: no 5xx, no dropped connection, healthy afterwards")
