// The native data path (docs/decisions/0017-native-data-path.md): client and target sockets of
// plain HTTP/1.1 listeners on Node's own libuv loop. Heads are scanned here and handed to
// JavaScript (src/native/) as parsed facts; bodies are relayed here with backpressure; every
// decision (routing, target choice, the heads written, errors, logs) is JavaScript's.
//
// Threading: none. Everything runs on the loop thread; JavaScript is called only from libuv
// callbacks (never from a function JavaScript called), so JavaScript never re-enters itself.
// Objects are freed only in close callbacks, after every handle of theirs has closed.
#include <node_api.h>
#include <uv.h>

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "id-map.h"
#include "relay.h"
#include "replay-buffer.h"
#include "scan.h"

namespace sy {
namespace {

// ---------------------------------------------------------------------------------------------
// JavaScript callbacks

enum Cb {
  ON_HEAD,          // (cid, method, target, versionMinor, rawHeaders, contentLength, keepAlive, bodyComplete)
  ON_HANDOVER,      // (cid, fd, pendingBytes: Buffer)
  ON_CLIENT_CLOSE,  // (cid, reason, responseBodyBytesRelayed)
  ON_BODY_DONE,     // (cid)
  ON_BODY_TIMEOUT,  // (cid)
  ON_UP_CONNECT,    // (uid, errno)  0 = connected
  ON_UP_HEAD,       // (uid, status, contentLength, transferEncoding, whole): checked (relay.h); JavaScript
                    // answers with respond() or relayInterim(), reads the fields with upHeadFields();
                    // `whole`: respond() writes the whole response, and no ON_UP_DONE follows it
  ON_UP_DONE,       // (uid)
  ON_UP_ERROR,      // (uid, kind, stale, replayable)
  CB_COUNT
};

// Client close reasons (ON_CLIENT_CLOSE).
enum CloseReason { CLOSED = 0, WRITE_TIMEOUT = 1, IDLE_TIMEOUT = 2 };
// Target error kinds (ON_UP_ERROR), mapped to ProxyErrors in JavaScript.
enum UpError { UP_RESET = 0, UP_BAD_RESPONSE = 1, UP_CONNECT_REFUSED = 2, UP_CONNECT_FAILED = 3, UP_CONNECT_TIMEOUT = 4 };
// How the client's response body is framed (respond()).
enum ClientFraming { FR_LENGTH = 0, FR_CHUNKED = 1, FR_CLOSE = 2 };

constexpr size_t kHighWater = 64 * 1024;       // write queue size that pauses the source
constexpr size_t kHeldLimit = 64 * 1024;       // request bytes held while no target is ready
constexpr int64_t kDiscardLimit = 1024 * 1024; // body dropped to keep a connection after an early response
constexpr uint64_t kEndGraceMs = 5000;
// Parked target connections close after this, below the 5 s keep-alive timeout of Node servers, so
// a target's own idle close rarely races a reuse (as src/proxy/upstream-pool.ts IDLE_KEEPALIVE_MS).
constexpr uint64_t kIdleUpstreamMs = 4000;

napi_env g_env = nullptr;
uv_loop_t* g_loop = nullptr;
napi_ref g_cb[CB_COUNT] = {};
napi_ref g_resource = nullptr;
napi_async_context g_async = nullptr;
char g_read_buf[65536];
uint32_t g_next_id = 1;

struct Client;
struct Upstream;

// The target's response head JavaScript is deciding about (during ON_UP_HEAD only).
struct CurrentHead {
  Upstream* up = nullptr;
  const char* base = nullptr;
  size_t avail = 0;         // bytes at base: the head, then what came after it
  RelayFacts relay;
  // The whole response is in hand (no body, or all of a Content-Length body): respond() writes
  // head and body at once, and JavaScript completes the exchange in the same call.
  bool whole = false;
  int64_t whole_body = 0;   // its body bytes
  bool answered = false;    // respond() wrote the whole response
  bool write_failed = false;
  HeadFacts facts;  // large (the field array): one, not on the stack
};
CurrentHead g_head;

IdMap<Client> g_clients;
IdMap<Upstream> g_ups;

// Ids are never 0 (0 means "none" to JavaScript and to IdMap) and never one in use: the counter
// wraps after 2^32 connections (days, for a busy listener of short connections), and a
// long-lived connection may still hold a small id.
uint32_t next_id() {
  for (;;) {
    uint32_t id = g_next_id++;
    if (id != 0 && g_clients.find(id) == nullptr && g_ups.find(id) == nullptr) return id;
  }
}
std::unordered_map<uint32_t, std::vector<Upstream*>> g_pools;  // pool id -> idle connections

// Opens a handle scope and a callback scope (so process.nextTick and promise jobs queued by the
// JavaScript run when the outermost scope closes, as after any Node callback).
class JsScope {
 public:
  JsScope() {
    napi_open_handle_scope(g_env, &hs_);
    napi_value res;
    napi_get_reference_value(g_env, g_resource, &res);
    napi_open_callback_scope(g_env, res, g_async, &cs_);
  }
  ~JsScope() {
    napi_close_callback_scope(g_env, cs_);
    napi_close_handle_scope(g_env, hs_);
  }

 private:
  napi_handle_scope hs_;
  napi_callback_scope cs_;
};

napi_value js_call(Cb which, size_t argc, napi_value* argv) {
  napi_value fn, undef, ret = nullptr;
  napi_get_reference_value(g_env, g_cb[which], &fn);
  napi_get_undefined(g_env, &undef);
  if (napi_call_function(g_env, undef, fn, argc, argv, &ret) != napi_ok) {
    // The JavaScript side catches its own errors; one that escapes is reported as uncaught,
    // as Node does for any callback.
    bool pending = false;
    napi_is_exception_pending(g_env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(g_env, &err);
      napi_fatal_exception(g_env, err);
    }
    return nullptr;
  }
  return ret;
}

napi_value num(double v) {
  napi_value r;
  napi_create_double(g_env, v, &r);
  return r;
}
napi_value str(const char* p, size_t n) {
  napi_value r;
  napi_create_string_latin1(g_env, p, n, &r);
  return r;
}
napi_value boolean(bool b) {
  napi_value r;
  napi_get_boolean(g_env, b, &r);
  return r;
}

// Writes n in decimal at out (room for 20 digits); returns the digits written. (snprintf was a
// visible share of a small response's CPU.)
size_t decimal(char* out, uint64_t n) {
  char tmp[20];
  size_t k = 0;
  do {
    tmp[k++] = (char)('0' + n % 10);
    n /= 10;
  } while (n != 0);
  for (size_t i = 0; i < k; i++) out[i] = tmp[k - 1 - i];
  return k;
}

// A chunk-size line, "<hex>\r\n", at out (room for 18 bytes); returns its length.
size_t chunk_size_line(char* out, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  char tmp[16];
  size_t k = 0;
  do {
    tmp[k++] = kHex[n & 15];
    n >>= 4;
  } while (n != 0);
  for (size_t i = 0; i < k; i++) out[i] = tmp[k - 1 - i];
  out[k] = '\r';
  out[k + 1] = '\n';
  return k + 2;
}

napi_value raw_headers(const char* base, const HeadFacts& h) {
  napi_value arr;
  napi_create_array_with_length(g_env, h.nfields * 2, &arr);
  for (uint32_t i = 0; i < h.nfields; i++) {
    const switchyard::http1::FieldSpan& f = h.fields[i];
    napi_set_element(g_env, arr, i * 2, str(base + f.name_off, f.name_len));
    napi_set_element(g_env, arr, i * 2 + 1, str(base + f.value_off, f.value_len));
  }
  return arr;
}

// ---------------------------------------------------------------------------------------------
// Objects

enum class CState : uint8_t { HEAD, EXCHANGE, ENDING, CLOSED };
enum class UState : uint8_t { CONNECTING, READY, WAIT_HEAD, BODY, PARKED, CLOSED };
enum class TimerKind : uint8_t { NONE, IDLE, BODY, END };
using UpBody = BodyKind;  // UNTIL_CLOSE: relayed until the target closes

struct Client {
  uv_tcp_t tcp;
  uv_timer_t timer;   // idle, body or end
  uv_timer_t wtimer;  // a client that stops reading its response
  uint32_t id = 0;
  int open_handles = 3;
  CState state = CState::HEAD;
  TimerKind timer_kind = TimerKind::NONE;
  uint64_t deadline = 0;          // loop time at which timer_kind expires
  uint64_t timer_due = 0;         // loop time at which the libuv timer fires
  bool reading = false;
  bool eof = false;               // the client sent FIN
  bool closing = false;           // end after the current exchange (FIN or graceful shutdown)
  bool shutdown_sent = false;
  bool handover_pending = false;
  bool next_pending = false;      // a head waits in `in` to be scanned on the next loop turn
  uint32_t max_head = 16384;
  uint32_t max_fields = 100;
  uint64_t idle_ms = 0;
  std::string in;                 // bytes read and not consumed: held body, then pipelined heads
  size_t held_body = 0;           // leading bytes of `in` that are the current request's body
  int64_t body_left = 0;          // body bytes of the current request not read yet
  int64_t discard_left = 0;       // body bytes to drop (answered early)
  Upstream* body_to = nullptr;    // where body bytes go (null: held)
  ReplayBuffer replay;            // body bytes sent, for a replay on a fresh connection
  Upstream* relaying = nullptr;   // the target connection whose response is being relayed
  ClientFraming framing = FR_LENGTH;
  std::string resp_head;          // the response head, written with the first body bytes
  uint64_t bytes_queued = 0;      // bytes handed to uv_write/try_write, ever
  uint64_t body_out = 0;          // response body bytes relayed for the current request (access log)
  uint64_t flushed_mark = 0;      // bytes flushed when the write timer was armed
  bool wtimer_on = false;
};

struct Upstream {
  uv_tcp_t tcp;
  uv_connect_t creq;
  uv_timer_t timer;  // connect timeout
  uint32_t id = 0;
  uint32_t pool = 0;
  int open_handles = 2;
  UState state = UState::CONNECTING;
  bool reused = false;
  bool got_bytes = false;
  bool keep_alive = false;
  bool no_body = false;          // the request was HEAD
  bool reading = false;
  bool exchanging = false;       // between forward() and the end of the response
  int pending_error = -1;        // a failure to report from the loop (see up_timer_cb)
  uint64_t parked_at = 0;        // loop time it was last parked in its pool
  Client* client = nullptr;
  std::string rbuf;              // response head bytes so far
  UpBody body = UpBody::NONE;
  int64_t body_left = 0;
  ChunkDecoder chunks;
};

void client_close(Client* c, int reason, bool notify);
void up_close(Upstream* u);
void up_fail(Upstream* u, int kind, bool stale);
void client_read_cb(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);
void up_read_cb(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);
void process_in(Client* c);
void relay_response(Upstream* u, const char* p, size_t n);
void schedule_next(Client* c);

void alloc_cb(uv_handle_t*, size_t, uv_buf_t* b) { *b = uv_buf_init(g_read_buf, sizeof g_read_buf); }

// The block the current client read landed in (replay-buffer.h), until the read is handled: given
// back then, unless the body that came with a head was kept in it (js_forward adopts it).
char* g_read_block = nullptr;

struct ReadBlockReturn {
  ~ReadBlockReturn() {
    if (g_read_block != nullptr) ReplayBuffer::give_block(g_read_block);
    g_read_block = nullptr;
  }
};

// A read that may bring a request head lands in a pooled block, so that a body that comes with it
// can be kept for a replay where it was read. A request body going to its target is read
// straight into the replay buffer (if it is still kept) and written from there. Never more than
// the body, so a pipelined head that follows it lands in the shared buffer.
void client_alloc_cb(uv_handle_t* h, size_t, uv_buf_t* b) {
  Client* c = (Client*)h->data;
  if (c->state == CState::HEAD && c->in.empty() && c->discard_left == 0 && g_read_block == nullptr) {
    g_read_block = ReplayBuffer::take_block();
    if (g_read_block != nullptr) {
      *b = uv_buf_init(g_read_block, (unsigned)ReplayBuffer::kBlock);
      return;
    }
  }
  if (c->state == CState::EXCHANGE && c->body_left > 0 && c->body_to != nullptr) {
    size_t len = 0;
    char* room = c->replay.room(len);
    if (room != nullptr) {
      if ((int64_t)len > c->body_left) len = (size_t)c->body_left;
      *b = uv_buf_init(room, (unsigned)len);
      return;
    }
  }
  *b = uv_buf_init(g_read_buf, sizeof g_read_buf);
}

void client_start_reading(Client* c) {
  if (c->reading || c->state == CState::CLOSED) return;
  c->reading = true;
  uv_read_start((uv_stream_t*)&c->tcp, client_alloc_cb, client_read_cb);
}
void client_stop_reading(Client* c) {
  if (!c->reading) return;
  c->reading = false;
  uv_read_stop((uv_stream_t*)&c->tcp);
}
void up_start_reading(Upstream* u) {
  if (u->reading || u->state == UState::CLOSED || u->state == UState::CONNECTING) return;
  u->reading = true;
  uv_read_start((uv_stream_t*)&u->tcp, alloc_cb, up_read_cb);
}
void up_stop_reading(Upstream* u) {
  if (!u->reading) return;
  u->reading = false;
  uv_read_stop((uv_stream_t*)&u->tcp);
}

// --- timers ----------------------------------------------------------------------------------

void client_timer_cb(uv_timer_t* t);

// The connection's timeouts move on every request (idle -> body -> idle). Moving one only
// writes the deadline; the libuv timer runs lazily and, when it fires early, re-arms itself for
// what is left (as src/util/deadline.ts does for the TypeScript engine): no timer operation per
// request.
void client_arm(Client* c, TimerKind kind, uint64_t ms) {
  if (ms == 0) {
    c->timer_kind = TimerKind::NONE;
    return;
  }
  c->timer_kind = kind;
  uint64_t now = uv_now(g_loop);
  c->deadline = now + ms;
  if (!uv_is_active((uv_handle_t*)&c->timer) || c->timer_due > c->deadline) {
    c->timer_due = c->deadline;
    uv_timer_start(&c->timer, client_timer_cb, ms, 0);
  }
}
void client_disarm(Client* c) { c->timer_kind = TimerKind::NONE; }

// The body timer runs while a body is due and we are reading it (not while paused: that wait is ours).
void client_body_timer(Client* c) {
  if (c->state == CState::EXCHANGE && c->body_left > 0 && c->reading) client_arm(c, TimerKind::BODY, c->idle_ms);
  else if (c->timer_kind == TimerKind::BODY) client_disarm(c);
}

void client_timer_cb(uv_timer_t* t) {
  Client* c = (Client*)t->data;
  TimerKind kind = c->timer_kind;
  if (c->state == CState::CLOSED || kind == TimerKind::NONE) return;
  uint64_t now = uv_now(g_loop);
  if (now < c->deadline) {  // moved since this run was scheduled
    c->timer_due = c->deadline;
    uv_timer_start(&c->timer, client_timer_cb, c->deadline - now, 0);
    return;
  }
  c->timer_kind = TimerKind::NONE;
  if (kind == TimerKind::IDLE) {
    if (c->state == CState::HEAD) client_close(c, IDLE_TIMEOUT, true);
  } else if (kind == TimerKind::END) {
    client_close(c, CLOSED, true);
  } else if (kind == TimerKind::BODY) {
    if (c->discard_left > 0) {  // answered already; only dropping the rest of its body
      client_close(c, CLOSED, true);
      return;
    }
    JsScope scope;
    napi_value argv[1] = {num(c->id)};
    js_call(ON_BODY_TIMEOUT, 1, argv);
  }
}

uint64_t client_flushed(Client* c) { return c->bytes_queued - uv_stream_get_write_queue_size((uv_stream_t*)&c->tcp); }

void client_wtimer_cb(uv_timer_t* t) {
  Client* c = (Client*)t->data;
  if (c->state == CState::CLOSED) return;
  if (uv_stream_get_write_queue_size((uv_stream_t*)&c->tcp) == 0) {
    c->wtimer_on = false;
    return;
  }
  uint64_t done = client_flushed(c);
  if (done != c->flushed_mark) {  // progress: the client is reading, however slowly
    c->flushed_mark = done;
    uv_timer_start(&c->wtimer, client_wtimer_cb, c->idle_ms, 0);
    return;
  }
  c->wtimer_on = false;
  client_close(c, WRITE_TIMEOUT, true);
}

// --- writes ----------------------------------------------------------------------------------

struct WriteReq {
  uv_write_t req;
  char* data;
  uint32_t owner;  // client or upstream id (looked up again: the owner may be gone)
  bool to_client;
};

void client_after_drain(Client* c);
void up_after_drain(Upstream* u);

void write_cb(uv_write_t* r, int status) {
  WriteReq* w = (WriteReq*)r;
  free(w->data);
  uint32_t owner = w->owner;
  bool to_client = w->to_client;
  delete w;
  if (status < 0) return;  // cancelled by a close, or failed: the read side reports it
  if (to_client) {
    Client* c = g_clients.find(owner);
    if (c != nullptr) client_after_drain(c);
  } else {
    Upstream* u = g_ups.find(owner);
    if (u != nullptr) up_after_drain(u);
  }
}

// Writes the pieces in one system call when the socket takes them (one TCP segment, not one per
// piece); what it does not take now is copied and queued. False on error.
bool stream_writev(uv_stream_t* s, uint32_t owner, bool to_client, uv_buf_t* pieces, unsigned count) {
  uv_buf_t bufs[4];
  unsigned n = 0;
  size_t total = 0;
  for (unsigned i = 0; i < count; i++) {
    if (pieces[i].len == 0) continue;
    bufs[n++] = pieces[i];
    total += pieces[i].len;
  }
  if (total == 0) return true;
  size_t done = 0;
  if (uv_stream_get_write_queue_size(s) == 0) {
    int r = uv_try_write(s, bufs, n);
    if (r == UV_EAGAIN) r = 0;
    if (r < 0) return false;
    done = (size_t)r;
  }
  if (done == total) return true;
  size_t rest = total - done;
  char* data = (char*)malloc(rest);
  if (data == nullptr) return false;
  size_t off = 0;
  size_t skip = done;
  for (unsigned i = 0; i < n; i++) {
    size_t len = bufs[i].len;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    memcpy(data + off, bufs[i].base + skip, len - skip);
    off += len - skip;
    skip = 0;
  }
  WriteReq* w = new WriteReq{{}, data, owner, to_client};
  uv_buf_t buf = uv_buf_init(data, (unsigned)rest);
  if (uv_write(&w->req, s, &buf, 1, write_cb) != 0) {
    free(data);
    delete w;
    return false;
  }
  return true;
}

bool stream_write(uv_stream_t* s, uint32_t owner, bool to_client, const char* a, size_t an, const char* b, size_t bn) {
  uv_buf_t pieces[2] = {uv_buf_init((char*)a, (unsigned)an), uv_buf_init((char*)b, (unsigned)bn)};
  return stream_writev(s, owner, to_client, pieces, 2);
}

// Writes to the client; a response head waiting in resp_head goes out with these bytes.
bool client_write(Client* c, const char* a, size_t an, const char* b = nullptr, size_t bn = 0, const char* d = nullptr, size_t dn = 0) {
  if (c->state == CState::CLOSED) return false;
  uv_buf_t pieces[4] = {uv_buf_init((char*)c->resp_head.data(), (unsigned)c->resp_head.size()), uv_buf_init((char*)a, (unsigned)an),
                        uv_buf_init((char*)b, (unsigned)bn), uv_buf_init((char*)d, (unsigned)dn)};
  c->bytes_queued += c->resp_head.size() + an + bn + dn;
  bool ok = stream_writev((uv_stream_t*)&c->tcp, c->id, true, pieces, 4);
  c->resp_head.clear();
  if (!ok) return false;
  if (!c->wtimer_on && c->idle_ms > 0 && uv_stream_get_write_queue_size((uv_stream_t*)&c->tcp) > 0) {
    c->wtimer_on = true;
    c->flushed_mark = client_flushed(c);
    uv_timer_start(&c->wtimer, client_wtimer_cb, c->idle_ms, 0);
  }
  return true;
}

bool up_write(Upstream* u, const char* a, size_t an, const char* b = nullptr, size_t bn = 0) {
  return stream_write((uv_stream_t*)&u->tcp, u->id, false, a, an, b, bn);
}

void shutdown_cb(uv_shutdown_t* r, int) { delete r; }

void client_send_fin(Client* c) {
  if (c->shutdown_sent || c->state == CState::CLOSED) return;
  c->shutdown_sent = true;
  uv_shutdown_t* r = new uv_shutdown_t;
  if (uv_shutdown(r, (uv_stream_t*)&c->tcp, shutdown_cb) != 0) {
    delete r;
    client_close(c, CLOSED, true);
  }
}

void do_handover(Client* c);

void client_after_drain(Client* c) {
  if (c->state == CState::CLOSED) return;
  size_t q = uv_stream_get_write_queue_size((uv_stream_t*)&c->tcp);
  if (q == 0 && c->state == CState::ENDING) client_send_fin(c);
  if (q == 0 && c->handover_pending) {
    do_handover(c);
    return;
  }
  // The response source waits for the client to take what was queued.
  if (q < kHighWater && c->relaying != nullptr) up_start_reading(c->relaying);
}

void up_after_drain(Upstream* u) {
  if (u->state == UState::CLOSED) return;
  Client* c = u->client;
  if (c != nullptr && c->body_to == u && uv_stream_get_write_queue_size((uv_stream_t*)&u->tcp) < kHighWater) {
    client_start_reading(c);
    client_body_timer(c);
  }
}

// --- closing ---------------------------------------------------------------------------------

void client_handle_closed(uv_handle_t* h) {
  Client* c = (Client*)h->data;
  if (--c->open_handles == 0) delete c;
}

void client_close(Client* c, int reason, bool notify) {
  if (c->state == CState::CLOSED) return;
  c->state = CState::CLOSED;
  c->reading = false;
  g_clients.erase(c->id);
  // The exchange's target connection is JavaScript's to close (it aborts the exchange).
  if (c->body_to != nullptr && c->body_to->client == c) c->body_to->client = nullptr;
  if (c->relaying != nullptr && c->relaying->client == c) c->relaying->client = nullptr;
  c->body_to = nullptr;
  c->relaying = nullptr;
  uv_close((uv_handle_t*)&c->tcp, client_handle_closed);
  uv_close((uv_handle_t*)&c->timer, client_handle_closed);
  uv_close((uv_handle_t*)&c->wtimer, client_handle_closed);
  if (notify) {
    JsScope scope;
    napi_value argv[3] = {num(c->id), num(reason), num((double)c->body_out)};
    js_call(ON_CLIENT_CLOSE, 3, argv);
  }
}

void up_handle_closed(uv_handle_t* h) {
  Upstream* u = (Upstream*)h->data;
  if (--u->open_handles == 0) delete u;
}

void pool_remove(Upstream* u) {
  auto it = g_pools.find(u->pool);
  if (it == g_pools.end()) return;
  auto& v = it->second;
  for (size_t i = 0; i < v.size(); i++) {
    if (v[i] == u) {
      v.erase(v.begin() + (long)i);
      break;
    }
  }
}

void up_close(Upstream* u) {
  if (u->state == UState::CLOSED) return;
  if (u->state == UState::PARKED) pool_remove(u);
  u->state = UState::CLOSED;
  g_ups.erase(u->id);
  Client* c = u->client;
  if (c != nullptr) {
    if (c->body_to == u) c->body_to = nullptr;
    if (c->relaying == u) c->relaying = nullptr;
  }
  u->client = nullptr;
  uv_close((uv_handle_t*)&u->tcp, up_handle_closed);
  uv_close((uv_handle_t*)&u->timer, up_handle_closed);
}

// A failure JavaScript must hear about (the connection is closed first).
void up_fail(Upstream* u, int kind, bool stale) {
  uint32_t id = u->id;
  // Whether the request could be sent again (its body, if any, is all kept or all still held).
  bool replayable = u->client == nullptr || u->client->replay.ok();
  up_close(u);
  JsScope scope;
  napi_value argv[4] = {num(id), num(kind), boolean(stale), boolean(replayable)};
  js_call(ON_UP_ERROR, 4, argv);
}

// --- the client side -------------------------------------------------------------------------

// Body bytes of the request whose head is with JavaScript, still in the read buffer they arrived
// in (`in` was empty): forward() writes them from there. What it does not take is copied into
// `in` when ON_HEAD returns (take_back_lent). Valid only during that call: no read can happen then.
struct LentBody {
  Client* client = nullptr;
  const char* data = nullptr;
};
LentBody g_lent;

bool is_lent(const Client* c) { return g_lent.client == c; }

void take_back_lent(Client* c) {
  if (!is_lent(c)) return;
  g_lent.client = nullptr;
  if (c->state != CState::CLOSED && c->held_body > 0) c->in.insert(0, g_lent.data, c->held_body);
}

// The held body is not wanted any more (answered before its body came).
void drop_held(Client* c) {
  if (c->held_body == 0) return;
  if (is_lent(c)) g_lent.client = nullptr;
  else c->in.erase(0, c->held_body);
  c->held_body = 0;
}

// Hands the connection to the TypeScript engine: a duplicate of its descriptor and the bytes not
// consumed. Waits until our writes are out (the TypeScript side must not interleave with them).
void do_handover(Client* c) {
  take_back_lent(c);
  c->handover_pending = false;
  if (uv_stream_get_write_queue_size((uv_stream_t*)&c->tcp) > 0) {
    c->handover_pending = true;
    client_stop_reading(c);
    return;
  }
  uv_os_fd_t fd;
  int dupfd = -1;
  if (uv_fileno((uv_handle_t*)&c->tcp, &fd) == 0) dupfd = dup(fd);
  uint32_t id = c->id;
  std::string pending;
  pending.swap(c->in);
  client_close(c, CLOSED, false);
  JsScope scope;
  napi_value buf;
  void* data;
  napi_create_buffer_copy(g_env, pending.size(), pending.data(), &data, &buf);
  napi_value argv[3] = {num(id), num(dupfd), buf};
  js_call(ON_HANDOVER, 3, argv);
}

void begin_exchange(Client* c, const char* src, size_t n);

// Scans `in` for the next request head (state HEAD) and hands it to JavaScript.
void process_in(Client* c) {
  if (c->state != CState::HEAD) return;
  if (c->in.empty()) {
    if (c->closing || c->eof) {
      client_close(c, CLOSED, true);
      return;
    }
    client_arm(c, TimerKind::IDLE, c->idle_ms);
    client_start_reading(c);
    return;
  }
  begin_exchange(c, nullptr, 0);
}

// Scans a request head and hands it to JavaScript: from `src` (a read; `in` is empty), or from
// `in` when src is null.
void begin_exchange(Client* c, const char* src, size_t n) {
  const bool from_read = src != nullptr;
  if (!from_read) {
    src = c->in.data();
    n = c->in.size();
  }
  HeadFacts h;
  Scan r = scan_request(src, n, c->max_head, c->max_fields, h);
  if (r != Scan::OK) {
    // Not clean, or not complete in what arrived (a head that needs more reads is rare and
    // slow; the TypeScript engine runs the head timeout and answers errors as it always does).
    if (from_read) c->in.assign(src, n);
    do_handover(c);
    return;
  }
  client_disarm(c);
  c->state = CState::EXCHANGE;
  c->body_left = h.content_length > 0 ? h.content_length : 0;
  c->replay.start(c->body_left);
  c->discard_left = 0;
  c->framing = FR_LENGTH;
  c->body_out = 0;
  const char* p = src;
  // Body bytes that came with the head are held until a target is ready.
  size_t after = n - h.head_len;
  size_t held = after < (size_t)c->body_left ? after : (size_t)c->body_left;
  c->held_body = held;
  c->body_left -= (int64_t)held;
  JsScope scope;
  napi_value argv[8] = {
      num(c->id),
      str(p + h.method.off, h.method.len),
      str(p + h.target.off, h.target.len),
      num(h.version_minor),
      raw_headers(p, h),
      num((double)h.content_length),
      boolean(!h.conn_close),
      boolean(c->body_left == 0),  // the whole body (if any) is here
  };
  // JavaScript may refuse the request (its action is not one the native path serves): then the
  // connection is handed over with the head put back, untouched.
  std::string head;
  if (from_read) {
    // Pipelined bytes after the body are kept now; the body is lent (g_lent).
    if (after > held) c->in.append(src + h.head_len + held, after - held);
    if (held > 0) g_lent = LentBody{c, src + h.head_len};
  } else {
    head.assign(p, h.head_len);
    c->in.erase(0, h.head_len);
  }
  if (c->in.size() + (from_read ? held : 0) > kHeldLimit) client_stop_reading(c);
  napi_value ret = js_call(ON_HEAD, 8, argv);
  take_back_lent(c);
  bool accepted = true;
  if (ret != nullptr) napi_get_value_bool(g_env, ret, &accepted);
  if (c->state == CState::CLOSED) return;
  if (!accepted && c->state == CState::EXCHANGE && c->body_to == nullptr) {
    if (from_read) c->in.insert(0, src, h.head_len);
    else c->in.insert(0, head);
    c->held_body = 0;
    c->body_left = 0;
    c->state = CState::HEAD;
    do_handover(c);
    return;
  }
  if (c->state == CState::EXCHANGE) client_body_timer(c);
}

// Body bytes of the current request: to the target when one is ready, else held.
void take_body(Client* c, const char* p, size_t n) {
  Upstream* u = c->body_to;
  if (u != nullptr) {
    c->replay.keep(p, n);  // no copy when the read landed in its room (client_alloc_cb)
    if (!up_write(u, p, n)) {
      up_fail(u, UP_RESET, false);
      return;
    }
    if (uv_stream_get_write_queue_size((uv_stream_t*)&u->tcp) >= kHighWater) client_stop_reading(c);
  } else {
    c->in.insert(c->held_body, p, n);
    c->held_body += n;
    if (c->held_body >= kHeldLimit) client_stop_reading(c);
  }
}

void client_read_cb(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  ReadBlockReturn block_return;  // whatever happens below
  Client* c = (Client*)s->data;
  if (n == 0 || c->state == CState::CLOSED) return;
  if (n < 0) {
    // A FIN is taken as leaving, whatever is in flight (as the TypeScript engine does: see the
    // 'end' handler in src/listener/http-connection.ts); JavaScript cancels the exchange.
    client_close(c, CLOSED, true);
    return;
  }
  const char* p = buf->base;
  size_t len = (size_t)n;
  if (c->state == CState::ENDING) return;  // after the final response: read and drop
  if (c->state == CState::EXCHANGE) {
    if (c->body_left > 0) {
      size_t take = len < (size_t)c->body_left ? len : (size_t)c->body_left;
      c->body_left -= (int64_t)take;
      take_body(c, p, take);
      if (c->state == CState::CLOSED) return;
      p += take;
      len -= take;
      if (c->body_left == 0) {
        client_disarm(c);
        JsScope scope;
        napi_value argv[1] = {num(c->id)};
        js_call(ON_BODY_DONE, 1, argv);
        if (c->state == CState::CLOSED) return;
      } else {
        client_body_timer(c);
      }
    }
    if (len > 0) {
      // Pipelined: kept until the exchange in flight ends; reading stops when they pile up.
      c->in.append(p, len);
      if (c->in.size() - c->held_body > kHeldLimit) client_stop_reading(c);
    }
    return;
  }
  // HEAD state.
  if (c->discard_left > 0) {
    size_t drop = len < (size_t)c->discard_left ? len : (size_t)c->discard_left;
    c->discard_left -= (int64_t)drop;
    p += drop;
    len -= drop;
    if (c->discard_left > 0) {
      client_arm(c, TimerKind::BODY, c->idle_ms);
      return;
    }
  }
  if (len == 0) {
    process_in(c);
    return;
  }
  // The usual case, a head at the start of a read: scanned where it was read, not copied.
  if (c->in.empty()) {
    begin_exchange(c, p, len);
    return;
  }
  c->in.append(p, len);
  process_in(c);
}

// ---------------------------------------------------------------------------------------------
// The target side

// Connect timeout, or a failure noticed inside a function JavaScript called (reported from here
// so JavaScript is not re-entered).
void up_timer_cb(uv_timer_t* t) {
  Upstream* u = (Upstream*)t->data;
  if (u->state == UState::CLOSED) return;
  if (u->state == UState::PARKED) {  // the lazy idle check (see js_up_release)
    uint64_t idle = uv_now(g_loop) - u->parked_at;
    if (idle >= kIdleUpstreamMs) up_close(u);
    else uv_timer_start(&u->timer, up_timer_cb, kIdleUpstreamMs - idle, 0);
    return;
  }
  if (u->pending_error >= 0) up_fail(u, u->pending_error, false);
  else if (u->state == UState::CONNECTING) up_fail(u, UP_CONNECT_TIMEOUT, false);
}

void up_connected(uv_connect_t* r, int status) {
  Upstream* u = (Upstream*)r->data;
  if (u->state != UState::CONNECTING) return;
  uv_timer_stop(&u->timer);
  if (status < 0) {
    up_fail(u, status == UV_ECONNREFUSED ? UP_CONNECT_REFUSED : UP_CONNECT_FAILED, false);
    return;
  }
  u->state = UState::READY;
  uv_tcp_nodelay(&u->tcp, 1);
  up_start_reading(u);
  JsScope scope;
  napi_value argv[2] = {num(u->id), num(0)};
  js_call(ON_UP_CONNECT, 2, argv);
}

void up_complete(Upstream* u) {
  Client* c = u->client;
  u->state = UState::READY;
  u->exchanging = false;
  if (c != nullptr) c->relaying = nullptr;
  JsScope scope;
  napi_value argv[1] = {num(u->id)};
  js_call(ON_UP_DONE, 1, argv);
}

void up_read_cb(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  Upstream* u = (Upstream*)s->data;
  if (n == 0 || u->state == UState::CLOSED) return;
  if (u->state == UState::PARKED || u->state == UState::READY) {
    // Idle (parked, or done and not released yet): the target closed it, or sent bytes nobody
    // asked for. Either way it is not reusable; JavaScript hears of it only mid-exchange.
    u->keep_alive = false;
    if (u->state == UState::PARKED) up_close(u);
    else up_stop_reading(u);
    return;
  }
  if (n < 0) {
    if (u->state == UState::BODY && u->body == UpBody::UNTIL_CLOSE) {
      Client* c = u->client;
      if (c != nullptr && c->framing == FR_CHUNKED) {
        c->body_out += 5;
        client_write(c, "0\r\n\r\n", 5);
      }
      u->keep_alive = false;
      up_complete(u);
      return;
    }
    bool stale = u->state == UState::WAIT_HEAD && u->reused && !u->got_bytes && u->client != nullptr && u->client->replay.ok();
    up_fail(u, UP_RESET, stale);
    return;
  }
  u->got_bytes = true;
  if (u->state == UState::BODY) {
    relay_response(u, buf->base, (size_t)n);
    return;
  }
  // WAIT_HEAD
  u->rbuf.append(buf->base, (size_t)n);
  for (;;) {
    HeadFacts& h = g_head.facts;
    Scan r = scan_response(u->rbuf.data(), u->rbuf.size(), 65536, u->no_body, h);
    if (r == Scan::NEED_MORE) return;
    RelayFacts facts;
    // Malformed, switching protocols nobody asked for (WebSockets never take this path), or
    // refused by the TypeScript path's rules beyond llhttp's (relay.h): 502.
    if (r != Scan::OK || h.status == 101 || h.body == BodyKind::SWITCH_PROTOCOLS || check_relayed_head(u->rbuf.data(), h, facts) != RelayRefusal::NONE) {
      up_fail(u, UP_BAD_RESPONSE, false);
      return;
    }
    Client* c = u->client;
    if (c == nullptr) {
      up_close(u);
      return;
    }
    bool final_head = h.status >= 200;
    if (final_head) {
      // The response has begun: no replay from here on.
      c->replay.drop();
      // Framing and reuse as llhttp decides them (http1.h: response_body_framing, response_keep_alive).
      u->body = h.body == BodyKind::LENGTH && h.content_length == 0 ? BodyKind::NONE : h.body;
      u->body_left = h.content_length;
      u->chunks.reset();
      u->keep_alive = h.keep_alive;
    }
    {
      // JavaScript decides the client's framing and connection; respond() and relayInterim()
      // build the head from these bytes while the call lasts.
      size_t after = u->rbuf.size() - h.head_len;
      int64_t whole_body = -1;
      if (final_head && u->body == UpBody::NONE) whole_body = 0;
      else if (final_head && u->body == UpBody::LENGTH && (int64_t)after >= u->body_left) whole_body = u->body_left;
      g_head.up = u;
      g_head.base = u->rbuf.data();
      g_head.avail = u->rbuf.size();
      g_head.relay = facts;
      g_head.whole = whole_body >= 0;
      g_head.whole_body = whole_body;
      g_head.answered = false;
      g_head.write_failed = false;
      JsScope scope;
      napi_value argv[5] = {num(u->id), num(h.status), num((double)facts.content_length), boolean(facts.transfer_encoding), boolean(g_head.whole)};
      js_call(ON_UP_HEAD, 5, argv);
      g_head.up = nullptr;
    }
    if (g_head.answered) {
      // Written and completed inside the call (the target connection may be parked or closed
      // by now, its buffer cleared): nothing of it is touched here.
      if (g_head.write_failed && c->state != CState::CLOSED) client_close(c, CLOSED, true);
      return;
    }
    if (u->state == UState::CLOSED) return;
    if (!final_head) {
      u->rbuf.erase(0, h.head_len);
      if (u->rbuf.empty()) return;
      continue;
    }
    std::string rest = u->rbuf.substr(h.head_len);
    std::string().swap(u->rbuf);
    u->state = UState::BODY;
    if (u->body == UpBody::NONE) {
      if (!rest.empty()) u->keep_alive = false;
      if (!c->resp_head.empty() && !client_write(c, nullptr, 0)) {
        client_close(c, CLOSED, true);
        return;
      }
      up_complete(u);
      return;
    }
    if (!rest.empty()) relay_response(u, rest.data(), rest.size());
    else if (!c->resp_head.empty() && !client_write(c, nullptr, 0)) client_close(c, CLOSED, true);
    return;
  }
}

std::vector<DataSpan> g_spans;  // chunk data of the read being relayed

// Writes the data in g_spans (len bytes) to the client as one chunk.
bool client_write_chunk(Client* c, size_t len) {
  char size[24];
  size_t sl = chunk_size_line(size, len);
  c->body_out += (uint64_t)sl + len + 2;
  if (g_spans.size() == 1) return client_write(c, size, (size_t)sl, g_spans[0].p, len, "\r\n", 2);
  // Several chunks in one read: gathered, so the client still gets one chunk.
  std::string joined;
  joined.reserve(len + 2);
  for (const DataSpan& d : g_spans) joined.append(d.p, d.n);
  joined.append("\r\n", 2);
  return client_write(c, size, (size_t)sl, joined.data(), joined.size());
}

// Response body bytes from the target, relayed to the client in the framing respond() chose.
void relay_response(Upstream* u, const char* p, size_t n) {
  Client* c = u->client;
  if (c == nullptr || c->state == CState::CLOSED) {
    up_close(u);
    return;
  }
  size_t take = n;
  bool done = false;
  switch (u->body) {
    case UpBody::LENGTH:
      take = n < (size_t)u->body_left ? n : (size_t)u->body_left;
      u->body_left -= (int64_t)take;
      done = u->body_left == 0;
      break;
    case UpBody::CHUNKED: {
      // Decoded, and re-framed as one chunk per read (as the TypeScript engine relays it).
      g_spans.clear();
      take = u->chunks.feed(p, n, g_spans);
      size_t len = 0;
      for (const DataSpan& d : g_spans) len += d.n;
      bool ok = true;
      if (len > 0) ok = client_write_chunk(c, len);
      if (ok && u->chunks.done()) {
        static const char kLast[] = "0\r\n";
        const std::string& t = u->chunks.trailers();
        c->body_out += 3 + t.size() + 2;
        ok = client_write(c, kLast, 3, t.data(), t.size(), "\r\n", 2);
      }
      if (!ok) {
        client_close(c, CLOSED, true);
        return;
      }
      if (u->chunks.error()) {
        up_fail(u, UP_BAD_RESPONSE, false);  // what was well framed went out; then the cut
        return;
      }
      if (take < n || u->chunks.no_reuse()) u->keep_alive = false;
      if (u->chunks.done()) up_complete(u);
      else if (uv_stream_get_write_queue_size((uv_stream_t*)&c->tcp) >= kHighWater) up_stop_reading(u);
      return;
    }
    case UpBody::UNTIL_CLOSE:
      break;
    case UpBody::NONE:
    case UpBody::SWITCH_PROTOCOLS:  // never reaches here (refused with the head)
      take = 0;
      done = true;
      break;
  }
  if (take < n) u->keep_alive = false;  // bytes after the response: never reuse this connection
  bool ok;
  if (u->body == UpBody::UNTIL_CLOSE && c->framing == FR_CHUNKED) {
    char size[24];
    size_t sl = chunk_size_line(size, take);
    c->body_out += (uint64_t)sl + take + 2;
    ok = client_write(c, size, (size_t)sl, p, take, "\r\n", 2);
  } else {
    c->body_out += take;
    ok = client_write(c, p, take);
  }
  if (!ok) {
    client_close(c, CLOSED, true);
    return;
  }
  if (done) {
    up_complete(u);
    return;
  }
  if (uv_stream_get_write_queue_size((uv_stream_t*)&c->tcp) >= kHighWater) up_stop_reading(u);
}

// ---------------------------------------------------------------------------------------------
// Functions JavaScript calls

Client* client_arg(napi_env env, napi_value v) {
  uint32_t id;
  if (napi_get_value_uint32(env, v, &id) != napi_ok) return nullptr;
  return g_clients.find(id);
}
Upstream* up_arg(napi_env env, napi_value v) {
  uint32_t id;
  if (napi_get_value_uint32(env, v, &id) != napi_ok) return nullptr;
  return g_ups.find(id);
}

#define ARGS(n)             \
  size_t argc = n;          \
  napi_value argv[n];       \
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr)

// Reads a string or Buffer argument into out (latin1 for strings: heads are byte strings).
bool bytes_arg(napi_env env, napi_value v, std::string& out) {
  bool is_buf = false;
  napi_is_buffer(env, v, &is_buf);
  if (is_buf) {
    void* data;
    size_t len;
    napi_get_buffer_info(env, v, &data, &len);
    out.assign((const char*)data, len);
    return true;
  }
  size_t len;
  if (napi_get_value_string_latin1(env, v, nullptr, 0, &len) != napi_ok) return false;
  out.resize(len + 1);
  napi_get_value_string_latin1(env, v, &out[0], len + 1, &len);
  out.resize(len);
  return true;
}

napi_value ret_bool(napi_env env, bool b) {
  napi_value r;
  napi_get_boolean(env, b, &r);
  return r;
}
napi_value ret_num(napi_env env, double d) {
  napi_value r;
  napi_create_double(env, d, &r);
  return r;
}

std::string g_scratch;

// init(callbacks: Function[9])
napi_value js_init(napi_env env, napi_callback_info info) {
  ARGS(1);
  g_env = env;
  napi_get_uv_event_loop(env, &g_loop);
  for (uint32_t i = 0; i < CB_COUNT; i++) {
    napi_value fn;
    napi_get_element(env, argv[0], i, &fn);
    if (g_cb[i] != nullptr) napi_delete_reference(env, g_cb[i]);
    napi_create_reference(env, fn, 1, &g_cb[i]);
  }
  if (g_resource == nullptr) {
    napi_value res, name;
    napi_create_object(env, &res);
    napi_create_reference(env, res, 1, &g_resource);
    napi_create_string_utf8(env, "switchyard:native", NAPI_AUTO_LENGTH, &name);
    napi_async_init(env, res, name, &g_async);
  }
  return nullptr;
}

// adopt(fd, maxHeadBytes, maxHeaderFields, idleTimeoutMs) -> connection id (0 on failure).
// Takes a duplicate of fd: the caller closes its own socket right after.
napi_value js_adopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd;
  uint32_t max_head, max_fields;
  double idle;
  napi_get_value_int32(env, argv[0], &fd);
  napi_get_value_uint32(env, argv[1], &max_head);
  napi_get_value_uint32(env, argv[2], &max_fields);
  napi_get_value_double(env, argv[3], &idle);
  fd = dup(fd);
  if (fd < 0) return ret_num(env, 0);
  Client* c = new Client();
  c->id = next_id();
  c->max_head = max_head;
  c->max_fields = max_fields;
  c->idle_ms = idle > 0 ? (uint64_t)idle : 0;
  uv_tcp_init(g_loop, &c->tcp);
  uv_timer_init(g_loop, &c->timer);
  uv_timer_init(g_loop, &c->wtimer);
  c->tcp.data = c->timer.data = c->wtimer.data = c;
  if (uv_tcp_open(&c->tcp, fd) != 0) {
    close(fd);
    c->state = CState::CLOSED;
    uv_close((uv_handle_t*)&c->tcp, client_handle_closed);
    uv_close((uv_handle_t*)&c->timer, client_handle_closed);
    uv_close((uv_handle_t*)&c->wtimer, client_handle_closed);
    return ret_num(env, 0);
  }
  uv_tcp_nodelay(&c->tcp, 1);
  g_clients.insert(c->id, c);
  process_in(c);
  return ret_num(env, c->id);
}

// clientWrite(cid, bytes) -> false when the connection is gone
napi_value js_client_write(napi_env env, napi_callback_info info) {
  ARGS(2);
  Client* c = client_arg(env, argv[0]);
  if (c == nullptr || !bytes_arg(env, argv[1], g_scratch)) return ret_bool(env, false);
  bool ok = client_write(c, g_scratch.data(), g_scratch.size());
  return ret_bool(env, ok);
}

// clientBodyLeft(cid) -> body bytes of the current request not read yet
napi_value js_client_body_left(napi_env env, napi_callback_info info) {
  ARGS(1);
  Client* c = client_arg(env, argv[0]);
  return ret_num(env, c == nullptr ? 0 : (double)(c->body_left + (int64_t)c->held_body));
}

// clientBodyOut(cid) -> response body bytes relayed for the current request
napi_value js_client_body_out(napi_env env, napi_callback_info info) {
  ARGS(1);
  Client* c = client_arg(env, argv[0]);
  return ret_num(env, c == nullptr ? 0 : (double)c->body_out);
}

// The response is complete and the connection stays: the next request.
void client_next(Client* c) {
  if (c->state != CState::EXCHANGE) return;
  c->body_to = nullptr;
  c->relaying = nullptr;
  c->replay.drop();
  // Answered before its body ended: drop the rest of a bounded body, then go on.
  int64_t rest = c->body_left;
  drop_held(c);
  c->body_left = 0;
  c->state = CState::HEAD;
  if (rest > 0) {
    if (rest > kDiscardLimit) {
      c->state = CState::ENDING;
      client_disarm(c);
      if (uv_stream_get_write_queue_size((uv_stream_t*)&c->tcp) == 0) client_send_fin(c);
      client_arm(c, TimerKind::END, kEndGraceMs);
      return;
    }
    c->discard_left = rest;
    client_start_reading(c);
    client_arm(c, TimerKind::BODY, c->idle_ms);
    return;
  }
  if (c->in.empty() && !c->closing && !c->eof) {
    process_in(c);  // no head waiting: arms the idle timer, reads (no JavaScript is called)
    return;
  }
  // A pipelined head is waiting, or the connection ends (which JavaScript hears of): on the next
  // loop turn, so JavaScript is not re-entered.
  client_stop_reading(c);
  c->next_pending = true;
  schedule_next(c);
}

// The last response is written: FIN once it is out, drop input, close after 5 s.
void client_end(Client* c) {
  if (c->state == CState::ENDING) return;
  c->state = CState::ENDING;
  c->body_to = nullptr;
  c->relaying = nullptr;
  client_disarm(c);
  client_start_reading(c);
  if (uv_stream_get_write_queue_size((uv_stream_t*)&c->tcp) == 0) client_send_fin(c);
  client_arm(c, TimerKind::END, kEndGraceMs);
}

// clientFinish(cid, end) -> response body bytes relayed for the request: its response is
// complete; the connection goes on to the next request, or ends (`end`: FIN once the response is
// out, input dropped, closed after 5 s).
napi_value js_client_finish(napi_env env, napi_callback_info info) {
  ARGS(2);
  Client* c = client_arg(env, argv[0]);
  bool end = false;
  napi_get_value_bool(env, argv[1], &end);
  if (c == nullptr) return ret_num(env, 0);
  double body_out = (double)c->body_out;
  if (end) client_end(c);
  else client_next(c);
  return ret_num(env, body_out);
}

// clientDestroy(cid): close now (JavaScript is not told: it asked).
napi_value js_client_destroy(napi_env env, napi_callback_info info) {
  ARGS(1);
  Client* c = client_arg(env, argv[0]);
  if (c == nullptr) return nullptr;
  // A response head still waiting leaves before the cut: the client sees a truncated response.
  if (!c->resp_head.empty()) client_write(c, nullptr, 0);
  client_close(c, CLOSED, false);
  return nullptr;
}

// clientShutdown(cid) -> true when it was idle and is closed now; else it ends after the exchange.
napi_value js_client_shutdown(napi_env env, napi_callback_info info) {
  ARGS(1);
  Client* c = client_arg(env, argv[0]);
  if (c == nullptr) return ret_bool(env, true);
  if (c->state == CState::HEAD && c->in.empty() && c->discard_left == 0) {
    client_close(c, CLOSED, false);
    return ret_bool(env, true);
  }
  c->closing = true;
  return ret_bool(env, false);
}

// upConnect(pool, ip, port, connectTimeoutMs) -> upstream id (0 when the address is not an IP)
napi_value js_up_connect(napi_env env, napi_callback_info info) {
  ARGS(4);
  uint32_t pool, port;
  double timeout;
  napi_get_value_uint32(env, argv[0], &pool);
  char ip[64];
  size_t iplen;
  napi_get_value_string_latin1(env, argv[1], ip, sizeof ip, &iplen);
  napi_get_value_uint32(env, argv[2], &port);
  napi_get_value_double(env, argv[3], &timeout);
  sockaddr_storage addr;
  if (uv_ip4_addr(ip, (int)port, (sockaddr_in*)&addr) != 0 && uv_ip6_addr(ip, (int)port, (sockaddr_in6*)&addr) != 0) return ret_num(env, 0);
  Upstream* u = new Upstream();
  u->id = next_id();
  u->pool = pool;
  uv_tcp_init(g_loop, &u->tcp);
  uv_timer_init(g_loop, &u->timer);
  u->tcp.data = u->timer.data = u->creq.data = u;
  g_ups.insert(u->id, u);
  int r = uv_tcp_connect(&u->creq, &u->tcp, (const sockaddr*)&addr, up_connected);
  if (r != 0) {
    u->pending_error = r == UV_ECONNREFUSED ? UP_CONNECT_REFUSED : UP_CONNECT_FAILED;
    uv_timer_start(&u->timer, up_timer_cb, 0, 0);
    return ret_num(env, u->id);
  }
  if (timeout > 0) uv_timer_start(&u->timer, up_timer_cb, (uint64_t)timeout, 0);
  return ret_num(env, u->id);
}

// upTakeIdle(pool) -> an idle connection's id, or 0
napi_value js_up_take_idle(napi_env env, napi_callback_info info) {
  ARGS(1);
  uint32_t pool;
  napi_get_value_uint32(env, argv[0], &pool);
  auto it = g_pools.find(pool);
  if (it == g_pools.end()) return ret_num(env, 0);
  auto& v = it->second;
  while (!v.empty()) {
    Upstream* u = v.back();
    v.pop_back();
    if (u->state != UState::PARKED) continue;
    u->state = UState::READY;
    u->reused = true;
    return ret_num(env, u->id);
  }
  return ret_num(env, 0);
}

// upRelease(uid, maxIdle) -> true when parked for reuse (else closed)
napi_value js_up_release(napi_env env, napi_callback_info info) {
  ARGS(2);
  Upstream* u = up_arg(env, argv[0]);
  uint32_t max_idle;
  napi_get_value_uint32(env, argv[1], &max_idle);
  if (u == nullptr) return ret_bool(env, false);
  Client* c = u->client;
  if (c != nullptr) {
    if (c->body_to == u) c->body_to = nullptr;
    if (c->relaying == u) c->relaying = nullptr;
  }
  u->client = nullptr;
  auto& v = g_pools[u->pool];
  if (u->state != UState::READY || !u->keep_alive || v.size() >= max_idle) {
    up_close(u);
    return ret_bool(env, false);
  }
  u->state = UState::PARKED;
  u->rbuf.clear();
  up_start_reading(u);
  // Parked and taken again on every request: the time is noted, and one lazy timer checks it.
  u->parked_at = uv_now(g_loop);
  if (!uv_is_active((uv_handle_t*)&u->timer)) uv_timer_start(&u->timer, up_timer_cb, kIdleUpstreamMs, 0);
  v.push_back(u);
  return ret_bool(env, true);
}

// upDestroy(uid)
napi_value js_up_destroy(napi_env env, napi_callback_info info) {
  ARGS(1);
  Upstream* u = up_arg(env, argv[0]);
  if (u != nullptr) up_close(u);
  return nullptr;
}

// forward(cid, uid, head, isHeadRequest) -> false when the target connection failed at once.
// Sends the head, then what is kept for a replay, then the held body, and relays the rest.
napi_value js_forward(napi_env env, napi_callback_info info) {
  ARGS(4);
  Client* c = client_arg(env, argv[0]);
  Upstream* u = up_arg(env, argv[1]);
  bool is_head = false;
  napi_get_value_bool(env, argv[3], &is_head);
  if (c == nullptr || u == nullptr || !bytes_arg(env, argv[2], g_scratch)) return ret_bool(env, false);
  u->client = c;
  u->exchanging = true;
  u->no_body = is_head;
  u->got_bytes = false;
  u->rbuf.clear();
  u->state = UState::WAIT_HEAD;
  c->body_to = u;
  c->relaying = u;
  // Head, what is kept for a replay, and the held body: one write.
  const char* held = is_lent(c) ? g_lent.data : c->in.data();
  uv_buf_t pieces[3] = {uv_buf_init((char*)g_scratch.data(), (unsigned)g_scratch.size()), uv_buf_init((char*)c->replay.data(), (unsigned)c->replay.size()),
                        uv_buf_init((char*)held, (unsigned)c->held_body)};
  bool ok = stream_writev((uv_stream_t*)&u->tcp, u->id, false, pieces, 3);
  // Lent from the read's block: kept where it was read (no copy) when the block can hold the body.
  bool in_block = is_lent(c) && g_read_block != nullptr && held >= g_read_block && held < g_read_block + ReplayBuffer::kBlock;
  if (in_block && c->replay.adopt(g_read_block, held, c->held_body)) g_read_block = nullptr;
  else c->replay.keep(held, c->held_body);
  drop_held(c);
  if (!ok) {
    u->pending_error = UP_RESET;
    up_stop_reading(u);
    uv_timer_start(&u->timer, up_timer_cb, 0, 0);
    return ret_bool(env, false);
  }
  if (c->body_left > 0 && uv_stream_get_write_queue_size((uv_stream_t*)&u->tcp) < kHighWater) {
    client_start_reading(c);
    client_body_timer(c);
  }
  return ret_bool(env, true);
}

// The head being decided on, when uid names its target connection (else null).
const CurrentHead* current_head(napi_env env, napi_value uid) {
  Upstream* u = up_arg(env, uid);
  return u != nullptr && g_head.up == u ? &g_head : nullptr;
}

// respond(cid, uid, framing, contentLengthLine, extra) -> bytes of the head (0: no head to answer).
// The client's response head, built from the target's (relay.h append_relayed_head): framed as
// JavaScript decided (`framing`; with the target's Content-Length line when contentLengthLine),
// then `extra` (connection, cookies). Held until the first body bytes: one write for both; when
// the whole response is in hand, written with its body now (then wholeSent() is true).
napi_value js_respond(napi_env env, napi_callback_info info) {
  ARGS(5);
  Client* c = client_arg(env, argv[0]);
  const CurrentHead* cur = current_head(env, argv[1]);
  int32_t framing;
  bool length_line = false;
  napi_get_value_int32(env, argv[2], &framing);
  napi_get_value_bool(env, argv[3], &length_line);
  if (c == nullptr || cur == nullptr || !bytes_arg(env, argv[4], g_scratch)) return ret_num(env, 0);
  c->framing = (ClientFraming)framing;
  c->relaying = cur->up;
  char line[48];
  size_t n = 0;
  if (framing == FR_CHUNKED) {
    static const char kChunked[] = "transfer-encoding: chunked\r\n";
    n = sizeof kChunked - 1;
    memcpy(line, kChunked, n);
  } else if (framing == FR_LENGTH && length_line && cur->relay.content_length >= 0) {
    static const char kLength[] = "content-length: ";
    memcpy(line, kLength, sizeof kLength - 1);
    n = sizeof kLength - 1;
    n += decimal(line + n, (uint64_t)cur->relay.content_length);
    line[n++] = '\r';
    line[n++] = '\n';
  }
  c->resp_head.clear();
  append_relayed_head(c->resp_head, cur->base, cur->facts, line, n, g_scratch.data(), g_scratch.size());
  double head_bytes = (double)c->resp_head.size();
  if (cur->whole && framing == FR_LENGTH) {
    // The whole response is here: head and body in one write, and the target connection is done
    // with (JavaScript completes the exchange when this returns; up_read_cb leaves it alone).
    Upstream* u = cur->up;
    size_t body_at = cur->facts.head_len;
    if (cur->avail - body_at > (size_t)cur->whole_body) u->keep_alive = false;  // bytes after the response
    c->body_out += (uint64_t)cur->whole_body;
    if (!client_write(c, cur->base + body_at, (size_t)cur->whole_body)) g_head.write_failed = true;  // closed after the call
    u->state = UState::READY;
    u->exchanging = false;
    c->relaying = nullptr;
    g_head.answered = true;
  }
  return ret_num(env, head_bytes);
}

// wholeSent() -> whether respond() just wrote a whole response (JavaScript completes the exchange).
napi_value js_whole_sent(napi_env env, napi_callback_info) { return ret_bool(env, g_head.up != nullptr && g_head.answered); }

// relayInterim(cid, uid) -> bytes written: the interim (1xx) head being decided on, now.
napi_value js_relay_interim(napi_env env, napi_callback_info info) {
  ARGS(2);
  Client* c = client_arg(env, argv[0]);
  const CurrentHead* cur = current_head(env, argv[1]);
  if (c == nullptr || cur == nullptr || cur->facts.status >= 200) return ret_num(env, 0);
  std::string head;
  append_relayed_head(head, cur->base, cur->facts, "", 0, "", 0);
  return ret_num(env, client_write(c, head.data(), head.size()) ? (double)head.size() : 0);
}

// upHeadFields(uid) -> the target's header fields, flat [name, value, ...] (for stickiness).
napi_value js_up_head_fields(napi_env env, napi_callback_info info) {
  ARGS(1);
  const CurrentHead* cur = current_head(env, argv[0]);
  if (cur == nullptr) {
    napi_value empty;
    napi_create_array(env, &empty);
    return empty;
  }
  return raw_headers(cur->base, cur->facts);
}

// counts() -> [clients, upstreams, idle upstreams]
napi_value js_counts(napi_env env, napi_callback_info) {
  napi_value arr;
  napi_create_array_with_length(env, 3, &arr);
  size_t idle = 0;
  for (auto& kv : g_pools) idle += kv.second.size();
  napi_set_element(env, arr, 0, ret_num(env, (double)g_clients.size()));
  napi_set_element(env, arr, 1, ret_num(env, (double)g_ups.size()));
  napi_set_element(env, arr, 2, ret_num(env, (double)idle));
  return arr;
}

// closePool(pool): closes the idle connections of a pool.
napi_value js_close_pool(napi_env env, napi_callback_info info) {
  ARGS(1);
  uint32_t pool;
  napi_get_value_uint32(env, argv[0], &pool);
  auto it = g_pools.find(pool);
  if (it == g_pools.end()) return nullptr;
  std::vector<Upstream*> v;
  v.swap(it->second);
  for (Upstream* u : v) {
    u->state = UState::READY;  // not in the list any more
    up_close(u);
  }
  return nullptr;
}

// --- pipelined heads, scanned on the next loop turn ------------------------------------------

uv_idle_t g_idle;
bool g_idle_init = false;
std::vector<uint32_t> g_next_queue;

void idle_cb(uv_idle_t*) {
  std::vector<uint32_t> q;
  q.swap(g_next_queue);
  uv_idle_stop(&g_idle);
  for (uint32_t id : q) {
    Client* c = g_clients.find(id);
    if (c == nullptr || !c->next_pending) continue;
    c->next_pending = false;
    process_in(c);
  }
}

void schedule_next(Client* c) {
  if (!g_idle_init) {
    uv_idle_init(g_loop, &g_idle);
    uv_unref((uv_handle_t*)&g_idle);
    g_idle_init = true;
  }
  g_next_queue.push_back(c->id);
  uv_idle_start(&g_idle, idle_cb);
}

}  // namespace

// _setNextId(n): where the id counter goes on (a test hook: the wrap after 2^32 connections).
napi_value js_set_next_id(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc >= 1) napi_get_value_uint32(env, argv[0], &g_next_id);
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"init", nullptr, js_init, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adopt", nullptr, js_adopt, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"clientWrite", nullptr, js_client_write, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"clientBodyLeft", nullptr, js_client_body_left, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"clientBodyOut", nullptr, js_client_body_out, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"clientFinish", nullptr, js_client_finish, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"clientDestroy", nullptr, js_client_destroy, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"clientShutdown", nullptr, js_client_shutdown, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"upConnect", nullptr, js_up_connect, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"upTakeIdle", nullptr, js_up_take_idle, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"upRelease", nullptr, js_up_release, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"upDestroy", nullptr, js_up_destroy, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"forward", nullptr, js_forward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"respond", nullptr, js_respond, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"wholeSent", nullptr, js_whole_sent, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"relayInterim", nullptr, js_relay_interim, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"upHeadFields", nullptr, js_up_head_fields, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"counts", nullptr, js_counts, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"closePool", nullptr, js_close_pool, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"_setNextId", nullptr, js_set_next_id, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace sy

bool register_test_hooks(napi_env env, napi_value exports);  // test-hooks.cc

NAPI_MODULE_INIT() {
  if (!register_test_hooks(env, exports)) return nullptr;
  return sy::Init(env, exports);
}
