/* A WASI reactor that takes strings and bytes from the host the usual way: the host allocates in
 * guest memory through an exported allocator (`malloc`-like `alloc`, or the component model's
 * `cabi_realloc`), writes the bytes, and passes (ptr, len). */
#include <stdint.h>
#include <stdlib.h>

__attribute__((export_name("alloc"))) void *alloc(size_t size) { return malloc(size); }

__attribute__((export_name("dealloc"))) void dealloc(void *p) { free(p); }

__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
  (void)old_size;
  (void)align; /* malloc's alignment (16) covers every alignment the host asks for */
  return realloc(old, new_size);
}

/* Unicode code points in the UTF-8 text at (p, len): bytes that do not continue a sequence. */
__attribute__((export_name("count_chars"))) int count_chars(const uint8_t *p, size_t len) {
  int n = 0;
  for (size_t i = 0; i < len; i++) n += (p[i] & 0xC0) != 0x80;
  return n;
}

/* ASCII letters upper-cased in place; returns how many changed. */
__attribute__((export_name("shout"))) int shout(uint8_t *p, size_t len) {
  int changed = 0;
  for (size_t i = 0; i < len; i++) {
    if (p[i] >= 'a' && p[i] <= 'z') {
      p[i] -= 32;
      changed++;
    }
  }
  return changed;
}

/* FNV-1a of the bytes at (p, len), as an unsigned 32-bit value. */
__attribute__((export_name("fnv1a"))) uint32_t fnv1a(const uint8_t *p, size_t len) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}
