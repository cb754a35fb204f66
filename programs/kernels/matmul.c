/* matmul: multiply two N×N double matrices ROUNDS times (i-k-j order); prints a checksum. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 256;
  int rounds = argc > 2 ? atoi(argv[2]) : 8;
  double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n), *c = malloc(sizeof(double) * n * n);
  for (int i = 0; i < n * n; i++) { a[i] = (i % 7) * 0.5 - 1; b[i] = (i % 11) * 0.25 + 0.1; }
  double check = 0;
  for (int r = 0; r < rounds; r++) {
    for (int i = 0; i < n * n; i++) c[i] = 0;
    for (int i = 0; i < n; i++)
      for (int k = 0; k < n; k++) {
        double aik = a[i * n + k];
        for (int j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
      }
    check += c[(r * 31) % (n * n)];
    a[r % (n * n)] += 1;
  }
  printf("%.6f\n", check);
  return 0;
}
