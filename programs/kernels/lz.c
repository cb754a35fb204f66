/* lz: LZ77-compress then decompress KB kilobytes of generated, repetitive text (hash-chain
 * match finder); checks the round trip and prints the sizes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 65535
#define MIN_MATCH 4
#define HASH_BITS 15

static size_t compress(const uint8_t *in, size_t n, uint8_t *out) {
  static int32_t head[1 << HASH_BITS];
  int32_t *prev = malloc(n * sizeof *prev);
  memset(head, -1, sizeof head);
  size_t o = 0, i = 0, lit_start = 0;
  while (i < n) {
    size_t best = 0, dist = 0;
    if (i + MIN_MATCH <= n) {
      uint32_t h = ((uint32_t)in[i] << 16 ^ (uint32_t)in[i + 1] << 8 ^ in[i + 2] ^ (uint32_t)in[i + 3] << 4) * 2654435761u >> (32 - HASH_BITS);
      int32_t cand = head[h];
      for (int tries = 0; cand >= 0 && i - cand <= WINDOW && tries < 32; tries++, cand = prev[cand]) {
        size_t l = 0;
        while (i + l < n && l < 255 + MIN_MATCH && in[cand + l] == in[i + l]) l++;
        if (l > best) { best = l; dist = i - cand; }
      }
      prev[i] = head[h]; head[h] = (int32_t)i;
    }
    if (best >= MIN_MATCH) {
      size_t lits = i - lit_start;
      while (lits > 0) { size_t k = lits > 127 ? 127 : lits; out[o++] = (uint8_t)k; memcpy(out + o, in + lit_start, k); o += k; lit_start += k; lits -= k; }
      out[o++] = 0x80; out[o++] = (uint8_t)(best - MIN_MATCH); out[o++] = (uint8_t)dist; out[o++] = (uint8_t)(dist >> 8);
      for (size_t k = 1; k < best && i + k + MIN_MATCH <= n; k++) {
        uint32_t h = ((uint32_t)in[i + k] << 16 ^ (uint32_t)in[i + k + 1] << 8 ^ in[i + k + 2] ^ (uint32_t)in[i + k + 3] << 4) * 2654435761u >> (32 - HASH_BITS);
        prev[i + k] = head[h]; head[h] = (int32_t)(i + k);
      }
      i += best; lit_start = i;
    } else {
      i++;
    }
  }
  size_t lits = n - lit_start;
  while (lits > 0) { size_t k = lits > 127 ? 127 : lits; out[o++] = (uint8_t)k; memcpy(out + o, in + lit_start, k); o += k; lit_start += k; lits -= k; }
  free(prev);
  return o;
}

static size_t decompress(const uint8_t *in, size_t n, uint8_t *out) {
  size_t i = 0, o = 0;
  while (i < n) {
    uint8_t tag = in[i++];
    if (tag & 0x80) {
      size_t l = in[i] + MIN_MATCH, d = in[i + 1] | (size_t)in[i + 2] << 8;
      i += 3;
      for (size_t k = 0; k < l; k++, o++) out[o] = out[o - d];
    } else {
      memcpy(out + o, in + i, tag); i += tag; o += tag;
    }
  }
  return o;
}

int main(int argc, char **argv) {
  size_t n = (argc > 1 ? (size_t)atol(argv[1]) : 4096) * 1024;
  const char *words[] = {"wasm ", "engine ", "store ", "module ", "instance ", "memory ", "table ", "global ", "fuel ", "epoch ", "\n"};
  uint8_t *text = malloc(n), *packed = malloc(n + n / 64 + 16), *back = malloc(n);
  unsigned x = 99;
  for (size_t i = 0; i < n;) {
    x = x * 1103515245 + 12345;
    const char *w = words[(x >> 16) % 11];
    for (size_t k = 0; w[k] && i < n; k++) text[i++] = (x >> 24) % 50 == 0 ? (uint8_t)('a' + x % 26) : (uint8_t)w[k];
  }
  size_t c = compress(text, n, packed);
  size_t d = decompress(packed, c, back);
  if (d != n || memcmp(text, back, n)) { printf("round trip failed\n"); return 1; }
  printf("%zu -> %zu bytes\n", n, c);
  return 0;
}
