// mallopt's option names are macros of <malloc.h>, which Swift's Glibc module
// does not import; these wrappers take them from the header itself.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socketbus_malloc_tuning.h"

#if defined(__GLIBC__)
#include <malloc.h>

int socketbus_malloc_set_arena_max(int arenas) { return mallopt(M_ARENA_MAX, arenas); }

int socketbus_malloc_set_mmap_threshold(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes); }

int socketbus_malloc_trim(void) { return malloc_trim(0); }

long socketbus_malloc_arena_count(void) {
    char *text = NULL;
    size_t length = 0;
    FILE *stream = open_memstream(&text, &length);
    if (stream == NULL) return -1;
    int failed = malloc_info(0, stream);
    if (fclose(stream) != 0) failed = 1;
    if (failed != 0 || text == NULL) {
        free(text);
        return -1;
    }
    // One <heap nr="N"> element per arena, in the order malloc links them.
    long arenas = 0;
    for (const char *at = text; (at = strstr(at, "<heap nr=")) != NULL; at += 9) arenas += 1;
    free(text);
    return arenas;
}

#else

int socketbus_malloc_set_arena_max(int arenas) { (void)arenas; return -1; }

int socketbus_malloc_set_mmap_threshold(int bytes) { (void)bytes; return -1; }

int socketbus_malloc_trim(void) { return -1; }

long socketbus_malloc_arena_count(void) { return -1; }

#endif
