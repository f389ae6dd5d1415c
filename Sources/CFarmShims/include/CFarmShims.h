#ifndef CFARMSHIMS_H
#define CFARMSHIMS_H
#include <stddef.h>
#include <spawn.h>




/// Asks the kernel to back `length` bytes at `address` with transparent huge pages where it can
/// (whole 2 MiB blocks inside the range); a no-op where that is not supported.
void farm_advise_huge_pages(void *address, size_t length);
/// Writes the offsets of the `\n` bytes in `data[0..<length]` to `offsets` (at most `capacity`)
/// and returns how many it wrote; scanning stops early when `offsets` is full.
size_t farm_find_newlines(const unsigned char *data, size_t length, size_t *offsets, size_t capacity);
/// Makes a posix_spawn child close every descriptor from `lowest` up before it runs the program
/// (glibc's posix_spawn_file_actions_addclosefrom_np); returns 0 or an error number.
int farm_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest);
#endif
