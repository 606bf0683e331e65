#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The counter behind bench/arm_icount.sh (issue 19).

Reads on stdin the trace of `qemu-aarch64 -singlestep -d exec,nochain`: one
line per executed guest instruction,
    Trace 0: 0x7fab47600100 [0000000001009331/0000000000402dd0/00000001/00000201] sym
(the second bracketed field is the guest PC), never stored: per bracket
(the first instruction of the driver's icount_begin up to the first of its
icount_end, main thread only) it keeps a histogram of PCs.  At the end it
disassembles what the brackets executed (aarch64 objdump of the driver and
of the shared libraries the driver's /proc/self/maps lines name), counts
the instruction mix, and puts the mix through a per-core resource model of
Neoverse N1 and V1 (pipe counts and per-instruction pipe use from LLVM's
scheduling models, which cite Arm's Software Optimization Guides; see
RESOURCES below): a lower bound on the cycles, the most loaded resource.

Prints the table for one CPU model and appends RESULT lines to --results.
"""
import argparse
import bisect
import re
import subprocess
import sys
from collections import Counter

# ---------------------------------------------------------------- the model
#
# Resources per core, in micro-ops (or occupancy cycles) per cycle.  From
# LLVM's AArch64SchedNeoverseN1.td / AArch64SchedNeoverseV1.td (references:
# "Arm Neoverse N1/V1 Software Optimization Guide"):
#   N1: B 1, S 2 + M 1 integer, L 2 (load/store address), V0 + V1 (FP/ASIMD,
#       128-bit), dispatch 8 micro-ops/cycle; the front end decodes 4
#       instructions a cycle (Cortex-A76 family, 4-wide decode).
#   V1: B 2, S 2 + M0/M1 integer, L01 + L2 (3 loads, 2 of them also stores),
#       V0..V3 (four 128-bit ASIMD pipes, two 256-bit SVE), issue width 8
#       (LLVM: "from the decode bandwidth" - the MOP cache; the decoders are
#       narrower).
RESOURCES = {
    "N1": {"FE": 4, "I": 3, "M": 1, "B": 1, "L": 2, "V": 2, "V0": 1, "V1": 1},
    "V1": {"FE": 8, "I": 4, "M": 2, "B": 2, "L": 3, "L01": 2, "V": 4, "V02": 2, "V13": 2, "V01": 2, "V0": 1},
}

VREG = re.compile(r"\bv\d+\.(\d*)([bhsd])")
FPREG = re.compile(r"\b[qdshb]\d+\b")
QREG = re.compile(r"\bq\d+\b")


def lanes(ops):
    """('4s' style) arrangement of the first vector operand, or None."""
    m = VREG.search(ops)
    return (m.group(1) + m.group(2)) if m else None


def nregs(ops):
    """registers in the first {...} list (ld1/st1)."""
    m = re.search(r"\{([^}]*)\}", ops)
    if not m:
        return 1
    body = m.group(1)
    if "-" in body:  # {v0.16b-v3.16b}
        a, b = re.findall(r"v(\d+)", body)[:2]
        return (int(b) - int(a)) % 32 + 1
    return body.count(",") + 1


def uops(core, mn, ops):
    """Resource use of one instruction on core ('N1' or 'V1'): a Counter of
    resource -> micro-ops (occupancy cycles for the dividers)."""
    n1 = core == "N1"
    u = Counter(FE=1)
    vec = bool(VREG.search(ops) or FPREG.search(ops))
    arr = lanes(ops) or ""
    q = arr in ("16b", "8h", "4s", "2d") or bool(QREG.search(ops))
    base = mn.split(".")[0]

    def V(group="V", k=1):
        u["V"] += k
        if group != "V":
            u[group] += k

    # branches
    if base in ("b", "br", "ret", "cbz", "cbnz", "tbz", "tbnz", "bl", "blr"):
        u["B"] += 1
        if base in ("bl", "blr"):
            u["I"] += 1
        return u
    # loads and stores
    if re.match(r"^(ldr|ldur|ldp|ldnp|ld[1-4]|ldxr|ldaxr|ldar|prfm|prfum)", base):
        wb = "!" in ops or re.search(r"\],\s*(#|x\d+)", ops)
        if re.match(r"^ld[1-4]", base):
            if base.endswith("r") or re.search(r"\}\[\d+\]", ops):  # all lanes / one lane
                u["L"] += 1
                V()
            else:
                k = nregs(ops)
                u["L"] += k
                if base != "ld1":  # LD2-4 de-interleave on the V pipes too
                    V(k=k)
        else:
            u["L"] += 2 if base in ("ldp", "ldnp") else 1
            if n1 and vec and base in ("ldr", "ldp") and not wb:
                u["I"] += 1  # N1: vector LDR/LDP with an immediate or register offset, 1 I + 1 L
        if wb:
            u["I"] += 1  # base write-back
        return u
    if re.match(r"^(str|stur|stp|stnp|st1|st2|st3|st4|strb|strh|sturb|sturh|stxr|stlxr|stlr)", base):
        if base.startswith("st") and base[2:3].isdigit():
            k = nregs(ops)
            if n1:
                u["L"] += k
                V(k=k)
            else:
                u["L"] += k
                u["L01"] += k
                V("V01", k)
        elif vec:
            pair = base in ("stp", "stnp")
            if n1:  # STR Q: 2 L + 2 V; STR S/D: L + V; STP Q: 4 L + 2 V; STP D: 2 L + 2 V; STP S: L + V
                if q:
                    u["L"] += 4 if pair else 2
                    V(k=2)
                else:
                    u["L"] += 2 if pair and FPREG.search(ops).group(0)[0] == "d" else 1
                    V(k=2 if pair and FPREG.search(ops).group(0)[0] == "d" else 1)
            else:
                u["L"] += 1
                u["L01"] += 1
                V("V01")
        else:
            u["L"] += 2 if base in ("stp", "stnp") and n1 else 1
            if not n1:
                u["L01"] += 1
        if "!" in ops or re.search(r"\],\s*#", ops):
            u["I"] += 1
        return u
    if not vec:
        # scalar integer
        if base in ("mul", "madd", "msub", "smull", "umull", "smaddl", "umaddl", "smulh", "umulh", "mneg",
                    "sdiv", "udiv", "bfi", "bfxil", "bfm"):
            u["I"] += 1
            u["M"] += 1
            return u
        u["I"] += 1
        return u
    # ---- SIMD & FP ----
    # conversions and moves between the register files
    gpr = re.search(r"\b[wx]\d+\b|\bwzr\b|\bxzr\b", ops)
    if base in ("scvtf", "ucvtf") and gpr:
        u["I"] += 1
        u["M"] += 1
        if n1:
            V("V0")
        return u
    if base.startswith("fcvt") and gpr:  # FP -> general register
        if n1:
            V("V0")
            V("V1")
        else:
            V("V0")
        return u
    if base in ("fmov",) and gpr:
        if ops.split(",")[0].strip()[0] in "wx":  # vec -> gen
            V("V1" if n1 else "V13")
        else:  # gen -> vec
            u["I"] += 1
            u["M"] += 1
        return u
    if base in ("umov", "smov") or (base == "mov" and ops.split(",")[0].strip()[0] in "wx"):
        V("V1" if n1 else "V")
        return u
    if base == "dup" and gpr:
        u["I"] += 1
        u["M"] += 1
        return u
    if base in ("ins", "mov") and gpr:
        u["I"] += 1
        u["M"] += 1
        V()
        return u
    # dividers (occupancy: 7 cycles of V0 on N1, of V0/V2 on V1)
    if base in ("fdiv", "fsqrt"):
        if n1:
            V("V0", 7)
        else:
            V("V02", 7)
        return u
    if base in ("frecpe", "frsqrte", "urecpe", "ursqrte"):
        if n1:
            V("V0", 2 if arr == "4s" else 1)
        else:
            V("V02")
        return u
    if re.match(r"^(scvtf|ucvtf|fcvtz[su]|fcvt[anmp][su]|frint[aimnpxz])$", base):
        k = 2 if arr in ("4s", "8h") or arr == "4h" else 1
        V("V0" if n1 else "V02", k)
        return u
    if base == "fcvt":  # scalar precision change
        V("V" if n1 else "V02")
        return u
    if re.match(r"^(fcvtl2?|fcvtn2?|fcvtxn2?|bfcvtn2?|bfcvt)$", base):
        k = 2 if arr in ("8h", "4h") else 1
        V("V0" if n1 else "V02", k)
        return u
    # shifts and widening (uxtl/sxtl are ushll/sshll #0)
    if re.match(r"^(u|s)?(shll2?|xtl2?)$|^(shl|ushr|sshr|sli|sri|shrn2?|ushl|sshl)$", base):
        V("V1" if n1 else "V13")
        return u
    if re.match(r"^(rshrn2?|sqrshrun?2?|sqshrun?2?|uqrshrn2?|uqshrn2?|[su]rshr|[su]q?rshl|[su]qshl|sqshlu|sqxtun?2?|uqxtn2?)$", base):
        V("V1" if n1 else "V13")
        return u
    if re.match(r"^[su](sra|rsra|aba|abal2?|adalp)$", base):
        V("V1" if n1 else "V13")
        return u
    # reductions
    if re.match(r"^(addv|[su]addlv|[su]maxv|[su]minv)$", base):
        if n1:
            V("V1", 2 if arr == "16b" else 1)
        else:
            V("V13", 2 if arr == "16b" else 1)
        return u
    if re.match(r"^f(max|min)(nm)?v$", base):
        V(k=1 if n1 else 2)
        return u
    # integer multiplies
    if base in ("mul", "mla", "mls", "sqdmulh", "sqrdmulh"):
        if n1:
            V("V0", 2 if arr in ("8h", "4s") else 1)
        else:
            V("V02")
        return u
    if re.match(r"^([su]mull2?|[su]mlal2?|[su]mlsl2?|sqdmull2?|sqdmlal2?|pmull2?)$", base):
        V("V0" if n1 else "V02")
        return u
    # dot products and matrix multiplies: any V pipe (N1: SDOT/UDOT have no
    # entry of their own in LLVM's N1 model, which gives them its ASIMD
    # default, either V pipe)
    if re.match(r"^(sdot|udot|usdot|sudot|smmla|ummla|usmmla|bfdot|bfmmla|bfmlal[bt])$", base):
        V()
        return u
    # table lookups
    if base in ("tbl", "tbx"):
        k = nregs(ops)
        if n1:
            V(k=1 if k <= 2 else k)
        else:
            V("V01", 2 if k <= 2 else k)
        return u
    # everything else on the FP/ASIMD side: any V pipe
    V()
    return u


NEEDS = {"N1": {"usdot", "sudot", "smmla", "ummla", "usmmla", "bfdot", "bfmmla", "bfmlalb", "bfmlalt", "bfcvt",
                "bfcvtn", "bfcvtn2"}}


# ----------------------------------------------------------- disassembly


def disassemble(objdump, path, lo=None, hi=None):
    """{vaddr: (mnemonic, operands)} of path's code."""
    cmd = [objdump, "-d", "--no-show-raw-insn", path]
    if lo is not None:
        cmd[2:2] = ["--start-address=0x%x" % lo, "--stop-address=0x%x" % hi]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False).stdout
    ins = {}
    pat = re.compile(rb"^\s*([0-9a-f]+):\t(\S+)\s*([^<;/]*)")
    for line in out.splitlines():
        m = pat.match(line)
        if m:
            ins[int(m.group(1), 16)] = (m.group(2).decode(), m.group(3).decode().strip())
    return ins


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exe", required=True)
    ap.add_argument("--begin", required=True, help="icount_begin's address (hex)")
    ap.add_argument("--end", required=True, help="icount_end's address (hex)")
    ap.add_argument("--cases", required=True, help="the driver's standard output (read at EOF)")
    ap.add_argument("--objdump", default="aarch64-linux-gnu-objdump")
    ap.add_argument("--cpu", default="?")
    ap.add_argument("--n1-ghz", type=float, default=3.0)
    ap.add_argument("--v1-ghz", type=float, default=2.6)
    ap.add_argument("--results", help="append RESULT lines here")
    ap.add_argument("--mix", action="store_true", help="print each case's instruction mix")
    ap.add_argument("--loops", action="store_true", help="print each case's hottest loop body")
    a = ap.parse_args()

    bpc = b"%016x" % int(a.begin, 16)
    epc = b"%016x" % int(a.end, 16)
    hists = []
    total = 0
    inside = None
    # the hot loop: one line per executed instruction
    for line in sys.stdin.buffer:
        if not line.startswith(b"Trace 0:"):
            continue
        total += 1
        pc = line.split(b"/", 2)[1]
        if inside is None:
            if pc == bpc:
                inside = Counter()
        elif pc == epc:
            hists.append(inside)
            inside = None
        else:
            inside[pc] += 1

    cases, maps, markers = [], [], None
    with open(a.cases) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "case":
                cases.append({"idx": int(w[1]), "kernel": w[2], "variant": w[3], "work": float(w[4]), "unit": w[5]})
            elif w[0] == "map":
                maps.append((int(w[1], 16), int(w[2], 16), int(w[3], 16), w[4]))
            elif w[0] == "markers":
                markers = (int(w[1].split("=")[1], 16), int(w[2].split("=")[1], 16))
    if markers != (int(a.begin, 16), int(a.end, 16)):
        sys.exit("arm_icount.py: the traced run's markers %s differ from the given ones (%s, %s)" %
                 (markers, a.begin, a.end))
    if len(hists) != len(cases):
        sys.exit("arm_icount.py: %d bracketed regions in the trace, %d cases in the driver's output" %
                 (len(hists), len(cases)))

    # every PC executed inside a bracket, disassembled: the driver by its
    # addresses (linked without PIE), a shared library at its load bias
    # (the mapping of its file offset 0)
    pcs = set()
    for h in hists:
        pcs.update(int(p, 16) for p in h)
    ins = disassemble(a.objdump, a.exe)
    bias = {}
    for lo, hi, off, path in maps:
        if off == 0 and path not in bias:
            bias[path] = lo
    ranges = sorted((lo, hi, path) for lo, hi, off, path in maps)
    starts = [r[0] for r in ranges]
    libpcs = {}
    for pc in pcs:
        if pc in ins:
            continue
        i = bisect.bisect_right(starts, pc) - 1
        if i >= 0 and ranges[i][0] <= pc < ranges[i][1] and ranges[i][2] in bias:
            libpcs.setdefault(ranges[i][2], []).append(pc)
    for path, lst in libpcs.items():
        b = bias[path]
        lib = disassemble(a.objdump, path, min(lst) - b, max(lst) - b + 4)
        for pc in lst:
            if pc - b in lib:
                ins[pc] = lib[pc - b]

    overhead = sum(hists[0].values()) if cases and cases[0]["kernel"] == "overhead" else 0
    rows = []
    loops = []
    for c, h in zip(cases, hists):
        # the hottest loop: the instructions executed as often as the most
        # executed one, in address order (an inner loop's body, where it has
        # no branch inside)
        if h:
            top = max(h.values())
            body = sorted(int(p, 16) for p, k in h.items() if k == top)
            loops.append((top, [ins.get(pc, ("?", "")) for pc in body]))
        else:
            loops.append((0, []))
        n = sum(h.values())
        net = n - overhead if c["kernel"] != "overhead" else n
        mix = Counter()
        res = {"N1": Counter(), "V1": Counter()}
        unknown = 0
        for p, k in h.items():
            pc = int(p, 16)
            if pc not in ins:
                unknown += k
                continue
            mn, ops = ins[pc]
            mix[mn] += k
            for core in res:
                for r, v in uops(core, mn, ops).items():
                    res[core][r] += v * k
        est = {}
        for core, use in res.items():
            if any(m in NEEDS.get(core, ()) for m in mix):
                est[core] = None  # the core lacks an instruction it runs
                continue
            cyc, lim = 0.0, "-"
            for r, v in use.items():
                t = v / RESOURCES[core][r]
                if t > cyc:
                    cyc, lim = t, r
            est[core] = (cyc, lim)
        rows.append((c, n, net, mix, est, unknown))

    # the table
    port = {}
    for c, n, net, mix, est, unk in rows:
        if c["variant"].startswith("portable"):
            port[c["kernel"]] = net
    # the quantised engine's vector sigmoid has no portable slot: where there
    # is none it runs the scalar sigmoid, as the portable activations do
    for k, ref in (("qk_sigmoid_f32_n1024", "act_sigmoid_f32_n1024"),):
        if k not in port and ref in port:
            port[k] = port[ref]
    ghz = {"N1": a.n1_ghz, "V1": a.v1_ghz}
    print("%-34s %-28s %9s %-5s %10s %8s %7s  %-18s %-18s" %
          ("kernel", "variant", "work", "unit", "instr", "per_unit", "vs_port", "N1 %.1fGHz" % a.n1_ghz,
           "V1 %.1fGHz" % a.v1_ghz))
    results = []
    for i, (c, n, net, mix, est, unk) in enumerate(rows):
        if c["kernel"] == "overhead":
            print("%-34s %-28s %9s %-5s %10d %8s %7s  (subtracted from every row below)" %
                  ("overhead (markers, call)", "-", "1", "call", n, "", ""))
            continue
        per = net / c["work"]
        p = port.get(c["kernel"])
        ratio = "%.3f" % (net / p) if p and not c["variant"].startswith("portable") else "-"
        cols = []
        rk = []
        for core in ("N1", "V1"):
            e = est[core]
            if e is None:
                cols.append("n/a (needs ext)")
                rk.append("%s=n/a" % core.lower())
                continue
            cyc, lim = e
            upc = c["work"] / cyc if cyc else 0
            cols.append("%6.2f/c %5.1fG %s" % (upc, upc * ghz[core], lim))
            rk.append("%s_per_cycle=%.3f %s_bound=%s" % (core.lower(), upc, core.lower(), lim))
        ext = " *%d%% outside the driver" % (100 * unk // max(n, 1)) if unk > n // 20 else ""
        print("%-34s %-28s %9d %-5s %10d %8.3f %7s  %-18s %-18s%s" %
              (c["kernel"], c["variant"], c["work"], c["unit"], net, per, ratio, cols[0], cols[1], ext))
        if a.mix:
            top = ", ".join("%s %.2f" % (m, k / c["work"]) for m, k in mix.most_common(12))
            print("    mix per %s: %s" % (c["unit"], top))
        if a.loops:
            it, body = loops[i]
            if body:
                print("    hottest loop, %d times, %d instructions: %s" %
                      (it, len(body), "; ".join((mn + " " + ops).strip() for mn, ops in body[:48])))
        results.append("RESULT arm_icount cpu=%s kernel=%s variant=%s work=%d unit=%s instr=%d per_unit=%.4f "
                       "vs_portable=%s %s" % (a.cpu, c["kernel"], c["variant"], c["work"], c["unit"], net, per,
                                              ratio, " ".join(rk)))
    print("traced instructions: %d (main thread), %d in %d brackets" %
          (total, sum(r[1] for r in rows), len(rows)))
    if a.results:
        with open(a.results, "a") as f:
            f.write("\n".join(results) + "\n")


if __name__ == "__main__":
    main()
