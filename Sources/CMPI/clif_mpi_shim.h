#ifndef CLIF_MPI_SHIM_H
#define CLIF_MPI_SHIM_H
#include <mpi.h>

// Open MPI's handles are macros over incomplete structs, which Swift cannot
// import. These getters keep the MPI spelling on the Swift side.
static inline MPI_Comm clif_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype clif_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype clif_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype clif_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype clif_mpi_uint8(void) { return MPI_UINT8_T; }
static inline MPI_Op clif_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op clif_mpi_max(void) { return MPI_MAX; }
static inline void *clif_mpi_in_place(void) { return MPI_IN_PLACE; }

#define CLIF_SWIFT_NAME(x) __attribute__((swift_name(#x)))
MPI_Comm clif_mpi_comm_world(void) CLIF_SWIFT_NAME(getter:MPI_COMM_WORLD());
MPI_Datatype clif_mpi_float(void) CLIF_SWIFT_NAME(getter:MPI_FLOAT());
MPI_Datatype clif_mpi_double(void) CLIF_SWIFT_NAME(getter:MPI_DOUBLE());
MPI_Datatype clif_mpi_int64(void) CLIF_SWIFT_NAME(getter:MPI_INT64_T());
MPI_Datatype clif_mpi_uint8(void) CLIF_SWIFT_NAME(getter:MPI_UINT8_T());
MPI_Op clif_mpi_sum(void) CLIF_SWIFT_NAME(getter:MPI_SUM());
MPI_Op clif_mpi_max(void) CLIF_SWIFT_NAME(getter:MPI_MAX());
void *clif_mpi_in_place(void) CLIF_SWIFT_NAME(getter:MPI_IN_PLACE());
#endif
