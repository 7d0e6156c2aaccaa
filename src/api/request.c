/* request.c - wsc_request: what the application sees of a received HTTP
 * request (method, path, headers, offered subprotocols, peer), and its
 * answers (accept or reject an upgrade, respond to a plain request). */
#include <stdlib.h>
#include <string.h>

#include "api/server.h"

static const char *view(wsc__http_str s) { return s.ptr ? s.ptr : NULL; }

const char *wsc_request_method(const wsc_request *req) { return view(req->hs->method); }
const char *wsc_request_target(const wsc_request *req) { return view(req->hs->target); }
const char *wsc_request_path(const wsc_request *req) { return req->path; }
const char *wsc_request_query(const wsc_request *req) { return view(req->hs->query); }
const char *wsc_request_origin(const wsc_request *req) { return view(req->hs->origin); }
const char *wsc_request_peer(const wsc_request *req) {
  wsc_request *r = (wsc_request *)req; /* filled on first use: most never ask */
  if (!r->peer[0] && wsc__tcp_peer_name(&r->ws->tcp, r->peer, sizeof r->peer) != 0) r->peer[0] = 0;
  return r->peer;
}
int wsc_request_is_upgrade(const wsc_request *req) { return req->upgrade; }

const char *wsc_request_header(const wsc_request *req, const char *name) {
  const wsc__http_header *h = wsc__hs_server_header(req->hs, name);
  return h ? h->value : NULL;
}

int wsc_request_header_at(const wsc_request *req, size_t i, const char **name,
                          const char **value) {
  if (i >= req->hs->head.nheaders) return 0;
  if (name) *name = req->hs->head.headers[i].name;
  if (value) *value = req->hs->head.headers[i].value;
  return 1;
}

/* The offered subprotocols are views into the head; copy them once, each
 * NUL-terminated, so they can be handed out as C strings. */
static int collect_protocols(wsc_request *req) {
  if (req->protocols) return 0;
  size_t bytes = 1, n = 0;
  wsc__hs_iter it = {0};
  wsc__http_str p;
  while (wsc__hs_server_protocol_next(req->hs, &it, &p)) {
    bytes += p.len + 1;
    n++;
  }
  char *out = malloc(bytes);
  if (!out) return WSC_ENOMEM;
  char *w = out;
  memset(&it, 0, sizeof it);
  while (wsc__hs_server_protocol_next(req->hs, &it, &p)) {
    memcpy(w, p.ptr, p.len);
    w[p.len] = 0;
    w += p.len + 1;
  }
  *w = 0;
  req->protocols = out;
  req->nprotocols = n;
  return 0;
}

const char *wsc_request_protocol(const wsc_request *req, size_t i) {
  wsc_request *r = (wsc_request *)req; /* the copy is a cache */
  if (!req->upgrade || collect_protocols(r) != 0 || i >= req->nprotocols) return NULL;
  const char *p = req->protocols;
  while (i--) p += strlen(p) + 1;
  return p;
}

int wsc_request_accept(wsc_request *req, const char *protocol) {
  if (req->decided) return WSC_EINVALIDSTATE;
  if (!req->upgrade) return WSC_EINVAL;
  if (protocol && !wsc__hs_server_offered(req->hs, protocol)) return WSC_EINVAL;
  /* a pointer that stays valid until the 101 is written: the offered copy */
  const char *chosen = NULL;
  for (size_t i = 0; protocol && (chosen = wsc_request_protocol(req, i)); i++)
    if (strcmp(chosen, protocol) == 0) break;
  if (protocol && !chosen) return WSC_ENOMEM;
  req->decided = 1;
  req->accepted = 1;
  req->protocol = chosen;
  return 0;
}

int wsc_request_decline_deflate(wsc_request *req) {
  if (!req->upgrade) return WSC_EINVAL;
  req->no_deflate = 1;
  return 0;
}

/* Send a built response (rc 0) and mark the request answered; either way
 * the buffer is freed. Returns rc. */
static int answer(wsc_request *req, wsc__buf *out, int rc) {
  if (rc == 0) {
    req->decided = 1;
    wsc__request_send(req, out);
  }
  wsc__buf_free(out);
  return rc;
}

int wsc_request_reject(wsc_request *req, int status, const char *body) {
  if (req->decided) return WSC_EINVALIDSTATE;
  if (status < 300 || status > 599) return WSC_EINVAL;
  wsc__buf out = {0};
  int rc = wsc__hs_server_reject(status, body, NULL, 0, &out);
  return answer(req, &out, rc);
}

static const char *reason_phrase(int status) {
  switch (status) {
  case 200: return "OK";
  case 201: return "Created";
  case 204: return "No Content";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 304: return "Not Modified";
  case 400: return "Bad Request";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 413: return "Content Too Large";
  case 500: return "Internal Server Error";
  case 503: return "Service Unavailable";
  default: return status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Error"
                                                                                 : "Server Error";
  }
}

int wsc_request_respond(wsc_request *req, int status, const char *const *headers,
                        size_t nheaders, const void *body, size_t length) {
  if (req->decided) return WSC_EINVALIDSTATE;
  if (req->upgrade || status < 100 || status > 599 || (nheaders && !headers) ||
      (length && !body))
    return WSC_EINVAL;
  for (size_t i = 0; i < nheaders; i++) {
    wsc__http_str name, value;
    static const char *const own[] = {"Content-Length", "Connection", "Transfer-Encoding"};
    if (wsc__hs_split_header(headers[i], own, 3, &name, &value) != 0) return WSC_EINVAL;
  }
  wsc__buf out = {0};
  int rc = wsc__buf_printf(&out, "HTTP/1.1 %d %s\r\n", status, reason_phrase(status));
  for (size_t i = 0; rc == 0 && i < nheaders; i++) rc = wsc__buf_printf(&out, "%s\r\n", headers[i]);
  if (rc == 0 && status != 304 && status != 204)
    rc = wsc__buf_printf(&out, "Content-Length: %zu\r\n", length);
  if (rc == 0) rc = wsc__buf_puts(&out, "Connection: close\r\n\r\n");
  int head_only = strcmp(wsc_request_method(req), "HEAD") == 0 || status == 304 || status == 204;
  if (rc == 0 && !head_only && length) rc = wsc__buf_append(&out, body, length);
  return answer(req, &out, rc);
}
