#!/usr/bin/env python3
"""kprof run --console against the bundled guest's console=echo|poll mode, through a pipe,
a pseudo-terminal and with --gdb.  Prints PASS:/FAIL: lines (tests/run.sh counts them).

usage: console_drive.py KPROF GUEST WORKDIR
"""
import fcntl
import os
import pty
import random
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time

KPROF, GUEST, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
BOOT_TIMEOUT = 90       # the guest boots in well under a second; a busy CI host is slower
RUN_TIMEOUT = 180


def report(name, ok, why=""):
    print(("PASS: " if ok else "FAIL: ") + name + ("" if ok or not why else ": " + why))
    sys.stdout.flush()


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


class Reader:
    """Everything a fd says, read as it comes, with waits for a marker."""

    def __init__(self, fd):
        self.fd, self.buf, self.closed = fd, b"", False

    def pump(self, timeout):
        if self.closed:
            return False
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:         # a pty's master reads EIO once the slave side is gone
            data = b""
        if not data:
            self.closed = True
        self.buf += data
        return True

    def wait_for(self, marker, timeout):
        end = time.time() + timeout
        while marker not in self.buf:
            left = end - time.time()
            if left <= 0 or self.closed:
                return False
            self.pump(min(left, 1.0))
        return True

    def drain(self, proc, timeout):
        end = time.time() + timeout
        while proc.poll() is None and time.time() < end:
            self.pump(0.5)
        while self.pump(0.2):
            pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            return None
        return proc.returncode


def echoes(out):
    """The guest's echo lines after its ready line, as bytes without the prefix."""
    text = out.replace(b"\r\n", b"\n")
    text = text[text.index(b"ready"):] if b"ready" in text else b""
    return [l[6:] for l in text.split(b"\n") if l.startswith(b"echo: ")]


def summary(out):
    for l in out.replace(b"\r", b"").split(b"\n"):
        if l.startswith(b"kprof-guest: console: "):
            f = l.decode(errors="replace").replace(",", "").split()
            return {"lines": int(f[2]), "bytes": int(f[4]), "hash": int(f[7], 16),
                    "rx_irqs": int(f[8]), "tx_irqs": int(f[11])}
    return None


def guest_lines(body):
    """The lines the guest sees in body before its quit line: ends at CR, LF or CR LF,
    pieces of 4096 bytes (its LINE_MAX)."""
    lines, cur, last_cr = [], b"", False
    for c in body:
        if c == 0x0a and last_cr:
            last_cr = False
            continue
        last_cr = c == 0x0d
        if c in (0x0a, 0x0d):
            if cur == b"quit":
                return lines
            lines.append(cur)
            cur = b""
            continue
        cur += bytes([c])
        if len(cur) == 4096:
            lines.append(cur)
            cur = b""
    return lines


def binary_body():
    """Every byte value, NULs, a pipe's Ctrl-A X (no escape: it is data), a line longer than
    the guest's LINE_MAX, a seeded random run; then the quit line."""
    rng = random.Random(12)
    body = bytes(range(256)) + b"\x00\x00\x01x\x01\x01\n" + b"quit\x00after\n"
    body += bytes(rng.randrange(256) for _ in range(3000)) + b"\n"
    body += bytes(rng.randrange(0x20, 0x7f) for _ in range(5000)) + b"\r\n"
    body += b"quit\n"
    assert guest_lines(body + b"x") == guest_lines(body), "quit inside the random bytes"
    return body


def payload_lines(n_short, long_len):
    lines = [b"hello", b"", b"with  spaces and tabs\there", b"x" * long_len]
    lines += [("line %d " % i).encode() + bytes(range(0x20, 0x7f))[: i % 90] for i in range(n_short)]
    return lines


def pipe_run(name, mode, lines=None, body=None, gdb=False):
    """Send the lines (LF, then CR LF for every third) and quit, or a body that ends with
    the quit line; check the echoes and the guest's byte count and hash."""
    if body is None:
        body = b"".join(l + (b"\r\n" if i % 3 == 2 else b"\n") for i, l in enumerate(lines))
        body += b"quit\n"
    lines = guest_lines(body)
    args = [KPROF, "run", "--console", "--cmdline", "console=" + mode, GUEST]
    port = None
    if gdb:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        args[2:2] = ["--gdb", "tcp::%d" % port, "--gdb-wait"]
    p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    out = Reader(p.stdout.fileno())
    g = None
    if gdb:
        # The vCPUs stay halted until gdb continues; gdb's continue ends with the guest.
        for _ in range(100):
            if b":%04X " % port in open("/proc/net/tcp", "rb").read():
                break
            time.sleep(0.1)
        g = subprocess.Popen(["gdb", "-batch", "-nx", GUEST, "-ex", "target remote :%d" % port,
                              "-ex", "continue"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if not out.wait_for(b"console %s ready" % mode.encode(), BOOT_TIMEOUT):
        p.kill()
        p.wait()
        if g:
            g.kill()
            g.wait()
        report(name, False, "no ready line: " + repr(out.buf[-300:]))
        return
    # All at once, more than the FIFO (16), the guest's ring (256) and kprof's queue (4096):
    # the rest waits in the pipe.  Then end of file: the guest runs on and reads it all.
    p.stdin.write(body)
    p.stdin.close()
    status = out.drain(p, RUN_TIMEOUT)
    err = p.stderr.read().decode(errors="replace")
    gdb_out = b""
    if g:
        try:
            gdb_out = g.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            g.kill()
            gdb_out = g.communicate()[0]
    got = echoes(out.buf)
    want = [l for l in lines]
    s = summary(out.buf)
    problems = []
    if status != 0:
        problems.append("status %r, stderr %r" % (status, err[-300:]))
    if got != want:
        bad = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]),
                   min(len(got), len(want)))
        problems.append("%d of %d lines echoed, first difference at line %d" %
                        (len(got), len(want), bad))
    if not s or s["bytes"] != len(body) or s["hash"] != fnv1a64(body) or s["lines"] != len(lines):
        problems.append("summary %r, wanted %d bytes, hash 0x%x" % (s, len(body), fnv1a64(body)))
    elif mode == "echo" and (s["rx_irqs"] < 1 or s["tx_irqs"] < 1):
        problems.append("no interrupts: %r" % s)
    elif mode == "poll" and (s["rx_irqs"] or s["tx_irqs"]):
        problems.append("interrupts in poll mode: %r" % s)
    if gdb and b"exited normally" not in gdb_out:
        problems.append("gdb did not see the end: %r" % gdb_out[-300:])
    report(name, not problems, "; ".join(problems))
    if s and not problems:
        print("  %s: %d bytes, %d rx and %d tx interrupts" % (name, s["bytes"], s["rx_irqs"],
                                                            s["tx_irqs"]))


def raw_attrs_ok(a):
    iflag, lflag = a[0], a[3]
    return not (lflag & (termios.ICANON | termios.ECHO | termios.ISIG)) and \
        not (iflag & (termios.ICRNL | termios.IXON))


def take_terminal():
    """In the child, after setsid: the pty becomes its controlling terminal, so the line
    discipline's Ctrl-C is a SIGINT to kprof, as in a user's shell.  No core file from the
    fatal-signal run."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def pty_start(args):
    master, slave = pty.openpty()
    orig = termios.tcgetattr(slave)
    p = subprocess.Popen([KPROF, "run", *args], stdin=slave, stdout=slave, stderr=slave,
                         start_new_session=True, preexec_fn=take_terminal)
    return master, slave, orig, p, Reader(master)


def pty_end(name, master, slave, orig, problems):
    """After the run: the terminal's modes are what they were before it."""
    if termios.tcgetattr(slave) != orig:
        problems.append("terminal modes not restored")
    os.close(master)
    os.close(slave)
    report(name, not problems, "; ".join(problems))


def pty_quit():
    name = ("pty: raw mode, Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-C goes to the guest, Ctrl-A H "
            "helps, Ctrl-A X ends with 123, modes restored")
    master, slave, orig, p, out = pty_start(["--console", "--cmdline", "console=echo", GUEST])
    problems = []
    if not out.wait_for(b"console echo ready", BOOT_TIMEOUT):
        problems.append("no ready line: %r" % out.buf[-300:])
    else:
        if not raw_attrs_ok(termios.tcgetattr(slave)):
            problems.append("terminal not raw while running")
        for send, want in ((b"hello\r", b"echo: hello"), (b"a\x01\x01b\r", b"echo: a\x01b"),
                           (b"c\x03d\r", b"echo: c\x03d")):
            os.write(master, send)
            if not out.wait_for(want, RUN_TIMEOUT):
                problems.append("sent %r, no %r in %r" % (send, want, out.buf[-200:]))
                break
        os.write(master, b"\x01h")
        if not out.wait_for(b"Ctrl-A X ends the run", RUN_TIMEOUT):
            problems.append("no help after Ctrl-A H")
        os.write(master, b"\x01x")
    status = out.drain(p, RUN_TIMEOUT)
    if status != 123:
        problems.append("status %r after Ctrl-A X" % status)
    if b"Ctrl-A X" not in out.buf:
        problems.append("no Ctrl-A X message")
    pty_end(name, master, slave, orig, problems)


def pty_signal():
    name = "pty: SIGTERM ends the run with 143 and the modes restored"
    master, slave, orig, p, out = pty_start(["--console", "--cmdline", "console=echo", GUEST])
    problems = []
    if not out.wait_for(b"console echo ready", BOOT_TIMEOUT):
        problems.append("no ready line")
    elif not raw_attrs_ok(termios.tcgetattr(slave)):
        problems.append("terminal not raw while running")
    p.send_signal(signal.SIGTERM)
    status = out.drain(p, RUN_TIMEOUT)
    if status != 143:
        problems.append("status %r" % status)
    pty_end(name, master, slave, orig, problems)


def pty_hangup_and_crash():
    """The terminal going away (its master closed: SIGHUP to kprof, reads then fail with
    EIO) ends the run with 129, no hang; a fatal signal still restores the modes first."""
    name = "pty hung up: the run ends with 129"
    master, slave, orig, p, out = pty_start(["--console", "--cmdline", "console=echo", GUEST])
    problems = []
    if not out.wait_for(b"console echo ready", BOOT_TIMEOUT):
        problems.append("no ready line")
    os.close(slave)
    os.close(master)
    try:
        status = p.wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        status = "hung: %r" % p.wait()
    if status != 129:
        problems.append("status %r" % (status,))
    report(name, not problems, "; ".join(problems))

    name = "pty: a fatal signal (SIGSEGV) in kprof restores the terminal's modes first"
    master, slave, orig, p, out = pty_start(["--console", "--cmdline", "console=echo", GUEST])
    problems = []
    if not out.wait_for(b"console echo ready", BOOT_TIMEOUT):
        problems.append("no ready line")
    elif not raw_attrs_ok(termios.tcgetattr(slave)):
        problems.append("terminal not raw while running")
    p.send_signal(signal.SIGSEGV)
    status = out.drain(p, RUN_TIMEOUT)
    # Killed by the signal (plain build) or a sanitizer's report and its exit status.
    if status is None or status == 0:
        problems.append("status %r" % status)
    pty_end(name, master, slave, orig, problems)


def snapshot_restore(snap):
    """A snapshot taken while the guest waits for input, restored with --console: the
    guest goes on with its interrupt routing, its line count and its hash over both runs'
    input."""
    name = "--console across --snapshot-on SIGUSR2 and --restore: one guest's count and hash"
    problems = []
    p = subprocess.Popen([KPROF, "run", "--console", "--snapshot", snap, "--snapshot-on",
                          "SIGUSR2", "--cmdline", "console=echo", GUEST],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = Reader(p.stdout.fileno()), Reader(p.stderr.fileno())
    first, second = b"before the snapshot\n", b"after the restore\r\nquit\n"
    p.stdin.write(first)
    p.stdin.flush()
    if not out.wait_for(b"echo: before the snapshot\n", BOOT_TIMEOUT + RUN_TIMEOUT):
        problems.append("no echo before the snapshot: %r" % out.buf[-300:])
    else:
        p.send_signal(signal.SIGUSR2)
        if not err.wait_for(b"kprof: snapshot ", RUN_TIMEOUT):
            problems.append("no snapshot: %r" % err.buf[-300:])
    p.send_signal(signal.SIGINT)
    if out.drain(p, RUN_TIMEOUT) != 130:
        problems.append("the first run did not end with 130")
    if not problems:
        r = subprocess.run([KPROF, "run", "--console", "--restore", snap], input=second,
                           capture_output=True, timeout=BOOT_TIMEOUT + RUN_TIMEOUT)
        s = summary(r.stdout)
        body = first + second
        if r.returncode != 0 or b"echo: after the restore\n" not in r.stdout:
            problems.append("restored run: status %d, %r" % (r.returncode, r.stdout[-300:]))
        elif not s or s["lines"] != 2 or s["bytes"] != len(body) or \
                s["hash"] != fnv1a64(body) or s["rx_irqs"] < 2:
            problems.append("summary %r, wanted 2 lines, %d bytes, hash 0x%x" %
                            (s, len(body), fnv1a64(body)))
    report(name, not problems, "; ".join(problems))


def eof_runs():
    """End of file on standard input ends nothing (as with QEMU's stdio): a guest that does
    not read its serial port ends as it would; one that waits for input waits on, and
    Ctrl-C (SIGINT) still ends the run with 130."""
    for name, stdin in (("/dev/null", subprocess.DEVNULL), ("a closed descriptor", None)):
        args = [KPROF, "run", "--console", "--cmdline", "iterations=1", GUEST]
        if stdin is None:
            args = ["sh", "-c", 'exec "$@" <&-', "sh", *args]
        p = subprocess.run(args, stdin=stdin, capture_output=True, timeout=RUN_TIMEOUT)
        report("--console with standard input %s: the guest's own end, status 0" % name,
               p.returncode == 0, "status %d, stderr %r" % (p.returncode, p.stderr[-300:]))
    name = "pipe closed after one line: the guest echoes it and waits on; SIGINT ends with 130"
    p = subprocess.Popen([KPROF, "run", "--console", "--cmdline", "console=echo", GUEST],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = Reader(p.stdout.fileno())
    p.stdin.write(b"only line\n")
    p.stdin.close()
    problems = []
    if not out.wait_for(b"echo: only line\n", BOOT_TIMEOUT + RUN_TIMEOUT):
        problems.append("no echo: %r" % out.buf[-300:])
    if p.poll() is not None:
        problems.append("the run ended at end of file (status %r)" % p.returncode)
    p.send_signal(signal.SIGINT)
    status = out.drain(p, RUN_TIMEOUT)
    if status != 130:
        problems.append("status %r after SIGINT" % status)
    report(name, not problems, "; ".join(problems))


def pty_without_console():
    """Without --console the terminal is left alone: its modes are not changed, nothing
    typed reaches the guest or is read, and Ctrl-C (the line discipline's SIGINT) ends the
    run with 130."""
    name = "pty without --console: modes untouched, input unread, Ctrl-C ends with 130"
    master, slave, orig, p, out = pty_start(["--cmdline", "console=echo", GUEST])
    problems = []
    if not out.wait_for(b"console echo ready", BOOT_TIMEOUT):
        problems.append("no ready line: %r" % out.buf[-300:])
    if termios.tcgetattr(slave) != orig:
        problems.append("terminal modes changed")
    os.write(master, b"typed\n")
    # The line discipline's own echo: the line is then in the terminal's input queue,
    # and stays there, unread (Ctrl-C then flushes it).
    if not out.wait_for(b"typed", RUN_TIMEOUT):
        problems.append("no terminal echo")
    unread = struct.unpack("i", fcntl.ioctl(slave, termios.FIONREAD, b"\0" * 4))[0]
    if unread != 6:
        problems.append("%d bytes of the typed line left unread, wanted 6" % unread)
    os.write(master, b"\x03")
    status = out.drain(p, RUN_TIMEOUT)
    if status != 130:
        problems.append("status %r after Ctrl-C" % status)
    if b"echo: typed" in out.buf:
        problems.append("the guest got the typed line")
    os.close(master)
    os.close(slave)
    report(name, not problems, "; ".join(problems))


pipe_run("pipe, interrupts (IOAPIC): 10 KiB in one write, echoed whole after end of file",
         "echo", payload_lines(100, 3000))
pipe_run("pipe, polled data-ready: echoed whole", "poll", payload_lines(10, 600))
pipe_run("pipe, binary: every byte value, Ctrl-A X as data, a line past LINE_MAX; "
         "the guest's fnv1a64 and byte count are the host's", "echo", body=binary_body())
pipe_run("pipe, binary, polled", "poll", body=binary_body())
pipe_run("pipe with --gdb --gdb-wait: gdb continues, input echoed, gdb sees the exit",
         "echo", payload_lines(5, 100), gdb=True)
eof_runs()
snapshot_restore(os.path.join(WORK, "console.snap"))
pty_quit()
pty_signal()
pty_hangup_and_crash()
pty_without_console()
