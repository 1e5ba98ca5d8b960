/* Times the MPI collectives clif-mpi uses, over message sizes, and prints CSV.
 *
 *   mpicc -O2 -o collectives bench/collectives.c
 *   mpirun -np 4 ./collectives [--min BYTES] [--max BYTES] [--factor F] [--budget SECONDS]
 *                              [--reps MAX] [--ops LIST] [--label TEXT]
 *
 * Operations (--ops, comma-separated; default all):
 *   allreduce_max_i32     MPI_Allreduce MAX of an Int32 vector (the fixed-point exponents)
 *   allreduce_sum_i64     MPI_Allreduce SUM of an Int64 vector (the fixed-point sums)
 *   iallreduce_sum_i64    MPI_Iallreduce SUM of Int64 then MPI_Wait at once (no overlap)
 *   reduce_scatter_i64    MPI_Reduce_scatter_block SUM of Int64 (bucketed gradients)
 *   ring_reduce_scatter_i64  the ring reduce-scatter of Int64 that clif-mpi runs for its gradient
 *                         buckets (RingReduceScatter.swift), blocking: P − 1 MPI_Sendrecv steps
 *   allgather_f32         MPI_Allgather of fp32 (the reduced buckets back to everyone)
 *   allgatherv_f32        MPI_Allgatherv of small fp32 vectors of uneven lengths (≤ 64 KiB)
 *
 * --replay FILE times a whole training step's collectives instead: FILE has one
 * collective a line, in program order (scale_model.py --schedule writes it):
 *   max_i32 N     blocking MPI_Allreduce MAX of N Int32 (fixed-point exponents)
 *   sum_i64 N     blocking MPI_Allreduce SUM of N Int64 (BatchNorm statistics, loss)
 *   isum_i64 N    MPI_Iallreduce SUM of N Int64, left in flight (a gradient tensor)
 *   wait          MPI_Waitall on everything in flight (the end of backward)
 *   rs_i64 N      blocking MPI_Reduce_scatter_block SUM, N Int64 in total (a bucket)
 *   ring_i64 N    the ring reduce-scatter of N Int64 in total (a bucket, as clif-mpi runs it)
 *   ag_f32 N      blocking MPI_Allgather, N fp32 in total (the bucket back)
 * and prints one CSV line: label,replay,ranks,bytes (all lines),collectives,reps,median_us,…
 * (--reps repetitions of the whole step, after one untimed).
 *
 * --accumulate COUNT times, on one rank, what clif-mpi's MPI reducer does on the main thread
 * for each reduction chunk before a gradient sum: the largest-magnitude scan of COUNT fp32
 * partials and their conversion to 64-bit fixed point added into an Int64 accumulator (a C
 * replica of ExactSum.exponent + ExactSum.accumulate); prints
 *   label,accumulate,1,bytes,COUNT,reps,median_us,q25_us,min_us,max_us,GBps (fp32 bytes read)
 *
 * --sync-probe WORK_US times what a synchronisation point costs when ranks outnumber cores:
 * every rank alternates WORK_US of its own CPU time (a busy loop) and a blocking MPI_Allreduce
 * MAX of one Int32 — the shape of a training step, compute between BatchNorm sums — and the
 * same work without the allreduces; each repetition runs both, N iterations each (N such
 * that a phase takes about 0.3 s), and the overhead of one synchronisation point is the
 * difference per iteration. Prints
 *   label,sync,ranks,WORK_US,N,reps,median_us,q25_us,min_us,max_us,free_us
 * (times: overhead per synchronisation point; free_us: one iteration without them).
 *
 * "bytes" is the size of the whole vector every rank ends with: for the
 * reduce-scatter each rank receives bytes/P, for the allgathers each rank
 * sends bytes/P (element counts rounded down to a multiple of P, at least P).
 *
 * Each point: two untimed calls, then a repetition count chosen from that
 * calls' faster time so the point takes about --budget seconds (at least 5,
 * at most --reps); each repetition starts after a barrier, and its time is the
 * slowest rank's. Printed: median, lower quartile, minimum and maximum over
 * repetitions, in
 * microseconds, and the bus bandwidth of an ideal ring for the operation
 * (bytes moved per rank ÷ median time) for reference.
 */
#include <mpi.h>
#include <math.h>
#include <time.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum op { ALLREDUCE_MAX_I32, ALLREDUCE_SUM_I64, IALLREDUCE_SUM_I64, REDUCE_SCATTER_I64, ALLGATHER_F32,
          ALLGATHERV_F32, RING_REDUCE_SCATTER_I64, OP_COUNT };
static const char *op_names[OP_COUNT] = { "allreduce_max_i32", "allreduce_sum_i64", "iallreduce_sum_i64",
                                          "reduce_scatter_i64", "allgather_f32", "allgatherv_f32",
                                          "ring_reduce_scatter_i64" };
static const size_t element_size[OP_COUNT] = { 4, 8, 8, 8, 4, 4, 8 };

struct buffers {
    void *send, *receive;
    int *counts, *offsets;
};

/* The ring reduce-scatter of RingReduceScatter.swift, blocking: `values` ([P, block], summed in
 * place; rank r ends with block r) and `received`, one block of scratch. P − 1 steps; in each,
 * every rank sends a block to its right neighbour and adds the block from its left one. */
static void ring_reduce_scatter(uint64_t *values, int block, uint64_t *received, int ranks, MPI_Comm comm) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    for (int k = 0; k < ranks - 1; k++) {
        const uint64_t *send = values + (size_t)((rank - k - 1 + 2 * ranks) % ranks) * (size_t)block;
        uint64_t *add = values + (size_t)((rank - k - 2 + 2 * ranks) % ranks) * (size_t)block;
        MPI_Sendrecv(send, block, MPI_UINT64_T, (rank + 1) % ranks, k, received, block, MPI_UINT64_T,
                     (rank - 1 + ranks) % ranks, k, comm, MPI_STATUS_IGNORE);
        for (int i = 0; i < block; i++) add[i] += received[i];
    }
}

/* One call of `op` on `count` elements in total (the vector every rank ends with). */
static void run(enum op op, size_t count, struct buffers *b, int ranks, MPI_Comm comm) {
    int n = (int)count, share = (int)(count / (size_t)ranks);
    MPI_Request request;
    switch (op) {
    case ALLREDUCE_MAX_I32:
        MPI_Allreduce(b->send, b->receive, n, MPI_INT32_T, MPI_MAX, comm);
        break;
    case ALLREDUCE_SUM_I64:
        MPI_Allreduce(b->send, b->receive, n, MPI_INT64_T, MPI_SUM, comm);
        break;
    case IALLREDUCE_SUM_I64:
        MPI_Iallreduce(b->send, b->receive, n, MPI_INT64_T, MPI_SUM, comm, &request);
        MPI_Wait(&request, MPI_STATUS_IGNORE);
        break;
    case REDUCE_SCATTER_I64:
        MPI_Reduce_scatter_block(b->send, b->receive, share, MPI_INT64_T, MPI_SUM, comm);
        break;
    case ALLGATHER_F32:
        MPI_Allgather(b->send, share, MPI_FLOAT, b->receive, share, MPI_FLOAT, comm);
        break;
    case RING_REDUCE_SCATTER_I64:
        ring_reduce_scatter(b->send, share, b->receive, ranks, comm);
        break;
    case ALLGATHERV_F32: {
        int rank;
        MPI_Comm_rank(comm, &rank);
        MPI_Allgatherv(b->send, b->counts[rank], MPI_FLOAT, b->receive, b->counts, b->offsets, MPI_FLOAT, comm);
        break;
    }
    default:
        break;
    }
}

/* Uneven per-rank counts adding up to `count` (rank r gets about (r+1)/mean of a share). */
static void uneven_counts(size_t count, int ranks, int *counts, int *offsets) {
    size_t weights = (size_t)ranks * (size_t)(ranks + 1) / 2, given = 0;
    for (int r = 0; r < ranks; r++) {
        counts[r] = (int)(count * (size_t)(r + 1) / weights);
        given += (size_t)counts[r];
    }
    counts[ranks - 1] += (int)(count - given);
    offsets[0] = 0;
    for (int r = 1; r < ranks; r++) offsets[r] = offsets[r - 1] + counts[r - 1];
}

static int compare_doubles(const void *a, const void *b);

struct line { char op[16]; size_t count; };

/* Busy work until this thread has used `seconds` of CPU time (however the cores are shared). */
static void spin_cpu(double seconds) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    double until = (double)t.tv_sec + (double)t.tv_nsec * 1e-9 + seconds, now;
    volatile double x = 1.0;
    do {
        for (int i = 0; i < 2000; i++) x = x * 1.0000001 + 1e-9;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        now = (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
    } while (now < until);
}

/* One phase of the sync probe: `n` iterations of work (and an allreduce after each if `synced`);
 * returns the wall time per iteration, from a barrier to the slowest rank's end. */
static double sync_phase(double work, int n, int synced, MPI_Comm comm) {
    int32_t one = 1, top = 0;
    MPI_Barrier(comm);
    double start = MPI_Wtime();
    for (int i = 0; i < n; i++) {
        spin_cpu(work);
        if (synced) MPI_Allreduce(&one, &top, 1, MPI_INT32_T, MPI_MAX, comm);
    }
    double mine = MPI_Wtime() - start, slowest = 0;
    MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, comm);
    return slowest / n;
}

/* --sync-probe: see the comment at the top. */
static void sync_probe(double work, int reps, const char *label, int rank, int ranks) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double per_iteration = work * ((double)ranks > (double)cores ? (double)ranks / (double)cores : 1.0);
    int n = (int)(0.3 / per_iteration);
    if (n < 5) n = 5;
    double *overhead = malloc(sizeof(double) * (size_t)reps), free_total = 0;
    sync_phase(work, 2, 1, MPI_COMM_WORLD);
    for (int r = 0; r < reps; r++) {
        double free_time = sync_phase(work, n, 0, MPI_COMM_WORLD);
        overhead[r] = sync_phase(work, n, 1, MPI_COMM_WORLD) - free_time;
        free_total += free_time;
    }
    if (rank == 0) {
        qsort(overhead, (size_t)reps, sizeof(double), compare_doubles);
        double median = reps % 2 ? overhead[reps / 2] : 0.5 * (overhead[reps / 2 - 1] + overhead[reps / 2]);
        printf("label,op,ranks,work_us,iterations,reps,median_us,q25_us,min_us,max_us,free_us\n");
        printf("%s,sync,%d,%.0f,%d,%d,%.2f,%.2f,%.2f,%.2f,%.2f\n", label, ranks, work * 1e6, n, reps, median * 1e6,
               overhead[reps / 4] * 1e6, overhead[0] * 1e6, overhead[reps - 1] * 1e6, free_total / reps * 1e6);
    }
    free(overhead);
}

/* ExactSum.exponent + ExactSum.accumulate of one chunk's partials, in C. */
static void accumulate_chunk(const float *partials, size_t count, int64_t *fixed) {
    float top = 0;
    for (size_t i = 0; i < count; i++) {
        float m = partials[i] < 0 ? -partials[i] : partials[i];
        if (m > top) top = m;
    }
    int exponent = 0;
    frexpf(top, &exponent);
    double scale = ldexp(1.0, 62 - 20 - exponent), magic = 6755399441055744.0;
    int64_t magic_bits;
    memcpy(&magic_bits, &magic, 8);
    for (size_t i = 0; i < count; i++) {
        double x = (double)partials[i] * scale + magic;
        int64_t bits;
        memcpy(&bits, &x, 8);
        fixed[i] += bits - magic_bits;
    }
}

/* The whole schedule once; returns nothing, leaves no request in flight. */
static void replay(const struct line *lines, int n, void *send, void *receive, MPI_Request *requests,
                   int ranks, MPI_Comm comm) {
    int pending = 0;
    size_t offset = 0; /* non-blocking sums use disjoint parts of the buffers */
    for (int i = 0; i < n; i++) {
        const struct line *l = &lines[i];
        int c = (int)l->count, share = (int)(l->count / (size_t)ranks);
        if (!strcmp(l->op, "max_i32")) {
            MPI_Allreduce(send, receive, c, MPI_INT32_T, MPI_MAX, comm);
        } else if (!strcmp(l->op, "sum_i64")) {
            MPI_Allreduce(send, receive, c, MPI_INT64_T, MPI_SUM, comm);
        } else if (!strcmp(l->op, "isum_i64")) {
            MPI_Iallreduce((char *)send + offset, (char *)receive + offset, c, MPI_INT64_T, MPI_SUM, comm,
                           &requests[pending++]);
            offset += l->count * 8;
        } else if (!strcmp(l->op, "wait")) {
            MPI_Waitall(pending, requests, MPI_STATUSES_IGNORE);
            pending = 0;
            offset = 0;
        } else if (!strcmp(l->op, "rs_i64")) {
            MPI_Reduce_scatter_block(send, receive, share > 0 ? share : 1, MPI_INT64_T, MPI_SUM, comm);
        } else if (!strcmp(l->op, "ring_i64")) {
            ring_reduce_scatter(send, share > 0 ? share : 1, receive, ranks, comm);
        } else if (!strcmp(l->op, "ag_f32")) {
            MPI_Allgather(send, share > 0 ? share : 1, MPI_FLOAT, receive, share > 0 ? share : 1, MPI_FLOAT, comm);
        }
    }
    if (pending) MPI_Waitall(pending, requests, MPI_STATUSES_IGNORE);
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Bytes each rank sends (and receives) in an ideal ring algorithm for `op` on a vector of `bytes`. */
static double ring_bytes(enum op op, double bytes, int ranks) {
    double f = (double)(ranks - 1) / ranks;
    switch (op) {
    case ALLREDUCE_MAX_I32: case ALLREDUCE_SUM_I64: case IALLREDUCE_SUM_I64: return 2 * f * bytes;
    default: return f * bytes;
    }
}

static int wanted(const char *list, const char *name) {
    if (!list) return 1;
    size_t length = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += length) {
        int starts = p == list || p[-1] == ',', ends = p[length] == '\0' || p[length] == ',';
        if (starts && ends) return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, ranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    size_t smallest = 8, largest = (size_t)64 << 20;
    double factor = 4, budget = 0.25;
    int most_reps = 50;
    const char *ops = NULL, *label = "", *replay_file = NULL;
    size_t accumulate_count = 0;
    double sync_work_us = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--min")) smallest = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--max")) largest = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--factor")) factor = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--budget")) budget = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--reps")) most_reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--ops")) ops = argv[i + 1];
        else if (!strcmp(argv[i], "--label")) label = argv[i + 1];
        else if (!strcmp(argv[i], "--replay")) replay_file = argv[i + 1];
        else if (!strcmp(argv[i], "--sync-probe")) sync_work_us = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--accumulate")) accumulate_count = strtoull(argv[i + 1], NULL, 10);
        else {
            if (rank == 0) fprintf(stderr, "collectives: unknown option %s (see the comment at the top of collectives.c)\n", argv[i]);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }
    if (smallest < 4 || largest < smallest || factor <= 1 || most_reps < 5) {
        if (rank == 0) fprintf(stderr, "collectives: need 4 <= --min <= --max, --factor > 1, --reps >= 5\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    if (sync_work_us > 0) {
        sync_probe(sync_work_us * 1e-6, most_reps, label, rank, ranks);
        MPI_Finalize();
        return 0;
    }
    if (accumulate_count > 0) {
        float *partials = malloc(accumulate_count * sizeof(float));
        int64_t *fixed = calloc(accumulate_count, sizeof(int64_t));
        double *times = malloc(sizeof(double) * (size_t)most_reps);
        if (!partials || !fixed || !times) {
            fprintf(stderr, "collectives: cannot allocate %zu partials\n", accumulate_count);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        for (size_t i = 0; i < accumulate_count; i++) partials[i] = (float)((int)(i % 2001) - 1000) * 1e-3f;
        accumulate_chunk(partials, accumulate_count, fixed);
        for (int r = 0; r < most_reps; r++) {
            double start = MPI_Wtime();
            accumulate_chunk(partials, accumulate_count, fixed);
            times[r] = MPI_Wtime() - start;
        }
        if (rank == 0) {
            qsort(times, (size_t)most_reps, sizeof(double), compare_doubles);
            int n = most_reps;
            double median = n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
            printf("label,op,ranks,bytes,elements,reps,median_us,q25_us,min_us,max_us,ring_GBps\n");
            printf("%s,accumulate,1,%zu,%zu,%d,%.2f,%.2f,%.2f,%.2f,%.3f\n", label, accumulate_count * 4,
                   accumulate_count, n, median * 1e6, times[n / 4] * 1e6, times[0] * 1e6, times[n - 1] * 1e6,
                   (double)accumulate_count * 4 / median / 1e9);
        }
        free(partials); free(fixed); free(times);
        MPI_Finalize();
        return 0;
    }
    if (replay_file) {
        int lines_read = 0, capacity_lines = 4096;
        struct line *lines = malloc(sizeof(struct line) * (size_t)capacity_lines);
        FILE *f = fopen(replay_file, "r");
        if (!f) {
            fprintf(stderr, "collectives: rank %d cannot open the schedule %s\n", rank, replay_file);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        size_t in_flight = 0, most_in_flight = 0, total_bytes = 0, largest_count = 1;
        char text[256];
        while (fgets(text, sizeof text, f)) {
            struct line l = { "", 0 };
            if (text[0] == '#' || sscanf(text, "%15s %zu", l.op, &l.count) < 1) continue;
            if (lines_read == capacity_lines) {
                capacity_lines *= 2;
                lines = realloc(lines, sizeof(struct line) * (size_t)capacity_lines);
            }
            lines[lines_read++] = l;
            size_t bytes = l.count * (strstr(l.op, "i64") ? 8 : 4);
            total_bytes += bytes;
            if (l.count > largest_count) largest_count = l.count;
            if (!strcmp(l.op, "isum_i64")) in_flight += bytes;
            if (!strcmp(l.op, "wait")) in_flight = 0;
            if (in_flight > most_in_flight) most_in_flight = in_flight;
        }
        fclose(f);
        size_t room = most_in_flight + largest_count * 8 + 64;
        void *send = calloc(room, 1), *receive = calloc(room, 1);
        MPI_Request *requests = malloc(sizeof(MPI_Request) * (size_t)lines_read + 1);
        double *times = malloc(sizeof(double) * (size_t)most_reps), *slowest = malloc(sizeof(double) * (size_t)most_reps);
        if (!send || !receive || !requests || !times || !slowest) {
            fprintf(stderr, "collectives: rank %d cannot allocate 2 × %zu bytes for the replay\n", rank, room);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        replay(lines, lines_read, send, receive, requests, ranks, MPI_COMM_WORLD);
        for (int r = 0; r < most_reps; r++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double start = MPI_Wtime();
            replay(lines, lines_read, send, receive, requests, ranks, MPI_COMM_WORLD);
            times[r] = MPI_Wtime() - start;
        }
        MPI_Reduce(times, slowest, most_reps, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
        if (rank == 0) {
            qsort(slowest, (size_t)most_reps, sizeof(double), compare_doubles);
            int n = most_reps;
            double median = n % 2 ? slowest[n / 2] : 0.5 * (slowest[n / 2 - 1] + slowest[n / 2]);
            printf("label,op,ranks,bytes,elements,reps,median_us,q25_us,min_us,max_us,ring_GBps\n");
            printf("%s,replay,%d,%zu,%d,%d,%.2f,%.2f,%.2f,%.2f,0\n", label, ranks, total_bytes, lines_read, n,
                   median * 1e6, slowest[n / 4] * 1e6, slowest[0] * 1e6, slowest[n - 1] * 1e6);
        }
        free(lines); free(send); free(receive); free(requests); free(times); free(slowest);
        MPI_Finalize();
        return 0;
    }
    struct buffers b;
    size_t capacity = largest + (size_t)ranks * 8 + 64;
    b.send = malloc(capacity);
    b.receive = malloc(capacity);
    b.counts = malloc(sizeof(int) * (size_t)ranks);
    b.offsets = malloc(sizeof(int) * (size_t)ranks);
    if (!b.send || !b.receive || !b.counts || !b.offsets) {
        fprintf(stderr, "collectives: rank %d cannot allocate 2 × %zu bytes\n", rank, capacity);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    /* Small nonzero integers (and their fp32 bit patterns): sums cannot overflow. */
    for (size_t i = 0; i < capacity / 4; i++) ((int32_t *)b.send)[i] = (int32_t)((i + (size_t)rank) % 7);
    memset(b.receive, 0, capacity);
    double *times = malloc(sizeof(double) * (size_t)most_reps), *slowest = malloc(sizeof(double) * (size_t)most_reps);
    if (rank == 0) printf("label,op,ranks,bytes,elements,reps,median_us,q25_us,min_us,max_us,ring_GBps\n");
    for (int o = 0; o < OP_COUNT; o++) {
        if (!wanted(ops, op_names[o])) continue;
        size_t top = o == ALLGATHERV_F32 && largest > 65536 ? 65536 : largest;
        for (double size = (double)smallest; size <= (double)top * 1.0001; size *= factor) {
            size_t count = (size_t)size / element_size[o];
            if (o == REDUCE_SCATTER_I64 || o == RING_REDUCE_SCATTER_I64 || o == ALLGATHER_F32) count -= count % (size_t)ranks;
            if (o >= REDUCE_SCATTER_I64 && count < (size_t)ranks) count = (size_t)ranks;
            if (count == 0) count = 1;
            if (o == ALLGATHERV_F32) uneven_counts(count, ranks, b.counts, b.offsets);
            /* Two untimed calls; the faster sets the repetition count (a rank
               descheduled by other work on the machine makes one call slow). */
            double first = 1e30, start, longest;
            for (int w = 0; w < 2; w++) {
                MPI_Barrier(MPI_COMM_WORLD);
                start = MPI_Wtime();
                run((enum op)o, count, &b, ranks, MPI_COMM_WORLD);
                double t = MPI_Wtime() - start;
                if (t < first) first = t;
            }
            MPI_Allreduce(&first, &longest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            int reps = longest > 0 ? (int)(budget / longest) : most_reps;
            if (reps < 5) reps = 5;
            if (reps > most_reps) reps = most_reps;
            for (int r = 0; r < reps; r++) {
                MPI_Barrier(MPI_COMM_WORLD);
                start = MPI_Wtime();
                run((enum op)o, count, &b, ranks, MPI_COMM_WORLD);
                times[r] = MPI_Wtime() - start;
            }
            MPI_Reduce(times, slowest, reps, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
            if (rank == 0) {
                qsort(slowest, (size_t)reps, sizeof(double), compare_doubles);
                double median = reps % 2 ? slowest[reps / 2] : 0.5 * (slowest[reps / 2 - 1] + slowest[reps / 2]);
                size_t bytes = count * element_size[o];
                printf("%s,%s,%d,%zu,%zu,%d,%.2f,%.2f,%.2f,%.2f,%.3f\n", label, op_names[o], ranks, bytes, count, reps,
                       median * 1e6, slowest[reps / 4] * 1e6, slowest[0] * 1e6, slowest[reps - 1] * 1e6,
                       ranks > 1 ? ring_bytes((enum op)o, (double)bytes, ranks) / median / 1e9 : 0.0);
                fflush(stdout);
            }
        }
    }
    free(times); free(slowest); free(b.send); free(b.receive); free(b.counts); free(b.offsets);
    MPI_Finalize();
    return 0;
}
