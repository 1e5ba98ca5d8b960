#!/usr/bin/env python3
"""Scale-out cost model of a clif-mpi training step (standard library only).

    python3 bench/scale_model.py DIR [options]        fit DIR's measurements, check, predict
    python3 bench/scale_model.py --collectives MODEL --input CxHxW -T T [--scheme S]
                                                      the collectives of one step, listed
    python3 bench/scale_model.py --schedule MODEL --input CxHxW -T T --scheme S
                                                      the same as a replay file for collectives.c

DIR is what bench/scale-out.sh wrote: collectives.csv, replay.csv, units.csv, jobs.csv.

The model (all times in seconds; n bytes, P ranks, L = ceil(log2 P)):
  collectives, per transport (shm, tcp, tcp shaped), Hockney alpha-beta with a reduction term:
    allreduce   min(recursive doubling  L*(a + n*b + n*g),
                    ring                2(P-1)*a + 2(P-1)/P*n*b + (P-1)/P*n*g)
    reduce-scatter  min(L*a, (P-1)*a) + (P-1)/P*n*b + (P-1)/P*n*g
    allgather       min(L*a, (P-1)*a) + (P-1)/P*n*b
    ring reduce-scatter (clif-mpi's own, point to point)  (P-1)*a + (P-1)/P*n*b + (P-1)/P*n*g
  plus, on this 2-core machine only, two oversubscription terms for ranks that outnumber the
  cores (x = max(0, P/2 - 1)): s*x per round (a rank waiting for a core) and b*k*x per byte
  (the copies of ranks that share a core run one after the other); a cluster has one rank
  per core or fewer, so s = k = 0 there.
  A step (one rank per node, W worker threads, n_local = samples of the node, chunks of 1):
    compute  = f + ceil(n_local / W) * (c + r) / e
               f: per-step fixed work; c: per-sample work of one thread; e: per-core efficiency
               of a full node; r: per-chunk fixed-point accumulation of every parameter's
               partial, spread over the worker threads like c (--serial-accumulation: on the
               rank's main thread, as the reducer did before: + n_local * r instead).
    blocking = BatchNorm: per layer, forward 2 x (allreduce-max 4 B + allreduce-sum 8*T*C B),
               backward allreduce-max 4 B + allreduce-sum 16*T*C B; the loss (max + 16 B);
               the exponent agreements (per-tensor: one allreduce-max of 4 B per tensor; in
               buckets: one allreduce-max of 4 B per tensor of the bucket, per bucket); stop
               agreement (max 4 B) and accuracy counts (max + 16 B) in `train`.
    gradient = per-tensor (before the buckets): per tensor an Int64 allreduce-sum of 8*(weights+bias) B;
               bucketed: per bucket an MPI reduce-scatter of Int64 + allgather of fp32;
               ring (what clif-mpi runs): per bucket a ring reduce-scatter of Int64 + allgather of fp32;
               buckets of --bucket-elements (1 M, DistributedReducer's default), closed at the first
               tensor that fills one;
               exposed = total - overlap * min(total, backward time), overlap in [0, 1].
  step = compute + blocking + exposed gradient time.
"""
import argparse
import csv
import math
import os
import statistics
import sys

# ----------------------------------------------------------------------------- architectures
# A layer: dict(kind='conv'|'linear'|'bn', params=weights+bias, channels (bn), macs per time step
# per sample, name). Forward order; backward visits them in reverse (a ResNet block's shortcut
# before its residual branch, which does not change sizes or counts).


def conv_out(size, kernel, stride, padding):
    return (size + 2 * padding - kernel) // stride + 1


def spiking_resnet18(c, h, w, classes):
    layers = []
    def conv(name, cin, cout, k, stride, pad, bias, hh, ww):
        oh, ow = conv_out(hh, k, stride, pad), conv_out(ww, k, stride, pad)
        layers.append(dict(kind='conv', name=name, params=cout * cin * k * k + (cout if bias else 0),
                           macs=oh * ow * cout * cin * k * k))
        return oh, ow
    def bn(name, ch, hh, ww):
        layers.append(dict(kind='bn', name=name, channels=ch, params=0, macs=0))
    hh, ww = conv('conv1', c, 64, 3, 1, 1, False, h, w)
    channels = 64
    for stage, count in enumerate([2, 2, 2, 2]):
        width = 64 << stage
        for i in range(count):
            stride = 2 if (stage > 0 and i == 0) else 1
            p = f'layer{stage + 1}.{i}'
            bn(p + '.bn1', channels, hh, ww)
            oh, ow = conv(p + '.conv1', channels, width, 3, stride, 1, True, hh, ww)
            bn(p + '.bn2', width, oh, ow)
            conv(p + '.conv2', width, width, 3, 1, 1, True, oh, ow)
            if stride != 1 or channels != width:
                conv(p + '.shortcut', channels, width, 1, stride, 0, True, hh, ww)
            hh, ww, channels = oh, ow, width
    bn('bn1', channels, hh, ww)
    layers.append(dict(kind='linear', name='linear', params=channels * classes + classes, macs=channels * classes))
    return layers


def spiking_vgg(c, h, w, classes, stages=((64,), (128,), (256, 256), (512, 512), (512, 512))):
    layers, channels, hh, ww = [], c, h, w
    for s, widths in enumerate(stages):
        for i, width in enumerate(widths):
            layers.append(dict(kind='conv', name=f'layer{s + 1}.{4 * i}', params=width * channels * 9 + width,
                               macs=hh * ww * width * channels * 9))
            layers.append(dict(kind='bn', name=f'layer{s + 1}.{4 * i + 1}', channels=width, params=0, macs=0))
            channels = width
        hh, ww = hh // 2, ww // 2
    layers.append(dict(kind='linear', name='classifier.1', params=channels * 49 * classes + classes,
                       macs=channels * 49 * classes))
    return layers


def spiking_cnn_small(c, h, w, classes):
    return [dict(kind='conv', name='features.0', params=32 * c * 9 + 32, macs=h * w * 32 * c * 9),
            dict(kind='bn', name='features.1', channels=32, params=0, macs=0),
            dict(kind='conv', name='features.4', params=64 * 32 * 9 + 64, macs=(h // 2) * (w // 2) * 64 * 32 * 9),
            dict(kind='bn', name='features.5', channels=64, params=0, macs=0),
            dict(kind='linear', name='classifier', params=64 * (h // 4) * (w // 4) * classes + classes,
                 macs=64 * (h // 4) * (w // 4) * classes)]


MODELS = {'spiking_resnet18': spiking_resnet18, 'spiking_vgg11_bn': spiking_vgg, 'spiking_cnn_small': spiking_cnn_small}


def architecture(model, shape, classes=10):
    c, h, w = shape
    return MODELS[model](c, h, w, classes)


# ----------------------------------------------------------------------------- one step's collectives

SCHEMES = ('ring', 'bucketed', 'per-tensor')
SCHEME_ALIASES = {'current': 'per-tensor'}   # the name of the per-tensor scheme in older results


def step_collectives(layers, T, scheme='ring', bucket_elements=1 << 20, train_extras=False):
    """The collectives of one training step in program order: (op, elements, phase).
    op: max_i32 / sum_i64 (blocking), isum_i64 (non-blocking), wait, rs_i64 (MPI reduce-scatter),
    ring_i64 (ring reduce-scatter), ag_f32."""
    scheme = SCHEME_ALIASES.get(scheme, scheme)
    out = []
    if train_extras:
        out.append(('max_i32', 1, 'stop agreement'))        # the Int64 sum is skipped: all zero
    for l in layers:
        if l['kind'] == 'bn':
            for _ in range(2):                                  # mean, then centred variance
                out += [('max_i32', 1, 'bn forward'), ('sum_i64', T * l['channels'], 'bn forward')]
    out += [('max_i32', 1, 'loss'), ('sum_i64', 2, 'loss')]
    bucket, bucket_tensors = 0, 0
    def flush():
        nonlocal bucket, bucket_tensors
        if bucket:
            out.extend([('max_i32', bucket_tensors, 'gradient bucket'),
                        ('ring_i64' if scheme == 'ring' else 'rs_i64', bucket, 'gradient bucket'),
                        ('ag_f32', bucket, 'gradient bucket')])
        bucket, bucket_tensors = 0, 0
    for l in reversed(layers):
        if l['kind'] == 'bn':
            out += [('max_i32', 1, 'bn backward'), ('sum_i64', 2 * T * l['channels'], 'bn backward')]
        elif scheme == 'per-tensor':
            out += [('max_i32', 1, 'gradient'), ('isum_i64', l['params'], 'gradient')]
        else:
            bucket += l['params']
            bucket_tensors += 1
            if bucket >= bucket_elements:
                flush()
    flush()
    if scheme == 'per-tensor':
        out.append(('wait', 0, 'gradient'))
    if train_extras:
        out += [('max_i32', 1, 'accuracy'), ('sum_i64', 2, 'accuracy')]
    return out


ELEMENT = {'max_i32': 4, 'sum_i64': 8, 'isum_i64': 8, 'rs_i64': 8, 'ring_i64': 8, 'ag_f32': 4, 'wait': 0}


def describe_collectives(model, shape, T, scheme, bucket_elements):
    layers = architecture(model, shape)
    params = sum(l['params'] for l in layers)
    steps = step_collectives(layers, T, scheme, bucket_elements, train_extras=True)
    groups = {}
    for op, n, phase in steps:
        if op == 'wait':
            continue
        g = groups.setdefault((phase, op), [0, 0, 0, 10 ** 18])
        g[0] += 1; g[1] += n * ELEMENT[op]; g[2] = max(g[2], n * ELEMENT[op]); g[3] = min(g[3], n * ELEMENT[op])
    lines = [f'{model} {"x".join(map(str, shape))} T={T}, scheme {scheme}: '
             f'{params:,} parameters in {sum(l["kind"] != "bn" for l in layers)} tensors '
             f'(weights+bias together), {sum(l["kind"] == "bn" for l in layers)} BatchNorm layers',
             f'  {"phase":18} {"collective":28} {"count":>6} {"bytes total":>14} {"smallest":>10} {"largest":>12}']
    names = {'max_i32': 'allreduce MAX Int32', 'sum_i64': 'allreduce SUM Int64', 'isum_i64': 'iallreduce SUM Int64',
             'rs_i64': 'reduce-scatter SUM Int64', 'ring_i64': 'ring reduce-scatter Int64',
             'ag_f32': 'allgather fp32'}
    for (phase, op), (count, total, largest, smallest) in groups.items():
        lines.append(f'  {phase:18} {names[op]:28} {count:6d} {total:14,d} {smallest:10,d} {largest:12,d}')
    small = sum(1 for op, _, _ in steps if op in ('max_i32', 'sum_i64'))
    # Bytes each rank sends in ring algorithms (P large): allreduce 2n, reduce-scatter and allgather n.
    wire = sum(n * ELEMENT[op] * (2 if op in ('max_i32', 'sum_i64', 'isum_i64') else 1) for op, n, _ in steps)
    lines.append(f'  per step: {len([x for x in steps if x[0] != "wait"])} collectives, {small} of them small blocking '
                 f'allreduces (BatchNorm, loss, exponents, stop, accuracy); ring wire bytes per rank {wire / 1e6:.1f} MB = '
                 f'{wire / (8 * params):.2f} x an fp32 ring allreduce of the gradient ({8 * params / 1e6:.1f} MB); '
                 f'`bench` runs all but the stop agreement and accuracy counts')
    return '\n'.join(lines)


# ----------------------------------------------------------------------------- collective cost model

def log2ceil(p):
    return max(1, math.ceil(math.log2(p))) if p > 1 else 0


class Transport:
    """alpha-beta(-gamma) costs of one collective on one transport; beta_large (if set) takes over
    from beta for vectors of LARGE bytes and more."""
    LARGE = 4 << 20

    def __init__(self, name, alpha, beta, gamma=0.0, sigma=0.0, cores=2, beta_large=None, kappa=0.0):
        self.name, self.alpha, self.beta, self.gamma, self.sigma, self.cores = name, alpha, beta, gamma, sigma, cores
        self.beta_large, self.kappa = beta_large, kappa

    def terms(self, op, n, p):
        """(latency rounds, bytes on the wire per rank, bytes reduced per rank) of the cheaper algorithm."""
        if p <= 1:
            return [(0, 0, 0)]
        L, f = log2ceil(p), (p - 1) / p
        if op in ('allreduce_max_i32', 'allreduce_sum_i64', 'iallreduce_sum_i64', 'max_i32', 'sum_i64', 'isum_i64'):
            return [(L, L * n, L * n), (2 * (p - 1), 2 * f * n, f * n)]
        if op in ('reduce_scatter_i64', 'rs_i64'):
            return [(L, f * n, f * n), (p - 1, f * n, f * n)]
        if op in ('ring_reduce_scatter_i64', 'ring_i64'):
            return [(p - 1, f * n, f * n)]
        if op in ('allgather_f32', 'ag_f32', 'allgatherv_f32'):
            return [(L, f * n, 0), (p - 1, f * n, 0)]
        raise ValueError(op)

    def oversubscribed(self, p):
        return max(0.0, p / self.cores - 1)

    def round_cost(self, p):
        return self.alpha + self.sigma * self.oversubscribed(p)

    def beta_for(self, n):
        return self.beta_large if (self.beta_large is not None and n >= self.LARGE) else self.beta

    def time(self, op, n, p):
        if p <= 1 or op == 'wait':
            return 0.0
        beta = self.beta_for(n) * (1 + self.kappa * self.oversubscribed(p))
        return min(r * self.round_cost(p) + w * beta + g * self.gamma for r, w, g in self.terms(op, n, p))


def solve(matrix, vector):
    """Gaussian elimination with partial pivoting (small dense systems)."""
    n = len(vector)
    a = [row[:] + [vector[i]] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) < 1e-300:
            continue
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(n):
            if r != col:
                factor = a[r][col] / a[col][col]
                for k in range(col, n + 1):
                    a[r][k] -= factor * a[col][k]
    return [a[i][n] / a[i][i] if abs(a[i][i]) > 1e-300 else 0.0 for i in range(n)]


def least_squares(rows):
    """Non-negative least squares on relative error, by clamping: rows are (features, seconds)."""
    k = len(rows[0][0])
    active = list(range(k))
    x = [0.0] * k
    for _ in range(k):
        a = [[f[i] / t for i in active] for f, t in rows]
        ata = [[sum(r[i] * r[j] for r in a) for j in range(len(active))] for i in range(len(active))]
        atb = [sum(r[i] for r in a) for i in range(len(active))]
        sol = solve(ata, atb)
        x = [0.0] * k
        for i, v in zip(active, sol):
            x[i] = v
        negative = [i for i in active if x[i] < 0]
        if not negative:
            break
        active = [i for i in active if i not in negative]
        if not active:
            break
    return [max(v, 0.0) for v in x]


def fit_transport(name, points, cores=2, small=256, medium=256 * 1024):
    """alpha from the small messages (n <= 256 B: the smallest time per latency round of the
    sizes, each a median; the first size of a run is often disturbed); beta from 256 KiB up to
    4 MiB and beta_large from 4 MiB up (least squares on relative error, alpha kept: large
    vectors here run at another speed, out of cache and through freshly mapped buffers), all on
    the points with a core per rank (P <= cores); each point takes the algorithm the parameters
    find cheaper. Then sigma and kappa from the oversubscribed points alone (P > cores)."""
    domain = [q for q in points if q[2] <= cores]
    t = Transport(name, 10e-6, 1e-9, 0.0, 0.0, cores)
    def slope(rows, alpha, default):
        num = sum(w * (s_ - r * alpha) / s_ ** 2 for (r, w, g), s_ in rows)
        den = sum(w * w / s_ ** 2 for (r, w, g), s_ in rows)
        return max(num / den, 1e-13) if den > 0 else default
    for _ in range(3):
        def term(op, n, p):
            return min(t.terms(op, n, p), key=lambda o: o[0] * t.alpha + o[1] * t.beta_for(n))
        lat = [s_ / term(op, n, p)[0] for op, n, p, s_ in domain if n <= small and term(op, n, p)[0] > 0]
        alpha = min(lat) if lat else t.alpha
        mid = [(term(op, n, p), s_) for op, n, p, s_ in domain if medium <= n < Transport.LARGE]
        big = [(term(op, n, p), s_) for op, n, p, s_ in domain if n >= Transport.LARGE]
        beta = slope(mid, alpha, t.beta)
        beta_large = slope(big, alpha, beta) if big else None
        t = Transport(name, alpha, beta, 0.0, 0.0, cores, beta_large)
    over = [q for q in points if q[2] > cores]
    if over:
        # sigma (per round) and kappa (per byte): minimise the median relative error over a grid
        # (medians resist the outliers of a scheduler's time slices).
        best = None
        for k in range(0, 200):
            sigma = 1e-7 * 1.1 ** k
            for kappa in [0.25 * j for j in range(17)]:
                trial = Transport(name, t.alpha, t.beta, t.gamma, sigma, cores, t.beta_large, kappa)
                err = statistics.median(abs(math.log(trial.time(op, n, p) / s_)) for op, n, p, s_ in over)
                if best is None or err < best[0]:
                    best = (err, sigma, kappa)
        t = Transport(name, t.alpha, t.beta, t.gamma, best[1], cores, t.beta_large, best[2])
    return t


OP_OF = {'max_i32': 'allreduce_max_i32', 'sum_i64': 'allreduce_sum_i64', 'isum_i64': 'iallreduce_sum_i64',
         'rs_i64': 'reduce_scatter_i64', 'ring_i64': 'ring_reduce_scatter_i64', 'ag_f32': 'allgather_f32'}


class TransportSet:
    """One transport's fits, one per collective (Open MPI picks other algorithms, buffers and
    code paths per collective, so one alpha and beta do not serve all of them)."""
    def __init__(self, name, fits):
        self.name, self.fits = name, fits

    def fit_for(self, op):
        op = OP_OF.get(op, op)
        if op in self.fits:
            return self.fits[op]
        fallback = ('reduce_scatter_i64' if op == 'ring_reduce_scatter_i64' and 'reduce_scatter_i64' in self.fits
                    else 'allreduce_sum_i64' if 'allreduce' in op or 'reduce' in op else 'allgather_f32')
        return self.fits.get(fallback) or next(iter(self.fits.values()))

    def time(self, op, n, p):
        if p <= 1 or op == 'wait':
            return 0.0
        return self.fit_for(op).time(OP_OF.get(op, op), n, p)


def fit_transport_set(name, points):
    by_op = {}
    for q in points:
        by_op.setdefault(q[0], []).append(q)
    return TransportSet(name, {op: fit_transport(f'{name}/{op}', pts) for op, pts in by_op.items()})


# ----------------------------------------------------------------------------- reading the measurements

def read_csv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [row for row in csv.DictReader(f)]


def transport_of(label):
    return label.split(':')[0]


def loads(rows):
    values = [float(r['load'].split('/')[0]) for r in rows if r.get('load')]
    return (min(values), max(values)) if values else (float('nan'), float('nan'))


# ----------------------------------------------------------------------------- compute model

class Compute:
    """One rank's compute per step: f fixed (optimiser, per-step layout work), c per sample in
    chunks of one (the part threads share), r per chunk of fixed-point accumulation (the MPI
    reducer's: on the worker threads, or with `serial_accumulation` on the rank's main thread as
    before), e2 the speed of two busy cores against one."""
    def __init__(self, f, c, r, e2=1.0, macs=1.0, params=1):
        self.f, self.c, self.r, self.e2, self.macs, self.params = f, c, r, e2, macs, params

    def scaled(self, macs, params):
        k, q = macs / self.macs, params / self.params
        return Compute(self.f * q, self.c * k, self.r * q, self.e2, macs, params)

    fixed_serial = 0.0   # fraction of f that does not spread over threads (--fixed-serial)
    serial_accumulation = False   # r on the rank's main thread (--serial-accumulation)

    def fixed(self, threads, core_efficiency):
        """f on a rank of `threads` workers: the optimiser and the zeroing of gradients are
        `Parallel.forEachRange` loops, so f spreads over the threads except `fixed_serial`."""
        if threads <= 1:
            return self.f / core_efficiency
        return self.f * self.fixed_serial + self.f * (1 - self.fixed_serial) / (threads * core_efficiency)

    def rank_seconds(self, samples, threads, core_efficiency):
        """Busiest rank: its samples in chunks of one over `threads`, the chunks' accumulation with them
        (or serial)."""
        if samples <= 0:
            return self.fixed(threads, core_efficiency)
        if self.serial_accumulation:
            return self.fixed(threads, core_efficiency) + math.ceil(samples / threads) * self.c / core_efficiency \
                + samples * self.r
        return self.fixed(threads, core_efficiency) + math.ceil(samples / threads) * (self.c + self.r) / core_efficiency

    def serial_seconds(self, samples, ranks):
        """The part of rank_seconds that is serial accumulation on the main thread."""
        return samples * self.r if self.serial_accumulation and ranks > 1 else 0.0

    def one_worker(self, samples):
        """One process, one thread (LocalReducer: the accumulation is the same work)."""
        return self.f + samples * (self.c + self.r)


def accumulate_seconds(rows, params):
    """Serial accumulation of one chunk of `params` partials, from the C replica's timings
    (scaled by size from the nearest measured count)."""
    points = [(int(r['elements']), float(r['median_us']) * 1e-6, float(r['q25_us']) * 1e-6) for r in rows
              if r['op'] == 'accumulate']
    if not points:
        return None
    n, median, _ = min(points, key=lambda q: abs(math.log(q[0] / params)))
    return median * params / n


def fit_compute(units, model, macs, params, accumulate, column):
    """f and c from one-chunk runs (t = f + b*c_b), c in chunks of one from the -b B chunk-1 run,
    minus the serial accumulation r (measured by the C replica)."""
    rows = [u for u in units if u['model'] == model and int(u['threads']) == 1 and u.get(column)]
    whole = {}
    for u in rows:
        if u['b'] == u['chunk']:
            whole.setdefault(int(u['b']), []).append(float(u[column]))
    if not whole:   # only chunks of one: regress over their batch sizes
        for u in rows:
            whole.setdefault(int(u['b']), []).append(float(u[column]))
        if not whole:
            return None, {}
    points = sorted((b, statistics.median(v)) for b, v in whole.items())
    if len(points) >= 2:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        mx, my = statistics.mean(xs), statistics.mean(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
        f, c_whole = max(0.0, my - slope * mx), slope
    else:
        f, c_whole = 0.0, points[0][1] / points[0][0]
    ones = [u for u in rows if int(u['chunk']) == 1 and int(u['b']) > 1]
    per_sample = c_whole
    if ones:
        b = int(ones[0]['b'])
        per_sample = (statistics.median(float(u[column]) for u in ones if int(u['b']) == b) - f) / b
    r = accumulate if accumulate is not None else 0.0
    e2 = 1.0
    two = [u for u in units if u['model'] == model and int(u['threads']) == 2 and int(u['chunk']) == 1]
    if two and ones:
        same = [float(u['samples_per_s']) for u in ones if u['b'] == two[0]['b']]
        if same:
            e2 = float(two[0]['samples_per_s']) / (2 * statistics.median(same))
    comp = Compute(f, max(per_sample - r, 0.0), r, e2, macs, params)
    comp.c_whole = c_whole
    return comp, dict(points)


# ----------------------------------------------------------------------------- step model

class TwoLevel:
    """Flat collectives over nodes x ranks-per-node ranks: recursive-doubling rounds split into
    log2(ranks per node) shared-memory rounds and log2(nodes) network rounds; ring rounds all
    at the network's cost; bytes at the network's rate (one node: shared memory alone)."""
    def __init__(self, net, shm, per_node):
        self.net, self.shm, self.per_node = net, shm, per_node

    def time(self, op, n, p):
        if p <= 1 or op == 'wait':
            return 0.0
        net, shm = self.net.fit_for(op), self.shm.fit_for(op)
        nodes = max(1, p // self.per_node)
        L = log2ceil(p)
        intra = min(log2ceil(self.per_node), L)
        best = float('inf')
        for r, w, g in net.terms(OP_OF.get(op, op), n, p):
            if nodes == 1:
                cost = r * shm.alpha + w * shm.beta_for(n) + g * shm.gamma
            else:
                rounds = (intra * shm.alpha + (L - intra) * net.alpha) if r == L else r * net.alpha
                cost = rounds + w * net.beta + g * net.gamma
            best = min(best, cost)
        return best


def step_seconds(layers, T, comp, transport, nodes, cores, batch, scheme, overlap, core_efficiency,
                 bucket_elements, layout='hybrid', shm=None, train_extras=True):
    """(seconds, parts) of one step. layout 'hybrid': one rank per node with `cores` threads;
    'flat': one single-thread rank per core."""
    if layout == 'hybrid':
        p, threads, net = nodes, cores, transport
    else:
        p, threads = nodes * cores, 1
        net = TwoLevel(transport, shm, cores)
    busiest = math.ceil(batch / p)
    compute = comp.rank_seconds(busiest, threads, core_efficiency)
    if p == 1:   # one process: LocalReducer spreads the accumulation over the threads
        compute = comp.fixed(threads, core_efficiency) + math.ceil(busiest / threads) * (comp.c + comp.r) / core_efficiency
    if layout == 'flat':   # every rank runs the whole optimiser on its one thread
        compute = comp.f / core_efficiency + busiest * (comp.c / core_efficiency + comp.r)
    blocking = gradient = 0.0
    for op, n, phase in step_collectives(layers, T, scheme, bucket_elements, train_extras):
        seconds = net.time(op, n * ELEMENT[op], p)
        if phase.startswith('gradient') and op in ('isum_i64', 'rs_i64', 'ring_i64', 'ag_f32'):
            gradient += seconds
        else:
            blocking += seconds
    backward = 2.0 / 3.0 * (compute - comp.fixed(threads, core_efficiency))
    exposed = gradient - overlap * min(gradient, backward)
    return compute + blocking + exposed, dict(compute=compute, blocking=blocking, gradient=gradient, exposed=exposed,
                                              serial=comp.serial_seconds(busiest, p))


# ----------------------------------------------------------------------------- reports

def pct(predicted, measured):
    return 100.0 * (predicted - measured) / measured


def model_shape(model):
    return {'spiking_resnet18': ((3, 32, 32), 6), 'spiking_vgg11_bn': ((2, 48, 48), 10),
            'spiking_cnn_small': ((1, 28, 28), 4)}[model]


def report(args):
    d = args.dir
    coll_all = read_csv(os.path.join(d, 'collectives.csv'))
    coll = [r for r in coll_all if r['op'] != 'accumulate']
    accum = [r for r in coll_all if r['op'] == 'accumulate']
    units = read_csv(os.path.join(d, 'units.csv'))
    jobs = read_csv(os.path.join(d, 'jobs.csv'))
    replay = read_csv(os.path.join(d, 'replay.csv'))
    sync = read_csv(os.path.join(d, 'sync.csv'))
    # P processes at once without MPI: per round (model, b, P, round) and the median over rounds (model, b, P)
    concurrent, concurrent_rounds = {}, {}
    for r in read_csv(os.path.join(d, 'concurrent.csv')):
        if r.get('step_s_max'):
            key = (r['model'], int(r['b']), int(r['processes']))
            concurrent[key + (r.get('round', '1'),)] = float(r['step_s_max'])
            concurrent_rounds.setdefault(key, []).append(float(r['step_s_max']))
    concurrent.update({key: statistics.median(v) for key, v in concurrent_rounds.items()})
    column = 'q25_us' if args.quartile else 'median_us'
    print(f'== measurements in {d} (times: {"lower quartile" if args.quartile else "median"} of repetitions)')
    lo, hi = loads(coll_all + units + jobs + replay)
    print(f'load average (1 min) beside the measurements: {lo:.2f} … {hi:.2f} on {os.cpu_count()} cores')

    # --- collectives: fit per transport
    by_transport = {}
    for r in coll:
        by_transport.setdefault(transport_of(r['label']), []).append(
            (r['op'], float(r['bytes']), int(r['ranks']), float(r[column]) * 1e-6))
    fitted = {}
    print('\n== collectives: fitted parameters per transport and collective (alpha from n <= 256 B, beta from')
    print('   256 KiB-4 MiB and from >= 4 MiB, on P <= 2, a core per rank; sigma, the oversubscription delay per round, on P > 2 alone)')
    print(f'{"transport":8} {"collective":19} {"alpha us":>8} {"beta ns/B":>9} {"GB/s":>7} {">=4MiB GB/s":>11} {"sigma us":>9} '
          f'{"P<=2: within 20 %":>18} {"med |err|":>9} {"P>2: within 20 %":>17} {"med |err|":>9}')
    for name, points in sorted(by_transport.items()):
        fitted[name] = fit_transport_set(name, points)
    for (name, op), points in sorted({(n, q[0]): [x for x in pts if x[0] == q[0]]
                                      for n, pts in by_transport.items() for q in pts}.items()):
        t = fitted[name].fits[op]
        cells = []
        for part in ([q for q in points if q[2] <= 2], [q for q in points if q[2] > 2]):
            errors = [pct(t.time(op, n, p), s) for op, n, p, s in part]
            if errors:
                ok = sum(abs(e) <= 20 for e in errors)
                cells.append(f'{ok:4d}/{len(errors):3d} ({100 * ok / len(errors):3.0f} %) {statistics.median(map(abs, errors)):8.1f} %')
            else:
                cells.append(f'{"-":>18} {"":9}')
        print(f'{name:8} {op:19} {t.alpha * 1e6:8.2f} {t.beta * 1e9:9.4f} {1 / t.beta / 1e9 if t.beta else float("inf"):7.2f} '
              f'{1 / t.beta_for(1 << 40) / 1e9:11.3f} {t.sigma * 1e6:9.1f} {cells[0]} {cells[1]}')
    print('\n  error by transport, P and size (median signed error, worst |error|, points):')
    for name, points in sorted(by_transport.items()):
        for p in sorted({q[2] for q in points}):
            for lo_b, hi_b, label in ((0, 4096, '<4 KiB'), (4096, 1 << 20, '4 KiB-1 MiB'), (1 << 20, 1 << 40, '>=1 MiB')):
                es = [pct(fitted[name].time(op, n, q), s) for op, n, q, s in points if q == p and lo_b <= n < hi_b]
                if es:
                    print(f'  {name:10} P={p}  {label:12} {statistics.median(es):+7.1f} %  worst {max(map(abs, es)):7.1f} %  '
                          f'({len(es)} points, {sum(abs(e) <= 20 for e in es)} within 20 %)')
    if args.verbose:
        print('\n  every point: transport, op, P, bytes, measured us, model us, error')
        for name, points in sorted(by_transport.items()):
            for op, n, p, s in points:
                m = fitted[name].time(op, n, p)
                print(f'  {name:10} {op:20} {p:2d} {int(n):10d} {s * 1e6:12.1f} {m * 1e6:12.1f} {pct(m, s):+7.1f} %')
    link_efficiency = args.link_efficiency
    for name, ts in sorted(fitted.items()):
        t = ts.fits.get('allgather_f32')
        if name.startswith('tcp-') and t is not None and t.beta > 0:
            nominal = float(name[4:].rstrip('g')) * 1e9 / 8
            achieved = 1 / t.beta_for(1 << 40)
            print(f'  {name}: allgather fitted {achieved / 1e9:.3f} GB/s = {100 * achieved / nominal:.0f} % of the shaped '
                  f'{nominal / 1e9:.3f} GB/s')
    if link_efficiency is None:
        link_efficiency = 0.9
    args.link_efficiency_used = link_efficiency
    if accum:
        print('\n== serial fixed-point accumulation of one chunk (C replica of ExactSum.exponent + accumulate)')
        for r in accum:
            print(f'  {int(r["elements"]):>10,d} partials: median {float(r["median_us"]) / 1e3:7.2f} ms, '
                  f'range {float(r["min_us"]) / 1e3:.2f}…{float(r["max_us"]) / 1e3:.2f} ms '
                  f'({float(r["ring_GBps"]):.2f} GB/s of fp32 read; load {r["load"]})')

    # --- compute
    computes, walls = {}, {}
    cpu_column = 'cpu_step_s' if units and 'cpu_step_s' in units[0] and not args.wall else 'step_s'
    print(f'\n== compute per work unit (1 process; per step, wall time and CPU time of the process)')
    for model in ('spiking_resnet18', 'spiking_vgg11_bn', 'spiking_cnn_small'):
        shape, T = model_shape(model)
        layers = architecture(model, shape)
        macs = T * sum(l['macs'] for l in layers)
        params = sum(l['params'] for l in layers)
        r = accumulate_seconds(accum, params)
        comp, points = fit_compute(units, model, macs, params, r, cpu_column)
        wall, _ = fit_compute(units, model, macs, params, r, 'step_s')
        if comp is None:
            continue
        computes[model], walls[model] = comp, wall
        print(f'{model} {"x".join(map(str, shape))} T={T} ({macs / 1e9:.2f} G multiply-adds per sample, '
              f'{params:,} parameters):')
        for u in [u for u in units if u['model'] == model]:
            b = int(u['b'])
            cpu = float(u['cpu_step_s']) if u.get('cpu_step_s') else float('nan')
            print(f'  -b {b:3d} chunk {u["chunk"]:>3} threads {u["threads"]}: wall {float(u["step_s"]):7.3f} s/step '
                  f'({float(u["step_s"]) / b:6.3f} s/sample), CPU {cpu:7.3f} s/step  (load {u["load"]})')
        for label, x in (('CPU time (predictions)', comp), ('wall time (jobs here)', wall)):
            print(f'  fit on {label}: f = {x.f:.3f} s/step, per sample {x.c + x.r:.3f} s in chunks of one '
                  f'(c = {x.c:.3f} + r = {x.r * 1e3:.1f} ms fixed-point accumulation), '
                  f'{x.c_whole:.3f} s in one chunk of b; two-thread efficiency {x.e2:.2f}')
        for b, sec in sorted(points.items()):
            pred = comp.f + b * comp.c_whole
            print(f'    one chunk of -b {b}: measured {sec:.3f} s, f + b*c {pred:.3f} s ({pct(pred, sec):+.1f} %)')

    checks = {}   # what the model reproduces: kind of point -> [relative errors, %]
    for name, points in sorted(by_transport.items()):
        for op, n, p, s_ in points:
            kind = 'single collectives, a core per rank' if p <= 2 else 'single collectives, oversubscribed'
            checks.setdefault(kind, []).append(pct(fitted[name].time(op, n, p), s_))

    # --- replay of one step's collectives
    if replay:
        print('\n== one step\'s collectives alone (collectives --replay), measured vs model')
        print(f'{"transport":10} {"model":18} {"scheme":10} {"P":>2} {"measured ms":>11} {"range ms":>19} {"model ms":>9} {"error":>7}')
        for r in replay:
            transport, model, scheme = r['label'].split(':')
            p = int(r['ranks'])
            shape, T = model_shape(model)
            t = fitted.get(transport)
            if t is None:
                continue
            predicted = sum(t.time(op, n * ELEMENT[op], p) for op, n, _ in
                            step_collectives(architecture(model, shape), T, scheme, args.bucket_elements))
            measured = float(r[column]) * 1e-6
            checks.setdefault('one step\'s collectives (replays)', []).append(pct(predicted, measured))
            print(f'{transport:10} {model:18} {scheme:10} {p:2d} {measured * 1e3:11.2f} '
                  f'{float(r["min_us"]) / 1e3:8.2f}…{float(r["max_us"]) / 1e3:9.2f} {predicted * 1e3:9.2f} '
                  f'{pct(predicted, measured):+6.1f} %  (load {r["load"]})')

    # --- synchronisation points between compute, ranks outnumbering cores
    rendezvous = SyncOverhead(sync)
    if sync:
        rendezvous.report()

    # --- real jobs
    if jobs and walls:
        report_jobs(jobs, walls, fitted, concurrent, rendezvous, checks, args)

    print('\n== the model against every measured point (within 20 % of the measured median)')
    for kind, errors in checks.items():
        ok = sum(abs(e) <= 20 for e in errors)
        print(f'  {kind:58} {ok:3d} / {len(errors):3d} within 20 %, median |error| '
              f'{statistics.median(map(abs, errors)):5.1f} %, worst {max(map(abs, errors)):6.1f} %')

    if 'spiking_resnet18' not in computes:
        print('\nno ResNet-18 unit times: no predictions')
        return
    predictions(args, fitted, computes)


class SyncOverhead:
    """What one synchronisation point between stretches of compute costs when ranks outnumber
    the cores (collectives --sync-probe: work, a blocking one-Int32 allreduce, work, ...; minus
    the same work without the allreduces), per transport and P, interpolated in log(work) between
    the measured work sizes. A rank that reaches the point waits until the last rank has been
    given a core again and finished its stretch; with a core per rank that wait is only the
    collective's latency, already in the collectives' model, so the term applies when P > cores."""

    def __init__(self, rows):
        self.points = {}
        for r in rows:
            key = (transport_of(r['label']), int(r['ranks']))
            self.points.setdefault(key, []).append((float(r['work_us']) * 1e-6, float(r['median_us']) * 1e-6,
                                                    float(r['free_us']) * 1e-6, r.get('load', '')))
        for v in self.points.values():
            v.sort()

    def seconds(self, transport, p, work):
        """Overhead of one synchronisation point after `work` seconds of a rank's compute."""
        points = self.points.get((transport, p))
        if not points:
            return 0.0
        if work <= points[0][0]:
            return points[0][1]
        if work >= points[-1][0]:
            return points[-1][1]
        for (w0, o0, _, _), (w1, o1, _, _) in zip(points, points[1:]):
            if w0 <= work <= w1:
                x = math.log(work / w0) / math.log(w1 / w0)
                return o0 + x * (o1 - o0)
        return 0.0

    def report(self):
        print('\n== synchronisation points between compute (collectives --sync-probe): overhead per point, '
              'ranks time-slicing the cores')
        print(f'{"transport":9} {"P":>2} {"work ms":>8} {"free ms":>8} {"overhead ms":>11}  load')
        for (transport, p), points in sorted(self.points.items()):
            for work, overhead, free, load in points:
                print(f'{transport:9} {p:2d} {work * 1e3:8.1f} {free * 1e3:8.2f} {overhead * 1e3:11.2f}  {load}')


def sync_points(layers, T, scheme, bucket_elements):
    """Synchronisation points of one step: every blocking sum starts with its exponent agreement."""
    return sum(op == 'max_i32' for op, _, _ in step_collectives(layers, T, scheme, bucket_elements))


def report_jobs(jobs, walls, fitted, concurrent, rendezvous, checks, args):
    """The real jobs against the model, paired by round. scale-out.sh runs every job once per
    round, so the jobs of one round share that minute's speed of this machine (it drifts by up to
    20 % between minutes). A core-per-rank job's compute is the unit fit (measured minutes
    earlier) scaled by k = the same round's P = 1 job of its model / the unit fit's P = 1 step (the
    calibration); an oversubscribed job's compute is the same round's P processes measured at once
    without MPI (concurrent.csv). The model must get right how a step changes with the rank count
    and the transport, not this machine's speed that minute: a job's error is the median of its
    rounds' errors. Results without rounds count as one round."""
    groups, ones = {}, {}
    for r in jobs:
        key = (r['transport'], r['model'], int(r['b']), int(r['P']))
        groups.setdefault(key, []).append(r)
        if key[3] == 1:
            ones[(r['model'], key[2], r.get('round', '1'))] = float(r['step_s'])

    def compute_seconds(model, b, p, comp, round_, k):
        """Wall compute of the busiest of P single-thread ranks: from 2 ranks on, as measured with P
        processes at once without MPI in the same round (2 ranks keep both cores busy, each slower
        than a lone core; more ranks share the 2 cores' time); else, or without that measurement,
        the unit fit, the ranks sharing the 2 cores' time ideally."""
        measured = concurrent.get((model, b, p, round_)) or concurrent.get((model, b, p))
        if p > 1 and measured:
            return measured
        per = math.ceil(b / p)
        rank_work = comp.f + per * (comp.c + comp.r)
        total_work = p * comp.f + b * (comp.c + comp.r)
        return k * max(rank_work, total_work / min(p, 2))

    def calibration(model, b, round_):
        one = ones.get((model, b, round_))
        return one / compute_seconds(model, b, 1, walls[model], round_, 1.0) if one else 1.0

    print('\n== real `clif-mpi bench` jobs, 1 thread per rank (P > 2: oversubscribed); model = compute (P processes at '
          'once without MPI, concurrent.csv; else the wall-time unit fit x k) + the fitted transport\'s collectives '
          '(+ P > 2: the synchronisation points\' overhead, sync.csv), per round')
    for (model, b, round_) in sorted(ones):
        if model in walls:
            print(f'   calibration {model} -b {b}, round {round_}: k = {calibration(model, b, round_):.3f} '
                  f'(that round\'s P = 1 job / the unit fit\'s P = 1 step)')
    print(f'{"transport":9} {"model":18} {"b":>3} {"P":>2} {"runs":>4} {"step s":>7} {"range s":>13} {"model":>7} '
          f'{"error":>8} {"by round":>22} {"waiting s":>9} {"model":>7} {"sync s":>7}')
    for (transport, model, b, p), rows in sorted(groups.items(), key=lambda g: (g[0][0] != 'shm', g[0][0], g[0][1], g[0][3])):
        comp = walls.get(model)
        t = fitted.get(transport)
        if comp is None or (t is None and p > 1):
            continue
        shape = tuple(int(x) for x in rows[0]['input'].split('x'))
        layers, T = architecture(model, shape), int(rows[0]['T'])
        comm = 0.0 if p == 1 else sum(t.time(op, n * ELEMENT[op], p) for op, n, _ in
                                      step_collectives(layers, T, args.scheme, args.bucket_elements))
        points = sync_points(layers, T, args.scheme, args.bucket_elements)
        predicted, errors, syncs = [], [], []
        for r in rows:
            round_ = r.get('round', '1')
            k = calibration(model, b, round_)
            # above 2 ranks: each synchronisation point after a stretch of one rank's compute
            stretch = k * (comp.f + math.ceil(b / p) * (comp.c + comp.r)) / points
            syncs.append(points * rendezvous.seconds(transport, p, stretch) if p > 2 else 0.0)
            predicted.append(compute_seconds(model, b, p, comp, round_, k) + comm + syncs[-1])
            errors.append(pct(predicted[-1], float(r['step_s'])))
        steps = [float(r['step_s']) for r in rows]
        waiting = statistics.median(float(r['comm_share'] or 0) * float(r['step_s']) for r in rows)
        if p == 1:
            note, by_round = '(calibration)', ''
        else:
            error = statistics.median(errors)
            note, by_round = f'{error:+7.1f} %', ' '.join(f'{e:+.0f}' for e in errors)
            checks.setdefault('training-step jobs, a core per rank' if p <= 2 else
                              'training-step jobs, oversubscribed (time-sliced compute)', []).append(error)
        print(f'{transport:9} {model:18} {b:3d} {p:2d} {len(rows):4d} {statistics.median(steps):7.3f} '
              f'{min(steps):6.3f}…{max(steps):6.3f} {statistics.median(predicted):7.3f} {note:>8} {by_round:>22} '
              f'{waiting:9.3f} {comm:7.3f} {statistics.median(syncs):7.3f}')


def network_transport(fitted, args):
    """A cluster network from the fits here, per collective: alpha = the TCP software latency
    measured here at P = 2 + the wire latency; beta = the link's (at the efficiency MPI over TCP
    reached against tbf here) times that collective's beta over the allreduce's beta measured
    over TCP here (Open MPI's slower paths, e.g. a large reduce-scatter, carry over); gamma, the
    integer additions, from shared memory."""
    tcp = fitted.get('tcp') or next(iter(fitted.values()))
    shm = fitted.get('shm') or tcp
    link = 8.0 / (args.link_gbit * 1e9 * args.link_efficiency_used)
    reference = tcp.fit_for('allreduce_sum_i64').beta_for(1 << 40) or 1e-9
    fits = {}
    for op in ('allreduce_max_i32', 'allreduce_sum_i64', 'iallreduce_sum_i64', 'reduce_scatter_i64',
               'ring_reduce_scatter_i64', 'allgather_f32'):
        t, m = tcp.fit_for(op), shm.fit_for(op)
        ratio = min(max(t.beta_for(1 << 40) / reference, 0.5), 20.0)
        fits[op] = Transport(op, t.alpha + args.wire_latency_us * 1e-6, link * ratio, m.gamma, 0.0, 10 ** 9)
    net = TransportSet(f'{args.link_gbit:g} Gbit/s', fits)
    local = TransportSet('shm', {op: Transport(op, f.alpha, f.beta, f.gamma, 0.0, 10 ** 9, f.beta_large) for op, f in shm.fits.items()})
    return net, local


CONFIGS = [('CIFAR-10 ResNet-18 T6 b128 (3x32x32)', 'spiking_resnet18', (3, 32, 32), 6, 128, 10),
           ('DVS-CIFAR10 VGG-11 T10 b128 (2x48x48)', 'spiking_vgg11_bn', (2, 48, 48), 10, 128, 10),
           ('DVS-Gesture VGG-11 T20 b16 (2x128x128)', 'spiking_vgg11_bn', (2, 128, 128), 20, 16, 11),
           ('standard bench ResNet-18 T6 b32 (3x32x32)', 'spiking_resnet18', (3, 32, 32), 6, 32, 10)]


def config_compute(computes, model, shape, T, classes, args):
    """The model's compute: measured for ResNet-18 3x32x32 and VGG-11 2x48x48, else scaled from
    the measured one of the same family by multiply-adds (work) and parameters (f, r)."""
    layers = architecture(model, shape, classes)
    macs, params = T * sum(l['macs'] for l in layers), sum(l['params'] for l in layers)
    base = computes.get(model) or computes['spiking_resnet18']
    comp = base.scaled(macs, params)
    if args.sample_seconds:
        # A quieter or faster core: every part of the work (f, c, r) faster by the same factor.
        r18 = computes['spiking_resnet18']
        k = args.sample_seconds / (r18.c + r18.r)
        comp.f, comp.c, comp.r = comp.f * k, comp.c * k, comp.r * k
    if args.chunk_seconds is not None:
        comp.r = args.chunk_seconds * params / computes['spiking_resnet18'].params
    return layers, comp


def predictions(args, fitted, computes):
    net, shm = network_transport(fitted, args)
    bucket = args.bucket_elements
    e = args.core_efficiency
    ar = net.fit_for('allreduce_sum_i64')
    print(f'\n== predictions: network {net.name}: allreduce alpha {ar.alpha * 1e6:.1f} us (TCP stack measured here '
          f'{(ar.alpha - args.wire_latency_us * 1e-6) * 1e6:.1f} + wire {args.wire_latency_us:g}), link '
          f'{args.link_gbit / 8 * args.link_efficiency_used:.2f} GB/s ({100 * args.link_efficiency_used:.0f} % of '
          f'{args.link_gbit:g} Gbit/s); per-core efficiency of a full node {e} (assumed); gradient scheme {args.scheme}, '
          f'overlap {args.overlap:g}')
    for op, t in net.fits.items():
        print(f'   {op:20} alpha {t.alpha * 1e6:7.1f} us  beta {t.beta * 1e9:7.4f} ns/B ({1 / t.beta / 1e9:5.2f} GB/s)')
    _, r18 = config_compute(computes, 'spiking_resnet18', (3, 32, 32), 6, 10, args)
    print(f'   ResNet-18 compute ({"scaled to --sample-seconds " + str(args.sample_seconds) if args.sample_seconds else "CPU time here"}): '
          f'f = {r18.f:.3f} s/step, c = {r18.c:.3f} s/sample/thread, '
          f'r = {r18.r * 1e3:.1f} ms/chunk ({"serial" if Compute.serial_accumulation else "on the worker threads"}); '
          f'other inputs scaled by multiply-adds and parameters')
    print('   layout hybrid = one rank per node with a worker thread per core (the README\'s multi-host recipe);'
          ' flat = one single-thread rank per core')
    nodes_list = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    cores_list = [16, 32, 64, 128] if args.full else [16, 32, 128]
    for title, model, shape, T, batch, classes in CONFIGS:
        layers, comp = config_compute(computes, model, shape, T, classes, args)
        for mode in ('strong', 'weak'):
            if mode == 'weak' and title.startswith('standard'):
                continue
            print(f'\n-- {title}: {mode} scaling'
                  + (f' (global batch {batch}: at most {batch} workers have a sample)' if mode == 'strong'
                     else f' (batch {batch} per node)'))
            print(f'{"nodes":>5} {"cores":>5} {"layout":>6} {"batch":>6} {"step s":>8} {"samples/s":>10} '
                  f'{"eff/worker":>10} {"eff/node":>8} {"compute":>8} {"serial":>7} {"blocking":>8} {"gradient":>8}')
            for cores in cores_list:
                for layout in ('hybrid', 'flat'):
                    node1 = None
                    for nodes in nodes_list:
                        b = batch if mode == 'strong' else batch * nodes
                        seconds, parts = step_seconds(layers, T, comp, net, nodes, cores, b, args.scheme, args.overlap,
                                                      e, bucket, layout, shm)
                        rate = b / seconds
                        node1 = node1 or rate
                        eff_worker = comp.one_worker(b) / (nodes * cores * seconds)
                        eff_node = rate / (node1 * nodes)
                        print(f'{nodes:5d} {cores:5d} {layout:>6} {b:6d} {seconds:8.3f} {rate:10.1f} '
                              f'{100 * eff_worker:9.0f}% {100 * eff_node:7.0f}% {parts["compute"]:8.3f} '
                              f'{parts["serial"]:7.3f} {parts["blocking"]:8.3f} {parts["exposed"]:8.3f}')
    # The paper's 200-epoch CIFAR-10 run.
    layers, comp = config_compute(computes, 'spiking_resnet18', (3, 32, 32), 6, 10, args)
    steps = math.ceil(50000 / 128)
    print(f'\n-- the paper\'s CIFAR-10 run: 200 epochs x {steps} steps of b 128 (+ 10,000 test images per epoch, '
          f'forward only, counted as 1/3 of a training sample\'s work, spread over the workers)')
    print(f'{"nodes x cores":>13} {"layout":>6} {"step s":>8} {"train h":>8} {"test h":>7} {"total h":>8} {"eff/worker":>10}')
    for nodes, cores in ((1, 1), (1, 32), (1, 128), (2, 32), (4, 16), (4, 32), (8, 16), (8, 32), (16, 32),
                         (32, 32), (64, 32), (128, 32), (256, 32)):
        for layout in (('hybrid', 'flat') if (nodes, cores) != (1, 1) else ('one',)):
            if layout == 'one':
                seconds = comp.one_worker(128)
            else:
                seconds = step_seconds(layers, 6, comp, net, nodes, cores, 128, args.scheme, args.overlap, e, bucket,
                                       layout, shm)[0]
            workers = min(nodes * cores, 128)
            test = 10000 * (comp.c + comp.f / 128) / 3 / workers / (e if workers > 1 else 1)
            train = 200 * steps * seconds
            print(f'{nodes:6d} x {cores:4d} {layout:>6} {seconds:8.3f} {train / 3600:8.1f} {200 * test / 3600:7.2f} '
                  f'{(train + 200 * test) / 3600:8.1f} {100 * comp.one_worker(128) / (nodes * cores * seconds):9.0f}%')
    # The goal.
    print(f'\n-- goal: CIFAR-10 ResNet-18 b128, 8 nodes x 16 workers, {args.link_gbit:g} Gbit/s: parallel efficiency '
          f'(>= 80 % wanted) against one node of 16 workers (strong scaling over nodes) and against one worker '
          f'(which also counts the per-core efficiency {e:g} of a full node)')
    for layout in ('hybrid', 'flat'):
        for scheme in SCHEMES:
            for overlap in (0.0, 1.0):
                s_, parts = step_seconds(layers, 6, comp, net, 8, 16, 128, scheme, overlap, e, bucket, layout, shm)
                one_node, _ = step_seconds(layers, 6, comp, net, 1, 16, 128, scheme, overlap, e, bucket, layout, shm)
                eff = comp.one_worker(128) / (128 * s_)
                print(f'   {layout:6} {scheme:10} overlap {overlap:.0f}: step {s_:.3f} s, efficiency against one node '
                      f'{100 * one_node / (8 * s_):3.0f} %, against one worker {100 * eff:3.0f} %  (compute {parts["compute"]:.3f} s incl. '
                      f'serial {parts["serial"]:.3f} s; blocking collectives {parts["blocking"]:.3f} s; '
                      f'gradient {parts["gradient"]:.3f} s, exposed {parts["exposed"]:.3f} s)')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('dir', nargs='?', help='results of bench/scale-out.sh')
    ap.add_argument('--schedule', metavar='MODEL', help='print the replay schedule of MODEL and exit')
    ap.add_argument('--collectives', metavar='MODEL', help='list the collectives of one step of MODEL and exit')
    ap.add_argument('--input', default='3x32x32')
    ap.add_argument('-T', type=int, default=6)
    ap.add_argument('--scheme', choices=SCHEMES, default='ring',
                    help='gradient reduction: ring (what clif-mpi runs: per bucket a ring reduce-scatter of Int64 '
                         'and an fp32 allgather), bucketed (the same with MPI_Reduce_scatter_block), per-tensor '
                         '(an Int64 allreduce per tensor, before the buckets)')
    ap.add_argument('--bucket-elements', type=int, default=1 << 20,
                    help='gradient elements per bucket (1048576, DistributedReducer\'s default)')
    ap.add_argument('--overlap', type=float, default=0.0,
                    help='fraction of the gradient communication hidden behind backward, 0…1 (0)')
    ap.add_argument('--link-gbit', type=float, default=25.0, help='network link rate per node (25)')
    ap.add_argument('--link-efficiency', type=float, default=0.9,
                    help='fraction of the link rate MPI over TCP reaches (0.9; against tbf here it depends on '
                         'the bucket: 70-94 %% with a 4 MB bucket, 25-30 %% with 64-160 KB, where TCP loses packets)')
    ap.add_argument('--wire-latency-us', type=float, default=25.0,
                    help='network latency per message round added to the TCP stack latency measured here (25)')
    ap.add_argument('--core-efficiency', type=float, default=0.85,
                    help='per-core speed of a fully busy node against one busy core (0.85, assumed)')
    ap.add_argument('--sample-seconds', type=float,
                    help='ResNet-18 seconds per sample per thread in chunks of one (c + r) of the cores to predict for; '
                         'f, c and r all scale by the same factor (default: as measured here, CPU time)')
    ap.add_argument('--chunk-seconds', type=float, help='override: ResNet-18 seconds of accumulation per chunk')
    ap.add_argument('--serial-accumulation', action='store_true',
                    help='the accumulation on each rank\'s main thread, as the MPI reducer ran it before')
    ap.add_argument('--fixed-serial', type=float, default=0.0,
                    help='fraction of the per-step work f that one thread does alone (0: the optimiser and '
                         'gradient zeroing are parallel loops)')
    ap.add_argument('--wall', action='store_true', help='predict from wall time instead of CPU time of the unit runs')
    ap.add_argument('--quartile', action='store_true', help='fit the lower quartile instead of the median')
    ap.add_argument('--full', action='store_true', help='also 64 cores per node')
    ap.add_argument('--verbose', action='store_true', help='every collective point')
    args = ap.parse_args()
    Compute.fixed_serial = args.fixed_serial
    Compute.serial_accumulation = args.serial_accumulation
    shape = tuple(int(x) for x in args.input.split('x'))
    if args.schedule:
        print(f'# {args.schedule} {args.input} T={args.T}, scheme {args.scheme}: one training step (bench), program order')
        for op, n, phase in step_collectives(architecture(args.schedule, shape), args.T, args.scheme,
                                             args.bucket_elements):
            print(f'{op} {n}' if op != 'wait' else 'wait')
        return
    if args.collectives:
        print(describe_collectives(args.collectives, shape, args.T, args.scheme, args.bucket_elements))
        return
    if not args.dir:
        ap.error('give the results folder of bench/scale-out.sh, or --schedule / --collectives')
    print('== collectives of one training step, derived from the parameter tensors and the reduction code')
    for model in ('spiking_resnet18', 'spiking_vgg11_bn', 'spiking_cnn_small'):
        s, T = model_shape(model)
        for scheme in SCHEMES:
            print(describe_collectives(model, s, T, scheme, args.bucket_elements))
        print()
    report(args)


if __name__ == '__main__':
    main()
