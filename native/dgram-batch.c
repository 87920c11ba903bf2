/*
 * dgram-batch: a UDP socket read and written in batches (recvmmsg / sendmmsg), for Node.js through N-API.
 *
 * Why: node:dgram makes one recvmsg and one sendmsg per datagram, a new Buffer and an rinfo object (with a
 * formatted address string) per received datagram, and a request object per send. At bootstrap-server rates and
 * for a uTP stream with 1,420-byte packets those are most of the CPU. Here the socket is ours (created, bound and
 * optionally SO_REUSEPORT here), libuv only tells us when it is readable or writable (uv_poll_t on the main
 * loop), and datagrams move through rings that JavaScript allocated and handed over once:
 *
 *   receive ring: data   slots x slot_bytes   what recvmmsg wrote: one datagram per slot, or with UDP GRO
 *                                             (isGro) several consecutive datagrams of one peer per slot
 *                 meta   entries x 8 int32    per datagram: [length, family (4|6), port, IPv4 as a big-endian
 *                                             uint32 | 0, slot, offset in the slot, 0, 0]; length < 0: dropped
 *                                             (truncated or bad address), skip it
 *                 addr   entries x 18 bytes   compact address (BEP 5): ip (4 or 16 bytes) then port, big endian
 *   send ring:    data   any size             a byte ring: each datagram where its meta says
 *                 meta   slots x 8 int32      [length, family (4|6), port, IPv4 as a big-endian uint32,
 *                                              offset in data, 0, 0, 0]
 *                 addr6  slots x 16 bytes     the IPv6 destination when family is 6
 *   status        4 int32                     [send errors, receive errors, truncated, reserved] (added to)
 *
 * Contract (all on the JavaScript thread; nothing here runs on another thread):
 *   open(options) -> handle            creates, configures and binds the socket (throws on failure)
 *   localPort(handle) -> number
 *   start(handle, onReceive, onWritable)  onReceive(count): receive entries [0, count) are filled; it runs
 *                                      synchronously and the slots are reused after it returns. onWritable():
 *                                      the socket can take more after a flush stopped on a full buffer.
 *   flush(handle, first, count) -> n   sends send slots first .. first+count-1 (modulo slots) with sendmmsg;
 *                                      n = how many were consumed (sent, or failed and counted as errors);
 *                                      n < count only when the kernel buffer is full (then wantWritable).
 *   wantWritable(handle, bool)         asks for one onWritable call when the socket can take more.
 *   close(handle)                      stops polling and closes the socket (idempotent).
 *
 * Consecutive send slots to the same destination with the same size (the last may be shorter) leave as one
 * message with UDP_SEGMENT (generic segmentation offload): the kernel cuts them into datagrams after its UDP/IP
 * output path, so a uTP burst costs one trip through the stack instead of one per packet. The receiver sees
 * ordinary datagrams. If the kernel or the route refuses segmentation, it is switched off for the socket and
 * the datagrams go one by one.
 *
 * Every index, length and family that comes from JavaScript is checked against the ring sizes before use;
 * every length that comes from the kernel is checked against the slot size (MSG_TRUNC: the datagram is
 * dropped and counted, never handed on cut short).
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define RECV_META_INTS 8
#define SEND_META_INTS 8
/* The kernel coalesces at most 64 datagrams into one GRO receive (UDP_GRO_CNT_MAX). */
#define MAX_GRO_SEGMENTS 64
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#define MAX_DATAGRAM_BYTES 65507
#define ADDR_BYTES 18
#define ADDR6_BYTES 16
#define STATUS_INTS 4
/* recvmmsg / sendmmsg batch size (the kernel caps vlen at UIO_MAXIOV = 1024). */
#define MAX_BATCH 256
/* Receive batches per readable event before yielding to the event loop (timers, other sockets). */
#define MAX_RECEIVE_BATCHES_PER_WAKE 8
/* UDP GSO (Linux >= 4.18): at most 64 segments and one IP packet's worth of payload per message. */
#define MAX_GSO_SEGMENTS 64
#define MAX_GSO_BYTES 65000
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

typedef struct {
  uint8_t *data;
  int32_t *meta;
  uint8_t *addr;
  size_t slots;
  size_t slot_bytes; /* receive: bytes per slot; send: unused */
  size_t data_bytes;
  size_t entries; /* receive: datagram entries in meta and addr */
} ring_t;

typedef struct socket_s {
  uv_poll_t poll;
  int fd;
  int family; /* AF_INET or AF_INET6 */
  int is_closed;
  int is_polling;
  int wants_writable;
  int is_finalized;
  napi_env env;
  napi_ref wrapper;
  napi_ref buffers[7];
  napi_ref on_receive;
  napi_ref on_writable;
  napi_async_context async_context;
  ring_t recv;
  ring_t send;
  int32_t *status;
  struct mmsghdr *recv_msgs;
  struct iovec *recv_iovs;
  struct sockaddr_storage *recv_names;
  char (*recv_control)[CMSG_SPACE(sizeof(int))];
  int is_gro;
  int is_gso; /* UDP_SEGMENT allowed (cleared for good the first time the kernel refuses it) */
  struct mmsghdr send_msgs[MAX_BATCH];
  struct iovec send_iovs[MAX_BATCH];
  struct sockaddr_storage send_names[MAX_BATCH];
  uint16_t send_segments[MAX_BATCH];  /* datagrams in message k */
  uint16_t send_gso_size[MAX_BATCH];  /* their size (the last may be shorter) */
  uint16_t send_last_size[MAX_BATCH]; /* size of the last one so far */
  uint32_t send_bytes[MAX_BATCH];
  char send_control[MAX_BATCH][CMSG_SPACE(sizeof(uint16_t))];
} socket_t;

#define CHECK(call)                                                                                           \
  do {                                                                                                        \
    if ((call) != napi_ok) return NULL;                                                                       \
  } while (0)

static napi_value throw_error(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

static int get_property(napi_env env, napi_value object, const char *name, napi_value *out) {
  bool has = false;
  if (napi_has_named_property(env, object, name, &has) != napi_ok || !has) return 0;
  return napi_get_named_property(env, object, name, out) == napi_ok;
}

static int get_int(napi_env env, napi_value object, const char *name, int64_t *out) {
  napi_value v;
  if (!get_property(env, object, name, &v)) return 0;
  return napi_get_value_int64(env, v, out) == napi_ok;
}

static int get_bool(napi_env env, napi_value object, const char *name, bool *out) {
  napi_value v;
  if (!get_property(env, object, name, &v)) return 0;
  return napi_get_value_bool(env, v, out) == napi_ok;
}

/* A Buffer / Uint8Array (is_ints = 0) or an Int32Array (is_ints = 1) property, with its byte length. */
static int get_bytes(napi_env env, napi_value object, const char *name, int is_ints, void **data, size_t *bytes,
                     napi_ref *ref) {
  napi_value v;
  bool is_typed = false;
  if (!get_property(env, object, name, &v)) return 0;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  size_t length;
  if (napi_get_typedarray_info(env, v, &type, &length, data, NULL, NULL) != napi_ok) return 0;
  if (is_ints ? type != napi_int32_array : type != napi_uint8_array) return 0;
  *bytes = is_ints ? length * 4 : length;
  return napi_create_reference(env, v, 1, ref) == napi_ok;
}

/* Reads one ring's buffers from options[("recv" | "send") + ("Data" | "Meta" | "Addr")] and checks their sizes. */
static int get_ring(napi_env env, napi_value options, int is_send, ring_t *ring, napi_ref *refs) {
  int64_t slots, slot_bytes = 0;
  size_t meta_bytes, addr_bytes;
  if (!get_int(env, options, is_send ? "sendSlots" : "recvSlots", &slots) || slots < 1 || slots > 65536) return 0;
  int64_t entries = slots;
  if (!is_send && (!get_int(env, options, "slotBytes", &slot_bytes) || slot_bytes < 64 || slot_bytes > 65536 ||
                   !get_int(env, options, "recvEntries", &entries) || entries < slots ||
                   entries > slots * MAX_GRO_SEGMENTS))
    return 0;
  if (!get_bytes(env, options, is_send ? "sendData" : "recvData", 0, (void **)&ring->data, &ring->data_bytes,
                 &refs[0]))
    return 0;
  if (!get_bytes(env, options, is_send ? "sendMeta" : "recvMeta", 1, (void **)&ring->meta, &meta_bytes, &refs[1]))
    return 0;
  if (!get_bytes(env, options, is_send ? "sendAddr" : "recvAddr", 0, (void **)&ring->addr, &addr_bytes, &refs[2]))
    return 0;
  ring->slots = (size_t)slots;
  ring->slot_bytes = (size_t)slot_bytes;
  ring->entries = (size_t)entries;
  if (is_send)
    return meta_bytes >= ring->slots * SEND_META_INTS * 4 && addr_bytes >= ring->slots * ADDR6_BYTES &&
           ring->data_bytes > 0;
  return ring->data_bytes >= ring->slots * ring->slot_bytes && meta_bytes >= ring->entries * RECV_META_INTS * 4 &&
         addr_bytes >= ring->entries * ADDR_BYTES;
}

static void release_refs(socket_t *s) {
  for (int i = 0; i < 7; i++) {
    if (s->buffers[i] != NULL) napi_delete_reference(s->env, s->buffers[i]);
    s->buffers[i] = NULL;
  }
  if (s->on_receive != NULL) napi_delete_reference(s->env, s->on_receive);
  if (s->on_writable != NULL) napi_delete_reference(s->env, s->on_writable);
  s->on_receive = s->on_writable = NULL;
}

static void free_socket(socket_t *s) {
  free(s->recv_msgs);
  free(s->recv_iovs);
  free(s->recv_names);
  free(s->recv_control);
  free(s);
}

static void on_handle_closed(uv_handle_t *handle) {
  socket_t *s = (socket_t *)handle->data;
  close(s->fd);
  s->fd = -1;
  s->is_polling = 0;
  /* The wrapper may still be reachable from JavaScript: then its finalizer frees the memory later. */
  if (s->is_finalized) free_socket(s);
}

/* Stops polling and closes the fd; frees nothing JavaScript may still point at. */
static void close_socket(socket_t *s) {
  if (s->is_closed) return;
  s->is_closed = 1;
  if (s->async_context != NULL) napi_async_destroy(s->env, s->async_context);
  s->async_context = NULL;
  release_refs(s);
  if (s->is_polling) {
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_handle_closed);
  } else {
    close(s->fd);
    s->fd = -1;
  }
}

static void finalize_socket(napi_env env, void *data, void *hint) {
  (void)hint;
  socket_t *s = (socket_t *)data;
  s->is_finalized = 1;
  close_socket(s);
  if (s->wrapper != NULL) napi_delete_reference(env, s->wrapper);
  s->wrapper = NULL;
  /* With a poll handle, on_handle_closed frees once libuv is done with it. */
  if (s->fd < 0 && !s->is_polling) free_socket(s);
}

static socket_t *unwrap(napi_env env, napi_value value) {
  void *data = NULL;
  if (napi_unwrap(env, value, &data) != napi_ok) return NULL;
  return (socket_t *)data;
}

/* Writes a received source address into the compact form and meta; returns 0 for anything not IPv4/IPv6. */
static int write_source(const struct sockaddr_storage *from, uint8_t *addr, int32_t *meta) {
  if (from->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)from;
    memcpy(addr, &a->sin_addr, 4);
    memcpy(addr + 4, &a->sin_port, 2);
    meta[1] = 4;
    meta[2] = ntohs(a->sin_port);
    meta[3] = (int32_t)ntohl(a->sin_addr.s_addr);
    return 1;
  }
  if (from->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from;
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
      /* A dual-stack socket's IPv4 peer: report it as IPv4, as the rest of dhtchat expects. */
      memcpy(addr, &a->sin6_addr.s6_addr[12], 4);
      memcpy(addr + 4, &a->sin6_port, 2);
      meta[1] = 4;
      meta[2] = ntohs(a->sin6_port);
      uint32_t v4;
      memcpy(&v4, &a->sin6_addr.s6_addr[12], 4);
      meta[3] = (int32_t)ntohl(v4);
      return 1;
    }
    memcpy(addr, &a->sin6_addr, 16);
    memcpy(addr + 16, &a->sin6_port, 2);
    meta[1] = 6;
    meta[2] = ntohs(a->sin6_port);
    meta[3] = 0;
    return 1;
  }
  return 0;
}

/* Calls a stored JavaScript function with an optional number, inside a callback scope (microtasks run after). */
static void call_js(socket_t *s, napi_ref ref, int has_arg, int32_t arg) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, argv[1], result, wrapper;
  if (ref != NULL && napi_get_reference_value(env, ref, &fn) == napi_ok && fn != NULL &&
      napi_get_reference_value(env, s->wrapper, &wrapper) == napi_ok && wrapper != NULL) {
    napi_get_undefined(env, &recv);
    if (has_arg) napi_create_int32(env, arg, &argv[0]);
    napi_status status = napi_make_callback(env, s->async_context, wrapper, fn, has_arg ? 1 : 0, argv, &result);
    if (status == napi_pending_exception) {
      /* An exception in the handler: hand it to Node's uncaught-exception path, as an event emitter would. */
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error);
    }
  }
  napi_close_handle_scope(env, scope);
}

/* The GRO segment size of a received message (0: one datagram). */
static int gro_segment_size(struct msghdr *h) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      int size;
      memcpy(&size, CMSG_DATA(c), sizeof size);
      return size > 0 ? size : 0;
    }
  }
  return 0;
}

/* Writes one datagram entry; returns the next entry index (unchanged when the entry table is full). */
static size_t add_entry(socket_t *s, size_t entry, size_t slot, size_t offset, size_t length, int is_dropped) {
  ring_t *r = &s->recv;
  if (entry >= r->entries) {
    s->status[2]++;
    return entry;
  }
  int32_t *meta = r->meta + entry * RECV_META_INTS;
  uint8_t *addr = r->addr + entry * ADDR_BYTES;
  meta[4] = (int32_t)slot;
  meta[5] = (int32_t)offset;
  if (is_dropped || !write_source(&s->recv_names[slot], addr, meta)) {
    if (!is_dropped) s->status[1]++;
    meta[0] = -1;
    return entry + 1;
  }
  meta[0] = (int32_t)length;
  return entry + 1;
}

static void receive_batches(socket_t *s) {
  ring_t *r = &s->recv;
  size_t batch = r->slots < MAX_BATCH ? r->slots : MAX_BATCH;
  for (int round = 0; round < MAX_RECEIVE_BATCHES_PER_WAKE && !s->is_closed; round++) {
    for (size_t i = 0; i < batch; i++) {
      struct msghdr *h = &s->recv_msgs[i].msg_hdr;
      h->msg_namelen = sizeof(struct sockaddr_storage);
      h->msg_flags = 0;
      if (s->is_gro) {
        h->msg_control = s->recv_control[i];
        h->msg_controllen = sizeof s->recv_control[i];
      }
    }
    int n = recvmmsg(s->fd, s->recv_msgs, (unsigned)batch, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) s->status[1]++;
      return;
    }
    if (n == 0) return;
    size_t entry = 0;
    for (int i = 0; i < n; i++) {
      struct msghdr *h = &s->recv_msgs[i].msg_hdr;
      size_t length = s->recv_msgs[i].msg_len;
      if ((h->msg_flags & MSG_TRUNC) != 0 || length > r->slot_bytes) {
        s->status[2]++;
        entry = add_entry(s, entry, (size_t)i, 0, 0, 1);
        continue;
      }
      size_t segment = s->is_gro ? (size_t)gro_segment_size(h) : 0;
      if (segment == 0 || segment >= length) {
        entry = add_entry(s, entry, (size_t)i, 0, length, 0);
        continue;
      }
      /* Coalesced by GRO: consecutive datagrams of `segment` bytes, the last possibly shorter. */
      for (size_t offset = 0; offset < length; offset += segment) {
        size_t part = length - offset < segment ? length - offset : segment;
        entry = add_entry(s, entry, (size_t)i, offset, part, 0);
      }
    }
    call_js(s, s->on_receive, 1, (int32_t)entry);
    if ((size_t)n < batch) return;
  }
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  socket_t *s = (socket_t *)handle->data;
  if (s->is_closed) return;
  if (status < 0) {
    s->status[1]++;
    return;
  }
  if ((events & UV_WRITABLE) != 0 && s->wants_writable) {
    s->wants_writable = 0;
    uv_poll_start(&s->poll, UV_READABLE, on_poll);
    call_js(s, s->on_writable, 0, 0);
  }
  if ((events & UV_READABLE) != 0 && !s->is_closed) receive_batches(s);
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], this_arg;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &this_arg, NULL));
  if (argc < 1) return throw_error(env, "DGRAM_BATCH_ARGS", "open(options)");
  napi_value options = argv[0];
  int64_t family = 0, port = -1, buffer_bytes = 0;
  bool is_reuse_port = false, is_v6_only = false, is_gro = false;
  char host[64];
  size_t host_length = 0;
  napi_value host_value;
  if (!get_int(env, options, "family", &family) || (family != 4 && family != 6) ||
      !get_int(env, options, "port", &port) || port < 0 || port > 65535 ||
      !get_property(env, options, "host", &host_value) ||
      napi_get_value_string_utf8(env, host_value, host, sizeof host, &host_length) != napi_ok)
    return throw_error(env, "DGRAM_BATCH_ARGS", "open: family, host, port");
  get_int(env, options, "bufferBytes", &buffer_bytes);
  get_bool(env, options, "isReusePort", &is_reuse_port);
  get_bool(env, options, "isV6Only", &is_v6_only);
  get_bool(env, options, "isGro", &is_gro);

  socket_t *s = calloc(1, sizeof(socket_t));
  if (s == NULL) return throw_error(env, "DGRAM_BATCH_NOMEM", "out of memory");
  s->fd = -1;
  s->env = env;
  s->is_gso = 1;
  size_t status_bytes = 0;
  if (!get_ring(env, options, 0, &s->recv, &s->buffers[0]) || !get_ring(env, options, 1, &s->send, &s->buffers[3]) ||
      !get_bytes(env, options, "status", 1, (void **)&s->status, &status_bytes, &s->buffers[6]) ||
      status_bytes < STATUS_INTS * 4) {
    release_refs(s);
    free_socket(s);
    return throw_error(env, "DGRAM_BATCH_ARGS", "open: ring buffers missing or too small");
  }
  size_t batch = s->recv.slots < MAX_BATCH ? s->recv.slots : MAX_BATCH;
  s->recv_msgs = calloc(batch, sizeof(struct mmsghdr));
  s->recv_iovs = calloc(batch, sizeof(struct iovec));
  s->recv_names = calloc(batch, sizeof(struct sockaddr_storage));
  s->recv_control = calloc(batch, sizeof *s->recv_control);
  if (s->recv_msgs == NULL || s->recv_iovs == NULL || s->recv_names == NULL || s->recv_control == NULL) {
    release_refs(s);
    free_socket(s);
    return throw_error(env, "DGRAM_BATCH_NOMEM", "out of memory");
  }
  for (size_t i = 0; i < batch; i++) {
    s->recv_iovs[i].iov_base = s->recv.data + i * s->recv.slot_bytes;
    s->recv_iovs[i].iov_len = s->recv.slot_bytes;
    s->recv_msgs[i].msg_hdr.msg_iov = &s->recv_iovs[i];
    s->recv_msgs[i].msg_hdr.msg_iovlen = 1;
    s->recv_msgs[i].msg_hdr.msg_name = &s->recv_names[i];
  }

  struct sockaddr_storage bind_address;
  socklen_t bind_length;
  memset(&bind_address, 0, sizeof bind_address);
  if (family == 4) {
    struct sockaddr_in *a = (struct sockaddr_in *)&bind_address;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1) goto bad_host;
    bind_length = sizeof *a;
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&bind_address;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) goto bad_host;
    bind_length = sizeof *a;
  }
  s->family = family == 4 ? AF_INET : AF_INET6;
  s->fd = socket(s->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd < 0) goto system_error;
  int one = 1, zero = 0;
  if (is_reuse_port && setsockopt(s->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) goto system_error;
  if (family == 6 &&
      setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, is_v6_only ? &one : &zero, sizeof one) != 0)
    goto system_error;
  if (buffer_bytes > 0 && buffer_bytes <= (1 << 30)) {
    int size = (int)buffer_bytes;
    /* The kernel may cap these; smaller buffers still work. */
    setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  }
  if (bind(s->fd, (struct sockaddr *)&bind_address, bind_length) != 0) goto system_error;
  /* GRO needs every entry of a 64-datagram receive to fit the entry table; without kernel support, go without. */
  if (is_gro && s->recv.entries >= s->recv.slots * MAX_GRO_SEGMENTS &&
      setsockopt(s->fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0)
    s->is_gro = 1;

  napi_value wrapper, resource_name;
  CHECK(napi_create_object(env, &wrapper));
  CHECK(napi_wrap(env, wrapper, s, finalize_socket, NULL, NULL));
  CHECK(napi_create_reference(env, wrapper, 0, &s->wrapper));
  CHECK(napi_create_string_utf8(env, "DgramBatch", NAPI_AUTO_LENGTH, &resource_name));
  CHECK(napi_async_init(env, wrapper, resource_name, &s->async_context));
  return wrapper;

bad_host:
  release_refs(s);
  free_socket(s);
  return throw_error(env, "DGRAM_BATCH_ARGS", "open: host is not an IP literal of the family");
system_error : {
  char message[128];
  int code = errno;
  snprintf(message, sizeof message, "socket setup failed: %s", strerror(code));
  if (s->fd >= 0) close(s->fd);
  release_refs(s);
  free_socket(s);
  const char *name = code == EADDRINUSE      ? "EADDRINUSE"
                     : code == EACCES        ? "EACCES"
                     : code == EADDRNOTAVAIL ? "EADDRNOTAVAIL"
                                             : "DGRAM_BATCH_SYSTEM";
  return throw_error(env, name, message);
}
}

static socket_t *socket_arg(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  if (napi_get_cb_info(env, info, argc, argv, NULL, NULL) != napi_ok || *argc < 1) return NULL;
  return unwrap(env, argv[0]);
}

static napi_value js_local_port(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  socket_t *s = socket_arg(env, info, &argc, argv);
  if (s == NULL || s->is_closed) return throw_error(env, "DGRAM_BATCH_ARGS", "localPort(open handle)");
  struct sockaddr_storage a;
  socklen_t length = sizeof a;
  if (getsockname(s->fd, (struct sockaddr *)&a, &length) != 0)
    return throw_error(env, "DGRAM_BATCH_SYSTEM", "getsockname failed");
  int port = a.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&a)->sin_port)
                                    : ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
  CHECK(napi_create_int32(env, port, &result));
  return result;
}

static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  socket_t *s = socket_arg(env, info, &argc, argv);
  if (s == NULL || s->is_closed || s->is_polling || argc < 3)
    return throw_error(env, "DGRAM_BATCH_ARGS", "start(open handle, onReceive, onWritable)");
  CHECK(napi_create_reference(env, argv[1], 1, &s->on_receive));
  CHECK(napi_create_reference(env, argv[2], 1, &s->on_writable));
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  if (uv_poll_init_socket(loop, &s->poll, s->fd) != 0) return throw_error(env, "DGRAM_BATCH_SYSTEM", "uv_poll_init");
  s->poll.data = s;
  s->is_polling = 1;
  uv_poll_start(&s->poll, UV_READABLE, on_poll);
  return NULL;
}

static napi_value js_want_writable(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  socket_t *s = socket_arg(env, info, &argc, argv);
  bool wants = false;
  if (s == NULL || argc < 2 || napi_get_value_bool(env, argv[1], &wants) != napi_ok)
    return throw_error(env, "DGRAM_BATCH_ARGS", "wantWritable(handle, boolean)");
  if (s->is_closed || !s->is_polling || s->wants_writable == (int)wants) return NULL;
  s->wants_writable = wants;
  uv_poll_start(&s->poll, wants ? UV_READABLE | UV_WRITABLE : UV_READABLE, on_poll);
  return NULL;
}

/* Reads send slot `slot` into a destination and an iovec; returns 0 when its meta is invalid. */
static int prepare_send(socket_t *s, size_t slot, struct sockaddr_storage *name, socklen_t *name_length,
                        struct iovec *iov) {
  ring_t *r = &s->send;
  int32_t *meta = r->meta + slot * SEND_META_INTS;
  int32_t length = meta[0], family = meta[1], port = meta[2], offset = meta[4];
  if (length < 0 || length > MAX_DATAGRAM_BYTES || offset < 0 || (size_t)offset + (size_t)length > r->data_bytes ||
      port < 1 || port > 65535 || (family != 4 && family != 6))
    return 0;
  memset(name, 0, sizeof *name);
  if (s->family == AF_INET) {
    if (family != 4) return 0;
    struct sockaddr_in *a = (struct sockaddr_in *)name;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    a->sin_addr.s_addr = htonl((uint32_t)meta[3]);
    *name_length = sizeof *a;
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)name;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (family == 4) {
      /* IPv4 through a dual-stack socket: the IPv4-mapped form. */
      a->sin6_addr.s6_addr[10] = 0xff;
      a->sin6_addr.s6_addr[11] = 0xff;
      uint32_t v4 = htonl((uint32_t)meta[3]);
      memcpy(&a->sin6_addr.s6_addr[12], &v4, 4);
    } else {
      memcpy(&a->sin6_addr, r->addr + slot * ADDR6_BYTES, 16);
    }
    *name_length = sizeof *a;
  }
  iov->iov_base = r->data + offset;
  iov->iov_len = (size_t)length;
  return 1;
}

/* Whether a datagram of `length` bytes to `name` may join message k as one more GSO segment. */
static int can_join(const socket_t *s, size_t k, const struct sockaddr_storage *name, socklen_t name_length,
                    size_t length) {
  return s->is_gso && s->send_segments[k] < MAX_GSO_SEGMENTS && s->send_gso_size[k] > 0 &&
         s->send_last_size[k] == s->send_gso_size[k] && length > 0 && length <= s->send_gso_size[k] &&
         s->send_bytes[k] + length <= MAX_GSO_BYTES && s->send_msgs[k].msg_hdr.msg_namelen == name_length &&
         memcmp(&s->send_names[k], name, name_length) == 0;
}

static napi_value js_flush(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  socket_t *s = socket_arg(env, info, &argc, argv);
  int64_t first = -1, count = -1;
  if (s == NULL || argc < 3 || napi_get_value_int64(env, argv[1], &first) != napi_ok ||
      napi_get_value_int64(env, argv[2], &count) != napi_ok || first < 0 || (size_t)first >= s->send.slots ||
      count < 0 || (size_t)count > s->send.slots)
    return throw_error(env, "DGRAM_BATCH_ARGS", "flush(handle, first, count) within the send ring");
  int64_t consumed = 0;
  if (s->is_closed) consumed = count; /* nothing can go out any more: the caller just frees the slots */
  while (consumed < count) {
    /* Messages k over consecutive iovecs v; an invalid slot ends the batch (or is consumed as an error when it
       comes first), so what `consumed` counts is always a prefix of the slots. */
    size_t k = 0, v = 0;
    int64_t scanned = 0;
    while (consumed + scanned < count && v < MAX_BATCH) {
      size_t slot = (size_t)((first + consumed + scanned) % (int64_t)s->send.slots);
      struct sockaddr_storage name;
      socklen_t name_length = 0;
      struct iovec iov;
      if (!prepare_send(s, slot, &name, &name_length, &iov)) {
        if (k > 0) break;
        s->status[0]++;
        consumed++;
        continue;
      }
      if (k > 0 && can_join(s, k - 1, &name, name_length, iov.iov_len)) {
        s->send_iovs[v] = iov;
        s->send_msgs[k - 1].msg_hdr.msg_iovlen++;
        s->send_segments[k - 1]++;
        s->send_last_size[k - 1] = (uint16_t)iov.iov_len;
        s->send_bytes[k - 1] += (uint32_t)iov.iov_len;
      } else {
        s->send_names[k] = name;
        s->send_iovs[v] = iov;
        struct msghdr *h = &s->send_msgs[k].msg_hdr;
        h->msg_name = &s->send_names[k];
        h->msg_namelen = name_length;
        h->msg_iov = &s->send_iovs[v];
        h->msg_iovlen = 1;
        h->msg_control = NULL;
        h->msg_controllen = 0;
        h->msg_flags = 0;
        s->send_segments[k] = 1;
        s->send_gso_size[k] = iov.iov_len <= 0xffff ? (uint16_t)iov.iov_len : 0;
        s->send_last_size[k] = s->send_gso_size[k];
        s->send_bytes[k] = (uint32_t)iov.iov_len;
        k++;
      }
      v++;
      scanned++;
    }
    if (k == 0) continue;
    for (size_t m = 0; m < k; m++) {
      if (s->send_segments[m] < 2) continue;
      struct msghdr *h = &s->send_msgs[m].msg_hdr;
      h->msg_control = s->send_control[m];
      h->msg_controllen = sizeof s->send_control[m];
      struct cmsghdr *c = CMSG_FIRSTHDR(h);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      memcpy(CMSG_DATA(c), &s->send_gso_size[m], sizeof(uint16_t));
    }
    int n = sendmmsg(s->fd, s->send_msgs, (unsigned)k, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) break;
      if (errno == EINTR) continue;
      if (s->send_segments[0] > 1 && s->is_gso) {
        /* Segmentation refused (old kernel, no checksum offload, a path MTU below the segment): go one by one. */
        s->is_gso = 0;
        continue;
      }
      /* The first datagram failed for good (unreachable, too big...): count it and go on after it. */
      s->status[0] += s->send_segments[0];
      consumed += s->send_segments[0];
      continue;
    }
    for (int m = 0; m < n; m++) consumed += s->send_segments[m];
    /* n < k: stopped early; the next call says EAGAIN (buffer full) or fails on that message. */
  }
  CHECK(napi_create_int64(env, consumed, &result));
  return result;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  socket_t *s = socket_arg(env, info, &argc, argv);
  if (s == NULL) return throw_error(env, "DGRAM_BATCH_ARGS", "close(handle)");
  close_socket(s);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"localPort", NULL, js_local_port, NULL, NULL, NULL, napi_default, NULL},
      {"start", NULL, js_start, NULL, NULL, NULL, napi_default, NULL},
      {"wantWritable", NULL, js_want_writable, NULL, NULL, NULL, napi_default, NULL},
      {"flush", NULL, js_flush, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok)
    return NULL;
  return exports;
}
