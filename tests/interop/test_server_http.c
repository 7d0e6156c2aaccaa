/* test_server_http.c - the wsc server's plain-HTTP side and its handshake
 * refusals, from a raw client (peers/raw_client.py) and real ones:
 * wsc_server_set_onhttp with wsc_request_serve_file (GET, HEAD, types, 304,
 * 404, 403 for escapes, 405) and wsc_request_respond; no handler -> 404;
 * 426/405/431 refusals; the origin allow-list (403); the connection cap
 * (503); slow-loris handshakes dropped at the handshake timeout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "spawn.h"
#include "srvharness.h"
#include "test.h"

#define REQ(method, path, extra) method " " path " HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n" extra "\\r\\n"
#define UPGRADE_HEADERS                                                                   \
  "Upgrade: websocket\\r\\nConnection: Upgrade\\r\\n"                                     \
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\n"
/* Thu, 02 Jan 2020 03:04:05 GMT */
#define MTIME 1577934245
#define MTIME_HTTP "Thu, 02 Jan 2020 03:04:05 GMT"

typedef struct site {
  char root[256];
  int calls;
} site;

static void write_file(const char *dir, const char *name, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  fputs(text, f);
  fclose(f);
  struct timeval tv[2] = {{MTIME, 0}, {MTIME, 0}};
  CHECK_EQ(utimes(path, tv), 0);
}

/* root/: a.txt, index.html, style.css, sub/index.html, out -> /etc/passwd,
 * in -> a.txt (a link that stays inside). */
static void make_site(site *s) {
  memset(s, 0, sizeof *s);
  CHECK_EQ(peer_tmpdir(s->root, sizeof s->root), 0);
  write_file(s->root, "a.txt", "hello file\n");
  write_file(s->root, "index.html", "<p>index</p>");
  write_file(s->root, "style.css", "p{}");
  char p[512];
  snprintf(p, sizeof p, "%s/sub", s->root);
  CHECK_EQ(mkdir(p, 0755), 0);
  write_file(s->root, "sub/index.html", "<p>sub</p>");
  snprintf(p, sizeof p, "%s/out", s->root);
  CHECK_EQ(symlink("/etc/passwd", p), 0);
  snprintf(p, sizeof p, "%s/in", s->root);
  CHECK_EQ(symlink("a.txt", p), 0);
}

static void remove_site(site *s) {
  char p[512];
  snprintf(p, sizeof p, "%s/sub/index.html", s->root);
  unlink(p);
  snprintf(p, sizeof p, "%s/sub", s->root);
  rmdir(p); /* peer_tmpdir's cleanup removes files only */
}

static void on_http(wsc_server *srv, wsc_request *req, void *user) {
  site *s = user;
  (void)srv;
  s->calls++;
  CHECK(!wsc_request_is_upgrade(req));
  CHECK(wsc_request_protocol(req, 0) == NULL);
  CHECK_EQ(wsc_request_accept(req, NULL), WSC_EINVAL);
  CHECK_EQ(wsc_request_decline_deflate(req), WSC_EINVAL); /* nothing to decline */
  const char *path = wsc_request_path(req);
  if (strcmp(path, "/custom") == 0) {
    CHECK_STR(wsc_request_query(req), "x=1");
    CHECK_STR(wsc_request_target(req), "/custom?x=1");
    CHECK_STR(wsc_request_header(req, "x-test"), "yes");
    CHECK(strncmp(wsc_request_peer(req), "127.0.0.1:", 10) == 0);
    const char *bad[] = {"Content-Length: 3"};
    CHECK_EQ(wsc_request_respond(req, 200, bad, 1, "abc", 3), WSC_EINVAL);
    const char *h[] = {"X-Custom: custom value", "Content-Type: text/plain"};
    CHECK_EQ(wsc_request_respond(req, 201, h, 2, "custom body", 11), 0);
    CHECK_EQ(wsc_request_respond(req, 201, h, 2, "again", 5), WSC_EINVALIDSTATE);
  } else if (strcmp(path, "/teapot") == 0) {
    CHECK_EQ(wsc_request_reject(req, 418, "short and stout"), 0);
  } else if (strcmp(path, "/nothing") == 0) {
    /* no answer: 404 */
  } else {
    CHECK_EQ(wsc_request_serve_file(req, s->root), 0);
    CHECK_EQ(wsc_request_serve_file(req, s->root), WSC_EINVALIDSTATE);
  }
}

static sh_proc *raw_http(sh_ctx *t, const char *const *requests, size_t n) {
  const char *argv[80];
  char port[16], script[512];
  snprintf(port, sizeof port, "%d", wsc_server_port(t->srv));
  snprintf(script, sizeof script, "%s/raw_client.py", peer_dir());
  size_t k = 0;
  argv[k++] = peer_python();
  argv[k++] = script;
  argv[k++] = "127.0.0.1";
  argv[k++] = port;
  argv[k++] = "--mode";
  argv[k++] = "http";
  for (size_t i = 0; i < n && k < 78; i++) {
    argv[k++] = "--request";
    argv[k++] = requests[i];
  }
  argv[k] = NULL;
  sh_proc *p = sh_spawn(t, argv);
  sh_wait_ok(t, p, 30);
  return p;
}

TEST(server_http_static_files) {
  site s;
  make_site(&s);
  sh_ctx c, *t = &c;
  sh_init(t, NULL);
  wsc_server_set_onhttp(t->srv, on_http, &s);
  const char *reqs[] = {
      REQ("GET", "/a.txt", ""),                                              /* 0 */
      REQ("HEAD", "/a.txt", ""),                                             /* 1 */
      REQ("GET", "/a.txt", "If-Modified-Since: " MTIME_HTTP "\\r\\n"),       /* 2 */
      REQ("GET", "/a.txt", "If-Modified-Since: Wed, 01 Jan 2020 00:00:00 GMT\\r\\n"), /* 3 */
      REQ("GET", "/missing.txt", ""),                                        /* 4 */
      REQ("GET", "/../etc/passwd", ""),                                      /* 5 */
      REQ("GET", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", ""),                    /* 6 */
      REQ("GET", "/..%2f..%2f..%2f..%2fetc%2fpasswd", ""),                   /* 7 */
      REQ("GET", "/out", ""),                                                /* 8 */
      REQ("POST", "/a.txt", "Content-Length: 0\\r\\n"),                      /* 9 */
      REQ("GET", "/", ""),                                                   /* 10 */
      REQ("GET", "/sub/", ""),                                               /* 11 */
      REQ("GET", "/style.css", ""),                                          /* 12 */
      REQ("GET", "/in", ""),                                                 /* 13 */
      REQ("GET", "/sub/../a.txt", ""),                                       /* 14 */
      REQ("GET", "/%2E%2E/etc/passwd", ""),                                  /* 15 */
  };
  sh_proc *p = raw_http(t, reqs, sizeof reqs / sizeof reqs[0]);
  SH_HAS_LINE(p, "RESP 0 200");
  SH_HAS_LINE(p, "HDR 0 Content-Type: text/plain; charset=utf-8");
  SH_HAS_LINE(p, "HDR 0 Last-Modified: " MTIME_HTTP);
  SH_HAS_LINE(p, "HDR 0 Content-Length: 11");
  SH_HAS_LINE(p, "BODY 0 11 hello file\\n");
  SH_HAS_LINE(p, "RESP 1 200");
  SH_HAS_LINE(p, "HDR 1 Content-Length: 11");
  SH_HAS_LINE(p, "BODY 1 0 ");
  SH_HAS_LINE(p, "RESP 2 304");
  SH_HAS_LINE(p, "BODY 2 0 ");
  SH_HAS_LINE(p, "RESP 3 200");
  SH_HAS_LINE(p, "RESP 4 404");
  SH_HAS_LINE(p, "RESP 5 403");
  SH_HAS_LINE(p, "RESP 6 403");
  SH_HAS_LINE(p, "RESP 7 403");
  SH_HAS_LINE(p, "RESP 8 403");
  SH_HAS_LINE(p, "RESP 9 405");
  SH_HAS_LINE(p, "HDR 9 Allow: GET, HEAD");
  SH_HAS_LINE(p, "RESP 10 200");
  SH_HAS_LINE(p, "HDR 10 Content-Type: text/html; charset=utf-8");
  SH_HAS_LINE(p, "BODY 10 12 <p>index</p>");
  SH_HAS_LINE(p, "BODY 11 10 <p>sub</p>");
  SH_HAS_LINE(p, "HDR 12 Content-Type: text/css; charset=utf-8");
  SH_HAS_LINE(p, "BODY 13 11 hello file\\n");
  SH_HAS_LINE(p, "BODY 14 11 hello file\\n");
  SH_HAS_LINE(p, "RESP 15 403");
  CHECK_EQ(sh_count_lines(p, "RESP "), 16);
  CHECK(sh_line(p, "BODY 8 ") && !strstr(sh_line(p, "BODY 8 "), "root:")); /* never leaked */
  CHECK_EQ(s.calls, 16);
  SH_CHECK_LOG(""); /* plain requests never become sockets */
  sh_finish(t);
  remove_site(&s);
}

TEST(server_http_respond_and_defaults) {
  site s;
  make_site(&s);
  sh_ctx c, *t = &c;
  sh_init(t, NULL);
  /* no handler yet: every plain request gets 404 */
  const char *before[] = {REQ("GET", "/a.txt", "")};
  sh_proc *p = raw_http(t, before, 1);
  SH_HAS_LINE(p, "RESP 0 404");
  wsc_server_set_onhttp(t->srv, on_http, &s);
  const char *reqs[] = {
      REQ("GET", "/custom?x=1", "X-Test: yes\\r\\n"),
      REQ("HEAD", "/custom?x=1", "X-Test: yes\\r\\n"),
      REQ("GET", "/nothing", ""),
      REQ("GET", "/teapot", ""),
  };
  sh_proc *q = raw_http(t, reqs, 4);
  SH_HAS_LINE(q, "RESP 0 201");
  SH_HAS_LINE(q, "HDR 0 X-Custom: custom value");
  SH_HAS_LINE(q, "HDR 0 Content-Type: text/plain");
  SH_HAS_LINE(q, "HDR 0 Content-Length: 11");
  SH_HAS_LINE(q, "HDR 0 Connection: close");
  SH_HAS_LINE(q, "BODY 0 11 custom body");
  SH_HAS_LINE(q, "RESP 1 201");
  SH_HAS_LINE(q, "HDR 1 Content-Length: 11");
  SH_HAS_LINE(q, "BODY 1 0 ");
  SH_HAS_LINE(q, "RESP 2 404");
  SH_HAS_LINE(q, "RESP 3 418");
  CHECK(strstr(sh_line(q, "BODY 3 "), "short and stout") != NULL);
  CHECK_EQ(s.calls, 4);
  sh_finish(t);
  remove_site(&s);
}

/* ---- handshake refusals ------------------------------------------------------ */

TEST(server_handshake_refusals) {
  wsc_server_options o;
  wsc_server_options_init(&o);
  o.max_handshake = 4096;
  sh_ctx c, *t = &c;
  sh_init(t, &o);
  static char big[6000];
  snprintf(big, sizeof big, "GET / HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n" UPGRADE_HEADERS
                            "Sec-WebSocket-Version: 13\\r\\nX-Big: %05000d\\r\\n\\r\\n", 0);
  const char *reqs[] = {
      REQ("GET", "/", UPGRADE_HEADERS "Sec-WebSocket-Version: 8\\r\\n"),
      REQ("POST", "/", UPGRADE_HEADERS "Sec-WebSocket-Version: 13\\r\\n"),
      big,
      REQ("GET", "/", UPGRADE_HEADERS),
      REQ("GET", "/", "Upgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Version: 13\\r\\n"),
      "GARBAGE\\r\\n\\r\\n",
  };
  sh_proc *p = raw_http(t, reqs, sizeof reqs / sizeof reqs[0]);
  SH_HAS_LINE(p, "RESP 0 426");
  SH_HAS_LINE(p, "HDR 0 Sec-WebSocket-Version: 13");
  SH_HAS_LINE(p, "RESP 1 405");
  SH_HAS_LINE(p, "RESP 2 431");
  SH_HAS_LINE(p, "RESP 3 426"); /* no version at all */
  SH_HAS_LINE(p, "RESP 4 400"); /* no key */
  SH_HAS_LINE(p, "RESP 5 400");
  SH_CHECK_LOG("");
  CHECK_EQ(t->connections, 0);
  sh_finish(t);
}

TEST(server_origin_allow_list) {
  wsc_server_options o;
  wsc_server_options_init(&o);
  const char *origins[] = {"https://good.example", "http://also.example:8080"};
  o.origins = origins;
  o.norigins = 2;
  sh_ctx c, *t = &c;
  sh_init(t, &o);
  const char *reqs[] = {
      REQ("GET", "/", UPGRADE_HEADERS "Sec-WebSocket-Version: 13\\r\\nOrigin: https://evil.example\\r\\n"),
      REQ("GET", "/", UPGRADE_HEADERS "Sec-WebSocket-Version: 13\\r\\n"), /* none: refused too */
      REQ("GET", "/", UPGRADE_HEADERS "Sec-WebSocket-Version: 13\\r\\nOrigin: https://good.example.evil\\r\\n"),
  };
  sh_proc *p = raw_http(t, reqs, 3);
  SH_HAS_LINE(p, "RESP 0 403");
  SH_HAS_LINE(p, "RESP 1 403");
  SH_HAS_LINE(p, "RESP 2 403");
  char url[128];
  sh_url(t, "ws", "/", url, sizeof url);
  sh_proc *good = sh_py(t, "py_client.py", url, "--mode", "protocol", "--origin",
                        "https://good.example", NULL);
  sh_proc *bad = sh_py(t, "py_client.py", url, "--mode", "reject", "--origin",
                       "https://evil.example", NULL);
  sh_wait_ok(t, good, 30);
  sh_wait_ok(t, bad, 30);
  SH_HAS_LINE(good, "PROTOCOL -");
  SH_HAS_LINE(bad, "STATUS 403");
  SH_CHECK_LOG("open:- close:1000:done:clean");
  sh_finish(t);
}

TEST(server_connection_cap_503) {
  wsc_server_options o;
  wsc_server_options_init(&o);
  o.max_connections = 2;
  sh_ctx c, *t = &c;
  sh_init(t, &o);
  char url[128];
  sh_url(t, "ws", "/", url, sizeof url);
  sh_proc *a = sh_py(t, "py_client.py", url, "--mode", "wait-close", NULL);
  sh_proc *b = sh_node(t, "node_client.js", url, "--mode", "wait-close", NULL);
  sh_wait_count(t, &t->opened, 2, 20, "two open sockets");
  sh_proc *third = sh_py(t, "py_client.py", url, "--mode", "reject", NULL);
  sh_wait_ok(t, third, 30);
  SH_HAS_LINE(third, "STATUS 503");
  const char *reqs[] = {REQ("GET", "/", "")};
  sh_proc *p = raw_http(t, reqs, 1);
  SH_HAS_LINE(p, "RESP 0 503");
  CHECK_EQ(wsc_server_connection_count(t->srv), 2);
  sh_shutdown(t, 5000);
  sh_wait_ok(t, a, 10);
  sh_wait_ok(t, b, 10);
  SH_HAS_LINE(a, "CLOSED 1001 server shutting down");
  SH_HAS_LINE(b, "CLOSED 1001 server shutting down");
  sh_wait_count(t, &t->done_called, 1, 10, "the close callback");
  CHECK_EQ(t->opened, 2);
  sh_finish(t);
}

static int no_connections(sh_ctx *t, void *arg) {
  (void)arg;
  return wsc_server_connection_count(t->srv) == 0;
}

TEST(server_slowloris_dropped) {
  wsc_server_options o;
  wsc_server_options_init(&o);
  o.handshake_timeout_ms = 300;
  sh_ctx c, *t = &c;
  sh_init(t, &o);
  char port[16], url[128], script[512];
  snprintf(port, sizeof port, "%d", wsc_server_port(t->srv));
  snprintf(script, sizeof script, "%s/raw_client.py", peer_dir());
  const char *argv[] = {peer_python(), script, "127.0.0.1", port, "--mode", "slowloris",
                        "--max-seconds", "20", NULL};
  sh_proc *slow[3];
  for (int i = 0; i < 3; i++) slow[i] = sh_spawn(t, argv);
  /* a well-behaved client at the same time, slower than the timeout */
  sh_url(t, "ws", "/", url, sizeof url);
  sh_proc *good = sh_py(t, "py_client.py", url, "--mode", "echo", "--sizes", "10", "--repeat",
                        "10", "--delay", "0.05", NULL);
  for (int i = 0; i < 3; i++) {
    sh_wait_ok(t, slow[i], 30);
    SH_HAS_LINE(slow[i], "SERVER_CLOSED 0"); /* dropped without a word */
  }
  sh_wait_ok(t, good, 30);
  sh_wait(t, no_connections, NULL, 10, "the connection count to fall to 0");
  CHECK_EQ(t->opened, 1);
  CHECK_EQ(t->errors, 0);
  sh_finish(t);
}
