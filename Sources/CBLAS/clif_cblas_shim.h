#ifndef CLIF_CBLAS_SHIM_H
#define CLIF_CBLAS_SHIM_H
// OpenBLAS's CBLAS interface; pkg-config `openblas` supplies the include path.
#include <cblas.h>
#endif
