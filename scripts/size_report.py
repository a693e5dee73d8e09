#!/usr/bin/env python3
"""Size report of firmware images, from their GNU ld map files.

For each ELF image given (its map is expected next to it as <image>.map,
as the toolchain file cmake/arm-none-eabi-cortex-m4.cmake writes it), print:
  - the whole image's .text/.data/.bss, counted as Berkeley `size` counts
    them (text = allocated read-only sections, code and read-only data;
    data = allocated writable sections with contents; bss = zero-filled),
    read from the ELF section headers;
  - the same split per component (object file), summed from the input
    sections listed in the linker map, with the amplink library part
    (archives whose name matches --lib) listed object by object and totalled;
  - with --nm, the library's functions and read-only objects by size
    (nm --size-sort -S, restricted to addresses the map attributes to
    library objects) and every RAM symbol of the image.

Python 3 standard library only. Usage:
  size_report.py [--lib REGEX] [--nm arm-none-eabi-nm] [--target BYTES] IMAGE.elf...
"""
import argparse
import os
import re
import struct
import subprocess
import sys

SHF_WRITE, SHF_ALLOC = 0x1, 0x2
SHT_NOBITS = 8


def elf_sections(path):
    """{name: (kind, size, addr)} for the allocated sections of a 32/64-bit
    little- or big-endian ELF file; kind is 'text', 'data' or 'bss'."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF":
        raise SystemExit(f"{path}: not an ELF file")
    is64 = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    if is64:
        shoff, = struct.unpack_from(end + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x3A)
        fmt = end + "IIQQQQIIQQ"
    else:
        shoff, = struct.unpack_from(end + "I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x2E)
        fmt = end + "IIIIIIIIII"
    hdrs = [struct.unpack_from(fmt, data, shoff + i * shentsize) for i in range(shnum)]
    stroff = hdrs[shstrndx][4]
    out = {}
    for name_off, typ, flags, addr, _off, size, *_ in hdrs:
        if not flags & SHF_ALLOC or size == 0:
            continue
        name = data[stroff + name_off:data.index(b"\0", stroff + name_off)].decode()
        if typ == SHT_NOBITS:
            kind = "bss"
        elif flags & SHF_WRITE:
            kind = "data"
        else:
            kind = "text"
        out[name] = (kind, size, addr)
    return out


HEX = r"0x[0-9a-fA-F]+"
RE_OUT = re.compile(rf"^(\.\S+|/DISCARD/)(?:\s+({HEX})\s+({HEX}))?")
RE_IN_FULL = re.compile(rf"^ (\S+)\s+({HEX})\s+({HEX})\s+(\S.*)$")
RE_IN_NAME = re.compile(r"^ ([^\s*]\S*)$")
RE_CONT = re.compile(rf"^\s+({HEX})\s+({HEX})\s+(\S.*)$")
RE_FILL = re.compile(rf"^ \*fill\*\s+({HEX})\s+({HEX})")


def map_inputs(path):
    """Input sections of the memory map: list of (output section, input
    section, addr, size, file); fill as file '*fill*'."""
    out, cur, pending = [], None, None
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    try:
        start = lines.index("Linker script and memory map")
    except ValueError:
        raise SystemExit(f"{path}: no 'Linker script and memory map' part")
    for line in lines[start + 1:]:
        if pending is not None:
            m = RE_CONT.match(line)
            if m:
                addr, size, fname = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
                out.append((cur, pending, addr, size, fname.strip()))
            pending = None
            if m:
                continue
        if not line:
            continue
        if not line[0].isspace():
            m = RE_OUT.match(line)
            cur = m.group(1) if m else None
            continue
        if cur is None:
            continue
        m = RE_FILL.match(line)
        if m:
            out.append((cur, "*fill*", int(m.group(1), 16), int(m.group(2), 16), "*fill*"))
            continue
        m = RE_IN_FULL.match(line)
        if m:
            out.append((cur, m.group(1), int(m.group(2), 16), int(m.group(3), 16),
                        m.group(4).strip()))
            continue
        m = RE_IN_NAME.match(line)
        if m:
            pending = m.group(1)
    return out


def component(fname, image):
    """(group, member) for a map file name."""
    if fname == "*fill*":
        return ("alignment fill", "")
    if fname == "linker stubs":
        return ("linker stubs", "")
    m = re.match(r"^(.*?)([^/]+)\.a\((.*)\)$", fname)
    if m:
        lib, member = m.group(2), m.group(3)
        lib = lib[3:] if lib.startswith("lib") else lib
        member = re.sub(r"^lib_a-|^libc_a-", "", member)
        member = re.sub(r"\.(c\.obj|c\.o|obj|o)$", ".c" if member.endswith((".c.obj", ".c.o")) else "", member)
        if lib in ("c_nano", "g_nano", "c", "g", "nosys"):
            return ("newlib-nano" if "nano" in lib else "newlib", member)
        return (lib, member)
    m = re.search(r"CMakeFiles/([^/]+)\.dir/(.*)$", fname)
    if m:
        tgt, rel = m.group(1), m.group(2)
        member = re.sub(r"\.obj$|\.o$", "", os.path.basename(rel))
        if tgt in (image, image + ".elf"):
            return ("application", member)
        return (tgt, member)
    return (os.path.basename(fname), "")


def fmt_row(label, v, width=44):
    return f"  {label:<{width}}{v['text']:>7}{v['rodata']:>8}{v['data']:>7}{v['bss']:>7}"


def zero():
    return {"text": 0, "rodata": 0, "data": 0, "bss": 0}


def report(elf, args):
    mapf = elf + ".map"
    if not os.path.exists(mapf):
        alt = os.path.splitext(elf)[0] + ".map"
        mapf = alt if os.path.exists(alt) else mapf
    secs = elf_sections(elf)
    image = os.path.splitext(os.path.basename(elf))[0]
    whole = {"text": 0, "data": 0, "bss": 0}
    for kind, size, _addr in secs.values():
        whole[kind] += size

    groups = {}      # group -> member -> counts
    lib_ranges = []  # (start, end, member) of library input sections
    libre = re.compile(args.lib)
    for out, insec, addr, size, fname in map_inputs(mapf):
        if out not in secs or size == 0:
            continue
        kind = secs[out][0]
        g, member = component(fname, image)
        v = groups.setdefault(g, {}).setdefault(member, zero())
        v[kind] += size
        if kind == "text" and insec.startswith(".rodata"):
            v["rodata"] += size
        if libre.search(g):
            lib_ranges.append((addr, addr + size, f"{g}/{member}"))

    print(f"== {os.path.basename(elf)}")
    line = (f"  whole image: .text {whole['text']} B, .data {whole['data']} B, "
            f".bss {whole['bss']} B")
    if ".resource_table" in secs:
        line += f" (.data includes the {secs['.resource_table'][1]} B resource table in shared RAM)"
    print(line)
    print(f"  {'component (text = code + rodata)':<44}{'text':>7}{'rodata':>8}{'data':>7}{'bss':>7}")
    lib_total = zero()
    lib_groups = sorted(g for g in groups if libre.search(g))
    for g in lib_groups:
        for member, v in sorted(groups[g].items(), key=lambda kv: -kv[1]["text"]):
            for k in lib_total:
                lib_total[k] += v[k]
    print(fmt_row("amplink library (total)", lib_total))
    for g in lib_groups:
        for member, v in sorted(groups[g].items(), key=lambda kv: -kv[1]["text"]):
            print(fmt_row(f"  {g}/{member}", v))
    order = ["application"] + sorted(g for g in groups if g not in lib_groups and g != "application")
    for g in order:
        if g not in groups:
            continue
        t = zero()
        for v in groups[g].values():
            for k in t:
                t[k] += v[k]
        print(fmt_row(g, t))
    if args.target:
        verdict = "meets" if lib_total["text"] < args.target else "misses"
        print(f"  library .text {lib_total['text']} B {verdict} the < {args.target} B target"
              f" ({lib_total['text'] - args.target:+d} B)")

    if args.nm:
        try:
            res = subprocess.run([args.nm, "--size-sort", "-S", elf], check=True,
                                 capture_output=True, text=True)
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"  ({args.nm} failed: {e})")
            return
        syms, ram = [], []
        for ln in res.stdout.splitlines():
            parts = ln.split()
            if len(parts) != 4:
                continue
            addr, size, typ, name = int(parts[0], 16), int(parts[1], 16), parts[2], parts[3]
            if typ in "bBdD":
                ram.append((size, name))
            for lo, hi, owner in lib_ranges:
                if lo <= addr < hi:
                    syms.append((size, typ, name, owner))
                    break
        print("  library symbols by size (nm --size-sort -S; t/T code, r/R read-only data):")
        for size, typ, name, owner in sorted(syms, key=lambda s: (-s[0], s[2])):
            print(f"    {size:>6}  {typ}  {name:<36} {owner}")
        print("  RAM symbols (.data/.bss) of the whole image:")
        for size, name in sorted(ram, key=lambda s: (-s[0], s[1])):
            print(f"    {size:>6}  {name}")
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("images", nargs="+", help="ELF images (maps next to them)")
    ap.add_argument("--lib", default=r"^amplink", help="regex on archive names that make up "
                    "the library part (default: ^amplink)")
    ap.add_argument("--nm", help="nm program for the per-symbol listing")
    ap.add_argument("--target", type=int, default=1536,
                    help="library .text target in bytes to compare with (0: none)")
    args = ap.parse_args()
    for elf in args.images:
        report(elf, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
