/* test_wqueue.c - the write queue's payload count (bufferedAmount): per
 * segment, framing taken to leave first, and a compressed message's surplus
 * (its length beyond the bytes it compressed to) kept until the segment
 * holding its last byte is written. */
#include <stdlib.h>
#include <string.h>

#include "net/wqueue.h"
#include "test.h"

static uint8_t bytes[100000];

TEST(wqueue_payload_leaves_with_the_bytes) {
  wsc__wqueue q = {0};
  CHECK_EQ(wsc__wqueue_copy(&q, bytes, 10, 8), 0); /* a 2-byte header, 8 of payload */
  CHECK_EQ(wsc__wqueue_copy(&q, bytes, 10, 8), 0); /* packed into the same segment */
  CHECK(q.head == q.tail);
  CHECK_EQ(q.bytes, 20);
  CHECK_EQ(q.payload, 16);
  wsc__wqueue_consume(&q, 3); /* the header goes first */
  CHECK_EQ(q.payload, 16);
  wsc__wqueue_consume(&q, 10);
  CHECK_EQ(q.payload, 7);
  wsc__wqueue_consume(&q, 7);
  CHECK_EQ(q.payload, 0);
  CHECK(q.head == NULL);
}

TEST(wqueue_surplus_stays_until_its_segment_is_written) {
  wsc__wqueue q = {0};
  CHECK_EQ(wsc__wqueue_copy(&q, bytes, 5000, 5000), 0);   /* a plain message */
  CHECK_EQ(wsc__wqueue_copy(&q, bytes, 20000, 20000), 0); /* its own segment */
  wsc__wqueue_charge(&q, 80000); /* 100,000 bytes that compressed to 20,000 */
  CHECK_EQ(q.payload, 105000);
  wsc__wqueue_consume(&q, 5000);
  CHECK_EQ(q.payload, 100000);
  wsc__wqueue_consume(&q, 19999);
  CHECK_EQ(q.payload, 80001);
  wsc__wqueue_consume(&q, 1); /* the message's last byte */
  CHECK_EQ(q.payload, 0);
  CHECK_EQ(q.bytes, 0);
  wsc__wqueue_charge(&q, 5); /* an empty queue: nothing to charge */
  CHECK_EQ(q.payload, 0);
}

static void released(void *data, void *arg) {
  (void)data;
  ++*(int *)arg;
}

TEST(wqueue_handed_over_segments_count_and_release) {
  wsc__wqueue q = {0};
  int n = 0;
  CHECK_EQ(wsc__wqueue_own(&q, bytes, 50000, 49990, released, &n), 0);
  wsc__wqueue_charge(&q, 10);
  CHECK_EQ(q.payload, 50000);
  wsc__wqueue_consume(&q, 49999);
  CHECK_EQ(q.payload, 1);
  CHECK_EQ(n, 0);
  wsc__wqueue_consume(&q, 1);
  CHECK_EQ(n, 1);
  CHECK_EQ(q.payload, 0);
  CHECK_EQ(wsc__wqueue_copy(&q, bytes, 100, 90), 0);
  wsc__wqueue_clear(&q);
  CHECK_EQ(q.payload, 0);
  CHECK_EQ(q.bytes, 0);
}
