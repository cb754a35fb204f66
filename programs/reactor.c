/* A WASI reactor (built with -mexec-model=reactor): `_initialize` runs the constructor below,
 * then the host calls the exports. */
#include <stdio.h>
#include <stdlib.h>

static int counter;

__attribute__((constructor)) static void init(void) { counter = 100; }

__attribute__((export_name("bump"))) int bump(int by) {
  counter += by;
  printf("bump %d -> %d\n", by, counter);
  fflush(stdout);
  return counter;
}

__attribute__((export_name("exit_with"))) void exit_with(int code) { exit(code); }
