/* hasher [DIR]: SHA-256 of stdin, then of every regular file in DIR (sorted by name), in the
 * format of sha256sum. Exit 0, or 2 if DIR cannot be read. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "sha256.h"

static void hash_stream(FILE *f, const char *name) {
  static unsigned char buf[65536]; /* static: the wasm stack is 64 KiB */
  sha256_ctx c; char hex[65]; size_t n;
  sha256_init(&c);
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) sha256_update(&c, buf, n);
  sha256_hex(&c, hex);
  printf("%s  %s\n", hex, name);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
  hash_stream(stdin, "-");
  if (argc < 2) return 0;
  DIR *d = opendir(argv[1]);
  if (!d) { fprintf(stderr, "hasher: cannot open %s\n", argv[1]); return 2; }
  char *names[1024]; int count = 0; struct dirent *e;
  while ((e = readdir(d)) && count < 1024) if (e->d_name[0] != '.') names[count++] = strdup(e->d_name);
  closedir(d);
  qsort(names, count, sizeof names[0], by_name);
  for (int i = 0; i < count; i++) {
    char path[4096]; struct stat st;
    snprintf(path, sizeof path, "%s/%s", argv[1], names[i]);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    FILE *f = fopen(path, "rb");
    if (!f) { printf("unreadable  %s\n", path); continue; }
    hash_stream(f, path);
    fclose(f);
  }
  return 0;
}
