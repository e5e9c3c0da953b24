"""Write a large synthetic folded-stack file for the flame-graph benchmark.

    gen_folded.py LINES OUT

Stacks are random walks through a fixed synthetic call graph (2000 functions, 8 callees each,
callees picked with a skew as real code is), 4 to 24 frames deep; the seed is fixed, so the
same LINES gives the same file.
"""
import random
import sys

lines, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(20261123)
NFUNCS = 2000
names = [f'{rng.choice(["sched", "mm", "fs", "net", "irq", "lock", "task", "dev"])}_'
         f'{rng.choice(["do", "get", "put", "run", "try", "map", "copy", "walk"])}_{i}'
         for i in range(NFUNCS)]
callees = [[rng.randrange(NFUNCS) for _ in range(8)] for _ in range(NFUNCS)]
# Callee k is taken with weight 2^-k: hot paths repeat, cold ones spread out.
weights = [2.0 ** -k for k in range(8)]
roots = [0, 1, 2, 3]

with open(out, 'w') as f:
    buf = []
    for _ in range(lines):
        fn = rng.choice(roots)
        stack = [names[fn]]
        for _ in range(rng.randint(3, 23)):
            fn = rng.choices(callees[fn], weights)[0]
            stack.append(names[fn])
        buf.append(f'{";".join(stack)} {rng.randint(1, 50)}\n')
        if len(buf) >= 10000:
            f.write(''.join(buf))
            buf.clear()
    f.write(''.join(buf))
