/*
 * wsc.h - WebSocket for C.
 *
 * The browser's WebSocket interface (WHATWG), RFC 6455 and RFC 7692, in C.
 * This header is the whole public API and reads as its reference manual.
 *
 * Conventions
 *   - Functions that can fail return an int: 0 (or a non-negative count) on
 *     success, a negative error code on failure. wsc_strerror() and
 *     wsc_err_name() describe any code.
 *   - The four exceptions a browser throws map to named codes:
 *     SyntaxError -> WSC_ESYNTAX, SecurityError -> WSC_ESECURITY,
 *     InvalidAccessError -> WSC_EINVALIDACCESS,
 *     InvalidStateError -> WSC_EINVALIDSTATE.
 *   - Codes outside the wsc range are negated errno values (as libuv uses),
 *     so an I/O error keeps its cause: wsc_strerror(-ECONNREFUSED) works.
 */
#ifndef WSC_H
#define WSC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(WSC_BUILDING) && (defined(__GNUC__) || defined(__clang__))
#define WSC_EXTERN __attribute__((visibility("default")))
#else
#define WSC_EXTERN
#endif

#define WSC_VERSION_MAJOR 0
#define WSC_VERSION_MINOR 1
#define WSC_VERSION_PATCH 0
#define WSC_VERSION_STRING "0.1.0"

/* Returns WSC_VERSION_STRING of the library actually linked. */
WSC_EXTERN const char *wsc_version(void);

/* ---- Error codes ----------------------------------------------------------
 * XX(name, value, message). Values are stable across releases.
 */
#define WSC_ERRNO_MAP(XX)                                                          \
  XX(ESYNTAX, -30001, "SyntaxError: invalid syntax (URL, subprotocol, UTF-8 or reason)") \
  XX(ESECURITY, -30002, "SecurityError: port is blocked")                          \
  XX(EINVALIDACCESS, -30003, "InvalidAccessError: close code must be 1000 or 3000-4999") \
  XX(EINVALIDSTATE, -30004, "InvalidStateError: not allowed in the current readyState") \
  XX(ENOMEM, -30005, "out of memory")                                              \
  XX(EINVAL, -30006, "invalid argument")                                           \
  XX(EPROTO, -30007, "peer violated the WebSocket protocol (close 1002)")          \
  XX(EBADDATA, -30008, "invalid payload data, e.g. bad UTF-8 (close 1007)")        \
  XX(ETOOBIG, -30009, "message or frame exceeds the configured limit (close 1009)") \
  XX(EPOLICY, -30010, "policy violation (close 1008)")                             \
  XX(EHANDSHAKE, -30011, "invalid or rejected opening handshake")                  \
  XX(EHEADERSIZE, -30012, "opening handshake exceeds the size limit")              \
  XX(ECLOSED, -30013, "the connection is closed")                                  \
  XX(ETIMEDOUT, -30014, "timed out")                                               \
  XX(ETLS, -30015, "TLS error")                                                    \
  XX(EDNS, -30016, "host name could not be resolved")                              \
  XX(EEXTENSION, -30017, "extension negotiation failed (close 1010)")              \
  XX(EINTERNAL, -30018, "internal error (close 1011)")                            \
  XX(EPROXY, -30019, "HTTP proxy error")

typedef enum wsc_errno {
#define WSC_XX_ENUM(name, value, msg) WSC_##name = value,
  WSC_ERRNO_MAP(WSC_XX_ENUM)
#undef WSC_XX_ENUM
  WSC_ERRNO_MIN_ = -30019
} wsc_errno;

/* Human-readable message for any error code (wsc or negated errno). Never NULL;
 * the string is static. */
WSC_EXTERN const char *wsc_strerror(int err);
/* The code's name without the WSC_ prefix ("ESYNTAX"), or "UNKNOWN". Static. */
WSC_EXTERN const char *wsc_err_name(int err);

/* ---- Close codes (RFC 6455 section 7.4) ---------------------------------- */
enum wsc_close_code {
  WSC_CLOSE_NORMAL = 1000,
  WSC_CLOSE_GOING_AWAY = 1001,
  WSC_CLOSE_PROTOCOL_ERROR = 1002,
  WSC_CLOSE_UNSUPPORTED_DATA = 1003,
  WSC_CLOSE_NO_STATUS = 1005,       /* reported only, never sent */
  WSC_CLOSE_ABNORMAL = 1006,        /* reported only, never sent */
  WSC_CLOSE_INVALID_PAYLOAD = 1007,
  WSC_CLOSE_POLICY_VIOLATION = 1008,
  WSC_CLOSE_MESSAGE_TOO_BIG = 1009,
  WSC_CLOSE_MANDATORY_EXTENSION = 1010,
  WSC_CLOSE_INTERNAL_ERROR = 1011,
  WSC_CLOSE_TLS_HANDSHAKE = 1015    /* reported only, never sent */
};

/* The close code an error code calls for when the connection is failed
 * (WSC_EPROTO -> 1002, WSC_EBADDATA -> 1007, ...); 1006 for anything that is
 * not a protocol-level failure. */
WSC_EXTERN int wsc_close_code_for(int err);

/* ---- Limits ---------------------------------------------------------------
 * Every input from the network is bounded. These are the defaults; each can be
 * changed per connection.
 */
#define WSC_DEFAULT_MAX_HANDSHAKE (8u * 1024u)              /* request/response head */
#define WSC_DEFAULT_MAX_FRAME ((uint64_t)64 * 1024 * 1024)  /* one frame's payload */
#define WSC_DEFAULT_MAX_MESSAGE ((uint64_t)64 * 1024 * 1024) /* one whole message */


/* ===========================================================================
 * The event loop
 *
 * wsc runs on libuv. A wsc_loop wraps a uv_loop_t: the default one, a new one,
 * or one the application already runs (wsc_loop_wrap), so wsc sockets live
 * beside the application's own handles. One loop is used by one thread.
 */
typedef struct wsc_loop wsc_loop;

/* The loop around uv_default_loop(), created on first use. NULL only when out
 * of memory. Owned by the library: do not free it. */
WSC_EXTERN wsc_loop *wsc_loop_default(void);
/* A new loop with its own uv_loop_t. 0, or WSC_ENOMEM / a libuv error.
 * Free it with wsc_loop_free() once wsc_loop_run() has returned. */
WSC_EXTERN int wsc_loop_new(wsc_loop **out);
/* Wrap an existing uv_loop_t (passed as void * so this header does not need
 * uv.h). The application keeps running and closing its uv loop; wsc_loop_free
 * releases only the wrapper. 0 or WSC_ENOMEM / WSC_EINVAL. */
WSC_EXTERN int wsc_loop_wrap(void *uv_loop, wsc_loop **out);
/* Run until no socket (and no other libuv handle) is active. 0 or a libuv
 * error. */
WSC_EXTERN int wsc_loop_run(wsc_loop *loop);
/* The uv_loop_t * behind the loop. */
WSC_EXTERN void *wsc_loop_uv(wsc_loop *loop);
/* Threads. A loop and its sockets belong to the thread that runs the loop;
 * the functions in this block are the only ones another thread may call.
 *
 * wsc_loop_post queues fn(loop, arg) to run on the loop's thread, in the
 * order posted, as soon as the loop runs (a posted call does not keep
 * wsc_loop_run from returning; calls still queued when the loop is freed run
 * then). 0, WSC_EINVAL, WSC_ENOMEM. */
WSC_EXTERN int wsc_loop_post(wsc_loop *loop, void (*fn)(wsc_loop *loop, void *arg), void *arg);

/* Free a loop made by wsc_loop_new or wsc_loop_wrap. WSC_EINVALIDSTATE while
 * sockets are still attached (free them first), else 0. */
WSC_EXTERN int wsc_loop_free(wsc_loop *loop);

/* ===========================================================================
 * The WebSocket (WHATWG WebSockets Standard, in C)
 *
 *   browser                         wsc
 *   new WebSocket(url, protocols)   wsc_socket_new(loop, url, protocols, n, opts, &ws)
 *   ws.url / readyState             wsc_socket_url() / wsc_socket_ready_state()
 *   ws.bufferedAmount               wsc_socket_buffered_amount()
 *   ws.extensions / protocol        wsc_socket_extensions() / wsc_socket_protocol()
 *   ws.binaryType                   wsc_socket_binary_type() / _set_binary_type()
 *   ws.send(text) / send(buffer)    wsc_socket_send_text() / wsc_socket_send_binary()
 *   ws.close(code, reason)          wsc_socket_close()
 *   ws.onopen = f ...               wsc_socket_set_onopen() ...
 *   addEventListener / remove...    wsc_socket_add_listener() / _remove_listener()
 *
 * Exceptions become return codes: SyntaxError WSC_ESYNTAX, SecurityError
 * WSC_ESECURITY, InvalidAccessError WSC_EINVALIDACCESS, InvalidStateError
 * WSC_EINVALIDSTATE. The connection is made asynchronously on the loop, after
 * the constructor returns, so handlers set right after it see every event.
 */
typedef struct wsc_socket wsc_socket;

enum wsc_ready_state { WSC_CONNECTING = 0, WSC_OPEN = 1, WSC_CLOSING = 2, WSC_CLOSED = 3 };

/* binaryType, "blob" by default as in the standard. Both deliver every binary
 * message in wsc_message_event.data / .length, so code that reads data works
 * with either.
 *   ARRAYBUFFER  data is the message in memory; blob is NULL.
 *   BLOB         blob is the message as a wsc_blob (below) as well: a
 *                read-only object the application may keep after the event
 *                (wsc_blob_ref). With wsc_options.blob_file_threshold set, a
 *                binary message larger than it is written to an unlinked
 *                temporary file as it arrives instead of being assembled in
 *                memory, and data is that file mapped read-only (its pages
 *                load on demand), so a message of 1 GiB need not sit in
 *                memory. */
typedef enum wsc_binary_type { WSC_BINARY_BLOB = 0, WSC_BINARY_ARRAYBUFFER = 1 } wsc_binary_type;

/* ---- Blobs ----------------------------------------------------------------
 * A received binary message as an immutable object (the browser's Blob): in
 * memory, or in an unlinked temporary file (file-backed).
 *
 * The blob in a message event is borrowed for the callback. To keep it, take
 * a reference there (wsc_blob_ref, on the loop's thread) and give it back
 * with wsc_blob_unref; a kept blob does not depend on its socket (it stays
 * valid after the socket is freed). A reference may be handed to and used
 * from any thread: a blob never changes, reading it is thread-safe and the
 * reference count is atomic. */
typedef struct wsc_blob wsc_blob;

/* The message's size in bytes. */
WSC_EXTERN uint64_t wsc_blob_size(const wsc_blob *blob);
/* Copy up to n bytes starting at offset into buf. Returns the count copied
 * (less than n only at the end), 0 when offset is at or past the end, or a
 * negative error: WSC_EINVAL (NULL blob or buf), or the negated errno of a
 * failed read of a file-backed blob (which reads with pread, so reading does
 * not load the file into memory). */
WSC_EXTERN int64_t wsc_blob_read(const wsc_blob *blob, uint64_t offset, void *buf, size_t n);
/* The whole message as one read-only contiguous buffer of wsc_blob_size
 * bytes: memory, or the file mapped with mmap (PROT_READ; touching it loads
 * pages, which the kernel may drop again since they are backed by the file).
 * Valid as long as the blob is (the event, or a reference). Never NULL. */
WSC_EXTERN const void *wsc_blob_data(const wsc_blob *blob);
/* The descriptor of a file-backed blob's unlinked temporary file (holding
 * exactly the message, from offset 0), or -1 for a blob in memory or a slice
 * (wsc_blob_slice). Owned by the blob and valid as long as it is: read it
 * (pread, sendfile, splice, copy_file_range, or linkat through /proc/self/fd
 * to keep the file); do not write, truncate or close it. */
WSC_EXTERN int wsc_blob_fd(const wsc_blob *blob);
/* A new reference to the blob, for the caller to give back with
 * wsc_blob_unref. Use the pointer returned, which may differ from blob: a
 * blob of an in-memory message is moved (or, when the message sits in the
 * read buffer, copied) to the heap at its first reference. NULL when out of
 * memory (or blob is NULL). */
WSC_EXTERN wsc_blob *wsc_blob_ref(const wsc_blob *blob);
/* Give back a reference from wsc_blob_ref or wsc_blob_slice; the last one
 * frees the blob (for a file-backed one: unmaps and closes the file, which
 * the system then deletes). NULL is ignored. Never pass the event's own
 * blob. */
WSC_EXTERN void wsc_blob_unref(wsc_blob *blob);

/* end for wsc_blob_slice: up to the end of the blob. */
#define WSC_BLOB_END INT64_MAX
/* Blob.slice(start, end): a new blob of the bytes [start, end) of blob, by
 * the standard's rules: a negative start or end counts back from the end,
 * both are clamped to 0..size, and an end at or before start gives an empty
 * blob. The slice shares blob's bytes (nothing is copied) and keeps all of
 * them until its last wsc_blob_unref; a slice of a slice refers to the
 * original. Of the event's blob, call it on the loop's thread (it takes a
 * reference, as wsc_blob_ref); of a blob you hold, from any thread. NULL when
 * out of memory (or blob is NULL). */
WSC_EXTERN wsc_blob *wsc_blob_slice(const wsc_blob *blob, int64_t start, int64_t end);

typedef enum wsc_event_type {
  WSC_EVENT_OPEN = 0,
  WSC_EVENT_MESSAGE = 1,
  WSC_EVENT_ERROR = 2,
  WSC_EVENT_CLOSE = 3,
  /* Beyond the browser: bufferedAmount went above the high-water mark
   * (wsc_options.high_water_mark / wsc_server_options.high_water_mark) and
   * has now fallen back to zero: the application may send again. */
  WSC_EVENT_DRAIN = 4
} wsc_event_type;

/* MessageEvent. data is borrowed for the duration of the callback (copy what
 * you keep, or keep the blob). Text is valid UTF-8 (checked) and NOT
 * NUL-terminated. */
typedef struct wsc_message_event {
  const void *data;
  size_t length;
  int is_text;        /* 1 text, 0 binary */
  const char *origin; /* the serialised origin of the URL ("ws://host:port") */
  /* binaryType blob: a binary message as a blob (the same bytes as data),
   * borrowed for the callback (wsc_blob_ref to keep it). NULL for text and
   * with binaryType arraybuffer. */
  const wsc_blob *blob;
} wsc_message_event;

/* CloseEvent. code is 1005 when the peer's Close had no code, 1006 when the
 * connection closed without a closing handshake. reason is UTF-8, borrowed,
 * NUL-terminated. */
typedef struct wsc_close_event {
  int code;
  const char *reason;
  size_t reason_length;
  int was_clean;
} wsc_close_event;

/* The error event. Browsers give no detail; C callers get the cause: a wsc or
 * negated errno code, and a message (borrowed) such as "connection refused"
 * or "Sec-WebSocket-Accept mismatch". */
typedef struct wsc_error_event {
  int error;
  const char *message;
} wsc_error_event;

typedef struct wsc_event {
  wsc_event_type type;
  union {
    wsc_message_event message;
    wsc_close_event close;
    wsc_error_event error;
  } u;
} wsc_event;

static inline const wsc_message_event *wsc_event_message(const wsc_event *ev) {
  return ev->type == WSC_EVENT_MESSAGE ? &ev->u.message : NULL;
}
static inline const wsc_close_event *wsc_event_close(const wsc_event *ev) {
  return ev->type == WSC_EVENT_CLOSE ? &ev->u.close : NULL;
}
static inline const wsc_error_event *wsc_event_error(const wsc_event *ev) {
  return ev->type == WSC_EVENT_ERROR ? &ev->u.error : NULL;
}

/* An event listener. A listener may send, close, add or remove listeners,
 * and free the socket. */
typedef void (*wsc_listener_fn)(wsc_socket *ws, const wsc_event *ev, void *user);

/* permessage-deflate (RFC 7692): compression of whole messages, negotiated
 * in the opening handshake. The same options serve both roles; each field
 * says what it means for a client (wsc_options.deflate) and for a server
 * (wsc_server_options.deflate). Zero everywhere is the default: a client
 * offers what browsers offer, a server declines.
 *
 * Cost (zlib state, per connection, measured; docs/protocol-notes.md): with
 * context takeover the compressor and decompressor stay allocated between
 * messages: about 49 KiB at window bits 8-9, 77 KiB at 12, 301 KiB at 15.
 * Without takeover in both directions (server_no_context_takeover and
 * client_no_context_takeover) an idle connection holds nothing; zlib state
 * is then taken only while a message is compressed or inflated. The
 * decompressor always uses a 32 KiB window whatever was negotiated, so a
 * small window saves memory on the sending side only.
 *
 * Received compressed messages are inflated as they arrive and held to
 * max_message (a "zip bomb" fails with 1009 at the limit). */
enum wsc_deflate_mode {
  WSC_DEFLATE_DEFAULT = 0, /* client: offer; server: decline */
  WSC_DEFLATE_ON = 1,      /* client: offer; server: accept offers it can honour */
  WSC_DEFLATE_OFF = 2      /* neither offer nor accept */
};
/* Messages shorter than this go out uncompressed when threshold is 0: below
 * it the DEFLATE block overhead takes most of what compression could save. */
#define WSC_DEFLATE_DEFAULT_THRESHOLD 32u

typedef struct wsc_deflate_options {
  int mode; /* enum wsc_deflate_mode; anything else is WSC_EINVAL */
  /* Client: ask the server to reset its compressor after every message (the
   * client's decompressor is then freed between messages). Server: always
   * reset our compressor (and say so), whatever the client asked. 0 or 1. */
  int server_no_context_takeover;
  /* Client: promise to reset our compressor after every message (the client
   * does so anyway if the server asks). Server: require the client to reset
   * its compressor (the server's decompressor is then freed between
   * messages). 0 or 1. */
  int client_no_context_takeover;
  /* Window the server compresses with, 2^bits bytes. Client: 0 = do not ask
   * (the server picks, up to 15), 8..15 = ask for at most this. Server: 0 =
   * 12 (77 KiB instead of 301 KiB per connection with context takeover, what
   * Python's websockets does, for a few percent of compression on typical
   * messages), 8..15 = at most this (less if the client asks). */
  int server_max_window_bits;
  /* Window the client compresses with. Client: 0 = offer
   * client_max_window_bits without a value (the server may choose, as
   * browsers offer), 8..15 = we will use at most this. Server: 0 = 15 (no
   * limit: our decompressor has a 32 KiB window anyway, so limiting the
   * client saves us nothing), 8..14 = limit the client, declining offers
   * that do not allow it. */
  int client_max_window_bits;
  /* Whole messages shorter than this many bytes are sent uncompressed;
   * 0 = WSC_DEFLATE_DEFAULT_THRESHOLD, 1 = compress all but empty ones.
   * A message sent in fragments is compressed when its first piece
   * reaches the threshold. */
  uint32_t threshold;
  /* zlib compression level for what we send: 1 (fastest) .. 9 (smallest),
   * 0 = zlib's default, 6. Receiving is not affected. */
  int level;
} wsc_deflate_options;

/* What C needs beyond the browser's constructor. Initialise with
 * wsc_options_init(); zero fields mean the documented default. New fields are
 * only ever appended. */
typedef struct wsc_options {
  const char *origin;              /* Origin header; NULL sends none */
  const char *const *headers;      /* extra "Name: value" request headers */
  size_t nheaders;                 /*   (Authorization, Cookie, User-Agent, ...) */
  uint32_t connect_timeout_ms;     /* DNS + TCP connect; default 10000 */
  uint32_t handshake_timeout_ms;   /* opening handshake; default 10000 */
  uint32_t close_timeout_ms;       /* wait for the peer's Close / TCP end; default 5000 */
  uint64_t max_message;            /* default WSC_DEFAULT_MAX_MESSAGE */
  uint64_t max_frame;              /* default WSC_DEFAULT_MAX_FRAME */
  uint32_t max_handshake;          /* response head; default WSC_DEFAULT_MAX_HANDSHAKE */
  /* wss:// - by default the server's certificate is verified against the
   * system's trust store, for the URL's host name (or IP address). */
  const char *tls_ca_file;         /* PEM file to trust instead of the system store */
  const char *tls_cert_file;       /* client certificate chain (PEM) */
  const char *tls_key_file;        /* its private key (PEM); NULL: in tls_cert_file */
  int tls_insecure;                /* 1: accept any certificate. For tests only. */
  /* Keepalive: while OPEN, send a Ping every ping_interval_ms (0 = never);
   * if no Pong has come back by the next one, the peer is taken for dead and
   * the connection fails with WSC_ETIMEDOUT. */
  uint32_t ping_interval_ms;
  /* Backpressure: a drain event fires when bufferedAmount, having exceeded
   * high_water_mark, falls back to zero. Default 1 MiB. */
  uint64_t high_water_mark;
  /* HTTP proxy, tunnelled with CONNECT: "http://[user:password@]host[:port]"
   * (default port 1080; credentials go out as Basic Proxy-Authorization).
   * NULL: from the environment as curl reads it (http_proxy for ws://,
   * https_proxy / HTTPS_PROXY for wss://, then all_proxy / ALL_PROXY; hosts
   * in no_proxy / NO_PROXY are reached directly). "": never use a proxy.
   * A proxy that refuses the tunnel fails the connection with WSC_EPROXY. */
  const char *proxy;
  /* permessage-deflate (see wsc_deflate_options). By default the client
   * offers "permessage-deflate; client_max_window_bits" like a browser;
   * mode WSC_DEFLATE_OFF offers nothing. A server response that breaks
   * RFC 7692 (an extension not offered, a duplicate or unknown parameter, a
   * window out of range or not asked for, ...) fails the connection with
   * WSC_EEXTENSION: error, then close 1006 (the handshake never completed).
   * wsc_socket_extensions() then gives the server's exact header value. */
  wsc_deflate_options deflate;
  /* binaryType blob: a binary message larger than blob_file_threshold bytes
   * goes to an unlinked temporary file as it arrives (memory held: the
   * threshold plus one read), and its blob is file-backed. 0 (default):
   * never, every message is assembled in memory. max_message still bounds
   * every message: raise it for large file-backed ones. A file that cannot
   * be created or written fails the connection with the negated errno
   * (error event, e.g. -ENOENT for a missing directory) and sends Close 1009
   * when the disk is full (ENOSPC, EDQUOT, EFBIG) or the file cannot be
   * mapped for lack of memory, else 1011. The file I/O is synchronous, on
   * the loop's thread. */
  uint64_t blob_file_threshold;
  /* Directory of those files (copied); NULL: $TMPDIR, else /tmp. */
  const char *blob_dir;
} wsc_options;

WSC_EXTERN void wsc_options_init(wsc_options *opts);

/* new WebSocket(url, protocols). protocols may be NULL when nprotocols is 0;
 * opts may be NULL for the defaults. Nothing passed in needs to outlive the
 * call. On success *out is a CONNECTING socket owned by the caller (free it
 * with wsc_socket_free).
 *   WSC_ESYNTAX    bad URL (scheme other than ws/wss/http/https, fragment,
 *                  unparsable), or a subprotocol that is empty, not a token,
 *                  or repeated
 *   WSC_ESECURITY  the port is on the Fetch standard's list of bad ports
 *   WSC_EINVAL     bad option (e.g. an extra header with CR/LF or one the
 *                  handshake owns, an unusable proxy URL in the option or
 *                  the environment, or a deflate value out of range) or NULL
 *                  loop/url/out
 *   WSC_ENOMEM */
WSC_EXTERN int wsc_socket_new(wsc_loop *loop, const char *url, const char *const *protocols,
                              size_t nprotocols, const wsc_options *opts, wsc_socket **out);

/* Free the socket. If the connection is still up it is dropped at once
 * without a closing handshake and without events (call wsc_socket_close
 * first for a graceful close). Safe inside the socket's own callbacks. */
WSC_EXTERN void wsc_socket_free(wsc_socket *ws);

WSC_EXTERN const char *wsc_socket_url(const wsc_socket *ws);
WSC_EXTERN int wsc_socket_ready_state(const wsc_socket *ws);
/* Payload bytes passed to send and not yet handed to the network, including
 * those passed after closing began (which are discarded but counted, as the
 * standard says). */
WSC_EXTERN uint64_t wsc_socket_buffered_amount(const wsc_socket *ws);
/* Negotiated values; "" before open and when none. Borrowed. */
WSC_EXTERN const char *wsc_socket_extensions(const wsc_socket *ws);
WSC_EXTERN const char *wsc_socket_protocol(const wsc_socket *ws);
WSC_EXTERN wsc_binary_type wsc_socket_binary_type(const wsc_socket *ws);
WSC_EXTERN void wsc_socket_set_binary_type(wsc_socket *ws, wsc_binary_type type);
/* Arbitrary application pointer. */
WSC_EXTERN void wsc_socket_set_user(wsc_socket *ws, void *user);
WSC_EXTERN void *wsc_socket_user(const wsc_socket *ws);
/* After an error event: its code and message (also while CLOSED); 0 and ""
 * when the connection has not failed. */
WSC_EXTERN int wsc_socket_error(const wsc_socket *ws, const char **message);

/* send(). Data is copied before the call returns.
 *   0                 queued (or, once CLOSING/CLOSED, discarded but counted
 *                     in bufferedAmount)
 *   WSC_EINVALIDSTATE still CONNECTING
 *   WSC_ESYNTAX       text is not valid UTF-8 (nothing is sent)
 *   WSC_ENOMEM */
WSC_EXTERN int wsc_socket_send_text(wsc_socket *ws, const char *text, size_t length);
WSC_EXTERN int wsc_socket_send_binary(wsc_socket *ws, const void *data, size_t length);

/* Send one piece of a message built in pieces (a fragmented message), which
 * browsers lack: the first call starts a text (is_text = 1) or binary message,
 * later calls continue it with the same is_text, and fin = 1 ends it. Text
 * pieces may split a UTF-8 character between them; each piece is checked as a
 * continuation of the previous ones. Whole-message sends wait for fin.
 *   0                 queued (or discarded and counted once CLOSING/CLOSED)
 *   WSC_EINVALIDSTATE still CONNECTING
 *   WSC_ESYNTAX       the piece is not valid UTF-8 where it continues the text,
 *                     or fin = 1 leaves a character unfinished (nothing sent;
 *                     the message stays open)
 *   WSC_EINVAL        is_text differs from the message's
 *   WSC_ENOMEM
 * While such a message is open, wsc_socket_send_text/_binary return
 * WSC_EINVALIDSTATE. */
WSC_EXTERN int wsc_socket_send_fragment(wsc_socket *ws, const void *data, size_t length,
                                        int is_text, int fin);

/* send() of a buffer the caller hands over, for large messages: wsc takes
 * ownership of data in every case and calls release(data, arg) exactly once
 * when it no longer needs it (possibly before this returns: on an error, a
 * message discarded after closing, or bytes the kernel took at once). data
 * must stay untouched until then. Plain ws://: the bytes are never copied:
 * what the kernel does not take at once is kept by reference, and a client
 * masks them in place (so their contents change). wss:// and
 * permessage-deflate transform the bytes anyway: they are encrypted /
 * compressed as by wsc_socket_send_binary and released at once. Returns and
 * errors as wsc_socket_send_text (is_text = 1) / wsc_socket_send_binary. */
WSC_EXTERN int wsc_socket_send_owned(wsc_socket *ws, void *data, size_t length, int is_text,
                                     void (*release)(void *data, void *arg), void *arg);

/* close(code, reason). code 0 means absent (an empty Close frame is sent);
 * otherwise it must be 1000 or 3000-4999. reason may be NULL.
 *   0                   closing started (or nothing to do: already closing)
 *   WSC_EINVALIDACCESS  bad code
 *   WSC_ESYNTAX         reason over 123 bytes or not UTF-8
 * While CONNECTING the connection is failed: error then close (1006) follow. */
WSC_EXTERN int wsc_socket_close(wsc_socket *ws, int code, const char *reason, size_t reason_length);

/* The onopen/onmessage/onerror/onclose attributes: one handler each, NULL to
 * clear. Like the DOM, a handler keeps the place in the listener order where
 * it was first set. 0 or WSC_ENOMEM. */
WSC_EXTERN int wsc_socket_set_onopen(wsc_socket *ws, wsc_listener_fn fn, void *user);
WSC_EXTERN int wsc_socket_set_onmessage(wsc_socket *ws, wsc_listener_fn fn, void *user);
WSC_EXTERN int wsc_socket_set_onerror(wsc_socket *ws, wsc_listener_fn fn, void *user);
WSC_EXTERN int wsc_socket_set_onclose(wsc_socket *ws, wsc_listener_fn fn, void *user);
/* Beyond the browser: the drain event (see WSC_EVENT_DRAIN). */
WSC_EXTERN int wsc_socket_set_ondrain(wsc_socket *ws, wsc_listener_fn fn, void *user);
/* addEventListener / removeEventListener: listeners run in the order added; a
 * (fn, user) pair already present is not added twice. Removing during
 * dispatch is safe (a removed listener is not called afterwards).
 * 0, WSC_ENOMEM, WSC_EINVAL (bad type). */
WSC_EXTERN int wsc_socket_add_listener(wsc_socket *ws, wsc_event_type type, wsc_listener_fn fn,
                                       void *user);
WSC_EXTERN int wsc_socket_remove_listener(wsc_socket *ws, wsc_event_type type,
                                          wsc_listener_fn fn, void *user);

/* send() and close() from another thread: the data (or reason) is copied
 * and the call runs on the loop's thread with wsc_socket_send_text /
 * _send_binary / wsc_socket_close, whose errors (e.g. WSC_ESYNTAX for bad
 * UTF-8) are then dropped. A posted call for a socket freed meanwhile is
 * discarded safely: the socket's memory is kept until its posted calls have
 * run. The caller must only make sure the socket has not been freed (and,
 * for a server socket, has not fired its close event) when it posts, e.g.
 * by stopping its threads in the close listener.
 *   0, WSC_ENOMEM (nothing queued). Thread-safe. */
WSC_EXTERN int wsc_socket_post_send(wsc_socket *ws, const void *data, size_t length,
                                    int is_text);
WSC_EXTERN int wsc_socket_post_close(wsc_socket *ws, int code, const char *reason,
                                     size_t reason_length);

/* Stop reading from the peer (flow control: nothing more is received, so the
 * peer is eventually held up by TCP) / start again. Timers keep running.
 * 0, or WSC_EINVALIDSTATE once CLOSED. */
WSC_EXTERN int wsc_socket_pause(wsc_socket *ws);
WSC_EXTERN int wsc_socket_resume(wsc_socket *ws);

/* The server that accepted this socket, or NULL for a client socket. */
WSC_EXTERN struct wsc_server *wsc_socket_server(const wsc_socket *ws);

/* Send one message to many OPEN sockets, encoding the frame once (server
 * sockets share the same bytes; client sockets, which must mask, are sent to
 * one by one). Sockets not OPEN are skipped as send() would skip them.
 * Returns how many sockets the message was queued on, or WSC_ESYNTAX (text
 * not UTF-8), WSC_ENOMEM. */
WSC_EXTERN int wsc_broadcast(wsc_socket *const *sockets, size_t n, const void *data,
                             size_t length, int is_text);

/* ===========================================================================
 * The server
 *
 * A wsc_server listens on an address, runs the opening handshake of each
 * connection, and hands every accepted connection to the application as a
 * wsc_socket, the same object a client gets: same events, same send, same
 * close. Requests that are not WebSocket upgrades can be answered by a plain
 * HTTP handler (with a static-file helper).
 *
 *   wsc_server *srv;
 *   wsc_server_new(loop, &opts, &srv);
 *   wsc_server_set_onconnection(srv, on_connection, app);   // set listeners there
 *   wsc_server_listen(srv, "127.0.0.1:8080");
 *   wsc_loop_run(loop);
 *
 * Sockets a server hands out belong to it: the server frees each one after
 * its close event has been dispatched (do not use it afterwards). Calling
 * wsc_socket_free() on one drops its connection at once, without events.
 * Server sockets have no URL (wsc_socket_url returns "").
 */
typedef struct wsc_server wsc_server;
/* A received HTTP request: an upgrade being decided, or a plain request.
 * Valid only during the callback it is passed to. */
typedef struct wsc_request wsc_request;

typedef struct wsc_server_options {
  int backlog;                    /* listen() backlog; default 511 */
  int reuse_port;                 /* 1: SO_REUSEPORT, so several processes or
                                     loops can listen on the same port */
  uint32_t max_connections;       /* beyond it new connections get 503; default 100000 */
  uint32_t handshake_timeout_ms;  /* whole request head; default 10000 */
  uint32_t idle_timeout_ms;       /* close (1001) after this long without any
                                     frame received; 0 = never (default) */
  uint32_t ping_interval_ms;      /* keepalive as in wsc_options; 0 = never */
  uint32_t close_timeout_ms;      /* closing handshake; default 5000 */
  uint64_t max_message;           /* default WSC_DEFAULT_MAX_MESSAGE */
  uint64_t max_frame;             /* default WSC_DEFAULT_MAX_FRAME */
  uint32_t max_handshake;         /* request head; default WSC_DEFAULT_MAX_HANDSHAKE */
  uint64_t high_water_mark;       /* drain event threshold; default 1 MiB */
  uint64_t max_buffered;          /* a socket whose bufferedAmount exceeds this
                                     (a peer that does not read) is failed with
                                     WSC_EPOLICY (close 1008); default 64 MiB */
  /* Subprotocols the server speaks, in its order of preference: by default
   * the first of these that the client offered is selected. */
  const char *const *protocols;
  size_t nprotocols;
  /* Origins allowed to connect ("https://example.com"); a request with
   * another Origin gets 403. None (default): any origin, and requests
   * without Origin, are allowed. */
  const char *const *origins;
  size_t norigins;
  /* wss: certificate chain and private key (PEM). Both set = TLS. */
  const char *tls_cert_file;
  const char *tls_key_file;
  /* Verify client certificates against this CA file (PEM); NULL = don't ask
   * for one. */
  const char *tls_client_ca_file;
  /* permessage-deflate (see wsc_deflate_options). Off by default (each
   * connection with context takeover costs 77 KiB with the defaults).
   * With mode WSC_DEFLATE_ON the first offer in the request (in header and
   * list order) the server can honour is accepted; offers it cannot honour
   * are declined. wsc_socket_extensions() of the server socket gives the
   * value sent in the 101. */
  wsc_deflate_options deflate;
  /* File-backed blobs for received binary messages, as in wsc_options:
   * 0 = never (default); blob_dir NULL = $TMPDIR, else /tmp (copied). */
  uint64_t blob_file_threshold;
  const char *blob_dir;
} wsc_server_options;

WSC_EXTERN void wsc_server_options_init(wsc_server_options *opts);

/* Called for each valid upgrade request, before the 101 is sent. Decide with
 * wsc_request_accept() or wsc_request_reject(); a handler that decides
 * nothing accepts with the default subprotocol choice. Without a handler
 * every upgrade (that passed the origin check) is accepted. */
typedef void (*wsc_upgrade_fn)(wsc_server *srv, wsc_request *req, void *user);
/* Called with each accepted socket, already OPEN, before its open event:
 * set its listeners here. req is the upgrade request (path, headers, ...). */
typedef void (*wsc_connection_fn)(wsc_server *srv, wsc_socket *ws, const wsc_request *req,
                                  void *user);
/* Called for each request that is not an upgrade. Answer it with
 * wsc_request_respond() or wsc_request_serve_file(); without an answer (or
 * without a handler) the client gets 404. The connection closes after the
 * response. */
typedef void (*wsc_http_fn)(wsc_server *srv, wsc_request *req, void *user);

/* A server on the loop, not yet listening. opts may be NULL (defaults);
 * nothing it points to needs to outlive the call. 0, WSC_EINVAL (e.g. a
 * deflate value out of range), WSC_ENOMEM, WSC_ETLS (certificate or key unusable; see wsc_server_error). */
WSC_EXTERN int wsc_server_new(wsc_loop *loop, const wsc_server_options *opts, wsc_server **out);
WSC_EXTERN void wsc_server_set_onupgrade(wsc_server *srv, wsc_upgrade_fn fn, void *user);
WSC_EXTERN void wsc_server_set_onconnection(wsc_server *srv, wsc_connection_fn fn, void *user);
WSC_EXTERN void wsc_server_set_onhttp(wsc_server *srv, wsc_http_fn fn, void *user);

/* Listen on "HOST:PORT": an IPv4 address, "[IPv6]" in brackets, or
 * "localhost"; port 0 picks a free port (see wsc_server_port). One address
 * per server (run several servers on one loop for several addresses).
 *   0, WSC_EINVAL (bad address), WSC_EINVALIDSTATE (already listening),
 *   or the bind/listen error (-EADDRINUSE, -EACCES, ...). */
WSC_EXTERN int wsc_server_listen(wsc_server *srv, const char *address);
/* The port listened on, 0 before listening. */
WSC_EXTERN int wsc_server_port(const wsc_server *srv);
/* The address listened on, e.g. "127.0.0.1:8080" or "[::1]:8080"; "" before. */
WSC_EXTERN const char *wsc_server_address(const wsc_server *srv);
/* Connections open now (handshaking, open or closing). */
WSC_EXTERN size_t wsc_server_connection_count(const wsc_server *srv);
/* Send one message to every OPEN socket of the server, encoding it once.
 * The count of sockets, WSC_ESYNTAX (text not UTF-8) or WSC_ENOMEM. */
WSC_EXTERN int wsc_server_broadcast(wsc_server *srv, const void *data, size_t length,
                                    int is_text);
/* Graceful shutdown: stop listening, close every open socket with 1001
 * (Going Away) and drop handshaking connections; when every connection is
 * closed, or after timeout_ms (0 = 5000) with the rest dropped, done is
 * called (may be NULL). Sockets fire their close events as usual. The
 * server can then be freed. 0, or WSC_EINVALIDSTATE when already closing. */
WSC_EXTERN int wsc_server_close(wsc_server *srv, uint32_t timeout_ms,
                                void (*done)(wsc_server *srv, void *user), void *user);
/* Free the server. Connections still open are dropped without events. Not
 * inside the server's own callbacks; call it after wsc_server_close's done
 * (or from it). */
WSC_EXTERN void wsc_server_free(wsc_server *srv);
/* The last listen / TLS setup error: its code and a message (borrowed). */
WSC_EXTERN int wsc_server_error(const wsc_server *srv, const char **message);

/* ---- Requests -------------------------------------------------------------
 * Strings are NUL-terminated and borrowed for the duration of the callback. */
WSC_EXTERN const char *wsc_request_method(const wsc_request *req); /* "GET" */
WSC_EXTERN const char *wsc_request_target(const wsc_request *req); /* "/chat?room=1" */
WSC_EXTERN const char *wsc_request_path(const wsc_request *req);   /* "/chat" (not decoded) */
WSC_EXTERN const char *wsc_request_query(const wsc_request *req);  /* "room=1", NULL without '?' */
/* The first header with this name (case-insensitive), or NULL. */
WSC_EXTERN const char *wsc_request_header(const wsc_request *req, const char *name);
/* The i-th header in order: 1 with *name and *value set, 0 past the end. */
WSC_EXTERN int wsc_request_header_at(const wsc_request *req, size_t i, const char **name,
                                     const char **value);
WSC_EXTERN const char *wsc_request_origin(const wsc_request *req); /* NULL if none */
/* The i-th offered subprotocol, NULL past the end. */
WSC_EXTERN const char *wsc_request_protocol(const wsc_request *req, size_t i);
/* The peer's address, "127.0.0.1:51234" or "[::1]:51234". */
WSC_EXTERN const char *wsc_request_peer(const wsc_request *req);
/* 1 for a WebSocket upgrade, 0 for a plain HTTP request. */
WSC_EXTERN int wsc_request_is_upgrade(const wsc_request *req);

/* Accept the upgrade, selecting protocol (NULL: none; otherwise one the
 * client offered). 0, WSC_EINVAL (not offered / not an upgrade),
 * WSC_EINVALIDSTATE (already decided). */
WSC_EXTERN int wsc_request_accept(wsc_request *req, const char *protocol);
/* Answer this upgrade without permessage-deflate even when the client offers
 * it and wsc_server_options.deflate allows it: e.g. for a path whose
 * messages do not compress, or so that this connection holds no zlib state.
 * In the upgrade callback, before or after wsc_request_accept. 0, or
 * WSC_EINVAL (not an upgrade). */
WSC_EXTERN int wsc_request_decline_deflate(wsc_request *req);
/* Refuse an upgrade, or answer a plain request with an error: status
 * 300-599, optional text body (NULL for none). 0, WSC_EINVAL,
 * WSC_EINVALIDSTATE (already decided). */
WSC_EXTERN int wsc_request_reject(wsc_request *req, int status, const char *body);
/* Answer a plain HTTP request: status, extra "Name: value" headers
 * (Content-Length and Connection are added), body (copied). A HEAD request
 * gets the headers only. 0, WSC_EINVAL, WSC_EINVALIDSTATE, WSC_ENOMEM. */
WSC_EXTERN int wsc_request_respond(wsc_request *req, int status, const char *const *headers,
                                   size_t nheaders, const void *body, size_t length);
/* Serve the file the request path names under the directory root (GET and
 * HEAD; "/" and directories serve index.html): Content-Type from the
 * extension, Last-Modified, 304 for If-Modified-Since, 404 for missing
 * files, 403 for paths escaping root (.., encoded or not), 405 for other
 * methods. 0 once answered (whatever the status), WSC_EINVALIDSTATE if
 * already answered, WSC_ENOMEM. */
WSC_EXTERN int wsc_request_serve_file(wsc_request *req, const char *root);

#ifdef __cplusplus
}
#endif
#endif /* WSC_H */
