#ifndef SOCKETBUS_MALLOC_TUNING_H
#define SOCKETBUS_MALLOC_TUNING_H

/// glibc's mallopt(M_ARENA_MAX, arenas): at most that many malloc arenas for
/// all threads. Returns 1 on success, 0 on failure, -1 where malloc has no
/// such option (not glibc).
int socketbus_malloc_set_arena_max(int arenas);

/// glibc's mallopt(M_MMAP_THRESHOLD, bytes): blocks of that size and over get
/// their own mapping, and the threshold no longer moves. Returns as above.
int socketbus_malloc_set_mmap_threshold(int bytes);

/// glibc's malloc_trim(0): gives the free pages of every arena back to the
/// system (madvise on the free chunks inside them too, not only the top).
/// Returns 1 when memory was returned, 0 when none was, -1 where malloc has
/// no such call (not glibc).
int socketbus_malloc_trim(void);

/// The number of malloc arenas in the process (the heaps malloc_info lists),
/// or -1 where that cannot be read.
long socketbus_malloc_arena_count(void);

#endif
