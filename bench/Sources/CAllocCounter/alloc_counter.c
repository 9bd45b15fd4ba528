// See include/CAllocCounter.h.
#include "CAllocCounter.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

// glibc's allocator, under the names it exports for exactly this purpose.
// Calling these (rather than looking up "malloc" with dlsym) needs no set-up,
// so the first allocation of the process, made before main, works too.
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void __libc_free(void *pointer);
extern void *__libc_memalign(size_t alignment, size_t size);

// Relaxed: the count is read only between benchmark rounds, and the increment
// must not add ordering cost to every allocation of every thread.
static _Atomic uint64_t allocations;

static inline void count_one(void) {
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
}

static inline int is_power_of_two(size_t value) {
    return value != 0 && (value & (value - 1)) == 0;
}

uint64_t alloc_counter_total(void) {
    return atomic_load_explicit(&allocations, memory_order_relaxed);
}

void alloc_counter_reset(void) {
    atomic_store_explicit(&allocations, 0, memory_order_relaxed);
}

void *malloc(size_t size) {
    count_one();
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    count_one();
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    count_one();
    return __libc_realloc(pointer, size);
}

void free(void *pointer) {
    __libc_free(pointer);
}

void *memalign(size_t alignment, size_t size) {
    count_one();
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    count_one();
    if (!is_power_of_two(alignment)) {
        errno = EINVAL;
        return NULL;
    }
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    count_one();
    if (!is_power_of_two(alignment) || alignment % sizeof(void *) != 0) {
        return EINVAL;
    }
    int saved_errno = errno;  // posix_memalign reports through its result only
    void *pointer = __libc_memalign(alignment, size);
    errno = saved_errno;
    if (pointer == NULL) {
        return ENOMEM;
    }
    *result = pointer;
    return 0;
}
