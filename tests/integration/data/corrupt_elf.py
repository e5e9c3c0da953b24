#!/usr/bin/env python3
"""Write a corrupted copy of an ELF64 file for the hostile-input tests.

   corrupt_elf.py IN OUT HOW SEED

HOW: flip:SECTION (flip about one bit in 50 bytes of the section, at random places from
SEED), zero:SECTION, past-eof:SECTION (sh_offset past the end of the file),
huge-size:SECTION (sh_size 2^62), shoff-past-eof, shnum-huge, shstrndx-bad, memsz-huge
(first PT_LOAD's p_memsz near 2^63), filesz-past-eof (first PT_LOAD's p_filesz beyond the file),
memsz:BYTES (last PT_LOAD's p_memsz set to BYTES).
"""
import random, struct, sys, subprocess
src, out, what, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
d = bytearray(open(src, "rb").read())
shoff, = struct.unpack_from("<Q", d, 0x28); shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x3a)
secs = []
for i in range(shnum):
    o = shoff + i * shentsize
    name, typ, flags, addr, off, size = struct.unpack_from("<IIQQQQ", d, o)
    secs.append((name, typ, off, size, o))
stro = secs[shstrndx][2]
def nm(n): return d[stro + n:d.index(b"\0", stro + n)].decode()
byname = {nm(s[0]): s for s in secs}
rnd = random.Random(seed)
if what.startswith("flip:"):
    sec = byname[what[5:]]
    for _ in range(max(4, sec[3] // 50)):
        d[sec[2] + rnd.randrange(sec[3])] ^= 1 << rnd.randrange(8)
elif what.startswith("zero:"):
    sec = byname[what[5:]]
    d[sec[2]:sec[2] + sec[3]] = bytes(sec[3])
elif what.startswith("past-eof:"):
    sec = byname[what[9:]]
    struct.pack_into("<Q", d, sec[4] + 0x18, len(d) + 0x1000)
elif what.startswith("huge-size:"):
    sec = byname[what[10:]]
    struct.pack_into("<Q", d, sec[4] + 0x20, 1 << 62)
elif what == "shoff-past-eof":
    struct.pack_into("<Q", d, 0x28, len(d) + 64)
elif what == "shnum-huge":
    struct.pack_into("<H", d, 0x3c, 0xffff)
elif what == "shstrndx-bad":
    struct.pack_into("<H", d, 0x3e, 0xfff0)
elif what == "memsz-huge":
    phoff, = struct.unpack_from("<Q", d, 0x20)
    struct.pack_into("<Q", d, phoff + 0x28, 0x7fffffff00000000)
elif what.startswith("memsz:"):
    phoff, = struct.unpack_from("<Q", d, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", d, 0x36)
    last = max(i for i in range(phnum) if struct.unpack_from("<I", d, phoff + i * phentsize)[0] == 1)
    struct.pack_into("<Q", d, phoff + last * phentsize + 0x28, int(what[6:]))
elif what == "filesz-past-eof":
    phoff, = struct.unpack_from("<Q", d, 0x20)
    struct.pack_into("<Q", d, phoff + 0x20, len(d) * 4)
else:
    sys.exit("unknown corruption " + what)
open(out, "wb").write(d)
