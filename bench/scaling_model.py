#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Scaling model of fastmlp-mpi's data-parallel training (docs/distributed.md).

Predicts the time of one training step on N ranks, and the parallel
efficiency, from figures measured on one machine (bench/mpi.sh of f1835c3
on 7d9d564, BENCHMARKS.md "Data-parallel training over MPI";
AMD EPYC Zen 5, 2 cores, Open MPI 4.1.4; constants below) and stated
assumptions about the cluster (link rate, latency, cores per rank).

Per step and rank, with b = B/N rows per rank (B the global --batch):
  compute    b * t_row            t_row: seconds per row on one rank
  imbalance  (slowest rank's rows - b) * t_row; a rank's rows of a batch are
             Binomial(B, 1/N) (one global permutation, rows owned by shard):
             sd = sqrt(b (1 - 1/N)), the slowest of N ~ b + sd * E[max of
             N standard normals] (computed; sqrt(2 ln N) bounds it above)
  all-reduce of S gradient bytes, the cheaper of
             ring          2 (N-1) a + 2 (N-1)/N S / BW + (N-1)/N S g
             Rabenseifner  2 log2(N) a + 2 (N-1)/N S / BW + (N-1)/N S g
             (a: latency per message, BW: link bytes/s, g: seconds per byte
             summed); for power-of-two N Rabenseifner is never the dearer
             under these formulas, so it is the one used
  tiny sum   log2(N) a            (3 doubles: loss, correct, stop flag)
  update     P * u / threads      every rank applies the whole Adam update
  exposed communication, two cases:
    no overlap  the whole all-reduce after the backward pass (--allreduce
                blocking, and the real behaviour when the nonblocking sums
                do not progress during the GEMMs)
    overlap     per-layer sums (each with its own latency terms) issued last
                layer first as the backward pass finishes each, one at a
                time on the link, progressing fully while the GEMMs run;
                exposed = the time the last sum (the first layer's) ends
                after the backward pass ends. Backward time per layer is
                proportional to its flops (4 per multiply-add, 2 for the
                first layer: it has no input gradient, src/pass/pass.inc).
Efficiency = T_1 / (N T_N): T_1 is one rank doing the global batch (B t_row
+ update), T_N the step on N ranks. Standard library only; prints Markdown.
"""
import functools
import math

# ---- measured on this machine (bench/mpi.sh output, REPEAT 5, 7d9d564) ----
# (AMD EPYC Zen 5 family 26, 2 cores, AVX-512, Open MPI 4.1.4)
M1_ONE_PROCESS_S = 0.535084  # W5, global batch 1024, 2 epochs: 1 process x 2 threads, best
M1_ROWS = 2 * 60000          # rows trained in those 2 epochs
M1_STEPS = 118               # 2 x ceil(60000 / 1024)
M1_CORES = 2                 # 2 threads on the machine's 2 cores
M1_RATIO = 0.96              # 2 ranks x 1 thread (overlap) / 1 process: best and median
M1_WAIT_US = 194.9           # rank 0 waiting for the gradient's sum per step (overlap; blocking 203.4)
# MPI_Allreduce alone (sum, in place, float), 2 ranks, median microseconds
VADER_US = {4: 0.22, 1024: 0.38, 4096: 0.76, 16384: 1.73, 65536: 3.57, 262144: 11.28, 1048576: 51.37,
            4194304: 218.18}
TCP_LOOPBACK_US = {4: 6.91, 1024: 6.75, 4096: 14.09, 16384: 15.16, 65536: 21.59, 262144: 81.98,
                   1048576: 175.49, 4194304: 965}
PEAK_F32_1T = 262e9          # bench_peak: avx512 f32 FMA peak, 1 thread (2 threads: 411e9)
MEM_READ = 34.9e9            # bench_peak: memory read bandwidth, 1 thread, bytes/s
# BENCHMARKS.md ("W5 threads", Zen 4, 2026-11-21): a standalone Adam step took
# 30 us for 100k f32 parameters with aligned vectors
ADAM_S_PER_PARAM = 30e-6 / 100e3

# ---- assumptions about the cluster ----
LINK_EFFICIENCY = 0.8        # achieved fraction of the line rate
# (name, line rate bits/s, latency per message s): 10 us for kernel TCP
# (loopback alone, no wire, measured 6.9 us per 2-rank small all-reduce);
# 2 us for RDMA (InfiniBand / RoCE), typical MPI small-message latency
LINKS = [("25 Gbit/s TCP", 25e9, 10e-6), ("100 Gbit/s RDMA", 100e9, 2e-6)]
SUM_BYTES_PER_S = MEM_READ   # g = 1/this: Open MPI's sum, one thread, at the measured read bandwidth
NODE_CORES = 16              # a rank = a 16-core node, 16 threads at 16x the per-core rate
RANKS = [8, 64, 512]
PER_RANK_BATCH = [64, 256, 1024, 4096]
GOAL = 0.80


class Net:
    def __init__(self, name, widths, bytes_per_param=4):
        self.name = name
        self.widths = widths
        pairs = list(zip(widths[:-1], widths[1:]))
        self.macs = [i * o for i, o in pairs]
        self.layer_params = [i * o + o for i, o in pairs]
        self.params = sum(self.layer_params)
        self.layer_bytes = [p * bytes_per_param for p in self.layer_params]
        self.bytes = sum(self.layer_bytes)
        # flops per row: forward 2 per multiply-add; backward 4 (weight and
        # input gradients), 2 for the first layer (no input gradient)
        self.bwd_flops = [(2 if k == 0 else 4) * m for k, m in enumerate(self.macs)]
        self.flops = 2 * sum(self.macs) + sum(self.bwd_flops)


W5 = Net("W5-sized 784-256-128-10", [784, 256, 128, 10])
WIDE = Net("10x wider 784-2560-1280-10", [784, 2560, 1280, 10])

# per-core seconds per row of W5: the 1-process run's time less its Adam
# steps (2 threads), per row, times the cores that ran it
ADAM_W5_STEP_2T = W5.params * ADAM_S_PER_PARAM / M1_CORES
T_ROW_CORE_W5 = (M1_ONE_PROCESS_S - M1_STEPS * ADAM_W5_STEP_2T) / M1_ROWS * M1_CORES
ACHIEVED_FLOPS_CORE = W5.flops / T_ROW_CORE_W5


def t_row_core(net):
    """Seconds per row on one core: W5's measured rate in flop/s per core."""
    return net.flops / ACHIEVED_FLOPS_CORE


@functools.lru_cache(maxsize=None)
def e_max_normal(n):
    """Expected maximum of n independent standard normals (numerical)."""
    if n <= 1:
        return 0.0
    steps, lo, hi = 20000, -9.0, 9.0
    h = (hi - lo) / steps
    total = 0.0
    for i in range(steps + 1):
        x = lo + i * h
        phi = math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        cdf = 0.5 * (1 + math.erf(x / math.sqrt(2)))
        w = 0.5 if i in (0, steps) else 1.0
        total += w * x * n * phi * cdf ** (n - 1)
    return total * h


def allreduce(nbytes, n, bw, alpha):
    """(ring, Rabenseifner) seconds for an all-reduce of nbytes on n ranks."""
    if n <= 1:
        return 0.0, 0.0
    vol = 2 * (n - 1) / n * nbytes / bw + (n - 1) / n * nbytes / SUM_BYTES_PER_S
    ring = 2 * (n - 1) * alpha + vol
    rab = 2 * math.ceil(math.log2(n)) * alpha + vol
    return ring, rab


def t_allreduce(nbytes, n, bw, alpha):
    return min(allreduce(nbytes, n, bw, alpha))


def step(net, n, b, cores, bw, alpha, overlap):
    """(T_N per step, efficiency) for n ranks of `cores` cores, b rows each."""
    tr = t_row_core(net) / cores
    compute = b * tr
    sd = math.sqrt(b * (1 - 1 / n))
    imbalance = sd * e_max_normal(n) * tr
    update = net.params * ADAM_S_PER_PARAM / cores
    tiny = math.ceil(math.log2(n)) * alpha
    if not overlap:
        exposed = t_allreduce(net.bytes, n, bw, alpha)
    else:
        # backward, last layer first; a sum starts when its layer is done
        # and the link is free
        t = 0.0
        link_free = 0.0
        for k in reversed(range(len(net.macs))):
            t += compute * net.bwd_flops[k] / net.flops
            link_free = max(t, link_free) + t_allreduce(net.layer_bytes[k], n, bw, alpha)
        exposed = max(0.0, link_free - t)
    t_n = compute + imbalance + exposed + tiny + update
    t_1 = n * b * tr + update
    return t_n, t_1 / (n * t_n)


def min_batch(net, n, cores, bw, alpha, overlap, goal=GOAL):
    """Smallest rows per rank whose efficiency reaches goal (None: > 10^7)."""
    lo, hi = 1, 1 << 24
    if step(net, n, hi, cores, bw, alpha, overlap)[1] < goal:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if step(net, n, mid, cores, bw, alpha, overlap)[1] >= goal:
            hi = mid
        else:
            lo = mid + 1
    return lo


def interp(table, nbytes):
    """Log-log interpolation in a measured size -> us table."""
    keys = sorted(table)
    for a, c in zip(keys, keys[1:]):
        if a <= nbytes <= c:
            f = math.log(nbytes / a) / math.log(c / a)
            return math.exp(math.log(table[a]) + f * math.log(table[c] / table[a]))
    raise ValueError(nbytes)


def fmt_int(x):
    return "{:,}".format(x)


def main():
    print("### Inputs\n")
    print("| quantity | W5-sized | 10x wider |")
    print("|---|---|---|")
    print("| layers | {} | {} |".format("-".join(map(str, W5.widths)), "-".join(map(str, WIDE.widths))))
    print("| parameters | {} | {} |".format(fmt_int(W5.params), fmt_int(WIDE.params)))
    print("| gradient bytes (f32) | {} | {} |".format(fmt_int(W5.bytes), fmt_int(WIDE.bytes)))
    print("| first layer's share of the bytes | {:.1%} | {:.1%} |".format(
        W5.layer_bytes[0] / W5.bytes, WIDE.layer_bytes[0] / WIDE.bytes))
    print("| flops per row (fwd + bwd) | {:.3f} M | {:.2f} M |".format(W5.flops / 1e6, WIDE.flops / 1e6))
    print("| backward share of the flops | {:.0%} | {:.0%} |".format(
        sum(W5.bwd_flops) / W5.flops, sum(WIDE.bwd_flops) / WIDE.flops))
    print("| t_row, one core | {:.2f} us | {:.1f} us |".format(t_row_core(W5) * 1e6, t_row_core(WIDE) * 1e6))
    print("| t_row, 16-core node | {:.3f} us | {:.2f} us |".format(
        t_row_core(W5) / NODE_CORES * 1e6, t_row_core(WIDE) / NODE_CORES * 1e6))
    print("| Adam update per step, one core | {:.0f} us | {:.0f} us |".format(
        W5.params * ADAM_S_PER_PARAM * 1e6, WIDE.params * ADAM_S_PER_PARAM * 1e6))
    print()
    print("W5's measured rate: {:.0f} GFLOP/s per core ({:.0%} of the 1-thread f32 peak, {:.0f}); "
          "the wider net is assumed to run at the same rate.\n".format(
              ACHIEVED_FLOPS_CORE / 1e9, ACHIEVED_FLOPS_CORE / PEAK_F32_1T, PEAK_F32_1T / 1e9))

    # the model against the measurement: 2 ranks x 1 thread on this machine
    b = M1_ROWS / M1_STEPS / 2
    tr = t_row_core(W5)
    imb = math.sqrt(2 * b * 0.25) * e_max_normal(2) * tr  # rank 0 waits E[max - own] = E[max] - mean
    shm = interp(VADER_US, W5.bytes) * 1e-6
    t1 = M1_ONE_PROCESS_S / M1_STEPS
    t2 = b * tr + imb + shm + W5.params * ADAM_S_PER_PARAM
    print("### Check: M1 on this machine (2 ranks x 1 thread, shared memory)\n")
    print("| | model | measured |")
    print("|---|---|---|")
    print("| waiting for the sum per step (imbalance {:.0f} us + all-reduce {:.0f} us) | {:.0f} us | {:.0f} us |"
          .format(imb * 1e6, shm * 1e6, (imb + shm) * 1e6, M1_WAIT_US))
    print("| 2 ranks / 1 process | {:.2f} | {:.2f} |".format(t1 / t2, M1_RATIO))
    print()

    print("### All-reduce time per step (no overlap), microseconds: ring / Rabenseifner\n")
    print("| link | N | W5-sized ({:.2f} MB) | 10x wider ({:.1f} MB) |".format(W5.bytes / 1e6, WIDE.bytes / 1e6))
    print("|---|---|---|---|")
    for name, rate, alpha in LINKS:
        bw = rate / 8 * LINK_EFFICIENCY
        for n in RANKS:
            cells = []
            for net in (W5, WIDE):
                ring, rab = allreduce(net.bytes, n, bw, alpha)
                cells.append("{:,.0f} / {:,.0f}".format(ring * 1e6, rab * 1e6))
            print("| {} | {} | {} |".format(name, n, " | ".join(cells)))
    print()

    print("### Imbalance: extra rows of the slowest rank, relative to b\n")
    print("| N | E[max of N normals] | sqrt(2 ln N) | " + " | ".join("b = {}".format(b) for b in PER_RANK_BATCH) + " |")
    print("|---|---|---|" + "---|" * len(PER_RANK_BATCH))
    for n in [2] + RANKS:
        e = e_max_normal(n)
        cells = ["{:.1%}".format(math.sqrt(b * (1 - 1 / n)) * e / b) for b in PER_RANK_BATCH]
        print("| {} | {:.3f} | {:.3f} | {} |".format(n, e, math.sqrt(2 * math.log(n)), " | ".join(cells)))
    print()

    print("Efficiency tables: W5-sized = {} f32 parameters, 10x wider = {}; b = rows per rank per step "
          "(global batch B = N b); cells: no overlap / per-layer sums with perfect overlap; last column: the "
          "smallest b for >= {:.0%}, same order.\n".format(fmt_int(W5.params), fmt_int(WIDE.params), GOAL))
    for cores, what in ((1, "a rank = one core of this machine, with a link of its own"),
                        (NODE_CORES, "a rank = a 16-core node, 16 threads at 16x the per-core rate")):
        print("### Efficiency, {}\n".format(what))
        print("| network | link | N | " + " | ".join("b = {}".format(b) for b in PER_RANK_BATCH) + " | b for 80% |")
        print("|---|---|---|" + "---|" * (len(PER_RANK_BATCH) + 1))
        for net, short in ((W5, "W5-sized"), (WIDE, "10x wider")):
            for name, rate, alpha in LINKS:
                bw = rate / 8 * LINK_EFFICIENCY
                for n in RANKS:
                    cells = []
                    for b in PER_RANK_BATCH:
                        e0 = step(net, n, b, cores, bw, alpha, False)[1]
                        e1 = step(net, n, b, cores, bw, alpha, True)[1]
                        cells.append("{:.2f} / {:.2f}".format(e0, e1))
                    m0 = min_batch(net, n, cores, bw, alpha, False)
                    m1 = min_batch(net, n, cores, bw, alpha, True)
                    cells.append("{} / {}".format(fmt_int(m0) if m0 else "-", fmt_int(m1) if m1 else "-"))
                    print("| {} | {} | {} | {} |".format(short, name, n, " | ".join(cells)))
        print()

if __name__ == "__main__":
    main()
