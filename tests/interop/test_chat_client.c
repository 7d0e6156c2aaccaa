/* test_chat_client.c - `wsc chat-client` against py_chat_server.py (the MDN
 * chat protocol on Python websockets), several clients at once, each the
 * built binary as a child with pipes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runcli.h"
#include "spawn.h"
#include "test.h"

#define T 10000 /* ms: bound on every wait */

static char url[128];

static void start_server(peer_proc *peer, const char *send_error) {
  int port = send_error ? peer_start_py(peer, "py_chat_server.py", "--send-error", send_error, NULL)
                        : peer_start_py(peer, "py_chat_server.py", NULL);
  CHECK_INT(port, >, 0);
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/chat", port);
}

static void join(cli_proc *p, const char *name) {
  const char *args[] = {"chat-client", url, "--name", name, NULL};
  CHECK_EQ(cli_start(p, args, NULL), 0);
}

/* Read lines until one is "HH:MM:SS " followed by want (or, when want starts
 * with '*' and the line has no time, equals it). Fails after T ms. */
static void expect(cli_proc *p, const char *want) {
  for (int i = 0; i < 100; i++) {
    const char *l = cli_read_line(p, T);
    if (!l) break;
    int timed = strlen(l) >= 9 && l[2] == ':' && l[5] == ':' && l[8] == ' ';
    if ((timed && strcmp(l + 9, want) == 0) || strcmp(l, want) == 0) return;
    fprintf(stderr, "  (skipping \"%s\" while waiting for \"%s\")\n", l, want);
  }
  fprintf(stderr, "never saw \"%s\"; stderr: %s\n", want, cli_stderr(p));
  CHECK(!"expected line");
}

static void say(cli_proc *p, const char *line) {
  CHECK_EQ(cli_send(p, line, strlen(line), T), 0);
  CHECK_EQ(cli_send(p, "\n", 1, T), 0);
}

/* Log in (subprotocol json offered, username sent with the id), send a
 * message and see it relayed; /quit exits 0 after a 1000 close. */
TEST(chat_login_message_quit) {
  peer_proc peer;
  start_server(&peer, NULL);
  cli_proc a;
  join(&a, "alice");
  expect(&a, "* users: alice");
  char line[1024];
  CHECK_EQ(peer_wait_line(&peer, "CONNECT ", line, sizeof line, T), 1);
  CHECK_STR(line, "CONNECT 1 json");
  CHECK_EQ(peer_wait_line(&peer, "MESSAGE ", line, sizeof line, T), 1);
  CHECK(strstr(line, "\"type\":\"username\"") != NULL);
  CHECK(strstr(line, "\"name\":\"alice\"") != NULL);
  CHECK(strstr(line, "\"id\":1") != NULL);
  CHECK(strstr(line, "\"date\":") != NULL);
  say(&a, "hello \xe2\x9c\x93");
  expect(&a, "<alice> hello \xe2\x9c\x93");
  CHECK_EQ(peer_wait_line(&peer, "MESSAGE ", line, sizeof line, T), 1);
  CHECK(strstr(line, "\"type\":\"message\"") != NULL);
  say(&a, "/quit");
  CHECK_EQ(cli_wait(&a, T), 0);
  CHECK(strstr(cli_stderr(&a), "closed: 1000") != NULL);
  CHECK_EQ(peer_wait_line(&peer, "GONE ", line, sizeof line, T), 1);
  CHECK_STR(line, "GONE 1 1000");
  cli_free(&a);
  peer_stop(&peer);
}

/* A second "alice" is renamed by the server; both see each other's
 * messages; /nick and /users; a control character cannot reach the terminal;
 * end of input leaves the room like /quit. */
TEST(chat_rename_nick_users) {
  peer_proc peer;
  start_server(&peer, NULL);
  cli_proc a, b;
  join(&a, "alice");
  expect(&a, "* users: alice");
  join(&b, "alice");
  expect(&b, "* the name alice is taken; you are now alice2");
  expect(&b, "* users: alice, alice2");
  expect(&a, "* alice2 joined");
  say(&b, "hi from the second \xf0\x9f\x98\x80");
  expect(&a, "<alice2> hi from the second \xf0\x9f\x98\x80");
  expect(&b, "<alice2> hi from the second \xf0\x9f\x98\x80");
  say(&b, "/nick bob");
  expect(&a, "* bob joined");
  expect(&a, "* alice2 left");
  say(&a, "/users");
  expect(&a, "* users (2): alice, bob");
  say(&a, "red \x1b[31malert");
  expect(&b, "<alice> red ?[31malert");
  say(&b, "//slash");
  expect(&a, "<bob> /slash");
  say(&a, "/frobnicate");
  expect(&a, "* unknown command /frobnicate (try /help)");
  cli_close_stdin(&b); /* end of input: leave */
  CHECK_EQ(cli_wait(&b, T), 0);
  expect(&a, "* bob left");
  say(&a, "/quit");
  CHECK_EQ(cli_wait(&a, T), 0);
  cli_free(&a);
  cli_free(&b);
  peer_stop(&peer);
}

/* A server error message is shown. */
TEST(chat_server_error_shown) {
  peer_proc peer;
  start_server(&peer, "no such room");
  cli_proc a;
  join(&a, "carol");
  expect(&a, "! server error: no such room");
  cli_close_stdin(&a);
  CHECK_EQ(cli_wait(&a, T), 0);
  cli_free(&a);
  peer_stop(&peer);
}

/* Connection refused: exit 1 with the cause; a bad URL is a usage error. */
TEST(chat_client_errors) {
  int port = cli_free_port();
  CHECK_INT(port, >, 0);
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/chat", port);
  cli_proc p;
  const char *args[] = {"chat-client", url, "--name", "x", NULL};
  CHECK_EQ(cli_start(&p, args, "/dev/null"), 0);
  CHECK_EQ(cli_wait(&p, T), 1);
  CHECK(strstr(cli_stderr(&p), "connect failed: connection refused") != NULL);
  cli_free(&p);
  const char *bad[] = {"chat-client", "ftp://x/", NULL};
  CHECK_EQ(cli_start(&p, bad, "/dev/null"), 0);
  CHECK_EQ(cli_wait(&p, T), 2);
  CHECK(strstr(cli_stderr(&p), "SyntaxError") != NULL);
  cli_free(&p);
  const char *help[] = {"chat-client", "--help", NULL};
  CHECK_EQ(cli_start(&p, help, "/dev/null"), 0);
  CHECK_EQ(cli_wait(&p, T), 0);
  CHECK(strstr(p.out, "/nick NAME") != NULL);
  cli_free(&p);
}
