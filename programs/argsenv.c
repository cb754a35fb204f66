/* argsenv [ARGS...]: print the arguments, then the environment sorted, then exit with the
 * code in $EXIT_CODE (0 when unset). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int by_text(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
  printf("argc=%d\n", argc);
  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  int n = 0;
  while (environ && environ[n]) n++;
  char **env = malloc((n + 1) * sizeof *env);
  memcpy(env, environ, n * sizeof *env);
  qsort(env, n, sizeof *env, by_text);
  for (int i = 0; i < n; i++) printf("env %s\n", env[i]);
  const char *code = getenv("EXIT_CODE");
  fprintf(stderr, "exiting with %s\n", code ? code : "0");
  return code ? atoi(code) : 0;
}
