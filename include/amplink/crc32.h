/* CRC-32 as in IEEE 802.3, zlib's crc32() and the reliable channel's wire
 * header (docs/reliable.md): reflected polynomial 0xEDB88320, initial value
 * and final xor 0xFFFFFFFF; crc32("123456789") = 0xCBF43926. Portable core
 * code: a 16-entry table (64 bytes), no malloc.
 */
#ifndef AMPLINK_CRC32_H
#define AMPLINK_CRC32_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** CRC-32 of `len` bytes at `data`, continuing from `crc` (0 to start; the
 *  result of a previous call to continue over more bytes). Pure function,
 *  any context (ISR included). `data` may be NULL when len is 0. */
uint32_t al_crc32(uint32_t crc, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
