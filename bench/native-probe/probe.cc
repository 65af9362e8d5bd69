// Design probe, NOT product code: how fast can Node go when the bytes of a plain HTTP/1.1
// proxy never enter JavaScript, but every request still calls JavaScript twice (once with the
// request's method, path and host to pick a target, once with the response status, as a data
// path that keeps routing, balancing, metrics and logs in TypeScript would)?
//
// Runs on Node's own libuv loop (no thread of its own). Connections are accepted by a node:net
// server and handed over by file descriptor (dup), as a product engine would take them from the
// listener. Limits (on purpose): Content-Length framing only (requests with Transfer-Encoding get
// 501; chunked or close-delimited responses are relayed until the target closes, then the client
// is closed), no timeouts, minimal syntax checks. See docs/performance.md for what it measured.
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

uv_loop_t* loop = nullptr;
napi_env genv = nullptr;
napi_ref on_request_ref = nullptr;
napi_ref on_response_ref = nullptr;
// "full" mode: JavaScript gets the raw header list and returns the whole head to send (as
// Switchyard's TypeScript builds it); the target index comes back through a shared Int32Array.
bool full_js = false;
int32_t* js_slot = nullptr;
char read_buf[65536];  // one buffer for every read: the loop is single-threaded and each read is consumed or copied

struct Conn;
struct Up;

struct Target {
  sockaddr_in addr;
  std::vector<Up*> idle;
};
std::vector<Target> targets;

struct Up {
  uv_tcp_t h;
  uv_connect_t creq;
  int target = -1;
  Conn* conn = nullptr;     // null while idle in the pool
  std::string rbuf;         // response head bytes gathered so far
  int64_t res_left = -1;    // -1: head not complete; -2: relay until EOF
  bool connected = false;
  bool closing = false;
  std::string pending;      // request bytes to send once connected
};

struct Conn {
  uv_tcp_t h;
  std::string inbuf;        // client bytes not consumed yet
  std::string out;          // scratch for heads
  char ip[INET_ADDRSTRLEN] = "";
  Up* up = nullptr;
  int64_t req_left = 0;     // request body bytes still to forward
  bool busy = false;        // an exchange is in flight
  bool res_done = false;
  bool close_after = false;
  bool is_head = false;
  bool closing = false;
  bool reading = false;
  int refs = 1;
};

struct WriteReq {
  uv_write_t req;
  Conn* conn;
  bool to_client;
  char* data;
};

void conn_close(Conn* c);
void up_close(Up* u);
void client_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);
void up_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);
void process_requests(Conn* c);

void alloc_cb(uv_handle_t*, size_t, uv_buf_t* b) { *b = uv_buf_init(read_buf, sizeof read_buf); }

void client_start(Conn* c) {
  if (!c->reading && !c->closing) { c->reading = true; uv_read_start((uv_stream_t*)&c->h, alloc_cb, client_read); }
}
void client_stop(Conn* c) {
  if (c->reading) { c->reading = false; uv_read_stop((uv_stream_t*)&c->h); }
}

void write_done(uv_write_t* r, int status) {
  WriteReq* w = (WriteReq*)r;
  free(w->data);
  Conn* c = w->conn;
  bool to_client = w->to_client;
  delete w;
  if (status < 0) return;   // cancelled by a close: the owner may be gone
  if (c->closing) return;
  // The destination drained: resume the source (backpressure).
  if (to_client) { if (c->up && !c->up->closing) uv_read_start((uv_stream_t*)&c->up->h, alloc_cb, up_read); }
  else client_start(c);
}

// Write bufs to dst; whatever the socket does not take now is copied and queued, and the source
// stops reading until it is written. Returns false when the connection failed.
bool write_bufs(Conn* c, uv_stream_t* dst, bool to_client, uv_buf_t* bufs, unsigned n) {
  int r = 0;
  if (uv_stream_get_write_queue_size(dst) == 0) {
    r = uv_try_write(dst, bufs, n);
    if (r == UV_EAGAIN) r = 0;
    if (r < 0) return false;
  }
  size_t skip = (size_t)r, rest = 0;
  for (unsigned i = 0; i < n; i++) rest += bufs[i].len;
  if (skip >= rest) return true;
  rest -= skip;
  char* data = (char*)malloc(rest);
  size_t off = 0;
  for (unsigned i = 0; i < n; i++) {
    size_t len = bufs[i].len;
    if (skip >= len) { skip -= len; continue; }
    memcpy(data + off, bufs[i].base + skip, len - skip);
    off += len - skip;
    skip = 0;
  }
  WriteReq* w = new WriteReq{{}, c, to_client, data};
  uv_buf_t b = uv_buf_init(data, (unsigned)rest);
  if (uv_write(&w->req, dst, &b, 1, write_done) != 0) { free(data); delete w; return false; }
  if (to_client) { if (c->up) uv_read_stop((uv_stream_t*)&c->up->h); }
  else client_stop(c);
  return true;
}

void conn_unref(Conn* c) { if (--c->refs == 0) delete c; }
void conn_closed(uv_handle_t* h) { conn_unref((Conn*)h->data); }
void up_closed(uv_handle_t* h) { delete (Up*)h->data; }

void up_close(Up* u) {
  if (u->closing) return;
  u->closing = true;
  if (u->conn == nullptr && u->target >= 0) {
    auto& idle = targets[u->target].idle;
    for (size_t i = 0; i < idle.size(); i++) if (idle[i] == u) { idle.erase(idle.begin() + i); break; }
  }
  uv_close((uv_handle_t*)&u->h, up_closed);
}

void conn_close(Conn* c) {
  if (c->closing) return;
  c->closing = true;
  if (c->up) { c->up->conn = nullptr; up_close(c->up); c->up = nullptr; }
  uv_close((uv_handle_t*)&c->h, conn_closed);
}

void reply_and_close(Conn* c, const char* text) {
  uv_buf_t b = uv_buf_init((char*)text, (unsigned)strlen(text));
  uv_try_write((uv_stream_t*)&c->h, &b, 1);
  conn_close(c);
}

// Case-insensitive compare of a header name [p, p+n) with lower-case literal s.
inline bool name_is(const char* p, size_t n, const char* s) { return strlen(s) == n && strncasecmp(p, s, n) == 0; }
inline bool hop_by_hop(const char* p, size_t n) {
  return name_is(p, n, "connection") || name_is(p, n, "keep-alive") || name_is(p, n, "proxy-connection") ||
         name_is(p, n, "te") || name_is(p, n, "trailer") || name_is(p, n, "transfer-encoding") ||
         name_is(p, n, "upgrade") || name_is(p, n, "x-forwarded-for");
}

// Parsed head: field lines are walked twice (once to read, once to copy), no allocation.
struct Head {
  const char* start; size_t len;      // without the final CRLF CRLF
  const char* l1; size_t l1len;       // first line
  int64_t content_length = -1;
  bool chunked = false, conn_close = false, bad = false;
  const char* host = nullptr; size_t hostlen = 0;
};

bool parse_head(const char* p, size_t len, Head& h) {
  h.start = p; h.len = len;
  const char* end = p + len;
  const char* e = (const char*)memchr(p, '\r', len);
  if (!e) e = end;
  h.l1 = p; h.l1len = e - p;
  const char* q = e;
  while (q < end) {
    if (q + 1 >= end || q[0] != '\r' || q[1] != '\n') { h.bad = true; return false; }
    q += 2;
    const char* le = (const char*)memchr(q, '\r', end - q);
    if (!le) le = end;
    const char* colon = (const char*)memchr(q, ':', le - q);
    if (!colon || colon == q || *q == ' ' || *q == '\t') { h.bad = true; return false; }
    const char* v = colon + 1;
    while (v < le && (*v == ' ' || *v == '\t')) v++;
    const char* ve = le;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
    size_t nl = colon - q;
    if (name_is(q, nl, "content-length")) {
      if (h.content_length >= 0 || v == ve) { h.bad = true; return false; }
      int64_t n = 0;
      for (const char* d = v; d < ve; d++) {
        if (*d < '0' || *d > '9' || n > (INT64_MAX / 10 - 10)) { h.bad = true; return false; }
        n = n * 10 + (*d - '0');
      }
      h.content_length = n;
    } else if (name_is(q, nl, "transfer-encoding")) {
      h.chunked = true;
    } else if (name_is(q, nl, "connection")) {
      if (ve - v == 5 && strncasecmp(v, "close", 5) == 0) h.conn_close = true;
    } else if (name_is(q, nl, "host")) {
      h.host = v; h.hostlen = ve - v;
    }
    q = le;
  }
  return true;
}

// Append the field lines of h except hop-by-hop ones to out.
void copy_fields(const Head& h, std::string& out) {
  const char* end = h.start + h.len;
  const char* q = h.l1 + h.l1len;
  while (q < end) {
    q += 2;
    const char* le = (const char*)memchr(q, '\r', end - q);
    if (!le) le = end;
    const char* colon = (const char*)memchr(q, ':', le - q);
    if (!hop_by_hop(q, colon - q)) { out.append(q, le - q); out.append("\r\n", 2); }
    q = le;
  }
}

// The field lines of h as a flat JavaScript array [name, value, ...] (values trimmed).
napi_value raw_headers(const Head& h) {
  napi_value arr;
  napi_create_array(genv, &arr);
  const char* end = h.start + h.len;
  const char* q = h.l1 + h.l1len;
  uint32_t i = 0;
  while (q < end) {
    q += 2;
    const char* le = (const char*)memchr(q, '\r', end - q);
    if (!le) le = end;
    const char* colon = (const char*)memchr(q, ':', le - q);
    const char* v = colon + 1;
    while (v < le && (*v == ' ' || *v == '\t')) v++;
    const char* ve = le;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
    napi_value n, val;
    napi_create_string_latin1(genv, q, colon - q, &n);
    napi_create_string_latin1(genv, v, ve - v, &val);
    napi_set_element(genv, arr, i++, n);
    napi_set_element(genv, arr, i++, val);
    q = le;
  }
  return arr;
}

// Copies a JavaScript string (latin1) into out; false when it is not a string.
bool take_string(napi_value v, std::string& out) {
  size_t len;
  if (napi_get_value_string_latin1(genv, v, nullptr, 0, &len) != napi_ok) return false;
  out.resize(len + 1);
  napi_get_value_string_latin1(genv, v, &out[0], len + 1, &len);
  out.resize(len);
  return true;
}

// Full mode: onRequest(method, url, versionMinor, rawHeaders) -> head string; target in js_slot[0].
int call_on_request_full(const Head& h, std::string& out) {
  napi_handle_scope scope;
  napi_open_handle_scope(genv, &scope);
  const char* sp1 = (const char*)memchr(h.l1, ' ', h.l1len);
  const char* sp2 = sp1 ? (const char*)memchr(sp1 + 1, ' ', h.l1 + h.l1len - sp1 - 1) : nullptr;
  int result = -1;
  if (sp1 && sp2 && h.l1 + h.l1len - sp2 == 9) {
    napi_value fn, argv[4], ret, undef;
    napi_get_reference_value(genv, on_request_ref, &fn);
    napi_get_undefined(genv, &undef);
    napi_create_string_latin1(genv, h.l1, sp1 - h.l1, &argv[0]);
    napi_create_string_latin1(genv, sp1 + 1, sp2 - sp1 - 1, &argv[1]);
    napi_create_int32(genv, sp2[8] - '0', &argv[2]);
    argv[3] = raw_headers(h);
    js_slot[0] = -1;
    if (napi_call_function(genv, undef, fn, 4, argv, &ret) == napi_ok && take_string(ret, out)) result = js_slot[0];
  }
  napi_close_handle_scope(genv, scope);
  return result;
}

// Full mode: onResponse(status, message, rawHeaders, isHead) -> head string.
bool call_on_response_full(const Head& h, int status, std::string& out) {
  napi_handle_scope scope;
  napi_open_handle_scope(genv, &scope);
  napi_value fn, argv[3], ret, undef;
  napi_get_reference_value(genv, on_response_ref, &fn);
  napi_get_undefined(genv, &undef);
  napi_create_int32(genv, status, &argv[0]);
  const char* msg = h.l1 + 13;
  napi_create_string_latin1(genv, h.l1len > 13 ? msg : "", h.l1len > 13 ? h.l1len - 13 : 0, &argv[1]);
  argv[2] = raw_headers(h);
  bool ok = napi_call_function(genv, undef, fn, 3, argv, &ret) == napi_ok && take_string(ret, out);
  napi_close_handle_scope(genv, scope);
  return ok;
}

int call_on_request(const Head& h) {
  napi_handle_scope scope;
  napi_open_handle_scope(genv, &scope);
  const char* sp1 = (const char*)memchr(h.l1, ' ', h.l1len);
  const char* sp2 = sp1 ? (const char*)memchr(sp1 + 1, ' ', h.l1 + h.l1len - sp1 - 1) : nullptr;
  int result = -1;
  if (sp1 && sp2) {
    napi_value fn, argv[3], ret, undef;
    napi_get_reference_value(genv, on_request_ref, &fn);
    napi_get_undefined(genv, &undef);
    napi_create_string_latin1(genv, h.l1, sp1 - h.l1, &argv[0]);
    napi_create_string_latin1(genv, sp1 + 1, sp2 - sp1 - 1, &argv[1]);
    napi_create_string_latin1(genv, h.host ? h.host : "", h.hostlen, &argv[2]);
    if (napi_call_function(genv, undef, fn, 3, argv, &ret) == napi_ok) napi_get_value_int32(genv, ret, &result);
  }
  napi_close_handle_scope(genv, scope);
  return result;
}

void call_on_response(int status) {
  napi_handle_scope scope;
  napi_open_handle_scope(genv, &scope);
  napi_value fn, arg, ret, undef;
  napi_get_reference_value(genv, on_response_ref, &fn);
  napi_get_undefined(genv, &undef);
  napi_create_int32(genv, status, &arg);
  napi_call_function(genv, undef, fn, 1, &arg, &ret);
  napi_close_handle_scope(genv, scope);
}

void exchange_done(Conn* c) {
  Up* u = c->up;
  c->up = nullptr;
  c->busy = false;
  if (u) {
    u->conn = nullptr;
    if (u->res_left == -2 || u->closing) up_close(u);
    else { u->rbuf.clear(); u->res_left = -1; targets[u->target].idle.push_back(u); }
  }
  if (c->close_after) { conn_close(c); return; }
  client_start(c);
  process_requests(c);
}

void maybe_done(Conn* c) { if (c->res_done && c->req_left == 0) exchange_done(c); }

void up_connected(uv_connect_t* r, int status) {
  Up* u = (Up*)r->data;
  if (u->closing) return;
  if (status < 0) {
    Conn* c = u->conn;
    if (c) { c->up = nullptr; reply_and_close(c, "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"); }
    u->conn = nullptr;
    up_close(u);
    return;
  }
  u->connected = true;
  uv_tcp_nodelay(&u->h, 1);
  uv_read_start((uv_stream_t*)&u->h, alloc_cb, up_read);
  if (!u->pending.empty() && u->conn) {
    uv_buf_t b = uv_buf_init((char*)u->pending.data(), (unsigned)u->pending.size());
    if (!write_bufs(u->conn, (uv_stream_t*)&u->h, false, &b, 1)) conn_close(u->conn);
    u->pending.clear();
  }
}

Up* acquire(int t, Conn* c) {
  auto& idle = targets[t].idle;
  if (!idle.empty()) { Up* u = idle.back(); idle.pop_back(); u->conn = c; return u; }
  Up* u = new Up();
  u->target = t;
  u->conn = c;
  uv_tcp_init(loop, &u->h);
  u->h.data = u;
  u->creq.data = u;
  uv_tcp_connect(&u->creq, &u->h, (const sockaddr*)&targets[t].addr, up_connected);
  return u;
}

// Starts the next request in c->inbuf, if a whole head is there and no exchange is in flight.
void process_requests(Conn* c) {
  if (c->busy || c->closing || c->inbuf.empty()) return;
  size_t pos = c->inbuf.find("\r\n\r\n");
  if (pos == std::string::npos) {
    if (c->inbuf.size() > 65536) reply_and_close(c, "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    return;
  }
  Head h;
  if (!parse_head(c->inbuf.data(), pos, h)) { reply_and_close(c, "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"); return; }
  if (h.chunked) { reply_and_close(c, "HTTP/1.1 501 Not Implemented\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"); return; }
  std::string& out = c->out;
  out.clear();
  int t = full_js ? call_on_request_full(h, out) : call_on_request(h);
  if (c->closing) return;
  if (t < 0 || t >= (int)targets.size()) {
    static const char r404[] = "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
    uv_buf_t b = uv_buf_init((char*)r404, sizeof r404 - 1);
    c->inbuf.erase(0, pos + 4);
    if (!write_bufs(c, (uv_stream_t*)&c->h, true, &b, 1)) conn_close(c);
    return process_requests(c);
  }
  c->busy = true;
  c->res_done = false;
  c->close_after = h.conn_close;
  c->is_head = h.l1len > 5 && memcmp(h.l1, "HEAD ", 5) == 0;
  if (!full_js) {
    out.append(h.l1, h.l1len);
    out.append("\r\n", 2);
    copy_fields(h, out);
    out.append("x-forwarded-for: ");
    out.append(c->ip);
    out.append("\r\n\r\n", 4);
  }
  int64_t body = h.content_length > 0 ? h.content_length : 0;
  size_t avail = c->inbuf.size() - (pos + 4);
  size_t now = (size_t)(body < (int64_t)avail ? body : (int64_t)avail);
  out.append(c->inbuf.data() + pos + 4, now);
  c->req_left = body - (int64_t)now;
  c->inbuf.erase(0, pos + 4 + now);
  Up* u = acquire(t, c);
  c->up = u;
  if (!u->connected) u->pending = out;
  else {
    uv_buf_t b = uv_buf_init((char*)out.data(), (unsigned)out.size());
    if (!write_bufs(c, (uv_stream_t*)&u->h, false, &b, 1)) { conn_close(c); return; }
  }
}

void client_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  Conn* c = (Conn*)s->data;
  if (n == 0) return;
  if (n < 0) { conn_close(c); return; }
  if (c->busy && c->req_left > 0) {
    int64_t take = n < c->req_left ? n : c->req_left;
    c->req_left -= take;
    Up* u = c->up;
    if (!u->connected) u->pending.append(buf->base, (size_t)take);
    else {
      uv_buf_t b = uv_buf_init(buf->base, (unsigned)take);
      if (!write_bufs(c, (uv_stream_t*)&u->h, false, &b, 1)) { conn_close(c); return; }
    }
    if (take < n) c->inbuf.append(buf->base + take, (size_t)(n - take));
    if (c->req_left == 0 && c->res_done) maybe_done(c);
    return;
  }
  c->inbuf.append(buf->base, (size_t)n);
  // Pipelined bytes wait until the exchange in flight ends; reading stops only when they pile up.
  if (c->busy) { if (c->inbuf.size() > 65536) client_stop(c); return; }
  process_requests(c);
}

void up_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  Up* u = (Up*)s->data;
  Conn* c = u->conn;
  if (n == 0) return;
  if (!c) { up_close(u); return; }  // idle in the pool: EOF or unsolicited bytes
  if (n < 0) {
    if (u->res_left == -2) { c->res_done = true; c->close_after = true; c->req_left = 0; exchange_done(c); return; }
    conn_close(c);
    return;
  }
  const char* p = buf->base;
  size_t len = (size_t)n;
  if (u->res_left == -1) {
    u->rbuf.append(p, len);
    size_t pos = u->rbuf.find("\r\n\r\n");
    if (pos == std::string::npos) { if (u->rbuf.size() > 65536) conn_close(c); return; }
    Head h;
    if (!parse_head(u->rbuf.data(), pos, h) || h.l1len < 12) { conn_close(c); return; }
    int status = (h.l1[9] - '0') * 100 + (h.l1[10] - '0') * 10 + (h.l1[11] - '0');
    if (status < 200) { conn_close(c); return; }  // probe: no interim responses
    std::string& out = c->out;
    out.clear();
    bool bodyless = c->is_head || status == 204 || status == 304;
    if (bodyless) u->res_left = 0;
    else if (h.chunked || h.content_length < 0) { u->res_left = -2; c->close_after = true; }
    else u->res_left = h.content_length;
    if (full_js) {
      if (!call_on_response_full(h, status, out)) { conn_close(c); return; }
    } else {
      call_on_response(status);
      out.append(h.l1, h.l1len);
      out.append("\r\n", 2);
      copy_fields(h, out);
      if (h.chunked && !bodyless) out.append("transfer-encoding: chunked\r\n");
      if (c->close_after) out.append("connection: close\r\n");
      out.append("\r\n", 2);
    }
    if (c->closing) return;
    size_t body_at = pos + 4;
    size_t avail = u->rbuf.size() - body_at;
    size_t now = u->res_left == -2 ? avail : (size_t)((int64_t)avail < u->res_left ? avail : u->res_left);
    uv_buf_t bufs[2] = {uv_buf_init((char*)out.data(), (unsigned)out.size()), uv_buf_init((char*)u->rbuf.data() + body_at, (unsigned)now)};
    if (u->res_left >= 0) u->res_left -= (int64_t)now;
    if (!write_bufs(c, (uv_stream_t*)&c->h, true, bufs, now ? 2 : 1)) { conn_close(c); return; }
    u->rbuf.clear();
  } else {
    size_t now = u->res_left == -2 ? len : (size_t)((int64_t)len < u->res_left ? len : u->res_left);
    uv_buf_t b = uv_buf_init((char*)p, (unsigned)now);
    if (u->res_left >= 0) u->res_left -= (int64_t)now;
    if (!write_bufs(c, (uv_stream_t*)&c->h, true, &b, 1)) { conn_close(c); return; }
  }
  if (u->res_left == 0) { c->res_done = true; maybe_done(c); }
}

// adopt(fd): take an accepted client connection (the caller passes a dup of the descriptor).
napi_value adopt(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t fd;
  napi_get_value_int32(env, argv[0], &fd);
  Conn* c = new Conn();
  uv_tcp_init(loop, &c->h);
  c->h.data = c;
  if (uv_tcp_open(&c->h, fd) != 0) { close(fd); c->closing = true; uv_close((uv_handle_t*)&c->h, conn_closed); return nullptr; }
  uv_tcp_nodelay(&c->h, 1);
  sockaddr_storage ss;
  int sl = sizeof ss;
  if (uv_tcp_getpeername(&c->h, (sockaddr*)&ss, &sl) == 0 && ss.ss_family == AF_INET)
    uv_ip4_name((sockaddr_in*)&ss, c->ip, sizeof c->ip);
  client_start(c);
  return nullptr;
}

// init(onRequest, onResponse, targets ["ip:port", ...][, Int32Array slot]): with the slot, "full"
// mode (call_on_request_full); without it, onRequest(method, path, host) -> target index and
// onResponse(status).
napi_value init(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  genv = env;
  if (argc >= 4) {
    napi_typedarray_type type;
    size_t length;
    void* data;
    napi_value ab;
    size_t offset;
    if (napi_get_typedarray_info(env, argv[3], &type, &length, &data, &ab, &offset) == napi_ok && type == napi_int32_array && length > 0) {
      full_js = true;
      js_slot = (int32_t*)data;
      static napi_ref slot_ref;  // keeps the shared array alive
      napi_create_reference(env, argv[3], 1, &slot_ref);
    }
  }
  napi_get_uv_event_loop(env, &loop);
  napi_create_reference(env, argv[0], 1, &on_request_ref);
  napi_create_reference(env, argv[1], 1, &on_response_ref);
  uint32_t n;
  napi_get_array_length(env, argv[2], &n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    napi_get_element(env, argv[2], i, &v);
    char s[64];
    size_t sl;
    napi_get_value_string_latin1(env, v, s, sizeof s, &sl);
    char* colon = strchr(s, ':');
    if (!colon) continue;
    *colon = 0;
    Target t;
    uv_ip4_addr(s, atoi(colon + 1), &t.addr);
    targets.push_back(t);
  }
  return nullptr;
}

napi_value dup_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], ret;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t fd;
  napi_get_value_int32(env, argv[0], &fd);
  napi_create_int32(env, dup(fd), &ret);
  return ret;
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"init", nullptr, init, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adopt", nullptr, adopt, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"dup", nullptr, dup_fd, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, 3, props);
  return exports;
}
