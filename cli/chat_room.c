/* chat_room.c - users, names and JSON messages of the chat room (see
 * chat_room.h). No I/O: everything leaves through the room's callbacks. */
#include "chat_room.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct chat_user {
  chat_user *prev, *next; /* join order, for the user list */
  void *conn;
  uint64_t id;
  char *name; /* NULL until logged in; a key of room->names */
};

struct chat_room {
  chat_room_io io;
  chat_user *first, *last;
  size_t count;
  uint64_t next_id;
  json_t *names; /* object: name -> id, for uniqueness checks in O(1) */
  char *out;     /* serialised JSON going out, reused */
  size_t out_cap;
  char *text;    /* scratch copy of a text being stripped of tags */
  size_t *stack; /* chat_strip_tags scratch, text_cap entries */
  size_t text_cap;
};

chat_room *chat_room_new(const chat_room_io *io) {
  chat_room *room = calloc(1, sizeof *room);
  if (!room) return NULL;
  room->io = *io;
  room->next_id = 1;
  room->names = json_object();
  if (!room->names) {
    free(room);
    return NULL;
  }
  return room;
}

void chat_room_free(chat_room *room) {
  if (!room) return;
  chat_user *u = room->first;
  while (u) {
    chat_user *next = u->next;
    free(u->name);
    free(u);
    u = next;
  }
  json_decref(room->names);
  free(room->out);
  free(room->text);
  free(room->stack);
  free(room);
}

uint64_t chat_user_id(const chat_user *user) { return user->id; }
const char *chat_user_name(const chat_user *user) { return user->name; }
size_t chat_room_user_count(const chat_room *room) { return room->count; }

/* Serialises obj (compact) into room->out and hands it to one connection
 * (conn != NULL) or to all; takes the reference to obj. A failure to
 * allocate drops the message: there is nobody to tell. */
static void emit(chat_room *room, void *conn, json_t *obj) {
  if (!obj) return;
  size_t n = json_dumpb(obj, room->out, room->out_cap, JSON_COMPACT);
  if (n > room->out_cap) {
    size_t cap = n < 256 ? 256 : n;
    char *p = realloc(room->out, cap);
    if (!p) {
      json_decref(obj);
      return;
    }
    room->out = p;
    room->out_cap = cap;
    n = json_dumpb(obj, room->out, room->out_cap, JSON_COMPACT);
  }
  json_decref(obj);
  if (n == 0 || n > room->out_cap) return;
  if (conn)
    room->io.send(conn, room->out, n, room->io.ctx);
  else
    room->io.send_all(room->out, n, room->io.ctx);
}

/* Sends {"type":"error","message":text} to the user. */
static void send_error(chat_room *room, chat_user *user, const char *text) {
  json_t *obj = json_pack("{s:s, s:s}", "type", "error", "message", text);
  if (!obj) /* text was not UTF-8 (a parser message quoting the input) */
    obj = json_pack("{s:s, s:s}", "type", "error", "message", "invalid message");
  emit(room, user->conn, obj);
}

/* Sends the names of the logged-in users, in join order, to everyone. */
static void send_userlist(chat_room *room) {
  json_t *users = json_array();
  if (!users) return;
  for (chat_user *u = room->first; u; u = u->next)
    if (u->name) json_array_append_new(users, json_string(u->name));
  emit(room, NULL, json_pack("{s:s, s:o}", "type", "userlist", "users", users));
}

chat_user *chat_room_join(chat_room *room, void *conn) {
  chat_user *u = calloc(1, sizeof *u);
  if (!u) return NULL;
  u->conn = conn;
  u->id = room->next_id++;
  u->prev = room->last;
  if (room->last)
    room->last->next = u;
  else
    room->first = u;
  room->last = u;
  room->count++;
  emit(room, conn, json_pack("{s:s, s:I}", "type", "id", "id", (json_int_t)u->id));
  return u;
}

void chat_room_leave(chat_room *room, chat_user *user) {
  if (!user) return;
  if (user->prev)
    user->prev->next = user->next;
  else
    room->first = user->next;
  if (user->next)
    user->next->prev = user->prev;
  else
    room->last = user->prev;
  room->count--;
  int had_name = user->name != NULL;
  if (had_name) json_object_del(room->names, user->name);
  free(user->name);
  free(user);
  if (had_name) send_userlist(room);
}

static int is_tag_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' || c == '!' || c == '?';
}

/* One pass, O(length): stack holds output positions of '<' not yet matched,
 * each tagged 1 when the character after it starts a tag, 0 while that is
 * undecided (the '<' is the last output character, or another '<' follows
 * it, which may still vanish with an inner tag). A '>' cuts the output back
 * to the topmost tag opener, so "<<b>img src=x>" loses both tags. */
size_t chat_strip_tags(char *text, size_t length, size_t *stack) {
  size_t w = 0, top = 0;
  for (size_t r = 0; r < length; r++) {
    char c = text[r];
    if (top > 0 && !(stack[top - 1] & 1) && (stack[top - 1] >> 1) == w - 1) {
      if (is_tag_start(c))
        stack[top - 1] |= 1;
      else if (c != '<')
        /* This '<' is text for good, and so is every undecided '<' right
         * before it (their next character is this one). */
        while (top > 0 && !(stack[top - 1] & 1)) top--;
    }
    if (c == '>' && top > 0 && (stack[top - 1] & 1)) {
      w = stack[--top] >> 1;
      continue;
    }
    if (c == '<') stack[top++] = w << 1;
    text[w++] = c;
  }
  return w;
}

/* Copies s (length n) into the room's scratch buffer and strips its tags.
 * Returns the scratch buffer (length in *out_len), NULL when out of memory. */
static char *stripped_copy(chat_room *room, const char *s, size_t n, size_t *out_len) {
  if (n + 1 > room->text_cap) {
    size_t cap = n + 1 < 256 ? 256 : n + 1;
    char *t = malloc(cap);
    size_t *st = malloc(cap * sizeof *st);
    if (!t || !st) {
      free(t);
      free(st);
      return NULL;
    }
    free(room->text);
    free(room->stack);
    room->text = t;
    room->stack = st;
    room->text_cap = cap;
  }
  memcpy(room->text, s, n);
  *out_len = chat_strip_tags(room->text, n, room->stack);
  room->text[*out_len] = '\0';
  return room->text;
}

/* Cleans a requested name in the scratch buffer: tags stripped, control
 * characters turned into spaces, surrounding spaces trimmed, cut to
 * CHAT_NAME_MAX bytes on a UTF-8 boundary. Returns it (NUL-terminated) or
 * NULL when out of memory. */
static char *clean_name(chat_room *room, const char *s, size_t n, size_t *out_len) {
  size_t len;
  char *t = stripped_copy(room, s, n, &len);
  if (!t) return NULL;
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f) t[i] = ' ';
  size_t start = 0;
  while (start < len && t[start] == ' ') start++;
  if (len - start > CHAT_NAME_MAX) {
    len = start + CHAT_NAME_MAX;
    while (len > start && ((unsigned char)t[len] & 0xC0) == 0x80) len--;
  }
  while (len > start && t[len - 1] == ' ') len--;
  memmove(t, t + start, len - start);
  len -= start;
  t[len] = '\0';
  *out_len = len;
  return t;
}

/* Returns 1 when another user than `user` has this name. */
static int taken(chat_room *room, const chat_user *user, const char *name) {
  json_t *owner = json_object_get(room->names, name);
  return owner && (uint64_t)json_integer_value(owner) != user->id;
}

/* {"type":"username","name":S}: takes the name, or the first of S2, S3, ...
 * that nobody else has (then tells the user with rejectusername), and sends
 * everyone the new user list. */
static void on_username(chat_room *room, chat_user *user, json_t *msg) {
  json_t *jname = json_object_get(msg, "name");
  if (!json_is_string(jname)) {
    send_error(room, user, "username: \"name\" must be a string");
    return;
  }
  size_t len;
  char *name = clean_name(room, json_string_value(jname), json_string_length(jname), &len);
  if (!name) {
    send_error(room, user, "username: out of memory");
    return;
  }
  if (len == 0) {
    send_error(room, user, "username: the name is empty");
    return;
  }
  /* Among count + 1 candidates at least one is free, so this ends. */
  char candidate[CHAT_NAME_MAX + 24];
  snprintf(candidate, sizeof candidate, "%s", name);
  for (uint64_t k = 2; taken(room, user, candidate) && k <= room->count + 2; k++)
    snprintf(candidate, sizeof candidate, "%s%llu", name, (unsigned long long)k);
  /* Cleaning or a suffix changed what was asked for: tell the client. */
  int renamed = strlen(candidate) != json_string_length(jname) ||
                memcmp(candidate, json_string_value(jname), json_string_length(jname)) != 0;
  if (user->name && strcmp(user->name, candidate) == 0) { /* keeps its name */
    if (renamed)
      emit(room, user->conn, json_pack("{s:s, s:s}", "type", "rejectusername", "name", candidate));
    return;
  }

  char *copy = strdup(candidate);
  if (!copy || json_object_set_new(room->names, copy, json_integer((json_int_t)user->id)) < 0) {
    free(copy);
    send_error(room, user, "username: out of memory");
    return;
  }
  if (user->name) json_object_del(room->names, user->name);
  free(user->name);
  user->name = copy;
  if (renamed)
    emit(room, user->conn, json_pack("{s:s, s:s}", "type", "rejectusername", "name", copy));
  send_userlist(room);
}

/* {"type":"message","text":S}: sends S, stripped of tags, to everyone with
 * the sender's id and name and the client's date (or now). */
static void on_message(chat_room *room, chat_user *user, json_t *msg) {
  if (!user->name) {
    send_error(room, user, "message: log in first (send a username)");
    return;
  }
  json_t *jtext = json_object_get(msg, "text");
  if (!json_is_string(jtext)) {
    send_error(room, user, "message: \"text\" must be a string");
    return;
  }
  size_t len;
  char *text = stripped_copy(room, json_string_value(jtext), json_string_length(jtext), &len);
  if (!text) {
    send_error(room, user, "message: out of memory");
    return;
  }
  if (len == 0) {
    send_error(room, user, "message: the text is empty");
    return;
  }
  json_t *jdate = json_object_get(msg, "date");
  json_t *date = json_is_number(jdate) ? json_incref(jdate)
                 : json_integer(room->io.now_ms ? room->io.now_ms(room->io.ctx) : 0);
  emit(room, NULL,
       json_pack("{s:s, s:s%, s:I, s:o, s:s}", "type", "message", "text", text, len, "id",
                 (json_int_t)user->id, "date", date, "name", user->name));
}

void chat_room_receive(chat_room *room, chat_user *user, const char *data, size_t length,
                       int is_text) {
  if (!is_text) {
    send_error(room, user, "binary messages are not part of the chat protocol");
    return;
  }
  json_error_t err;
  json_t *msg = json_loadb(data, length, 0, &err);
  if (!msg) {
    char text[200 + sizeof err.text];
    snprintf(text, sizeof text, "invalid JSON at line %d column %d: %s", err.line, err.column,
             err.text);
    send_error(room, user, text);
    return;
  }
  const char *type = json_string_value(json_object_get(msg, "type"));
  if (!json_is_object(msg))
    send_error(room, user, "a message must be a JSON object");
  else if (!type)
    send_error(room, user, "a message needs a string \"type\"");
  else if (strcmp(type, "username") == 0)
    on_username(room, user, msg);
  else if (strcmp(type, "message") == 0)
    on_message(room, user, msg);
  else
    send_error(room, user, "unknown message type (expected \"username\" or \"message\")");
  json_decref(msg);
}
