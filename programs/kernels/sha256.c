/* sha256: hash MB megabytes of generated data; prints the digest. */
#include <stdio.h>
#include <stdlib.h>
#include "../sha256.h"

int main(int argc, char **argv) {
  int mb = argc > 1 ? atoi(argv[1]) : 64;
  static unsigned char block[1 << 20];
  unsigned x = 12345;
  for (size_t i = 0; i < sizeof block; i++) { x = x * 1103515245 + 12345; block[i] = (unsigned char)(x >> 16); }
  sha256_ctx c; char hex[65];
  sha256_init(&c);
  for (int i = 0; i < mb; i++) { block[i % sizeof block] ^= (unsigned char)i; sha256_update(&c, block, sizeof block); }
  sha256_hex(&c, hex);
  printf("%s\n", hex);
  return 0;
}
