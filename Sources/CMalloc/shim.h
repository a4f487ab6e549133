#ifndef ASFCAST_CMALLOC_SHIM_H
#define ASFCAST_CMALLOC_SHIM_H
// glibc's malloc extensions (malloc_trim), which Swift's Glibc module does not bring in.
#include <malloc.h>
#endif
