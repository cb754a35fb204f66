/* files [DIR]: create, list, rename, read and remove files under DIR (default "."), printing
 * each step. Exit 0 when every step did what it should, 1 otherwise. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[4096];
static int failures = 0;

static const char *at(const char *name) {
  static char path[2][4096]; static int k = 0;
  k ^= 1;
  snprintf(path[k], sizeof path[k], "%s/%s", base, name);
  return path[k];
}

static void check(int ok, const char *what) {
  printf("%-28s %s\n", what, ok ? "ok" : "FAILED");
  if (!ok) failures++;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *dir) {
  DIR *d = opendir(at(dir));
  if (!d) { check(0, "opendir"); return; }
  char *names[256]; int n = 0; struct dirent *e;
  while ((e = readdir(d)) && n < 256) if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, n, sizeof names[0], by_name);
  printf("list %s:", dir);
  for (int i = 0; i < n; i++) {
    char rel[512]; struct stat st;
    snprintf(rel, sizeof rel, "%s/%s", dir, names[i]);
    stat(at(rel), &st);
    printf(" %s(%lld)", names[i], (long long)st.st_size);
    free(names[i]);
  }
  printf("\n");
}

static int put(const char *name, const char *text) {
  FILE *f = fopen(at(name), "w");
  if (!f) return 0;
  int ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok;
}

int main(int argc, char **argv) {
  snprintf(base, sizeof base, "%s", argc > 1 ? argv[1] : ".");
  check(mkdir(at("work"), 0755) == 0, "mkdir work");
  check(mkdir(at("work"), 0755) != 0 && errno == EEXIST, "mkdir work again: EEXIST");
  check(put("work/a.txt", "alpha\n"), "write work/a.txt");
  check(put("work/b.txt", "bravo bravo\n"), "write work/b.txt");
  check(mkdir(at("work/sub"), 0755) == 0, "mkdir work/sub");
  list("work");
  check(rename(at("work/a.txt"), at("work/sub/c.txt")) == 0, "rename a.txt -> sub/c.txt");
  list("work");
  list("work/sub");
  FILE *f = fopen(at("work/sub/c.txt"), "r");
  char line[64] = "";
  check(f && fgets(line, sizeof line, f) && strcmp(line, "alpha\n") == 0, "read sub/c.txt");
  if (f) fclose(f);
  f = fopen(at("work/b.txt"), "a");
  check(f && fputs("charlie\n", f) >= 0 && fclose(f) == 0, "append work/b.txt");
  list("work");
  check(unlink(at("work/b.txt")) == 0, "unlink b.txt");
  check(unlink(at("work/b.txt")) != 0 && errno == ENOENT, "unlink b.txt again: ENOENT");
  check(rmdir(at("work/sub")) != 0 && errno == ENOTEMPTY, "rmdir non-empty: ENOTEMPTY");
  check(unlink(at("work/sub/c.txt")) == 0, "unlink sub/c.txt");
  check(rmdir(at("work/sub")) == 0, "rmdir work/sub");
  check(rmdir(at("work")) == 0, "rmdir work");
  struct stat st;
  check(stat(at("work"), &st) != 0 && errno == ENOENT, "work is gone");
  printf("failures: %d\n", failures);
  return failures ? 1 : 0;
}
