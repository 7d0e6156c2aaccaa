/* loadgen_json.c - wsc-loadgen's JSON-like payload (--payload json): what a
 * chat or monitoring dashboard pushes over a WebSocket. Every record repeats
 * the same keys; the values come from small vocabularies (user names, rooms,
 * hosts, metrics) or are numbers and timestamps drawn from the seed, and a
 * chat line is a few words of a fixed lexicon. Compressed alone, a 4 KiB
 * message shrinks about 4-8x with zlib (the keys and vocabularies are what
 * repeats); with context takeover, earlier messages in the window help more.
 * Deterministic: the same seed gives the same bytes. */
#include <stdio.h>
#include <string.h>

#include "loadgen.h"

static const char *const users[] = {"alice", "bob", "carol", "dave", "erin", "frank",
                                    "grace", "heidi", "ivan", "judy", "mallory", "niaj",
                                    "olivia", "peggy", "rupert", "sybil", "trent", "victor"};
static const char *const rooms[] = {"general", "ops-eu-west", "ops-us-east", "random",
                                    "release-train", "incidents", "frontend", "billing"};
static const char *const hosts[] = {"web-01", "web-02", "web-17", "api-03", "api-11",
                                    "db-primary", "db-replica-2", "cache-04", "queue-01"};
static const char *const metrics[] = {"cpu.load", "mem.used_pct", "disk.iops", "net.rx_bytes",
                                      "http.p99_ms", "http.rps", "gc.pause_ms", "queue.depth"};
static const char *const levels[] = {"info", "info", "info", "warn", "error", "debug"};
static const char *const words[] = {
    "deploy", "the", "is", "done", "on", "staging", "looks", "good", "rollback", "please",
    "check", "latency", "spike", "after", "restart", "ok", "thanks", "merged", "build",
    "failed", "again", "flaky", "test", "who", "owns", "this", "alert", "ack", "investigating",
    "fixed", "in", "next", "release", "cache", "miss", "rate", "up", "down", "since", "noon"};

#define N(a) (sizeof(a) / sizeof(a)[0])

/* xorshift32 */
static uint32_t next(uint32_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 17;
  *x ^= *x << 5;
  return *x;
}

/* One record into out[0, cap) (snprintf semantics). Returns its length. */
static int record(char *out, size_t cap, uint32_t *x, unsigned id) {
  uint32_t a = next(x), b = next(x), c = next(x);
  unsigned ms = b % 86400000u;
  char stamp[32];
  snprintf(stamp, sizeof stamp, "2026-11-22T%02u:%02u:%02u.%03uZ", ms / 3600000u,
           ms / 60000u % 60u, ms / 1000u % 60u, ms % 1000u);
  if (a % 3 == 0) { /* a chat line */
    char text[160];
    size_t tl = 0;
    unsigned nw = 3 + c % 9;
    for (unsigned i = 0; i < nw; i++) {
      const char *w = words[next(x) % N(words)];
      int k = snprintf(text + tl, sizeof text - tl, "%s%s", i ? " " : "", w);
      if (k < 0 || (size_t)k >= sizeof text - tl) break;
      tl += (size_t)k;
    }
    return snprintf(out, cap,
                    "{\"type\":\"chat\",\"id\":%u,\"ts\":\"%s\",\"room\":\"%s\",\"user\":{\"id\":%u,"
                    "\"name\":\"%s\",\"online\":%s},\"text\":\"%s\",\"reactions\":%u}",
                    id, stamp, rooms[a / 3 % N(rooms)], 1000 + c % 9000, users[b % N(users)],
                    (c >> 9) & 1 ? "true" : "false", text, (c >> 12) % 5);
  }
  return snprintf(out, cap,
                  "{\"type\":\"metric\",\"id\":%u,\"ts\":\"%s\",\"host\":\"%s\",\"metric\":\"%s\","
                  "\"value\":%u.%03u,\"unit\":\"%s\",\"level\":\"%s\",\"tags\":[\"prod\",\"%s\"]}",
                  id, stamp, hosts[a % N(hosts)], metrics[c % N(metrics)], (a >> 8) % 1000,
                  (c >> 8) % 1000, (c >> 20) & 1 ? "ms" : "count", levels[(b >> 7) % N(levels)],
                  (a >> 20) & 1 ? "eu" : "us");
}

void lg_json_fill(uint8_t *p, size_t n, uint32_t seed) {
  static const char head[] = "{\"seq\":\"0000000000000000\",\"records\":[";
  uint32_t x = seed * 2654435761u + 0x9e3779b9u;
  if (x == 0) x = 1;
  size_t len = sizeof head - 1;
  memcpy(p, head, len);
  char rec[512];
  unsigned id = seed * 1000u;
  for (int first = 1;; first = 0) {
    int k = record(rec, sizeof rec, &x, id++);
    if (k <= 0 || (size_t)k >= sizeof rec) break;
    /* room for the comma, this record and the closing "]}" */
    if (len + (first ? 0 : 1) + (size_t)k + 2 > n) break;
    if (!first) p[len++] = ',';
    memcpy(p + len, rec, (size_t)k);
    len += (size_t)k;
  }
  memset(p + len, ' ', n - len - 2); /* JSON whitespace up to the end */
  p[n - 2] = ']';
  p[n - 1] = '}';
}
