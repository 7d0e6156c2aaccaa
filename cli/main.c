/* main.c - the wsc command-line tool: dispatches to one file per subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "wsc.h"

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} commands[] = {
    {"demo", cli_demo, "run a client and a server core against each other in memory"},
    {"autobahn", cli_autobahn, "client agent for an Autobahn fuzzing server (echoes every case)"},
    {"echo", cli_echo, "run a WebSocket echo server"},
    {"chat", cli_chat, "run the chat server (web page and WebSocket chat)"},
    {"connect", cli_connect, "talk to a WebSocket server: stdin lines out, messages to stdout"},
    {"chat-client", cli_chat_client, "terminal client for the chat server (wsc chat)"},
};

static void usage(FILE *f) {
  fprintf(f,
          "usage: wsc [--help] [--version] COMMAND [ARGS]\n\n"
          "WebSocket for C: library, server and command-line tool.\n\n"
          "Commands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\nRun 'wsc COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("wsc %s\n", wsc_version());
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "wsc: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
