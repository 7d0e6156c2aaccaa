/* chat_room.h - the chat room of `wsc chat`, with no server or I/O in it.
 *
 * The room keeps the users (an id each, a unique name once they log in),
 * reads their JSON messages and says what to send through two callbacks:
 * "send this to that connection" and "send this to every connection". The
 * server glue (cli/chat.c) maps them to wsc_socket_send_text and
 * wsc_server_broadcast; tests can map them to anything.
 *
 * Protocol (JSON objects in text messages):
 *   server -> client  {"type":"id","id":N}                      on join
 *                     {"type":"rejectusername","name":NEW}       name was taken
 *                     {"type":"userlist","users":[NAME,...]}     to all, on change
 *                     {"type":"message","text":S,"id":N,"date":MS,"name":NAME}
 *                                                                to all, sender too
 *                     {"type":"error","message":S}               to one, connection stays
 *   client -> server  {"type":"username","name":S,"id":N,"date":MS}
 *                     {"type":"message","text":S,"id":N,"date":MS}
 * A message's "id" and "name" are the sender's, set by the server whatever
 * the client wrote; HTML tags are stripped from text and names.
 */
#ifndef WSC_CLI_CHAT_ROOM_H
#define WSC_CLI_CHAT_ROOM_H

#include <stddef.h>
#include <stdint.h>

#define CHAT_NAME_MAX 64 /* bytes of a requested name, before any suffix */

typedef struct chat_room chat_room;
typedef struct chat_user chat_user;

typedef struct chat_room_io {
  /* Send one text message (JSON, UTF-8, not NUL-terminated) to the
   * connection given to chat_room_join. */
  void (*send)(void *conn, const char *json, size_t length, void *ctx);
  /* Send one text message to every connection. */
  void (*send_all)(const char *json, size_t length, void *ctx);
  /* Milliseconds since the epoch, for messages without a usable "date";
   * may be NULL (then 0). */
  int64_t (*now_ms)(void *ctx);
  void *ctx;
} chat_room_io;

/* A new empty room using io (copied). NULL when out of memory. */
chat_room *chat_room_new(const chat_room_io *io);
/* Free the room and every user still in it, sending nothing. */
void chat_room_free(chat_room *room);

/* A connection arrived: returns its user (and sends it its id message), or
 * NULL when out of memory. conn is handed back to io->send. */
chat_user *chat_room_join(chat_room *room, void *conn);
/* The connection is gone: frees the user and, if it had a name, sends the
 * new user list to everyone. */
void chat_room_leave(chat_room *room, chat_user *user);
/* One message from the user's connection (is_text 0 for binary), handled
 * as the protocol says; every problem is answered with an error message to
 * that user only. */
void chat_room_receive(chat_room *room, chat_user *user, const char *data, size_t length,
                       int is_text);

/* Returns the user's id (unique in the room, from 1). */
uint64_t chat_user_id(const chat_user *user);
/* Returns the user's name, NULL before it logged in. Borrowed. */
const char *chat_user_name(const chat_user *user);
/* Returns the number of users in the room, logged in or not. */
size_t chat_room_user_count(const chat_room *room);

/* Removes HTML tags (a '<' followed by a letter, '/', '!' or '?', up to the
 * next '>') from text in place, also tags that only form once inner ones are
 * removed ("<<b>img>"); a '<' or '>' that opens or closes no tag stays.
 * Returns the new length. stack must hold length entries (scratch space). */
size_t chat_strip_tags(char *text, size_t length, size_t *stack);

#endif
