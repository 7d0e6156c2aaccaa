/* test_threads.c - send and close from other threads (wsc_socket_post_send,
 * wsc_socket_post_close, wsc_loop_post) against a real echo server: every
 * message from every thread arrives, in each thread's order; a socket freed
 * with posted calls still queued is released safely (ASan checks that). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "spawn.h"
#include "test.h"
#include "wsc.h"

#define THREADS 4
#define PER_THREAD 500

typedef struct app {
  wsc_socket *ws;
  uv_thread_t threads[THREADS];
  int next[THREADS];   /* next sequence number expected from each thread */
  int received, bad, closed_code, threads_started;
} app;

typedef struct worker {
  app *a;
  int id;
} worker;

static worker workers[THREADS];

static void sender(void *arg) {
  worker *w = arg;
  char msg[32];
  for (int i = 0; i < PER_THREAD; i++) {
    int n = snprintf(msg, sizeof msg, "%d:%d", w->id, i);
    CHECK_EQ(wsc_socket_post_send(w->a->ws, msg, (size_t)n, 1), 0);
  }
}

static void on_open(wsc_socket *ws, const wsc_event *ev, void *user) {
  app *a = user;
  (void)ws;
  (void)ev;
  for (int i = 0; i < THREADS; i++) {
    workers[i] = (worker){a, i};
    CHECK_EQ(uv_thread_create(&a->threads[i], sender, &workers[i]), 0);
  }
  a->threads_started = 1;
}

static void close_from_thread(void *arg) {
  app *a = arg;
  CHECK_EQ(wsc_socket_post_close(a->ws, 1000, "threads done", 12), 0);
}

static void on_message(wsc_socket *ws, const wsc_event *ev, void *user) {
  app *a = user;
  (void)ws;
  const wsc_message_event *m = wsc_event_message(ev);
  char buf[32];
  if (m->length >= sizeof buf) {
    a->bad++;
    return;
  }
  memcpy(buf, m->data, m->length);
  buf[m->length] = 0;
  int id, seq;
  if (sscanf(buf, "%d:%d", &id, &seq) != 2 || id < 0 || id >= THREADS || seq != a->next[id]) {
    a->bad++;
    return;
  }
  a->next[id]++;
  if (++a->received == THREADS * PER_THREAD) {
    uv_thread_t t;
    CHECK_EQ(uv_thread_create(&t, close_from_thread, a), 0);
    CHECK_EQ(uv_thread_join(&t), 0);
  }
}

static void on_close(wsc_socket *ws, const wsc_event *ev, void *user) {
  app *a = user;
  (void)ws;
  a->closed_code = wsc_event_close(ev)->code;
}

TEST(threads_post_send_and_close) {
  peer_proc p;
  int port = peer_start_py(&p, "py_server.py", "--mode", "echo", NULL);
  CHECK_INT(port, >, 0);
  char url[64];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/threads", port);
  wsc_loop *loop;
  CHECK_EQ(wsc_loop_new(&loop), 0);
  app a;
  memset(&a, 0, sizeof a);
  CHECK_EQ(wsc_socket_new(loop, url, NULL, 0, NULL, &a.ws), 0);
  wsc_socket_set_onopen(a.ws, on_open, &a);
  wsc_socket_set_onmessage(a.ws, on_message, &a);
  wsc_socket_set_onclose(a.ws, on_close, &a);
  long long t0 = peer_now_ms();
  wsc_loop_run(loop);
  CHECK_INT(peer_now_ms() - t0, <, 30000);
  CHECK(a.threads_started);
  for (int i = 0; i < THREADS; i++) CHECK_EQ(uv_thread_join(&a.threads[i]), 0);
  CHECK_EQ(a.bad, 0);
  CHECK_EQ(a.received, THREADS * PER_THREAD);
  CHECK_EQ(a.closed_code, 1000);
  wsc_socket_free(a.ws);
  CHECK_EQ(wsc_loop_free(loop), 0);
  peer_stop(&p);
}

/* ---- a socket freed while posted calls are queued ------------------------ */

static void post_many(void *arg) {
  wsc_socket *ws = arg;
  for (int i = 0; i < 200; i++) CHECK_EQ(wsc_socket_post_send(ws, "late", 4, 1), 0);
}

static void free_on_open(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)ev;
  (void)user;
  uv_thread_t t;
  CHECK_EQ(uv_thread_create(&t, post_many, ws), 0);
  CHECK_EQ(uv_thread_join(&t), 0); /* 200 calls queued for this socket */
  wsc_socket_free(ws);              /* freed before any of them runs */
}

static int ran;
static void count_run(wsc_loop *loop, void *arg) {
  (void)loop;
  (void)arg;
  ran++;
}

TEST(threads_free_with_posted_calls_pending) {
  peer_proc p;
  int port = peer_start_py(&p, "py_server.py", "--mode", "echo", NULL);
  CHECK_INT(port, >, 0);
  char url[64];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
  wsc_loop *loop;
  CHECK_EQ(wsc_loop_new(&loop), 0);
  wsc_socket *ws;
  CHECK_EQ(wsc_socket_new(loop, url, NULL, 0, NULL, &ws), 0);
  wsc_socket_set_onopen(ws, free_on_open, NULL);
  CHECK_EQ(wsc_loop_post(loop, count_run, NULL), 0);
  wsc_loop_run(loop);
  CHECK_EQ(ran, 1);
  CHECK_EQ(wsc_loop_free(loop), 0); /* every socket's memory is gone by now */
  peer_stop(&p);
}
