/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The machine description every benchmark prints beside its figures: CPU
 * model (from /proc/cpuinfo), online cores and kernel release.
 */
#include "machine.h"

#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

void bf_bench_print_machine(FILE *out) {
  char model[256] = "unknown";
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (f) {
    char line[512];
    while (fgets(line, sizeof line, f)) {
      char *c = strchr(line, ':');
      if (strncmp(line, "model name", 10) != 0 || !c) continue;
      for (c++; *c == ' '; c++) {
      }
      size_t n = strcspn(c, "\n");
      if (n >= sizeof model) n = sizeof model - 1;
      /* keep the JSON string clean */
      for (size_t i = 0; i < n; i++)
        model[i] = (c[i] == '"' || c[i] == '\\') ? ' ' : c[i];
      model[n] = 0;
      break;
    }
    fclose(f);
  }
  struct utsname u;
  if (uname(&u) != 0) strcpy(u.release, "unknown");
  fprintf(out, "\"machine\": {\"cpu\": \"%s\", \"cores\": %ld, \"kernel\": \"%s\"}", model,
          sysconf(_SC_NPROCESSORS_ONLN), u.release);
}
