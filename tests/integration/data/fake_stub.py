#!/usr/bin/env python3
"""A hostile gdb stub for kprof collect --remote: listens on 127.0.0.1, prints its port, serves
one connection the way MODE says, and exits when the client goes away (or after 60 s).

  fake_stub.py MODE
    silent          accept and never answer
    close           accept and close at once
    garbage         answer every read with random bytes (no packet framing)
    framed-garbage  answer every packet with a well-framed packet of random printable bytes
    errors          answer every packet with E01
    endless         start a packet and never end it ($ then bytes without '#', forever)
    half            answer the first packet with half a packet, then go silent
"""
import random
import socket
import sys
import time

mode = sys.argv[1]
rnd = random.Random(3)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print(srv.getsockname()[1], flush=True)
srv.settimeout(60)
try:
    conn, _ = srv.accept()
except socket.timeout:
    sys.exit(0)
conn.settimeout(60)
deadline = time.time() + 60


def packet(body):
    return b"$" + body + b"#" + b"%02x" % (sum(body) % 256)


def reads():
    """Yield each chunk the client sends until it closes or the deadline passes."""
    while time.time() < deadline:
        try:
            data = conn.recv(4096)
        except (socket.timeout, ConnectionError):
            return
        if not data:
            return
        yield data


try:
    if mode == "close":
        conn.close()
    elif mode == "silent":
        for _ in reads():
            pass
    elif mode == "garbage":
        for _ in reads():
            conn.sendall(bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300))))
    elif mode in ("framed-garbage", "errors"):
        for data in reads():
            for _ in range(data.count(b"$")):
                if mode == "errors":
                    body = b"E01"
                else:
                    body = bytes(rnd.randrange(32, 127) for _ in range(rnd.randrange(0, 200)))
                    body = body.replace(b"#", b"x").replace(b"$", b"x").replace(b"}", b"x").replace(b"*", b"x")
                conn.sendall(b"+" + packet(body))
    elif mode == "endless":
        for _ in reads():
            conn.sendall(b"+$")
            while time.time() < deadline:
                conn.sendall(b"0123456789abcdef" * 4096)
    elif mode == "half":
        for data in reads():
            conn.sendall(b"+$T05thread:01;")
            break
        for _ in reads():
            pass
    else:
        sys.exit("unknown mode " + mode)
except (BrokenPipeError, ConnectionResetError):
    pass
