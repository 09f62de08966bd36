// steerdns UDP fast path (Linux): one UDP socket polled on Node's event loop, datagrams
// received in batches with recvmmsg and replies sent in batches with sendmmsg.
//
// Contract with JavaScript (src/dns/udp-batched.ts):
//   open(host, port, options, recvBuffer, meta, addresses, onBatch) -> handle
//     recvBuffer: Buffer of batch * slot bytes; datagram i is written at i * slot.
//     meta:       Uint32Array of batch * 4: length, source port, family (4/6), 0.
//     addresses:  Uint8Array of batch * 16: the source address (IPv4 in the first 4 bytes).
//     onBatch(count) is called once per recvmmsg that returned datagrams.
//   sendBatch(handle, replies, slots, count): replies[k] (a Buffer) goes to the source of
//     datagram slots[k] of the batch being handled, from the address it was sent to
//     (IP_PKTINFO / IPV6_PKTINFO). Only valid inside onBatch: the addresses are kept in C
//     memory, so JavaScript can answer a datagram but never choose where a reply goes.
//   port(handle) -> bound port; close(handle).
// Every index and length from JavaScript is checked here; the JavaScript side checks what
// it reads. No threads: everything runs on the event loop thread.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define MAX_BATCH 1024
#define MAX_SLOT 65536
#define MAX_SEND 1024
#define META_FIELDS 4
#define ROUNDS 8

typedef struct {
  union {
    struct in_pktinfo v4;
    struct in6_pktinfo v6;
  } info;
  int family; // 0: no pktinfo received
} dest_t;

typedef struct udp_s {
  uv_poll_t poll;
  napi_env env;
  int fd;
  int family;
  int closing;
  int wrapper_gone;
  int in_batch;
  uint32_t batch;
  uint32_t slot;
  uint32_t received; // datagrams in the batch being handled
  uint8_t *buffer;
  uint32_t *meta;
  uint8_t *addresses;
  napi_ref buffer_ref, meta_ref, addresses_ref, callback_ref, self_ref;
  napi_async_context async;
  struct mmsghdr *recv_msgs;
  struct iovec *recv_iov;
  struct sockaddr_storage *sources;
  char (*recv_control)[64];
  dest_t *dests;
  struct mmsghdr send_msgs[64];
  struct iovec send_iov[64];
  char send_control[64][64];
  uint64_t stats[4]; // batches, datagrams, truncated, send errors
} udp_t;

#define CHECK(call)                                                                      \
  do {                                                                                   \
    if ((call) != napi_ok) {                                                             \
      napi_throw_error(env, "ERR_STEERDNS_UDP", "Node-API call failed: " #call);         \
      return NULL;                                                                       \
    }                                                                                    \
  } while (0)

static napi_value throw_errno(napi_env env, int err, const char *what) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_throw_error(env, uv_err_name(-err), message);
  return NULL;
}

static void free_udp(udp_t *u) {
  free(u->recv_msgs);
  free(u->recv_iov);
  free(u->sources);
  free(u->recv_control);
  free(u->dests);
  free(u);
}

static void on_closed(uv_handle_t *handle) {
  udp_t *u = (udp_t *)handle;
  if (u->wrapper_gone) free_udp(u);
  else u->closing = 2; // the wrapper's finalizer frees it
}

static void release_refs(udp_t *u) {
  napi_env env = u->env;
  napi_ref *refs[] = {&u->buffer_ref, &u->meta_ref, &u->addresses_ref, &u->callback_ref,
                      &u->self_ref};
  for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
    if (*refs[i] != NULL) {
      napi_delete_reference(env, *refs[i]);
      *refs[i] = NULL;
    }
  if (u->async != NULL) {
    napi_async_destroy(env, u->async);
    u->async = NULL;
  }
}

static void start_close(udp_t *u) {
  if (u->closing) return;
  u->closing = 1;
  uv_poll_stop(&u->poll);
  release_refs(u);
  // uv_close takes the descriptor out of epoll at once; closing it now (not in on_closed)
  // frees the port before close() returns to JavaScript.
  uv_close((uv_handle_t *)&u->poll, on_closed);
  close(u->fd);
  u->fd = -1;
}

static void cleanup_hook(void *data) { start_close((udp_t *)data); }

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  udp_t *u = data;
  u->wrapper_gone = 1;
  if (u->closing == 2) free_udp(u);
}

// Reads the pktinfo of datagram i into dests[i].
static void read_dest(udp_t *u, uint32_t i) {
  struct msghdr *h = &u->recv_msgs[i].msg_hdr;
  u->dests[i].family = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
        c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
      memcpy(&u->dests[i].info.v4, CMSG_DATA(c), sizeof(struct in_pktinfo));
      u->dests[i].family = 4;
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
               c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
      memcpy(&u->dests[i].info.v6, CMSG_DATA(c), sizeof(struct in6_pktinfo));
      u->dests[i].family = 6;
    }
  }
}

// Fills meta and addresses for the n datagrams received. A datagram longer than a slot, or
// from an address of no known family, is given with length 0 (JavaScript drops it).
static void describe(udp_t *u, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    uint32_t *m = &u->meta[i * META_FIELDS];
    uint8_t *a = &u->addresses[i * 16];
    struct mmsghdr *msg = &u->recv_msgs[i];
    uint32_t length = msg->msg_len;
    if ((msg->msg_hdr.msg_flags & MSG_TRUNC) != 0 || length > u->slot) {
      length = 0;
      u->stats[2]++;
    }
    m[0] = length;
    m[3] = 0;
    memset(a, 0, 16);
    struct sockaddr_storage *s = &u->sources[i];
    if (s->ss_family == AF_INET && msg->msg_hdr.msg_namelen >= sizeof(struct sockaddr_in)) {
      struct sockaddr_in *s4 = (struct sockaddr_in *)s;
      m[1] = ntohs(s4->sin_port);
      m[2] = 4;
      memcpy(a, &s4->sin_addr, 4);
    } else if (s->ss_family == AF_INET6 &&
               msg->msg_hdr.msg_namelen >= sizeof(struct sockaddr_in6)) {
      struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)s;
      m[1] = ntohs(s6->sin6_port);
      m[2] = 6;
      memcpy(a, &s6->sin6_addr, 16);
    } else {
      m[0] = 0;
      m[1] = 0;
      m[2] = 0;
    }
    read_dest(u, i);
  }
}

static void prepare_recv(udp_t *u) {
  for (uint32_t i = 0; i < u->batch; i++) {
    u->recv_iov[i].iov_base = u->buffer + (size_t)i * u->slot;
    // A datagram longer than a slot is cut by the kernel, which says so with MSG_TRUNC.
    u->recv_iov[i].iov_len = u->slot;
    struct msghdr *h = &u->recv_msgs[i].msg_hdr;
    h->msg_name = &u->sources[i];
    h->msg_namelen = sizeof(struct sockaddr_storage);
    h->msg_iov = &u->recv_iov[i];
    h->msg_iovlen = 1;
    h->msg_control = u->recv_control[i];
    h->msg_controllen = sizeof u->recv_control[i];
    h->msg_flags = 0;
    u->recv_msgs[i].msg_len = 0;
  }
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  (void)events;
  udp_t *u = (udp_t *)handle;
  if (status < 0 || u->closing) return;
  napi_env env = u->env;
  for (int round = 0; round < ROUNDS && !u->closing; round++) {
    prepare_recv(u);
    int n = recvmmsg(u->fd, u->recv_msgs, u->batch, MSG_DONTWAIT, NULL);
    if (n <= 0) return; // EAGAIN, or an error the next readable event retries
    describe(u, (uint32_t)n);
    u->stats[0]++;
    u->stats[1] += (uint64_t)n;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value callback, self, argv[1], result;
    if (napi_get_reference_value(env, u->callback_ref, &callback) == napi_ok &&
        napi_get_reference_value(env, u->self_ref, &self) == napi_ok &&
        napi_create_uint32(env, (uint32_t)n, &argv[0]) == napi_ok) {
      u->received = (uint32_t)n;
      u->in_batch = 1;
      napi_status called = napi_make_callback(env, u->async, self, callback, 1, argv, &result);
      u->in_batch = 0;
      u->received = 0;
      if (called == napi_pending_exception) {
        napi_value error;
        napi_get_and_clear_last_exception(env, &error);
        napi_fatal_exception(env, error);
      }
    }
    napi_close_handle_scope(env, scope);
    if ((uint32_t)n < u->batch) return;
  }
}

static udp_t *unwrap(napi_env env, napi_value value) {
  void *data = NULL;
  if (napi_unwrap(env, value, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, "ERR_STEERDNS_UDP", "not a UDP handle");
    return NULL;
  }
  return data;
}

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

// Typed array of the given type with at least `elements` elements; its data pointer.
static void *typed(napi_env env, napi_value v, napi_typedarray_type want, size_t elements) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return NULL;
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL) != napi_ok)
    return NULL;
  if (type != want || length < elements) return NULL;
  return data;
}

static int set_option(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value);
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 9) {
    napi_throw_type_error(env, "ERR_STEERDNS_UDP", "open takes 9 arguments");
    return NULL;
  }
  char host[64];
  size_t host_length;
  uint32_t port, batch, slot, rcvbuf, reuse_port;
  if (napi_get_value_string_utf8(env, argv[0], host, sizeof host, &host_length) != napi_ok ||
      !get_u32(env, argv[1], &port) || !get_u32(env, argv[2], &batch) ||
      !get_u32(env, argv[3], &slot) || !get_u32(env, argv[4], &rcvbuf) ||
      !get_u32(env, argv[5], &reuse_port) || port > 65535 || batch < 1 ||
      batch > MAX_BATCH || slot < 512 || slot > MAX_SLOT) {
    napi_throw_range_error(env, "ERR_STEERDNS_UDP", "bad host, port, batch or slot");
    return NULL;
  }
  // argv[6]: [recvBuffer, meta, addresses]; argv[7]: onBatch; argv[8]: the handle object.
  napi_value buffer_v, meta_v, addresses_v;
  CHECK(napi_get_element(env, argv[6], 0, &buffer_v));
  CHECK(napi_get_element(env, argv[6], 1, &meta_v));
  CHECK(napi_get_element(env, argv[6], 2, &addresses_v));
  bool is_buffer = false;
  void *buffer = NULL;
  size_t buffer_length = 0;
  CHECK(napi_is_buffer(env, buffer_v, &is_buffer));
  if (is_buffer) CHECK(napi_get_buffer_info(env, buffer_v, &buffer, &buffer_length));
  uint32_t *meta = typed(env, meta_v, napi_uint32_array, (size_t)batch * META_FIELDS);
  uint8_t *addresses = typed(env, addresses_v, napi_uint8_array, (size_t)batch * 16);
  napi_valuetype callback_type;
  CHECK(napi_typeof(env, argv[7], &callback_type));
  if (!is_buffer || buffer_length < (size_t)batch * slot || meta == NULL ||
      addresses == NULL || callback_type != napi_function) {
    napi_throw_type_error(env, "ERR_STEERDNS_UDP", "buffers too small or no callback");
    return NULL;
  }

  struct sockaddr_storage address;
  memset(&address, 0, sizeof address);
  socklen_t address_length;
  int family;
  struct sockaddr_in *a4 = (struct sockaddr_in *)&address;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&address;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    family = AF_INET;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    address_length = sizeof *a4;
  } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    family = AF_INET6;
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    address_length = sizeof *a6;
  } else {
    napi_throw_type_error(env, "ERR_STEERDNS_UDP", "host is not an IP address");
    return NULL;
  }
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  int ok = 1;
  if (family == AF_INET6) ok = ok && set_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) == 0;
  if (reuse_port) ok = ok && set_option(fd, SOL_SOCKET, SO_REUSEPORT, 1) == 0;
  if (family == AF_INET) {
    ok = ok && set_option(fd, IPPROTO_IP, IP_PKTINFO, 1) == 0;
    // Large replies are fragmented rather than dropped by a path MTU the server learnt
    // (a forged "fragmentation needed" cannot make it send small fragments).
    ok = ok && set_option(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_OMIT) == 0;
  } else {
    ok = ok && set_option(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) == 0;
    ok = ok && set_option(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_OMIT) == 0;
  }
  if (!ok) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "setsockopt");
  }
  // The system caps the size (net.core.rmem_max); not being given all of it is no error.
  if (rcvbuf > 0) set_option(fd, SOL_SOCKET, SO_RCVBUF, (int)rcvbuf);
  if (bind(fd, (struct sockaddr *)&address, address_length) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "bind");
  }

  udp_t *u = calloc(1, sizeof *u);
  if (u != NULL) {
    u->recv_msgs = calloc(batch, sizeof *u->recv_msgs);
    u->recv_iov = calloc(batch, sizeof *u->recv_iov);
    u->sources = calloc(batch, sizeof *u->sources);
    u->recv_control = calloc(batch, sizeof *u->recv_control);
    u->dests = calloc(batch, sizeof *u->dests);
  }
  if (u == NULL || !u->recv_msgs || !u->recv_iov || !u->sources || !u->recv_control ||
      !u->dests) {
    if (u != NULL) free_udp(u);
    close(fd);
    return throw_errno(env, ENOMEM, "open");
  }
  u->env = env;
  u->fd = fd;
  u->family = family;
  u->batch = batch;
  u->slot = slot;
  u->buffer = buffer;
  u->meta = meta;
  u->addresses = addresses;
  uv_loop_t *loop;
  napi_value name;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &u->poll, fd) != 0) {
    free_udp(u);
    close(fd);
    napi_throw_error(env, "ERR_STEERDNS_UDP", "cannot poll the socket");
    return NULL;
  }
  if (napi_wrap(env, argv[8], u, finalize, NULL, NULL) != napi_ok) {
    u->wrapper_gone = 1;
    start_close(u);
    napi_throw_error(env, "ERR_STEERDNS_UDP", "cannot wrap the handle");
    return NULL;
  }
  // Kept alive while open: the handle, its callback and the buffers the kernel writes to.
  CHECK(napi_create_reference(env, buffer_v, 1, &u->buffer_ref));
  CHECK(napi_create_reference(env, meta_v, 1, &u->meta_ref));
  CHECK(napi_create_reference(env, addresses_v, 1, &u->addresses_ref));
  CHECK(napi_create_reference(env, argv[7], 1, &u->callback_ref));
  CHECK(napi_create_reference(env, argv[8], 1, &u->self_ref));
  CHECK(napi_create_string_utf8(env, "steerdns:udp", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, argv[8], name, &u->async));
  napi_add_env_cleanup_hook(env, cleanup_hook, u);
  uv_poll_start(&u->poll, UV_READABLE, on_readable);
  return argv[8];
}

// Fills the control message that makes the reply leave from the address that was asked.
static size_t source_control(udp_t *u, uint32_t slot, char *control) {
  dest_t *d = &u->dests[slot];
  struct cmsghdr *c = (struct cmsghdr *)control;
  if (d->family == 4) {
    struct in_pktinfo info;
    memset(&info, 0, sizeof info);
    // The kernel's choice of local address for a reply: the destination of a unicast
    // datagram, the interface's address for a broadcast one.
    info.ipi_spec_dst = d->info.v4.ipi_spec_dst;
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof info);
    memcpy(CMSG_DATA(c), &info, sizeof info);
    return CMSG_SPACE(sizeof info);
  }
  // A multicast destination is no source: the kernel chooses one.
  if (d->family == 6 && !IN6_IS_ADDR_MULTICAST(&d->info.v6.ipi6_addr)) {
    struct in6_pktinfo info;
    memset(&info, 0, sizeof info);
    info.ipi6_addr = d->info.v6.ipi6_addr;
    info.ipi6_ifindex = d->info.v6.ipi6_ifindex;
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof info);
    memcpy(CMSG_DATA(c), &info, sizeof info);
    return CMSG_SPACE(sizeof info);
  }
  return 0;
}

static void flush(udp_t *u, uint32_t count) {
  uint32_t done = 0;
  while (done < count) {
    int n = sendmmsg(u->fd, u->send_msgs + done, count - done, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      u->stats[3]++;
      done++; // this reply cannot be sent (or the buffer is full): skip it, as UDP may
    } else {
      done += (uint32_t)n;
    }
  }
}

// sendBatch(handle, replies, slots, count): returns how many replies were given to sendmmsg.
static napi_value js_send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_t *u = argc == 4 ? unwrap(env, argv[0]) : NULL;
  if (u == NULL) return NULL;
  uint32_t count;
  uint32_t *slots = NULL;
  bool is_array = false;
  CHECK(napi_is_array(env, argv[1], &is_array));
  if (!get_u32(env, argv[3], &count) || count > MAX_SEND || !is_array ||
      (slots = typed(env, argv[2], napi_uint32_array, count)) == NULL) {
    napi_throw_range_error(env, "ERR_STEERDNS_UDP", "bad replies, slots or count");
    return NULL;
  }
  if (!u->in_batch || u->closing) {
    napi_throw_error(env, "ERR_STEERDNS_UDP", "sendBatch outside the batch callback");
    return NULL;
  }
  uint32_t queued = 0, given = 0;
  for (uint32_t k = 0; k < count; k++) {
    napi_value reply;
    bool is_buffer = false;
    void *data;
    size_t length;
    CHECK(napi_get_element(env, argv[1], k, &reply));
    CHECK(napi_is_buffer(env, reply, &is_buffer));
    uint32_t slot = slots[k];
    if (!is_buffer || slot >= u->received) {
      napi_throw_range_error(env, "ERR_STEERDNS_UDP", "a reply is not a Buffer or its slot is not in the batch");
      flush(u, queued);
      return NULL;
    }
    CHECK(napi_get_buffer_info(env, reply, &data, &length));
    if (length == 0 || length > 65507) continue;
    struct mmsghdr *m = &u->send_msgs[queued];
    memset(m, 0, sizeof *m);
    u->send_iov[queued].iov_base = data;
    u->send_iov[queued].iov_len = length;
    m->msg_hdr.msg_name = &u->sources[slot];
    m->msg_hdr.msg_namelen = u->sources[slot].ss_family == AF_INET
                                 ? sizeof(struct sockaddr_in)
                                 : sizeof(struct sockaddr_in6);
    m->msg_hdr.msg_iov = &u->send_iov[queued];
    m->msg_hdr.msg_iovlen = 1;
    size_t control = source_control(u, slot, u->send_control[queued]);
    m->msg_hdr.msg_control = control ? u->send_control[queued] : NULL;
    m->msg_hdr.msg_controllen = control;
    queued++;
    given++;
    if (queued == sizeof u->send_msgs / sizeof u->send_msgs[0]) {
      flush(u, queued);
      queued = 0;
    }
  }
  flush(u, queued);
  napi_value result;
  CHECK(napi_create_uint32(env, given, &result));
  return result;
}

static napi_value js_port(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_t *u = argc == 1 ? unwrap(env, argv[0]) : NULL;
  if (u == NULL) return NULL;
  if (u->closing || u->fd < 0) {
    napi_throw_error(env, "ERR_SOCKET_DGRAM_NOT_RUNNING", "the socket is closed");
    return NULL;
  }
  struct sockaddr_storage address;
  socklen_t length = sizeof address;
  if (getsockname(u->fd, (struct sockaddr *)&address, &length) != 0)
    return throw_errno(env, errno, "getsockname");
  uint16_t port = address.ss_family == AF_INET ? ((struct sockaddr_in *)&address)->sin_port
                                               : ((struct sockaddr_in6 *)&address)->sin6_port;
  napi_value result;
  CHECK(napi_create_uint32(env, ntohs(port), &result));
  return result;
}

// stats(handle) -> [batches, datagrams, truncated, send errors]
static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_t *u = argc == 1 ? unwrap(env, argv[0]) : NULL;
  if (u == NULL) return NULL;
  napi_value result;
  CHECK(napi_create_array_with_length(env, 4, &result));
  for (uint32_t i = 0; i < 4; i++) {
    napi_value v;
    CHECK(napi_create_double(env, (double)u->stats[i], &v));
    CHECK(napi_set_element(env, result, i, v));
  }
  return result;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_t *u = argc == 1 ? unwrap(env, argv[0]) : NULL;
  if (u == NULL) return NULL;
  if (!u->closing) {
    napi_remove_env_cleanup_hook(env, cleanup_hook, u);
    start_close(u);
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"sendBatch", NULL, js_send_batch, NULL, NULL, NULL, napi_default, NULL},
      {"port", NULL, js_port, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0],
                             properties) != napi_ok)
    return NULL;
  return exports;
}
