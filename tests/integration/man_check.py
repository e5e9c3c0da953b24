#!/usr/bin/env python3
"""man_check.py KPROF RENDERED: kprof's man page (as `man -l` renders it, in RENDERED) against
the program's own --help.  Prints "PASS: ..." / "FAIL: ..." lines; exits 1 on a failure.

- every command `kprof --help` lists has a section "kprof NAME", in that order;
- every option a command's --help names is in that command's section;
- the hand-written parts name no option kprof does not have: each example that runs
  `kprof CMD` uses only options of `kprof CMD --help`, and every long option anywhere on the
  page is one of some command's (or --help, --version).
"""
import re
import subprocess
import sys

OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
SECTION_HEAD = re.compile(r"^[A-Z][A-Z ]+$")
failed = False


def check(name, ok, why=""):
    global failed
    print(("PASS: " if ok else "FAIL: ") + name + ("" if ok or not why else ": " + why))
    failed |= not ok


def run(*args):
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def options(text):
    return set(OPTION.findall(text))


def sections(lines):
    """{NAME: [lines]} for the page's top-level sections."""
    out, cur = {}, None
    for ln in lines:
        if SECTION_HEAD.match(ln):
            cur = ln.strip()
            out[cur] = []
        elif cur:
            out[cur].append(ln)
    return out


def main():
    kprof, rendered = sys.argv[1], sys.argv[2]
    with open(rendered, encoding="utf-8") as f:
        lines = f.read().splitlines()
    top = sections(lines)
    for want in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "EXIT STATUS",
                 "FILES", "EXAMPLES", "SEE ALSO"):
        check(f"man: section {want}", want in top)

    main_help = run(kprof, "--help")
    m = re.search(r"^commands:\n((?:  \S.*\n)+)", main_help, re.M)
    names = [ln.split()[0] for ln in m.group(1).splitlines()] if m else []
    check("kprof --help lists commands", bool(names))

    # The COMMANDS section, split at its subsection headings ("   kprof NAME").
    subs, cur = {}, None
    order = []
    for ln in top.get("COMMANDS", []):
        h = re.match(r"^   kprof (\S+)$", ln)
        if h:
            cur = h.group(1)
            order.append(cur)
            subs[cur] = []
        elif cur:
            subs[cur].append(ln)
    check(f"man: one section per command, in kprof --help's order ({' '.join(names)})",
          order == names, f"sections {' '.join(order)}")

    known = {"--help", "--version"}
    per_cmd = {}
    for name in names:
        helptext = run(kprof, name, "--help")
        opts = options(helptext)
        per_cmd[name] = opts
        known |= opts
        body = set(OPTION.findall(" ".join(subs.get(name, []))))
        missing = sorted(opts - body)
        check(f"man: kprof {name}: its {len(opts)} options are in its section",
              name in subs and not missing, "missing " + " ".join(missing))

    # Hand-written examples: join continued lines, then check each kprof command line.
    ex, buf = [], ""
    for ln in top.get("EXAMPLES", []):
        s = ln.strip()
        buf = (buf + " " + s) if buf else s
        if s.endswith("\\"):
            buf = buf[:-1].rstrip()
            continue
        ex.append(buf)
        buf = ""
    runs = [e for e in ex if re.match(r"^kprof \S+", e)]
    check("man: the examples run kprof", bool(runs))
    for e in runs:
        cmd = e.split()[1]
        if cmd not in per_cmd:
            check(f"man: example '{e}'", False, f"'{cmd}' is not a kprof command")
            continue
        unknown = sorted(o for o in set(OPTION.findall(e)) if o not in per_cmd[cmd])
        check(f"man: example 'kprof {cmd} ...' uses options kprof {cmd} has", not unknown,
              "unknown " + " ".join(unknown))

    longs = {o for o in OPTION.findall("\n".join(lines)) if o.startswith("--")}
    stray = sorted(longs - known)
    check("man: every long option on the page is kprof's", not stray, "unknown " + " ".join(stray))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
