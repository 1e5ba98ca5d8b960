#ifndef CLIF_HDF5_SHIM_H
#define CLIF_HDF5_SHIM_H
#include <hdf5.h>

// HDF5's file flags and predefined types are macros that call H5open() and
// read a global: Swift imports neither, so each gets a getter.
static inline unsigned clif_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned clif_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline hid_t clif_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t clif_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t clif_h5t_c_s1(void) { return H5T_C_S1; }
static inline size_t clif_h5t_variable(void) { return H5T_VARIABLE; }

// Without this, every failed call prints HDF5's error stack to stderr; the
// callers report their own one-line errors instead.
static inline void clif_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
#endif
