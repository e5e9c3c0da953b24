#!/usr/bin/env python3
"""Abuse a gdb stub over a raw socket: garbage, bad checksums, oversized and truncated
packets, out-of-range memory requests, a second connection.  Prints one line per check,
"PASS: name" or "FAIL: name: why", and exits non-zero when any check failed.

usage: rsp_abuse.py HOST PORT
"""
import socket
import sys
import time

HOST, PORT = sys.argv[1], int(sys.argv[2])
failed = 0


def check(name, ok, why=""):
    global failed
    if ok:
        print(f"PASS: rsp {name}")
    else:
        failed += 1
        print(f"FAIL: rsp {name}: {why}")


def frame(payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return b"$" + payload + b"#%02x" % (sum(payload) & 0xFF)


class Conn:
    def __init__(self):
        self.s = socket.create_connection((HOST, PORT), timeout=10)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def read_byte(self):
        while not self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        b, self.buf = self.buf[:1], self.buf[1:]
        return b

    def packet(self):
        """The next packet's payload (acks before it are skipped); we ack it."""
        while self.read_byte() != b"$":
            pass
        data = b""
        while True:
            c = self.read_byte()
            if c == b"#":
                break
            data += c
        cs = self.read_byte() + self.read_byte()
        if int(cs, 16) != sum(data) & 0xFF:
            raise ValueError("bad checksum from the stub")
        self.send(b"+")
        return data.decode("latin-1")

    def ask(self, payload):
        self.send(frame(payload))
        return self.packet()

    def close(self):
        self.s.close()


c = Conn()
# Garbage between packets is ignored; a bad checksum is nacked.
c.send(b"\x00\xffgarbage####$$$")
c.send(b"$g#00")
got = b""
deadline = time.time() + 10
while b"-" not in got and time.time() < deadline:
    got += c.s.recv(100)
check("bad checksum is nacked", b"-" in got, repr(got))
c.buf = b""
check("answers after garbage", c.ask("qC").startswith("QC"))
check("unknown packet: empty reply", c.ask("qNoSuchThing:1") == "")
check("malformed m: error", c.ask("mxyz,4") == "E22")
check("malformed Z: error", c.ask("Z0,zz,1").startswith("E"))
r = c.ask("mffffffffffff0000,100")
check("unmapped read: error", r.startswith("E"), r)
r = c.ask("m0,ffffffffffffffff")
check("huge read: bounded", r.startswith("E") or len(r) <= 0x4000, f"{len(r)} chars")
r = c.ask("mfffffffffffffff0,100")
check("read across the top of memory: error", r.startswith("E"), r)
r = c.ask("M800000000000,1:00")
check("write to a non-canonical address: error", r.startswith("E"), r)
r = c.ask("Mffffffffffff0000,4:00000000")
check("write to unmapped high address: error", r.startswith("E"), r)
r = c.ask("X0,100:ab")
check("X with short data: error", r == "E22", r)
r = c.ask("p" + "f" * 17)
check("register number too long: error", r == "E22", r)
r = c.ask("Hg99999")
check("nonexistent thread: error", r.startswith("E"), r)
r = c.ask("qXfer:features:read:target.xml:ffffffff,ffffffff")
check("target.xml past its end", r == "l", r)
# An oversized packet is dropped with an error, and the stub keeps answering.
c.send(frame("m" + "1" * 70000))
r = c.packet()
check("oversized packet: error", r.startswith("E"), r)
check("answers after an oversized packet", c.ask("qC").startswith("QC"))
# A second client while this one is attached is refused with a message.
d = Conn()
try:
    d.send(frame("qSupported:multiprocess+"))
    r = d.packet()
    check("second connection refused", "already attached" in r, r)
    try:
        more = d.s.recv(100)
        check("second connection closed", more == b"", repr(more))
    except OSError:
        check("second connection closed", True)
except (EOFError, OSError) as e:
    check("second connection refused", False, str(e))
d.close()
check("first client unaffected", c.ask("qC").startswith("QC"))
# Truncated packet, then the client vanishes mid-packet.
c.send(b"$m0,4#")
c.close()
time.sleep(0.3)
# A client that floods without reading, then vanishes.
e = Conn()
e.send(b"".join(frame("qC") for _ in range(2000)))
e.close()
time.sleep(0.3)
f = Conn()
check("a new client can attach after abuse", f.ask("qC").startswith("QC"))
f.close()
sys.exit(1 if failed else 0)
