#!/usr/bin/env python3
"""Regenerate the BTF fuzzer's seeds: a type name, NUL, a member path, NUL, then a small
kernel-like BTF blob (the shapes of tests/unit/test_profiler_btf.c: typedefs, an anonymous
union, arrays of structs, a bit-field, an enum, a per-CPU data section)."""
import os
import struct

INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF, CONST, VAR, DATASEC = 1, 2, 3, 4, 5, 6, 7, 8, 10, 14, 15


def blob():
    strs = bytearray(b"\0")
    words = []

    def s(name):
        if name is None:
            return 0
        off = len(strs)
        strs.extend(name.encode() + b"\0")
        return off

    def t(name, kind, vlen, size_type, kflag=0, tail=()):
        words.extend([s(name), vlen | kind << 24 | kflag << 31, size_type])
        words.extend(tail)

    t("int", INT, 0, 4, tail=[1 << 24 | 32])                        # 1
    t("char", INT, 0, 1, tail=[8])                                  # 2
    t(None, ARRAY, 0, 0, tail=[2, 1, 16])                           # 3 char[16]
    t("inner", STRUCT, 2, 16, tail=[s("base"), 7, 0, s("size"), 1, 64])  # 4
    t(None, ARRAY, 0, 0, tail=[4, 1, 3])                            # 5 struct inner[3]
    t(None, UNION, 2, 8, tail=[s("x"), 1, 0, s("y"), 7, 0])         # 6
    t(None, PTR, 0, 0)                                              # 7
    t("outer", STRUCT, 6, 88, kflag=1, tail=[s("pid"), 1, 0, s("tgid"), 9, 32, 0, 6, 64,
                                            s("comm"), 3, 128, s("mem"), 5, 256,
                                            s("flags"), 1, 640 | 3 << 24])  # 8
    t("pid_t", TYPEDEF, 0, 1)                                       # 9
    t(None, CONST, 0, 8)                                            # 10
    t("outer_t", TYPEDEF, 0, 10)                                    # 11
    t("mod_mem_type", ENUM, 2, 4, tail=[s("MOD_TEXT"), 0, s("MOD_RO"), 2])  # 12
    t("current_task", VAR, 0, 7, tail=[1])                          # 13
    t(".data..percpu", DATASEC, 1, 0x100, tail=[13, 0x40, 8])       # 14
    t("task_struct", FWD, 0, 0)                                     # 15
    types = struct.pack("<%dI" % len(words), *words)
    hdr = struct.pack("<HBBIIIII", 0xeb9f, 1, 0, 24, 0, len(types), len(types), len(strs))
    return hdr + types + bytes(strs)


here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "corpus", "btf")
os.makedirs(out, exist_ok=True)
for name, (typ, path) in {"mem-enum": ("outer", "mem[MOD_RO].size"),
                          "anon": ("outer_t", "x"),
                          "percpu": (".data..percpu", "current_task")}.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(typ.encode() + b"\0" + path.encode() + b"\0" + blob())
