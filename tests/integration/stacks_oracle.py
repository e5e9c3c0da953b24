# Oracle for `monitor stacks` (test_stacks_oracle.sh), in two halves.
#
# Inside gdb (`source`d, attached to `kprof run --gdb`): stop the guest at breakpoints and at
# interrupts sent at random moments, and at each stop record gdb's `thread apply all bt` and
# kprof's `monitor stacks inline` and `monitor stacks` as text, plus what the text alone does
# not say: which thread reported the stop, gdb's frame types (inline, signal), and the symbol
# at each `<signal handler called>` frame.
#
# As a script (python3 stacks_oracle.py RECORDS): parse both texts and compare, per vCPU, the
# function names outermost to innermost.  Prints one line per vCPU and stop, then a summary;
# exit status 0 when every one is the same.
import json
import os
import re
import sys

THREAD_RE = re.compile(r"^Thread (\d+) \(")
FRAME_RE = re.compile(r"^#(\d+)\s+(?:0x[0-9a-f]+ in )?(<signal handler called>|[^\s(]+)")


def parse(text):
    """{thread number: [names innermost first]} from bt-style text."""
    out, cur = {}, None
    for line in text.splitlines():
        m = THREAD_RE.match(line)
        if m:
            cur = out.setdefault(int(m.group(1)), [])
            continue
        m = FRAME_RE.match(line)
        if m and cur is not None:
            if int(m.group(1)) != len(cur):
                raise ValueError("frame #%s out of order in: %r" % (m.group(1), line))
            cur.append(m.group(2))
    return out


def gdb_side():
    import random
    import signal
    import threading
    import gdb

    out_path = os.environ["ORACLE_RECORDS"]
    interrupts = int(os.environ["ORACLE_INTERRUPTS"])
    bp_hits = int(os.environ["ORACLE_BP_HITS"])
    random.seed(int(os.environ["ORACLE_SEED"]))
    records = []

    def frame_info():
        """Per thread: gdb's frame types and, for signal frames, the symbol at the pc."""
        info = {}
        for th in gdb.selected_inferior().threads():
            th.switch()
            types, sigsyms, f = [], {}, gdb.newest_frame()
            while f is not None and len(types) < 256:
                if f.type() == gdb.SIGTRAMP_FRAME:
                    words = gdb.execute("info symbol 0x%x" % f.pc(), to_string=True).split()
                    sigsyms[len(types)] = words[0] if words and words[0] != "No" else "??"
                types.append("inline" if f.type() == gdb.INLINE_FRAME else
                             "signal" if f.type() == gdb.SIGTRAMP_FRAME else "normal")
                try:
                    f = f.older()
                except gdb.error:
                    break
            info[th.num] = {"types": types, "sigsyms": sigsyms}
        return info

    def record(how):
        event = gdb.selected_thread().num
        rec = {
            "how": how,
            "event": event,
            "bt": gdb.execute("thread apply all bt", to_string=True),
            "kprof_inline": gdb.execute("monitor stacks inline", to_string=True),
            "kprof": gdb.execute("monitor stacks", to_string=True),
            "frames": frame_info(),
        }
        gdb.execute("thread %d" % event, to_string=True)  # frame_info switched threads
        records.append(rec)

    nthreads = len(gdb.selected_inferior().threads())
    # Breakpoints in work_leaf on each vCPU in turn (several hits each), then one in the
    # timer interrupt's innermost function per vCPU, so the interrupt frame is crossed for sure.
    for where, hits in (("work_leaf", bp_hits), ("tick_account", 1)):
        for t in range(1, nthreads + 1):
            gdb.execute("break %s thread %d" % (where, t), to_string=True)
            for _ in range(hits):
                gdb.execute("continue", to_string=True)
                record("break %s thread %d" % (where, t))
            gdb.execute("delete", to_string=True)
    # Interrupts at random moments (SIGINT to gdb, as a user's Ctrl-C: the stub gets 0x03).
    # The timer starts once the target is resumed: a SIGINT that arrives while gdb is still in
    # Python (a busy host can take longer than the delay to get there) would be a
    # KeyboardInterrupt, not an interrupt of the target.
    # A SIGINT that reaches gdb while it is still resuming the target can be lost (a CI run
    # waited out its timeout in a `continue`): until the stop is seen, it is sent again every
    # 5 s.  The lock keeps a repeat from landing after the stop, inside Python.
    delays, lock, state = [], threading.Lock(), {"stopped": True}

    def interrupt(first):
        with lock:
            if state["stopped"]:
                return
            os.kill(os.getpid(), signal.SIGINT)
        threading.Timer(5.0, interrupt, (False,)).start()

    def interrupt_later(_event):
        if delays:
            with lock:
                state["stopped"] = False
            threading.Timer(delays.pop(), interrupt, (True,)).start()

    def stopped(_event):
        with lock:
            state["stopped"] = True

    gdb.events.cont.connect(interrupt_later)
    gdb.events.stop.connect(stopped)
    for i in range(interrupts):
        delays.append(random.uniform(0.005, 0.08))
        gdb.execute("continue", to_string=True)
        with lock:
            state["stopped"] = True
        record("interrupt %d" % i)
    with open(out_path, "w") as f:
        json.dump(records, f)


# gdb names a GCC clone (format.constprop.0) by its DWARF subprogram, kprof by its ELF symbol.
CLONE = re.compile(r"\.(constprop|isra|part|cold)(\.\d+)*$")


def declone(stacks):
    return {t: [CLONE.sub("", n) for n in names] for t, names in stacks.items()}


def compare(path):
    records = json.load(open(path))
    stops = same = differ = irq = irq_stops = inline_seen = stop_pc_inline = 0
    for rec in records:
        stops += 1
        irq_stops += any("signal" in f["types"] for f in rec["frames"].values())
        gdb_bt, kp_inl, kp = parse(rec["bt"]), declone(parse(rec["kprof_inline"])), declone(parse(rec["kprof"]))
        if not gdb_bt or set(gdb_bt) != set(kp_inl) or set(gdb_bt) != set(kp):
            print("differs: %s: threads gdb %s, kprof %s / %s" %
                  (rec["how"], sorted(gdb_bt), sorted(kp_inl), sorted(kp)))
            differ += 1
            continue
        for t in sorted(gdb_bt):
            fr = rec["frames"][str(t)]
            names = list(gdb_bt[t])
            if len(fr["types"]) != len(names):
                print("differs: %s thread %d: gdb's bt has %d frames, its frame walk %d" %
                      (rec["how"], t, len(names), len(fr["types"])))
                differ += 1
                continue
            # gdb prints an interrupt frame (a DWARF signal frame) as "<signal handler
            # called>"; kprof names the function there (timer_entry), as gdb's `info symbol`
            # does for that frame's pc.
            for k, sym in fr["sigsyms"].items():
                if names[int(k)] == "<signal handler called>":
                    names[int(k)] = sym
            # gdb hides an inlined call that starts exactly at the stop pc, but only in the
            # thread that reported the stop; kprof hides it in every vCPU (see
            # profiler/README.md).  In other threads such frames, innermost (calls nested
            # at the same pc, as serial_putc > inb), are not compared.
            full, types = names, fr["types"]
            if t != rec["event"]:
                k = 0
                while k < len(types) and types[k] == "inline":
                    k += 1
                    if kp_inl[t] == names[k:]:
                        full, types = names[k:], types[k:]
                        stop_pc_inline += 1
                        break
            plain = [n for n, ty in zip(full, types) if ty != "inline"]
            ok = kp_inl[t] == full and kp[t] == plain
            crossed = "signal" in fr["types"]
            inline_seen += "inline" in types
            line = " > ".join(reversed(full))
            if ok:
                same += 1
                irq += crossed
                print("same: %s thread %d%s: %s" % (rec["how"], t,
                                                   " (interrupt frame)" if crossed else "", line))
            else:
                differ += 1
                print("differs: %s thread %d (event %d):\n  gdb          %s\n"
                      "  kprof inline %s\n  gdb plain    %s\n  kprof        %s" %
                      (rec["how"], t, rec["event"], line, " > ".join(reversed(kp_inl[t])),
                       " > ".join(reversed(plain)), " > ".join(reversed(kp[t]))))
    print("%d stops, %d vCPU stacks same, %d differ, %d through the interrupt frame (in %d "
          "stops), %d with inlined frames, %d inlined calls at a non-event thread's stop pc "
          "not compared" % (stops, same, differ, irq, irq_stops, inline_seen, stop_pc_inline))
    return 0 if same and not differ else 1


if "gdb" in sys.modules:
    gdb_side()
elif __name__ == "__main__":
    sys.exit(compare(sys.argv[1]))
