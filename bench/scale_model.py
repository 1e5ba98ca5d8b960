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
  plus, on this 2-core machine only, an oversubscription term s*max(0, P/2 - 1) per round
  (ranks waiting for a core); a real cluster has one rank per core or fewer, so s = 0 there.
  A step (one rank per node, W worker threads, n_local = samples of the node, chunks of 1):
    compute  = f + ceil(n_local / W) * c / e(W) + n_local * r
               f: per-step fixed work; c: per-sample work of one thread; e: per-core efficiency
               of a full node; r: per-chunk fixed-point accumulation of every parameter's
               partial, which the MPI reducer runs on the rank's main thread (serial).
    blocking = BatchNorm: per layer, forward 2 x (allreduce-max 4 B + allreduce-sum 8*T*C B),
               backward allreduce-max 4 B + allreduce-sum 16*T*C B; the loss (max + 16 B);
               per gradient tensor one allreduce-max 4 B (current scheme) or per bucket one
               allreduce-max of 4 B per tensor (bucketed); stop agreement (max 4 B) and
               accuracy counts (max + 16 B) in `train`.
    gradient = current: per tensor an Int64 allreduce-sum of 8*(weights+bias) B;
               bucketed: per bucket reduce-scatter of Int64 + allgather of fp32;
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

def step_collectives(layers, T, scheme='current', bucket_bytes=25 << 20, train_extras=False):
    """The collectives of one training step in program order: (op, elements, phase).
    op: max_i32 / sum_i64 (blocking), isum_i64 (non-blocking), wait, rs_i64, ag_f32."""
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
            out.extend([('max_i32', bucket_tensors, 'gradient bucket'), ('rs_i64', bucket, 'gradient bucket'),
                        ('ag_f32', bucket, 'gradient bucket')])
        bucket, bucket_tensors = 0, 0
    for l in reversed(layers):
        if l['kind'] == 'bn':
            out += [('max_i32', 1, 'bn backward'), ('sum_i64', 2 * T * l['channels'], 'bn backward')]
        elif scheme == 'current':
            out += [('max_i32', 1, 'gradient'), ('isum_i64', l['params'], 'gradient')]
        else:
            bucket += l['params']
            bucket_tensors += 1
            if bucket * 4 >= bucket_bytes:
                flush()
    flush()
    if scheme == 'current':
        out.append(('wait', 0, 'gradient'))
    if train_extras:
        out += [('max_i32', 1, 'accuracy'), ('sum_i64', 2, 'accuracy')]
    return out


ELEMENT = {'max_i32': 4, 'sum_i64': 8, 'isum_i64': 8, 'rs_i64': 8, 'ag_f32': 4, 'wait': 0}


def describe_collectives(model, shape, T, scheme, bucket_bytes):
    layers = architecture(model, shape)
    params = sum(l['params'] for l in layers)
    steps = step_collectives(layers, T, scheme, bucket_bytes, train_extras=True)
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
             'rs_i64': 'reduce-scatter SUM Int64', 'ag_f32': 'allgather fp32'}
    for (phase, op), (count, total, largest, smallest) in groups.items():
        lines.append(f'  {phase:18} {names[op]:28} {count:6d} {total:14,d} {smallest:10,d} {largest:12,d}')
    blocking = sum(1 for op, _, _ in steps if op in ('max_i32', 'sum_i64'))
    total = sum(n * ELEMENT[op] for op, n, _ in steps)
    lines.append(f'  per step: {len([s for s in steps if s[0] != "wait"])} collectives, {blocking} of them blocking, '
                 f'{total:,} bytes per rank vector (fp32 gradient: {4 * params:,} bytes); '
                 f'`bench` runs all but the stop agreement and accuracy counts')
    return '\n'.join(lines)


# ----------------------------------------------------------------------------- collective cost model

def log2ceil(p):
    return max(1, math.ceil(math.log2(p))) if p > 1 else 0


class Transport:
    def __init__(self, name, alpha, beta, gamma=0.0, sigma=0.0, cores=2):
        self.name, self.alpha, self.beta, self.gamma, self.sigma, self.cores = name, alpha, beta, gamma, sigma, cores

    def terms(self, op, n, p):
        """(latency rounds, bytes on the wire per rank, bytes reduced per rank) of the cheaper algorithm."""
        if p <= 1:
            return [(0, 0, 0)]
        L, f = log2ceil(p), (p - 1) / p
        if op in ('allreduce_max_i32', 'allreduce_sum_i64', 'iallreduce_sum_i64', 'max_i32', 'sum_i64', 'isum_i64'):
            return [(L, L * n, L * n), (2 * (p - 1), 2 * f * n, f * n)]
        if op in ('reduce_scatter_i64', 'rs_i64'):
            return [(L, f * n, f * n), (p - 1, f * n, f * n)]
        if op in ('allgather_f32', 'ag_f32', 'allgatherv_f32'):
            return [(L, f * n, 0), (p - 1, f * n, 0)]
        raise ValueError(op)

    def round_cost(self, p):
        return self.alpha + self.sigma * max(0.0, p / self.cores - 1)

    def time(self, op, n, p):
        if p <= 1 or op == 'wait':
            return 0.0
        return min(r * self.round_cost(p) + w * self.beta + g * self.gamma for r, w, g in self.terms(op, n, p))


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


def fit_transport(name, points, cores=2, oversubscription=True):
    """Least squares on relative error of the median times: alpha, beta, gamma (and sigma),
    each point taking the algorithm the current parameters find cheaper (a few rounds)."""
    t = Transport(name, 20e-6, 1e-9, 0.0, 0.0, cores)
    for _ in range(8):
        rows, rhs = [], []
        for op, n, p, seconds in points:
            options = t.terms(op, n, p)
            r, w, g = min(options, key=lambda o: o[0] * t.round_cost(p) + o[1] * t.beta + o[2] * t.gamma)
            over = r * max(0.0, p / cores - 1)
            feature = [r, w, g] + ([over] if oversubscription else [])
            rows.append([x / seconds for x in feature]); rhs.append(1.0)
        k = len(rows[0])
        ata = [[sum(row[i] * row[j] for row in rows) for j in range(k)] for i in range(k)]
        atb = [sum(row[i] * b for row, b in zip(rows, rhs)) for i in range(k)]
        x = solve(ata, atb)
        # Negative parameters have no meaning: clamp and refit without them.
        x = [max(v, 0.0) for v in x]
        t = Transport(name, x[0], x[1], x[2], x[3] if oversubscription else 0.0, cores)
    return t


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
    """Per-step compute of one rank from the unit runs: fixed f, per sample c, per chunk r."""
    def __init__(self, f, c, r, two_core_efficiency, macs_per_sample):
        self.f, self.c, self.r, self.e2, self.macs = f, c, r, two_core_efficiency, macs_per_sample

    def scaled(self, macs_per_sample, params_ratio):
        k = macs_per_sample / self.macs
        return Compute(self.f * params_ratio, self.c * k, self.r * params_ratio, self.e2, macs_per_sample)

    def rank_seconds(self, samples, threads, core_efficiency):
        if samples <= 0:
            return self.f
        return self.f + math.ceil(samples / threads) * self.c / core_efficiency + samples * self.r


def fit_compute(units, model, macs):
    rows = [u for u in units if u['model'] == model and int(u['threads']) == 1 and u['step_s']]
    whole = {}
    for u in rows:
        if u['b'] == u['chunk']:
            whole.setdefault(int(u['b']), []).append(float(u['step_s']))
    if not whole:
        return None, {}
    points = sorted((b, statistics.median(v)) for b, v in whole.items())
    if len(points) >= 2:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        mx, my = statistics.mean(xs), statistics.mean(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
        f = max(0.0, my - slope * mx)
        c = slope
    else:
        f, c = 0.0, points[0][1] / points[0][0]
    # Chunks of one sample: the extra time over one chunk of b is per-chunk work (r).
    r = 0.0
    b1 = [u for u in rows if int(u['chunk']) == 1 and int(u['b']) > 1]
    if b1:
        b = int(b1[0]['b'])
        one_chunk = dict(points).get(b, f + c * b)
        r = max(0.0, (statistics.median(float(u['step_s']) for u in b1) - one_chunk) / (b - 1))
    # Two threads on the two cores against one.
    e2 = 1.0
    two = [u for u in units if u['model'] == model and int(u['threads']) == 2 and int(u['chunk']) == 1]
    if two and b1:
        b = int(two[0]['b'])
        one = [float(u['samples_per_s']) for u in b1 if int(u['b']) == b]
        if one:
            e2 = float(two[0]['samples_per_s']) / (2 * statistics.median(one))
    return Compute(f, c - 0 * r, r, e2, macs), dict(points)


# ----------------------------------------------------------------------------- step model

def step_seconds(layers, T, compute, transport, nodes, threads, global_batch, scheme, overlap, core_efficiency,
                 bucket_bytes, train_extras=True, ranks_per_node=1, intra=None):
    """Step time of `nodes` ranks (one per node) with `threads` workers each, and its parts."""
    p = nodes * ranks_per_node
    per_rank = global_batch / p
    busiest = math.ceil(per_rank) if global_batch >= p else 1
    comp = compute.rank_seconds(busiest, threads, core_efficiency)
    backward = 2.0 / 3.0 * comp
    blocking = gradient = 0.0
    for op, n, phase in step_collectives(layers, T, scheme, bucket_bytes, train_extras):
        seconds = transport.time(op, n * ELEMENT[op], p)
        if phase.startswith('gradient') and op in ('isum_i64', 'rs_i64', 'ag_f32'):
            gradient += seconds
        else:
            blocking += seconds
    exposed = gradient - overlap * min(gradient, backward)
    return comp + blocking + exposed, dict(compute=comp, blocking=blocking, gradient=gradient, exposed=exposed)


def network_transport(fitted, args):
    """A real cluster network from the TCP fit here: the measured per-round software latency plus
    the wire latency, and the link rate at the efficiency TCP reached against tbf here."""
    base = fitted.get('tcp') or next(iter(fitted.values()))
    efficiency = args.link_efficiency
    beta = 8.0 / (args.link_gbit * 1e9 * efficiency)
    return Transport(f'{args.link_gbit:g} Gbit/s, {args.wire_latency_us:g} us', base.alpha + args.wire_latency_us * 1e-6,
                     beta, base.gamma, 0.0, cores=10 ** 9)


# ----------------------------------------------------------------------------- reports

def pct(predicted, measured):
    return 100.0 * (predicted - measured) / measured


def report(args):
    d = args.dir
    coll = read_csv(os.path.join(d, 'collectives.csv'))
    units = read_csv(os.path.join(d, 'units.csv'))
    jobs = read_csv(os.path.join(d, 'jobs.csv'))
    replay = read_csv(os.path.join(d, 'replay.csv'))
    column = 'q25_us' if args.quartile else 'median_us'
    print(f'== measurements in {d} (times: {"lower quartile" if args.quartile else "median"} of repetitions)')
    lo, hi = loads(coll + units + jobs + replay)
    print(f'load average (1 min) beside the measurements: {lo:.2f} … {hi:.2f} on {os.cpu_count()} cores')

    # --- collectives: fit per transport
    by_transport = {}
    for r in coll:
        by_transport.setdefault(transport_of(r['label']), []).append(
            (r['op'], float(r['bytes']), int(r['ranks']), float(r[column]) * 1e-6))
    fitted = {}
    print('\n== collectives: fitted alpha-beta parameters per transport')
    print(f'{"transport":12} {"alpha us":>9} {"beta ns/B":>10} {"GB/s":>7} {"gamma ns/B":>11} {"sigma us":>9} '
          f'{"points":>6} {"within 20 %":>11} {"median |err|":>12}')
    for name, points in sorted(by_transport.items()):
        t = fit_transport(name, points)
        fitted[name] = t
        errors = [pct(t.time(op, n, p), s) for op, n, p, s in points]
        ok = sum(abs(e) <= 20 for e in errors)
        print(f'{name:12} {t.alpha * 1e6:9.2f} {t.beta * 1e9:10.4f} {1 / t.beta / 1e9 if t.beta else float("inf"):7.2f} '
              f'{t.gamma * 1e9:11.4f} {t.sigma * 1e6:9.1f} {len(points):6d} {ok:5d} ({100 * ok / len(points):3.0f} %) '
              f'{statistics.median(abs(e) for e in errors):11.1f} %')
    if args.verbose:
        print('\n  every point: transport, op, P, bytes, measured us, predicted us, error')
        for name, points in sorted(by_transport.items()):
            for op, n, p, s in points:
                print(f'  {name:10} {op:20} {p:2d} {int(n):10d} {s * 1e6:12.1f} {fitted[name].time(op, n, p) * 1e6:12.1f} '
                      f'{pct(fitted[name].time(op, n, p), s):+7.1f} %')
    print('\n  error by transport, P and size range (median signed error, worst |error|, points):')
    for name, points in sorted(by_transport.items()):
        for p in sorted({q[2] for q in points}):
            for lo_b, hi_b, label in ((0, 4096, '<4 KiB'), (4096, 1 << 20, '4 KiB-1 MiB'), (1 << 20, 1 << 40, '>=1 MiB')):
                es = [pct(fitted[name].time(op, n, q), s) for op, n, q, s in points if q == p and lo_b <= n < hi_b]
                if es:
                    print(f'  {name:10} P={p}  {label:12} {statistics.median(es):+7.1f} %  worst {max(map(abs, es)):6.1f} %  '
                          f'({len(es)} points)')
    # Achieved rate against the shaping.
    for name, t in sorted(fitted.items()):
        if name.startswith('tcp-') and t.beta > 0:
            nominal = float(name[4:].rstrip('g')) * 1e9 / 8
            print(f'  {name}: fitted {1 / t.beta / 1e9:.2f} GB/s = {100 / t.beta / nominal:.0f} % of the shaped '
                  f'{nominal / 1e9:.2f} GB/s')

    # --- compute
    print('\n== compute per work unit (1 process, 1 thread; seconds per step by -b with --chunk-samples = b)')
    computes = {}
    for model, shape, T in (('spiking_resnet18', (3, 32, 32), 6), ('spiking_vgg11_bn', (2, 48, 48), 10),
                            ('spiking_cnn_small', (1, 28, 28), 4)):
        layers = architecture(model, shape)
        macs = T * sum(l['macs'] for l in layers)
        comp, points = fit_compute(units, model, macs)
        if comp is None:
            continue
        computes[model] = comp
        rows = [u for u in units if u['model'] == model]
        print(f'{model} {"x".join(map(str, shape))} T={T} ({macs / 1e9:.2f} G multiply-adds per sample, dense):')
        for u in rows:
            b = int(u['b'])
            print(f'  -b {b:3d} chunk {u["chunk"]:>3} threads {u["threads"]}: {float(u["step_s"]):7.3f} s/step, '
                  f'{float(u["step_s"]) / b:6.3f} s/sample  (load {u["load"]})')
        print(f'  fit: f = {comp.f:.3f} s per step, c = {comp.c:.3f} s per sample, r = {comp.r:.4f} s per extra chunk, '
              f'two-core efficiency {comp.e2:.2f}')
        for b, s in sorted(points.items()):
            pred = comp.f + b * comp.c
            print(f'    -b {b}: measured {s:.3f} s, fit {pred:.3f} s ({pct(pred, s):+.1f} %)')

    # --- replay of one step's collectives
    if replay:
        print('\n== one step\'s collectives alone (collectives --replay), measured vs model')
        print(f'{"transport":10} {"model":18} {"scheme":9} {"P":>2} {"measured ms":>11} {"range ms":>17} {"model ms":>9} {"error":>7}')
        for r in replay:
            transport, model, scheme = r['label'].split(':')
            p = int(r['ranks'])
            shape, T = ((3, 32, 32), 6) if model == 'spiking_resnet18' else ((1, 28, 28), 4)
            t = fitted.get(transport)
            if t is None:
                continue
            predicted = sum(t.time(op, n * ELEMENT[op], p) for op, n, _ in
                            step_collectives(architecture(model, shape), T, scheme, args.bucket_mb * 2 ** 20))
            measured = float(r[column]) * 1e-3
            print(f'{transport:10} {model:18} {scheme:9} {p:2d} {measured:11.2f} '
                  f'{float(r["min_us"]) / 1e3:7.2f}…{float(r["max_us"]) / 1e3:8.2f} {predicted * 1e3:9.2f} '
                  f'{pct(predicted, measured):+6.1f} %  (load {r["load"]})')

    # --- real jobs
    if jobs and computes:
        print('\n== real `clif-mpi bench` jobs (1 thread per rank, ranks oversubscribed on 2 cores above P = 2)')
        print(f'{"transport":9} {"model":18} {"b":>3} {"P":>2} {"step s":>7} {"comm share":>10} {"computing med":>13} '
              f'{"model step":>10} {"error":>7} {"model comm":>10}  load')
        for r in jobs:
            model, p, b = r['model'], int(r['P']), int(r['b'])
            comp = computes.get(model)
            t = fitted.get(r['transport'])
            if comp is None or t is None and p > 1:
                continue
            shape = tuple(int(x) for x in r['input'].split('x'))
            T = int(r['T'])
            layers = architecture(model, shape)
            # 2 cores shared by P single-thread ranks: the busiest rank's work, or all the work over 2 cores.
            per = math.ceil(b / p)
            rank_work = comp.f + per * (comp.c + comp.r)
            total_work = p * comp.f + b * (comp.c + comp.r)
            cores = min(p, 2)
            compute = max(rank_work, total_work / cores / (comp.e2 if cores == 2 else 1.0))
            comm = 0.0 if p == 1 else sum(t.time(op, n * ELEMENT[op], p) for op, n, _ in
                                          step_collectives(layers, T, 'current', 0))
            predicted = compute + comm
            measured = float(r['step_s'])
            print(f'{r["transport"]:9} {model:18} {b:3d} {p:2d} {measured:7.3f} {float(r["comm_share"] or 0):10.3f} '
                  f'{float(r["computing_median_s"] or 0):13.3f} {predicted:10.3f} {pct(predicted, measured):+6.1f} % '
                  f'{comm / predicted if predicted else 0:10.3f}  {r["load"]}')

    if not computes.get('spiking_resnet18'):
        print('\nno ResNet-18 unit times: no predictions')
        return
    predictions(args, fitted, computes)


def predictions(args, fitted, computes):
    net = network_transport(fitted, args)
    base = computes['spiking_resnet18']
    r18 = architecture('spiking_resnet18', (3, 32, 32))
    base_macs = 6 * sum(l['macs'] for l in r18)
    base_params = sum(l['params'] for l in r18)
    sample_seconds = args.sample_seconds or base.c
    base = Compute(base.f, sample_seconds, base.r, base.e2, base_macs)
    if args.chunk_seconds is not None:
        base.r = args.chunk_seconds
    print(f'\n== predictions: one rank per node, W worker threads; network {net.name} '
          f'(alpha {net.alpha * 1e6:.1f} us = TCP stack here + wire, {1 / net.beta / 1e9:.2f} GB/s), '
          f'per-core efficiency of a full node {args.core_efficiency}, gradient scheme {args.scheme}, '
          f'overlap {args.overlap}')
    print(f'   compute: c = {base.c:.3f} s per ResNet-18 sample per thread, f = {base.f:.3f} s per step, '
          f'r = {base.r * 1e3:.1f} ms per chunk (serial on the rank), scaled to other models by multiply-adds '
          f'and parameters')
    configs = [('CIFAR-10 ResNet-18 T6 b128 (3x32x32)', 'spiking_resnet18', (3, 32, 32), 6, 128, 10),
               ('DVS-CIFAR10 VGG-11 T10 b128 (2x48x48)', 'spiking_vgg11_bn', (2, 48, 48), 10, 128, 10),
               ('DVS-Gesture VGG-11 T20 b16 (2x128x128)', 'spiking_vgg11_bn', (2, 128, 128), 20, 16, 11),
               ('standard bench ResNet-18 T6 b32 (3x32x32)', 'spiking_resnet18', (3, 32, 32), 6, 32, 10)]
    nodes_list = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    cores_list = [16, 32, 64, 128] if args.full else [16, 32, 128]
    results = {}
    for title, model, shape, T, batch, classes in configs:
        layers = architecture(model, shape, classes)
        macs = T * sum(l['macs'] for l in layers)
        params = sum(l['params'] for l in layers)
        comp = base.scaled(macs, params / base_params)
        if model == 'spiking_vgg11_bn' and 'spiking_vgg11_bn' in computes and shape == (2, 48, 48) and not args.sample_seconds:
            measured = computes['spiking_vgg11_bn']
            comp = Compute(measured.f, measured.c, measured.r, measured.e2, macs)
        def one_worker(b):
            return comp.rank_seconds(b, 1, 1.0)
        for mode in ('strong', 'weak'):
            print(f'\n-- {title}: {mode} scaling'
                  + (f' (global batch {batch}; at most {batch} workers have a sample)' if mode == 'strong'
                     else f' (batch {batch} per node)'))
            print(f'{"nodes":>5} {"cores":>5} {"batch":>6} {"step s":>8} {"samples/s":>10} {"eff. vs 1 worker":>16} '
                  f'{"eff. vs 1 node":>14} {"compute":>8} {"blocking":>8} {"gradient":>8}')
            for cores in cores_list:
                node1 = None
                for nodes in nodes_list:
                    b = batch if mode == 'strong' else batch * nodes
                    seconds, parts = step_seconds(layers, T, comp, net, nodes, cores, b, args.scheme, args.overlap,
                                                  args.core_efficiency if cores > 2 else 1.0, args.bucket_mb * 2 ** 20)
                    rate = b / seconds
                    ideal = b / one_worker(b) * min(nodes * cores, b if mode == 'strong' else nodes * cores)
                    eff_worker = rate / (b / one_worker(b) * nodes * cores)
                    if node1 is None:
                        node1 = rate / (batch if mode == 'strong' else batch)
                        node1_rate = rate
                    eff_node = rate / (node1_rate * nodes)
                    results[(title, mode, nodes, cores)] = (seconds, rate, eff_worker, eff_node, parts)
                    print(f'{nodes:5d} {cores:5d} {b:6d} {seconds:8.3f} {rate:10.1f} {100 * eff_worker:15.0f}% '
                          f'{100 * eff_node:13.0f}% {parts["compute"]:8.3f} {parts["blocking"]:8.3f} {parts["exposed"]:8.3f}')
    # The paper's 200-epoch CIFAR-10 run and the goal.
    title = configs[0][0]
    layers = architecture('spiking_resnet18', (3, 32, 32))
    steps_per_epoch = math.ceil(50000 / 128)
    print(f'\n-- the paper\'s CIFAR-10 run: 200 epochs x {steps_per_epoch} steps of b 128 '
          f'(+ the 10,000 test images each epoch, forward only, taken as 1/3 of a training sample)')
    print(f'{"nodes x cores":>13} {"step s":>8} {"train h":>8} {"test h":>7} {"total h":>8}')
    for nodes, cores in ((1, 1), (1, 16), (1, 32), (2, 16), (4, 16), (8, 16), (8, 32), (16, 32), (32, 32), (64, 32), (128, 128)):
        if nodes == 1 and cores == 1:
            seconds = base.rank_seconds(128, 1, 1.0)
        else:
            seconds = step_seconds(layers, 6, base, net, nodes, cores, 128, args.scheme, args.overlap,
                                   args.core_efficiency if cores > 2 else 1.0, args.bucket_mb * 2 ** 20)[0]
        test = 10000 / 3 * base.c / (min(nodes * cores, 128) * (args.core_efficiency if cores > 2 else 1.0))
        train = 200 * steps_per_epoch * seconds
        print(f'{nodes:6d} x {cores:4d} {seconds:8.3f} {train / 3600:8.1f} {200 * test / 3600:7.2f} '
              f'{(train + 200 * test) / 3600:8.1f}')
    goal_scheme = {}
    for scheme in ('current', 'bucketed'):
        for overlap in (0.0, 1.0):
            s, parts = step_seconds(layers, 6, base, net, 8, 16, 128, scheme, overlap, args.core_efficiency,
                                    args.bucket_mb * 2 ** 20)
            eff = (128 / base.rank_seconds(128, 1, 1.0) * 128) and (base.rank_seconds(128, 1, 1.0) / (128 * s))
            goal_scheme[(scheme, overlap)] = (s, eff, parts)
    print(f'\n-- goal: CIFAR-10 ResNet-18 b128 at 8 nodes x 16 workers over {args.link_gbit:g} Gbit/s, '
          f'parallel efficiency vs one worker (>= 80 % wanted)')
    for (scheme, overlap), (s, eff, parts) in goal_scheme.items():
        print(f'   {scheme:8} overlap {overlap:.0f}: step {s:.3f} s, efficiency {100 * eff:.0f} % '
              f'(compute {parts["compute"]:.3f} s of which serial chunk accumulation {16 * base.r:.3f} s, '
              f'blocking collectives {parts["blocking"]:.3f} s, gradient exposed {parts["exposed"]:.3f} s)')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('dir', nargs='?', help='results of bench/scale-out.sh')
    ap.add_argument('--schedule', metavar='MODEL', help='print the replay schedule of MODEL and exit')
    ap.add_argument('--collectives', metavar='MODEL', help='list the collectives of one step of MODEL and exit')
    ap.add_argument('--input', default='3x32x32')
    ap.add_argument('-T', type=int, default=6)
    ap.add_argument('--scheme', choices=('current', 'bucketed'), default='current',
                    help='gradient reduction: per tensor (current) or in buckets (reduce-scatter + allgather)')
    ap.add_argument('--bucket-mb', type=float, default=25.0, help='bucket size, MiB of fp32 gradient (25)')
    ap.add_argument('--overlap', type=float, default=0.0,
                    help='fraction of the gradient communication hidden behind backward, 0…1 (0)')
    ap.add_argument('--link-gbit', type=float, default=25.0, help='network link rate per node (25)')
    ap.add_argument('--link-efficiency', type=float, default=0.9,
                    help='fraction of the link rate MPI over TCP reaches (0.9)')
    ap.add_argument('--wire-latency-us', type=float, default=25.0,
                    help='network latency per message added to the TCP stack latency measured here (25)')
    ap.add_argument('--core-efficiency', type=float, default=0.85,
                    help='per-core speed of a fully busy node against one busy core (0.85, assumed)')
    ap.add_argument('--sample-seconds', type=float, help='override c, ResNet-18 seconds per sample per thread')
    ap.add_argument('--chunk-seconds', type=float, help='override r, seconds per chunk of the serial accumulation')
    ap.add_argument('--quartile', action='store_true', help='fit the lower quartile instead of the median')
    ap.add_argument('--full', action='store_true', help='also 64 cores per node')
    ap.add_argument('--verbose', action='store_true', help='every collective point')
    args = ap.parse_args()
    shape = tuple(int(x) for x in args.input.split('x'))
    if args.schedule:
        print(f'# {args.schedule} {args.input} T={args.T}, scheme {args.scheme}: one training step (bench), program order')
        for op, n, phase in step_collectives(architecture(args.schedule, shape), args.T, args.scheme,
                                             args.bucket_mb * 2 ** 20):
            print(f'{op} {n}' if op != 'wait' else 'wait')
        return
    if args.collectives:
        print(describe_collectives(args.collectives, shape, args.T, args.scheme, args.bucket_mb * 2 ** 20))
        return
    if not args.dir:
        ap.error('give the results folder of bench/scale-out.sh, or --schedule / --collectives')
    for model, s, T in (('spiking_resnet18', (3, 32, 32), 6), ('spiking_vgg11_bn', (2, 48, 48), 10),
                        ('spiking_cnn_small', (1, 28, 28), 4)):
        for scheme in ('current', 'bucketed'):
            print(describe_collectives(model, s, T, scheme, args.bucket_mb * 2 ** 20))
        print()
    report(args)


if __name__ == '__main__':
    main()
