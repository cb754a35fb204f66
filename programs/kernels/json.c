/* json: generate a JSON document of about KB kilobytes (objects, arrays, strings with escapes,
 * numbers), then parse it ROUNDS times with a recursive-descent parser; prints what it found. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *doc;
static size_t len, cap;
static unsigned seed = 7;

static unsigned rnd(void) { seed = seed * 1103515245 + 12345; return seed >> 8; }
static void put(const char *s) {
  size_t n = strlen(s);
  if (len + n + 1 > cap) { cap = (cap + n + 1) * 2; doc = realloc(doc, cap); }
  memcpy(doc + len, s, n + 1); len += n;
}

static void gen(int depth) {
  char buf[64];
  unsigned k = depth > 4 ? rnd() % 3 : rnd() % 5;
  if (k == 0) { int whole = (int)(rnd() % 20000) - 10000; unsigned frac = rnd() % 100; snprintf(buf, sizeof buf, "%d.%02u", whole, frac); put(buf); }
  else if (k == 1) { snprintf(buf, sizeof buf, "\"name\\\"%u\\n\"", rnd() % 1000); put(buf); }
  else if (k == 2) put(rnd() % 2 ? "true" : "null");
  else if (k == 3) { unsigned n = rnd() % 6; put("["); for (unsigned i = 0; i < n; i++) { if (i) put(","); gen(depth + 1); } put("]"); }
  else { unsigned n = rnd() % 6; put("{"); for (unsigned i = 0; i < n; i++) { if (i) put(","); snprintf(buf, sizeof buf, "\"k%u\":", i); put(buf); gen(depth + 1); } put("}"); }
}

typedef struct { const char *p; double sum; long strings, values; } parser;

static void ws(parser *s) { while (*s->p == ' ' || *s->p == '\n' || *s->p == '\t' || *s->p == '\r') s->p++; }
static int value(parser *s);

static int string(parser *s) {
  if (*s->p != '"') return 0;
  s->p++;
  while (*s->p && *s->p != '"') { if (*s->p == '\\') s->p++; s->p++; }
  if (*s->p != '"') return 0;
  s->p++; s->strings++;
  return 1;
}

static int value(parser *s) {
  ws(s); s->values++;
  char c = *s->p;
  if (c == '"') return string(s);
  if (c == '[' || c == '{') {
    char close = c == '[' ? ']' : '}';
    s->p++; ws(s);
    if (*s->p == close) { s->p++; return 1; }
    for (;;) {
      if (c == '{') { ws(s); if (!string(s)) return 0; ws(s); if (*s->p++ != ':') return 0; }
      if (!value(s)) return 0;
      ws(s);
      if (*s->p == ',') { s->p++; continue; }
      if (*s->p == close) { s->p++; return 1; }
      return 0;
    }
  }
  if (!strncmp(s->p, "true", 4)) { s->p += 4; return 1; }
  if (!strncmp(s->p, "null", 4)) { s->p += 4; return 1; }
  char *end;
  double d = strtod(s->p, &end);
  if (end == s->p) return 0;
  s->sum += d; s->p = end;
  return 1;
}

int main(int argc, char **argv) {
  size_t kb = argc > 1 ? (size_t)atol(argv[1]) : 2048;
  int rounds = argc > 2 ? atoi(argv[2]) : 10;
  put("[");
  while (len < kb * 1024) { if (len > 1) put(","); gen(0); }
  put("]");
  parser s = {0};
  for (int r = 0; r < rounds; r++) {
    s.p = doc; s.sum = 0; s.strings = 0; s.values = 0;
    if (!value(&s)) { printf("parse error at %ld\n", (long)(s.p - doc)); return 1; }
  }
  printf("%zu bytes, %ld values, %ld strings, sum %.2f\n", len, s.values, s.strings, s.sum);
  return 0;
}
