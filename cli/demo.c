/* demo.c - placeholder until the core is wired in (same session). */
#include <stdio.h>

#include "cli.h"

int cli_demo(int argc, char **argv) {
  (void)argc;
  (void)argv;
  printf("demo: not built yet\n");
  return 1;
}
