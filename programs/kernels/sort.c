/* sort: sort N pseudo-random 32-bit integers with a hand-written merge sort and with libc's
 * qsort; prints a checksum of the sorted order. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void merge_sort(uint32_t *a, uint32_t *tmp, size_t n) {
  if (n < 2) return;
  size_t h = n / 2;
  merge_sort(a, tmp, h);
  merge_sort(a + h, tmp, n - h);
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n) tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
  while (i < h) tmp[k++] = a[i++];
  while (j < n) tmp[k++] = a[j++];
  memcpy(a, tmp, n * sizeof *a);
}

static int cmp(const void *x, const void *y) {
  uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
  return a < b ? -1 : a > b;
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? (size_t)atol(argv[1]) : 1000000;
  uint32_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *tmp = malloc(n * sizeof *tmp);
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; a[i] = b[i] = x; }
  merge_sort(a, tmp, n);
  qsort(b, n, sizeof *b, cmp);
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++) {
    if (a[i] != b[i] || (i && a[i - 1] > a[i])) { printf("unsorted at %zu\n", i); return 1; }
    sum = sum * 31 + a[i];
  }
  printf("%llu\n", (unsigned long long)sum);
  return 0;
}
