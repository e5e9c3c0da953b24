"""Checks of kprof's SVG flame graphs against the folded input they were drawn from.

    flamegraph_check.py widths FLAME.svg INPUT.folded WIDTH   every frame's width and counts
    flamegraph_check.py fold INPUT.folded                     the expected `--format folded`
    flamegraph_check.py fill FLAME.svg NAME                   prints the fill of NAME's frame
    flamegraph_check.py frames FLAME.svg                      prints each frame's title
    flamegraph_check.py matched INPUT.folded REGEX            the share a search should show

Exits non-zero with a message on the first mismatch.
"""
import collections
import re
import sys
import xml.etree.ElementTree as ET

NS = '{http://www.w3.org/2000/svg}'
TITLE = re.compile(r'^(.*) \((\d+) samples, ([0-9.]+)%')


def frames(svg):
    root = ET.parse(svg).getroot()
    for sec in root.iter(NS + 'g'):
        if sec.get('class') != 'sec':
            continue
        for g in sec.findall(NS + 'g'):
            rect = g.find(NS + 'rect')
            yield sec, g.find(NS + 'title').text, rect


def fold(path):
    counts = collections.Counter()
    for line in open(path, encoding='utf-8'):
        line = line.strip()
        if line:
            stack, n = line.rsplit(' ', 1)
            counts[stack] += int(n)
    return counts


def inclusive(counts):
    """Samples under each path prefix (what a frame's width stands for)."""
    inc = collections.Counter()
    for stack, n in counts.items():
        parts = stack.split(';')
        for i in range(1, len(parts) + 1):
            inc[';'.join(parts[:i])] += n
    return inc


def check_widths(svg, folded, width):
    counts = fold(folded)
    total = sum(counts.values())
    inc = inclusive(counts)
    by_name = collections.defaultdict(list)
    for p, n in inc.items():
        by_name[p.split(';')[-1]].append(n)
    usable = width - 20
    seen = 0
    for sec, title, rect in frames(svg):
        m = TITLE.match(title)
        if not m:
            sys.exit(f'bad title {title!r}')
        name, n, pct = m.group(1), int(m.group(2)), float(m.group(3))
        w = float(rect.get('width'))
        if name == 'all':
            if n != total or abs(w - usable) > 0.01:
                sys.exit(f'root: {n} samples {w} px, wanted {total} and {usable}')
        elif n not in by_name[name]:
            sys.exit(f'{name}: {n} samples; the input has {by_name[name]}')
        if abs(w - n / total * usable) > 0.011:
            sys.exit(f'{name}: width {w}, wanted {n / total * usable:.3f}')
        if abs(pct - 100.0 * n / total) > 0.006:
            sys.exit(f'{name}: {pct}%, wanted {100.0 * n / total:.2f}%')
        seen += 1
    if seen != len(inc) + 1:
        sys.exit(f'{seen} frames drawn, wanted {len(inc) + 1}')
    print(f'{seen} frames, {total} samples')


def main():
    cmd = sys.argv[1]
    if cmd == 'widths':
        check_widths(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    elif cmd == 'fold':
        for stack, n in sorted(fold(sys.argv[2]).items(), key=lambda kv: f'{kv[0]} {kv[1]}'.encode()):
            print(f'{stack} {n}')
    elif cmd == 'fill':
        for _, title, rect in frames(sys.argv[2]):
            if TITLE.match(title).group(1) == sys.argv[3]:
                print(rect.get('fill'))
                return
        sys.exit(f'no frame {sys.argv[3]}')
    elif cmd == 'matched':
        # A sample counts once if any frame of its stack (not a per-CPU root) matches.
        counts, rx = fold(sys.argv[2]), re.compile(sys.argv[3])
        hit = sum(n for stack, n in counts.items()
                  if any(rx.search(f) for f in stack.split(';') if not re.fullmatch(r'CPU \d+', f)))
        print(f'{100.0 * hit / sum(counts.values()):.4f}')
    elif cmd == 'frames':
        for _, title, _ in frames(sys.argv[2]):
            print(title)


main()
