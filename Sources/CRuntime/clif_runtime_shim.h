#ifndef CLIF_RUNTIME_SHIM_H
#define CLIF_RUNTIME_SHIM_H
// glibc's allocator tuning (mallopt), which Swift's Glibc module leaves out.
#include <malloc.h>
#endif
