# Runs inside gdb (gdb -x bench/gdb_loop.py), attached to a running QEMU gdbstub.
#
# BENCH_MODE=loop: the loop OSDK's profiler drives through one gdb process: each round
#   `thread apply all bt`, then `continue`, interrupted with SIGINT; writes rounds/s and the
#   mean frames per stack to BENCH_OUT (JSON).
# BENCH_MODE=capture: at BENCH_ROUNDS stops (interrupted after a random 0-20 ms of running),
#   times gdb's `bt` on each thread (the first unwind of that stop, so gdb reads registers and
#   stack memory from the stub as a user's bt does), and appends each thread's registers, a
#   stack window and gdb's frame names to BENCH_CAPTURE for bench/unwind_bench.c.
#
# SIGINT comes from a helper thread, as Ctrl-C from a terminal would: gdb turns it into an
# interrupt request to the stub while it waits for the target.
import json
import os
import random
import re
import signal
import struct
import threading
import time

import gdb

MODE = os.environ.get("BENCH_MODE", "loop")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "100"))
OUT = os.environ.get("BENCH_OUT", "/dev/null")
CAPTURE = os.environ.get("BENCH_CAPTURE", "")
WINDOW = 8192

resumed = threading.Event()
stopped = threading.Event()


def on_cont(_event):
    stopped.clear()
    resumed.set()


def on_stop(_event):
    stopped.set()


gdb.events.cont.connect(on_cont)
gdb.events.stop.connect(on_stop)


def interrupter(delay):
    """Send SIGINT once gdb has resumed the target, again if no stop follows."""
    if not resumed.wait(10):
        return
    # gdb announces the resume a moment before it waits on the stub with its Ctrl-C
    # handler in place; a SIGINT before that is only a "Quit" for gdb itself.
    time.sleep(delay + 0.001)
    # Rarely the SIGINT still comes too early and is lost: try again after a second.  (A
    # second SIGINT while gdb waits for the stub makes it give up the connection, so the
    # retries are far apart; the run then fails instead of hanging.)
    for _ in range(5):
        os.kill(os.getpid(), signal.SIGINT)
        if stopped.wait(1.0):
            return


def run_once(delay=0.0):
    resumed.clear()
    t = threading.Thread(target=interrupter, args=(delay,), daemon=True)
    t.start()
    gdb.execute("continue", to_string=True)
    t.join()


FRAME_RE = re.compile(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(<signal handler called>|[^\s(]+)", re.M)


def frames_of(bt_text):
    return [m.group(1) for m in FRAME_RE.finditer(bt_text)]


def loop():
    stacks = frames = kstacks = kframes = 0
    t0 = time.perf_counter()
    for _ in range(ROUNDS):
        text = gdb.execute("thread apply all bt", to_string=True)
        for block in text.split("\nThread ")[0:]:
            f = frames_of(block)
            if f:
                stacks += 1
                frames += len(f)
            # Stacks stopped in named code (a kernel's, not a user process's), counting only
            # named frames: what a profile can use.
            if f and f[0] != "??":
                kstacks += 1
                kframes += sum(name != "??" for name in f)
        run_once()
    secs = time.perf_counter() - t0
    json.dump({"rounds": ROUNDS, "seconds": secs, "rate": ROUNDS / secs,
               "frames_per_stack": frames / max(stacks, 1), "stacks": stacks,
               "named_frames_per_kernel_stack": kframes / max(kstacks, 1)}, open(OUT, "w"))


REGS = ["rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip"]  # DWARF order


def capture():
    inf = gdb.selected_inferior()
    bt_ns = frames = stacks = 0
    random.seed(7)
    with open(CAPTURE, "wb") as out:
        for _ in range(ROUNDS):
            run_once(random.uniform(0, 0.02))
            for th in sorted(inf.threads(), key=lambda t: t.num):
                th.switch()
                t = time.perf_counter_ns()
                text = gdb.execute("bt", to_string=True)
                bt_ns += time.perf_counter_ns() - t
                names = frames_of(text)
                frame = gdb.newest_frame()
                regs = [int(frame.read_register(r)) & (2**64 - 1) for r in REGS]
                rsp = regs[7]
                data = b""
                for size in (WINDOW, 4096, 1024, 256):
                    try:
                        data = bytes(inf.read_memory(rsp, size))
                        break
                    except gdb.MemoryError:
                        continue
                stacks += 1
                frames += len(names)
                out.write(struct.pack("<4sII", b"KPST", th.num - 1, len(data)))
                out.write(struct.pack("<17Q", *regs))
                out.write(data)
                namebytes = "\n".join(names).encode() + b"\0"
                out.write(struct.pack("<I", len(namebytes)) + namebytes)
    json.dump({"stops": ROUNDS, "stacks": stacks, "frames": frames, "bt_seconds": bt_ns / 1e9,
               "frames_per_s": frames / (bt_ns / 1e9)}, open(OUT, "w"))


gdb.execute("set pagination off")
gdb.execute("set confirm off")
try:
    loop() if MODE == "loop" else capture()
finally:
    try:
        gdb.execute("kill", to_string=True)
    except gdb.error:
        pass
