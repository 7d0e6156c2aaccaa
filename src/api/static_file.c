/* static_file.c - wsc_request_serve_file: a small static-file helper for the
 * plain HTTP side of a server (the chat page). GET and HEAD only; the path
 * is percent-decoded, must stay inside the root (checked on the resolved
 * path, so neither "..", its encodings, nor symbolic links lead out), and
 * files are answered whole with Content-Type, Last-Modified and 304 for a
 * matching If-Modified-Since. Files are read synchronously: this is for
 * small assets, not a file server. */
#define _GNU_SOURCE /* strptime, timegm */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "api/server.h"

#define MAX_FILE (16 * 1024 * 1024)
#define HTTP_DATE "%a, %d %b %Y %H:%M:%S GMT"

static const struct {
  const char *ext, *type;
} types[] = {
    {"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},   {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"}, {"json", "application/json"},
    {"txt", "text/plain; charset=utf-8"}, {"svg", "image/svg+xml"},
    {"png", "image/png"},                 {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},               {"gif", "image/gif"},
    {"ico", "image/x-icon"},              {"webp", "image/webp"},
    {"wasm", "application/wasm"},         {"map", "application/json"},
    {"webmanifest", "application/manifest+json"},
};

static const char *content_type(const char *path) {
  const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
  if (dot && (!slash || dot > slash))
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
      if (strcasecmp(dot + 1, types[i].ext) == 0) return types[i].type;
  return "application/octet-stream";
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decode path into out. 0, or -1 for a bad escape or a NUL. */
static int decode(const char *path, char *out, size_t n) {
  size_t k = 0;
  for (const char *p = path; *p; p++) {
    int c = (unsigned char)*p;
    if (c == '%') {
      int h = hexval(p[1]), l = h < 0 ? -1 : hexval(p[2]);
      if (l < 0) return -1;
      c = h * 16 + l;
      p += 2;
    }
    if (c == 0 || k + 1 >= n) return -1;
    out[k++] = (char)c;
  }
  out[k] = 0;
  return 0;
}

/* 1 if the decoded path climbs above the root with ".." segments. Checked
 * before the file system is asked: where the escape leads may not exist, and
 * "/../etc/passwd" must be 403 whether or not root/../etc/passwd exists. */
static int escapes_root(const char *rel) {
  int depth = 0;
  for (const char *p = rel; *p;) {
    while (*p == '/') p++;
    const char *end = strchr(p, '/');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n == 2 && p[0] == '.' && p[1] == '.') {
      if (--depth < 0) return 1;
    } else if (n && !(n == 1 && p[0] == '.')) {
      depth++;
    }
    p += n;
  }
  return 0;
}

static int answer(wsc_request *req, int status, const char *body) {
  const char *ct = "Content-Type: text/plain; charset=utf-8";
  const char *allow = "Allow: GET, HEAD";
  const char *h[2] = {ct, allow};
  return wsc_request_respond(req, status, h, status == 405 ? 2 : 1, body, strlen(body));
}

static int serve(wsc_request *req, const char *file, const struct stat *st) {
  char modified[64];
  struct tm tm;
  gmtime_r(&st->st_mtime, &tm);
  strftime(modified, sizeof modified, HTTP_DATE, &tm);
  const char *ims = wsc_request_header(req, "If-Modified-Since");
  if (ims) {
    struct tm t;
    memset(&t, 0, sizeof t);
    const char *end = strptime(ims, HTTP_DATE, &t);
    if (end && *end == 0 && st->st_mtime <= timegm(&t)) {
      char lm[96];
      snprintf(lm, sizeof lm, "Last-Modified: %s", modified);
      const char *h[1] = {lm};
      return wsc_request_respond(req, 304, h, 1, NULL, 0);
    }
  }
  if (st->st_size > MAX_FILE) return answer(req, 500, "file too large to serve");
  size_t size = (size_t)st->st_size;
  char *body = malloc(size ? size : 1);
  if (!body) return WSC_ENOMEM;
  FILE *f = fopen(file, "rb");
  size_t got = f ? fread(body, 1, size, f) : 0;
  if (f) fclose(f);
  if (!f || got != size) {
    free(body);
    return answer(req, 404, "not found");
  }
  char ct[96], lm[96];
  snprintf(ct, sizeof ct, "Content-Type: %s", content_type(file));
  snprintf(lm, sizeof lm, "Last-Modified: %s", modified);
  const char *h[3] = {ct, lm, "Cache-Control: no-cache"};
  int rc = wsc_request_respond(req, 200, h, 3, body, size);
  free(body);
  return rc;
}

int wsc_request_serve_file(wsc_request *req, const char *root) {
  if (req->decided) return WSC_EINVALIDSTATE;
  if (!root || req->upgrade) return WSC_EINVAL;
  const char *method = wsc_request_method(req);
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
    return answer(req, 405, "method not allowed");
  char rel[PATH_MAX];
  const char *path = wsc_request_path(req);
  if (path[0] != '/' || decode(path, rel, sizeof rel) != 0) return answer(req, 400, "bad path");
  if (escapes_root(rel)) return answer(req, 403, "forbidden");
  char real_root[PATH_MAX], want[PATH_MAX * 2], real[PATH_MAX];
  if (!realpath(root, real_root)) return answer(req, 404, "not found");
  snprintf(want, sizeof want, "%s%s", real_root, rel);
  if (!realpath(want, real)) return answer(req, errno == ENOENT ? 404 : 403, "not found");
  size_t rl = strlen(real_root);
  if (strncmp(real, real_root, rl) != 0 || (real[rl] != '/' && real[rl] != 0))
    return answer(req, 403, "forbidden");
  struct stat st;
  if (stat(real, &st) != 0) return answer(req, 404, "not found");
  if (S_ISDIR(st.st_mode)) {
    size_t n = strlen(real);
    if (n + sizeof "/index.html" > sizeof real) return answer(req, 404, "not found");
    memcpy(real + n, "/index.html", sizeof "/index.html");
    if (stat(real, &st) != 0) return answer(req, 404, "not found");
  }
  if (!S_ISREG(st.st_mode)) return answer(req, 404, "not found");
  return serve(req, real, &st);
}
