#ifndef CFARMSHIMS_H
#define CFARMSHIMS_H
#include <stddef.h>

/// Finds `needle` in `haystack` (glibc's memmem, which Swift's Glibc module does not export).
void *farm_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length);

#endif
