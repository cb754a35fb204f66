/* sandbox CMD [ARG]...: probes of the WASI sandbox, one line of output each. Commands:
 *   read PATH | write PATH | list PATH   try to use a path (prints "ok" or "error <errno>")
 *   closestdio                           close fds 0 and 1, then write to stderr
 *   renumber PATH                        make fd 1 a file, then print into it
 *   sockets                              try to accept on fds 0..15
 *   spin                                 loop forever
 *   echo                                 copy stdin to stdout, flushing every chunk
 *   big N                                write N bytes to stdout
 *   exit N                               exit with code N */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

static void report(const char *what, const char *path, int ok) {
  if (ok) printf("%s %s: ok\n", what, path);
  else printf("%s %s: error %d\n", what, path, errno);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *cmd = argv[i];
    const char *arg = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(cmd, "read")) {
      int fd = open(arg, O_RDONLY);
      char c;
      report("read", arg, fd >= 0 && read(fd, &c, 1) >= 0);
      if (fd >= 0) close(fd);
      i++;
    } else if (!strcmp(cmd, "write")) {
      int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      report("write", arg, fd >= 0 && write(fd, "x", 1) == 1);
      if (fd >= 0) close(fd);
      i++;
    } else if (!strcmp(cmd, "list")) {
      DIR *d = opendir(arg);
      report("list", arg, d != NULL);
      if (d) closedir(d);
      i++;
    } else if (!strcmp(cmd, "closestdio")) {
      close(0);
      close(1);
      fprintf(stderr, "stderr still works\n");
    } else if (!strcmp(cmd, "renumber")) {
      int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0 || __wasi_fd_renumber(fd, 1) != 0) { fprintf(stderr, "renumber failed\n"); return 3; }
      printf("into the file\n");
      fflush(stdout);
      i++;
    } else if (!strcmp(cmd, "sockets")) {
      int accepted = 0;
      for (int fd = 0; fd < 16; fd++) {
        __wasi_fd_t out;
        if (__wasi_sock_accept(fd, 0, &out) == 0) accepted++;
      }
      printf("sockets accepted: %d\n", accepted);
    } else if (!strcmp(cmd, "spin")) {
      volatile unsigned long n = 0;
      for (;;) n++;
    } else if (!strcmp(cmd, "echo")) {
      char buf[4096];
      size_t n;
      while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) { fwrite(buf, 1, n, stdout); fflush(stdout); }
    } else if (!strcmp(cmd, "big")) {
      long n = atol(arg);
      char buf[8192];
      memset(buf, 'x', sizeof buf);
      while (n > 0) { long k = n < (long)sizeof buf ? n : (long)sizeof buf; fwrite(buf, 1, k, stdout); n -= k; }
      fflush(stdout);
      i++;
    } else if (!strcmp(cmd, "exit")) {
      exit(atoi(arg));
    } else {
      fprintf(stderr, "unknown command %s\n", cmd);
      return 64;
    }
  }
  return 0;
}
