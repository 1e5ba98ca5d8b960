#ifndef CLIF_MPI_SHIM_H
#define CLIF_MPI_SHIM_H
#include <mpi.h>

// Open MPI's handles are macros over incomplete structs, which Swift cannot
// import. These getters keep the MPI spelling on the Swift side.
#define CLIF_GETTER(swift_spelling) __attribute__((swift_name(swift_spelling)))

CLIF_GETTER("getter:MPI_COMM_WORLD()")
static inline MPI_Comm clif_mpi_comm_world(void) { return MPI_COMM_WORLD; }
CLIF_GETTER("getter:MPI_INT32_T()")
static inline MPI_Datatype clif_mpi_int32(void) { return MPI_INT32_T; }
CLIF_GETTER("getter:MPI_INT64_T()")
static inline MPI_Datatype clif_mpi_int64(void) { return MPI_INT64_T; }
CLIF_GETTER("getter:MPI_UINT64_T()")
static inline MPI_Datatype clif_mpi_uint64(void) { return MPI_UINT64_T; }
CLIF_GETTER("getter:MPI_UINT8_T()")
static inline MPI_Datatype clif_mpi_uint8(void) { return MPI_UINT8_T; }
CLIF_GETTER("getter:MPI_FLOAT()")
static inline MPI_Datatype clif_mpi_float(void) { return MPI_FLOAT; }
CLIF_GETTER("getter:MPI_SUM()")
static inline MPI_Op clif_mpi_sum(void) { return MPI_SUM; }
CLIF_GETTER("getter:MPI_MAX()")
static inline MPI_Op clif_mpi_max(void) { return MPI_MAX; }
CLIF_GETTER("getter:MPI_IN_PLACE()")
static inline void *clif_mpi_in_place(void) { return MPI_IN_PLACE; }
CLIF_GETTER("getter:MPI_STATUS_IGNORE()")
static inline MPI_Status *clif_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }

#endif
