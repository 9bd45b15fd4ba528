// Counts heap allocations made by the whole process, so a benchmark can report
// allocations per message.
//
// The library defines malloc, calloc, realloc, free, posix_memalign,
// aligned_alloc and memalign itself. Linked into an executable, these
// definitions take the place of glibc's for the executable and every shared
// library it loads (the Swift runtime included); each one counts the call and
// forwards to glibc's allocator through its __libc_* entry points. Linux and
// glibc only.
#ifndef CALLOCCOUNTER_H
#define CALLOCCOUNTER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Number of allocation calls (malloc, calloc, realloc, posix_memalign,
/// aligned_alloc, memalign) since start or the last reset. free is not counted.
uint64_t alloc_counter_total(void);

/// Sets the count back to zero.
void alloc_counter_reset(void);

#ifdef __cplusplus
}
#endif

#endif
