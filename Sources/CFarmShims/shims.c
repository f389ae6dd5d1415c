#define _GNU_SOURCE
#include <string.h>
#include "CFarmShims.h"


#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

int farm_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
#else
    /* C libraries without it: a close action for each descriptor open now. */
    long limit = sysconf(_SC_OPEN_MAX);
    if (limit < 0 || limit > 65536) {
        limit = 65536;
    }
    for (int fd = lowest; fd < limit; fd++) {
        if (fcntl(fd, F_GETFD) != -1) {
            int result = posix_spawn_file_actions_addclose(actions, fd);
            if (result != 0) {
                return result;
            }
        }
    }
    return 0;
#endif
}

void farm_advise_huge_pages(void *address, size_t length) {
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = 2u << 20;
    uintptr_t start = ((uintptr_t)address + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)address + length) & ~(huge - 1);
    if (end > start) {
        madvise((void *)start, end - start, MADV_HUGEPAGE);
    }
#endif
}

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

size_t farm_find_newlines(const unsigned char *data, size_t length, size_t *offsets, size_t capacity) {
    size_t found = 0;
    size_t index = 0;
#if defined(__SSE2__)
    /* 16 bytes at a time: compare with '\n', then walk the set bits of the mask. */
    const __m128i newline = _mm_set1_epi8('\n');
    while (index + 16 <= length) {
        __m128i block = _mm_loadu_si128((const __m128i *)(data + index));
        unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(block, newline));
        while (mask != 0) {
            if (found == capacity) return found;
            offsets[found++] = index + (size_t)__builtin_ctz(mask);
            mask &= mask - 1;
        }
        index += 16;
    }
#endif
    for (; index < length; index++) {
        if (data[index] == '\n') {
            if (found == capacity) return found;
            offsets[found++] = index;
        }
    }
    return found;
}
