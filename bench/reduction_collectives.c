// The collectives of one spiking_resnet18 gradient reduction alone (no
// compute, no overlap), per step, four ways, interleaved, 10 repetitions:
//   old  per tensor a blocking allreduce-max of one Int32 and a non-blocking
//        Int64 allreduce (DistributedReducer before the buckets);
//   new  per bucket a non-blocking allreduce-max of the exponent vector, an
//        Int64 reduce-scatter and an fp32 allgather (GradientBucket);
//   blk  the same with the blocking collectives (Open MPI's coll/tuned);
//   ring the same with the ring reduce-scatter of RingReduceScatter.swift;
//   fp32 per bucket an fp32 allreduce (what an inexact reduction would cost).
// Build and run: mpicc -O2 -o /tmp/reduction_collectives bench/reduction_collectives.c
//                mpirun -np 2 /tmp/reduction_collectives [bucket elements, default 1048576]
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
// spiking_resnet18 3×32×32: its 21 gradient sums in the order backward starts
// them (conv weights and the classifier, 11.16 M of its 11.17 M elements).
static const int sizes[] = {5130, 131072, 2359296, 2359296, 2359296, 1179648, 32768, 589824, 589824, 589824, 294912,
  8192, 147456, 147456, 147456, 73728, 36864, 36864, 36864, 36864, 1728};  // backward order
#define NT 21
static double now(void) { return MPI_Wtime(); }

// The ring reduce-scatter of RingReduceScatter.swift, blocking: P − 1 steps.
static void ring_reduce_scatter(long long *values, long block, long long *result, long long *received, MPI_Comm comm) {
  int rank, P; MPI_Comm_rank(comm, &rank); MPI_Comm_size(comm, &P);
  for (int k = 0; k < P - 1; k++) {
    long long *send = values + ((rank - k - 1 + 2 * P) % P) * block, *add = values + ((rank - k - 2 + 2 * P) % P) * block;
    MPI_Sendrecv(send, block, MPI_INT64_T, (rank + 1) % P, k, received, block, MPI_INT64_T, (rank - 1 + P) % P, k,
                 comm, MPI_STATUS_IGNORE);
    for (long i = 0; i < block; i++) add[i] += received[i];
  }
  memcpy(result, values + rank * block, block * sizeof *result);
}
int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, P; MPI_Comm_rank(MPI_COMM_WORLD, &rank); MPI_Comm_size(MPI_COMM_WORLD, &P);
  MPI_Comm agree, scat, gath; MPI_Comm_dup(MPI_COMM_WORLD, &agree); MPI_Comm_dup(MPI_COMM_WORLD, &scat); MPI_Comm_dup(MPI_COMM_WORLD, &gath);
  long total = 0; for (int t = 0; t < NT; t++) total += sizes[t];
  long long *fixed = calloc(total + 64, 8); long long *owned = calloc(total + 64, 8); float *f = calloc(total + 64, 4);
  // Buckets close at the first tensor that reaches the limit, as in DistributedReducer.
  int bucketLimit = argc > 1 ? atoi(argv[1]) : (1 << 20);
  // buckets
  int bstart[NT + 1], nb = 0; long belems[NT]; int bt[NT]; long acc = 0; int first = 0;
  for (int t = 0; t < NT; t++) { acc += sizes[t]; if (acc >= bucketLimit || t == NT - 1) { bstart[nb] = first; bt[nb] = t + 1 - first; belems[nb] = acc; nb++; first = t + 1; acc = 0; } }
  int reps = 10;
  double told[16], tnew[16], tfp[16], tblk[16], tring[16];
  long long *scratch = calloc(total + 64, 8);
  for (int r = 0; r < reps; r++) {
    // old: per tensor blocking max + Iallreduce int64
    MPI_Barrier(MPI_COMM_WORLD); double s = now();
    MPI_Request req[NT]; long off = 0;
    for (int t = 0; t < NT; t++) { int e = 3; MPI_Allreduce(MPI_IN_PLACE, &e, 1, MPI_INT32_T, MPI_MAX, MPI_COMM_WORLD);
      MPI_Iallreduce(MPI_IN_PLACE, fixed + off, sizes[t], MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD, &req[t]); off += sizes[t]; }
    MPI_Waitall(NT, req, MPI_STATUSES_IGNORE); told[r] = now() - s;
    // new: per bucket exponent vector max, reduce-scatter int64, allgather fp32
    MPI_Barrier(MPI_COMM_WORLD); s = now();
    MPI_Request ra[NT], rs[NT], rg[NT]; int ex[NT]; off = 0; long boff[NT];
    for (int b = 0; b < nb; b++) { MPI_Iallreduce(MPI_IN_PLACE, ex + bstart[b], bt[b], MPI_INT32_T, MPI_MAX, agree, &ra[b]); boff[b] = off; off += belems[b]; }
    for (int b = 0; b < nb; b++) { MPI_Wait(&ra[b], MPI_STATUS_IGNORE); long blk = (belems[b] + P - 1) / P;
      MPI_Ireduce_scatter_block(fixed + boff[b], owned + boff[b], blk, MPI_INT64_T, MPI_SUM, scat, &rs[b]); }
    for (int b = 0; b < nb; b++) { MPI_Wait(&rs[b], MPI_STATUS_IGNORE); long blk = (belems[b] + P - 1) / P;
      MPI_Iallgather(MPI_IN_PLACE, 0, MPI_FLOAT, f + boff[b], blk, MPI_FLOAT, gath, &rg[b]); }
    MPI_Waitall(nb, rg, MPI_STATUSES_IGNORE); tnew[r] = now() - s;
    // blocking (coll/tuned) reduce-scatter + allgather per bucket
    MPI_Barrier(MPI_COMM_WORLD); s = now();
    off = 0;
    for (int b = 0; b < nb; b++) { int e[NT]; MPI_Allreduce(MPI_IN_PLACE, e, bt[b], MPI_INT32_T, MPI_MAX, agree);
      long blk = (belems[b] + P - 1) / P;
      MPI_Reduce_scatter_block(fixed + boff[b], owned + boff[b], blk, MPI_INT64_T, MPI_SUM, scat);
      MPI_Allgather(MPI_IN_PLACE, 0, MPI_FLOAT, f + boff[b], blk, MPI_FLOAT, gath); }
    tblk[r] = now() - s;
    // ring reduce-scatter + allgather per bucket
    MPI_Barrier(MPI_COMM_WORLD); s = now();
    for (int b = 0; b < nb; b++) { int e[NT]; MPI_Allreduce(MPI_IN_PLACE, e, bt[b], MPI_INT32_T, MPI_MAX, agree);
      long blk = (belems[b] + P - 1) / P;
      ring_reduce_scatter(fixed + boff[b], blk, owned + boff[b], scratch, scat);
      MPI_Allgather(MPI_IN_PLACE, 0, MPI_FLOAT, f + boff[b], blk, MPI_FLOAT, gath); }
    tring[r] = now() - s;
    // fp32 allreduce per bucket (what a plain fp32 DDP would do)
    MPI_Barrier(MPI_COMM_WORLD); s = now();
    for (int b = 0; b < nb; b++) MPI_Iallreduce(MPI_IN_PLACE, f + boff[b], belems[b], MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &rg[b]);
    MPI_Waitall(nb, rg, MPI_STATUSES_IGNORE); tfp[r] = now() - s;
  }
  if (rank == 0) {
    printf("buckets of %d: %d buckets, %ld elements\n", bucketLimit, nb, total);
    printf("old  ms:"); for (int r = 0; r < reps; r++) printf(" %.1f", 1e3 * told[r]); printf("\n");
    printf("new  ms:"); for (int r = 0; r < reps; r++) printf(" %.1f", 1e3 * tnew[r]); printf("\n");
    printf("blk  ms:"); for (int r = 0; r < reps; r++) printf(" %.1f", 1e3 * tblk[r]); printf("\n");
    printf("ring ms:"); for (int r = 0; r < reps; r++) printf(" %.1f", 1e3 * tring[r]); printf("\n");
    printf("fp32 ms:"); for (int r = 0; r < reps; r++) printf(" %.1f", 1e3 * tfp[r]); printf("\n");
  }
  MPI_Finalize();
}
