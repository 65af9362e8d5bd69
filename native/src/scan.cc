// Conservative HTTP/1.1 head scanners for the native engine (see scan.h).
// Requests: only the clean subset is OK; everything else is HANDOVER (the TypeScript engine,
// with llhttp in strict mode, answers it). Responses: strict; anything doubtful is ERROR (502).
#include "scan.h"

#include <cstring>
#include <strings.h>

namespace sy {
namespace {

bool is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool name_is(const char* p, Span s, const char* lit, size_t litlen) {
  return s.len == litlen && strncasecmp(p + s.off, lit, litlen) == 0;
}

// Finds CRLFCRLF; returns the head length including it, or 0.
uint32_t head_end(const char* p, size_t n, uint32_t max_head) {
  size_t lim = n < max_head ? n : max_head;
  for (size_t i = 3; i < lim; i++) {
    if (p[i] == '\n' && p[i - 1] == '\r' && p[i - 2] == '\n' && p[i - 3] == '\r') return (uint32_t)(i + 1);
  }
  return 0;
}

// Parses the field lines in [pos, end) (end = start of the final CRLF). Value bytes allowed:
// VCHAR, SP, HTAB, and obs-text when allow_obs_text. Returns false on anything else.
bool scan_fields(const char* p, uint32_t pos, uint32_t end, uint32_t max_fields, bool allow_obs_text, HeadFacts& out) {
  out.nfields = 0;
  while (pos < end) {
    uint32_t line = pos;
    while (pos < end && p[pos] != '\r') pos++;
    // Every line ends in CRLF (the head end guarantees p[end]..p[end+3] = CRLFCRLF).
    if (pos + 1 >= end + 2 || p[pos + 1] != '\n') return false;
    uint32_t le = pos;
    uint32_t i = line;
    while (i < le && is_tchar((unsigned char)p[i])) i++;
    if (i == line || i >= le || p[i] != ':') return false;
    Span name{line, i - line};
    i++;
    while (i < le && (p[i] == ' ' || p[i] == '\t')) i++;
    uint32_t vs = i;
    for (uint32_t k = vs; k < le; k++) {
      unsigned char c = (unsigned char)p[k];
      if (c == '\t' || (c >= 0x20 && c < 0x7f)) continue;
      if (c >= 0x80 && allow_obs_text) continue;
      return false;
    }
    uint32_t ve = le;
    while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t')) ve--;
    if (out.nfields >= max_fields || out.nfields >= kMaxFields) return false;
    out.names[out.nfields] = name;
    out.values[out.nfields] = Span{vs, ve - vs};
    out.nfields++;
    pos = le + 2;
  }
  return true;
}

// 1-15 decimal digits, nothing else.
bool parse_length(const char* p, Span v, int64_t& out) {
  if (v.len == 0 || v.len > 15) return false;
  int64_t n = 0;
  for (uint32_t i = 0; i < v.len; i++) {
    char c = p[v.off + i];
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  out = n;
  return true;
}

bool value_is(const char* p, Span v, const char* lit, size_t litlen) {
  return v.len == litlen && strncasecmp(p + v.off, lit, litlen) == 0;
}

}  // namespace

Scan scan_request(const char* p, size_t n, uint32_t max_head, uint32_t max_fields, HeadFacts& out) {
  uint32_t len = head_end(p, n, max_head);
  if (len == 0) {
    if (n >= max_head) return Scan::HANDOVER;
    // A bare LF (or a lone CR) means the head will never be clean: let the strict parser answer now.
    for (size_t i = 0; i < n; i++) {
      if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r')) return Scan::HANDOVER;
      if (p[i] == '\r' && i + 1 < n && p[i + 1] != '\n') return Scan::HANDOVER;
    }
    return Scan::NEED_MORE;
  }
  out.head_len = len;
  // Request line: METHOD SP origin-form SP HTTP/1.1 CRLF
  uint32_t i = 0;
  while (i < len && p[i] >= 'A' && p[i] <= 'Z') i++;
  Span method{0, i};
  if (i == 0 || p[i] != ' ') return Scan::HANDOVER;
  static const char* const kMethods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"};
  bool known = false;
  for (const char* m : kMethods) {
    if (strlen(m) == method.len && memcmp(p, m, method.len) == 0) known = true;
  }
  if (!known) return Scan::HANDOVER;
  uint32_t ts = ++i;
  if (p[ts] != '/') return Scan::HANDOVER;
  while (i < len && (unsigned char)p[i] > 0x20 && (unsigned char)p[i] < 0x7f && p[i] != '#') i++;
  if (p[i] != ' ') return Scan::HANDOVER;
  Span target{ts, i - ts};
  i++;
  if (i + 10 > len || memcmp(p + i, "HTTP/1.1\r\n", 10) != 0) return Scan::HANDOVER;
  out.method = method;
  out.target = target;
  out.version_minor = 1;
  if (!scan_fields(p, i + 10, len - 2, max_fields, false, out)) return Scan::HANDOVER;
  int hosts = 0;
  out.content_length = -1;
  out.conn_close = false;
  out.conn_keep_alive = false;
  for (uint32_t f = 0; f < out.nfields; f++) {
    Span nm = out.names[f];
    Span v = out.values[f];
    if (name_is(p, nm, "host", 4)) hosts++;
    else if (name_is(p, nm, "content-length", 14)) {
      if (out.content_length >= 0 || !parse_length(p, v, out.content_length)) return Scan::HANDOVER;
    } else if (name_is(p, nm, "connection", 10)) {
      if (value_is(p, v, "close", 5)) out.conn_close = true;
      else if (value_is(p, v, "keep-alive", 10)) out.conn_keep_alive = true;
      else return Scan::HANDOVER;
    } else if (name_is(p, nm, "transfer-encoding", 17) || name_is(p, nm, "upgrade", 7) || name_is(p, nm, "expect", 6) ||
               name_is(p, nm, "te", 2) || name_is(p, nm, "http2-settings", 14)) {
      return Scan::HANDOVER;
    }
  }
  if (hosts != 1) return Scan::HANDOVER;
  return Scan::OK;
}

Scan scan_response(const char* p, size_t n, uint32_t max_head, HeadFacts& out) {
  uint32_t len = head_end(p, n, max_head);
  if (len == 0) {
    if (n >= max_head) return Scan::ERROR;
    // A bare LF or a lone CR: never a valid head (waiting for CRLFCRLF would wait forever).
    for (size_t i = 0; i < n; i++) {
      if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r')) return Scan::ERROR;
      if (p[i] == '\r' && i + 1 < n && p[i + 1] != '\n') return Scan::ERROR;
    }
    return Scan::NEED_MORE;
  }
  out.head_len = len;
  // HTTP/1.x SP 3DIGIT [SP reason] CRLF
  if (len < 14 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ') return Scan::ERROR;
  out.version_minor = p[7] - '0';
  for (int k = 9; k < 12; k++) {
    if (p[k] < '0' || p[k] > '9') return Scan::ERROR;
  }
  out.status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
  if (out.status < 100) return Scan::ERROR;
  uint32_t i = 12;
  uint32_t rs = 12;
  if (p[i] == ' ') {
    rs = ++i;
    while (i < len && p[i] != '\r') {
      unsigned char c = (unsigned char)p[i];
      if (!(c == '\t' || c >= 0x20) || c == 0x7f) return Scan::ERROR;
      i++;
    }
  }
  if (p[i] != '\r' || p[i + 1] != '\n') return Scan::ERROR;
  out.target = Span{rs, i - rs};
  if (!scan_fields(p, i + 2, len - 2, kMaxFields, true, out)) return Scan::ERROR;
  out.content_length = -1;
  out.chunked = false;
  out.conn_close = false;
  out.conn_keep_alive = false;
  out.upgrade = false;
  bool te = false;
  for (uint32_t f = 0; f < out.nfields; f++) {
    Span nm = out.names[f];
    Span v = out.values[f];
    if (name_is(p, nm, "content-length", 14)) {
      int64_t cl;
      if (!parse_length(p, v, cl) || (out.content_length >= 0 && out.content_length != cl)) return Scan::ERROR;
      out.content_length = cl;
    } else if (name_is(p, nm, "transfer-encoding", 17)) {
      if (te || !value_is(p, v, "chunked", 7)) return Scan::ERROR;  // stricter than llhttp: only a plain chunked
      te = true;
      out.chunked = true;
    } else if (name_is(p, nm, "connection", 10)) {
      // Token list: close / keep-alive / upgrade anywhere in it.
      const char* s = p + v.off;
      uint32_t k = 0;
      while (k < v.len) {
        while (k < v.len && (s[k] == ' ' || s[k] == '\t' || s[k] == ',')) k++;
        uint32_t t0 = k;
        while (k < v.len && s[k] != ',' && s[k] != ' ' && s[k] != '\t') k++;
        Span tok{v.off + t0, k - t0};
        if (value_is(p, tok, "close", 5)) out.conn_close = true;
        else if (value_is(p, tok, "keep-alive", 10)) out.conn_keep_alive = true;
        else if (value_is(p, tok, "upgrade", 7)) out.upgrade = true;
      }
    }
  }
  if (out.chunked && out.content_length >= 0) return Scan::ERROR;  // ambiguous framing from a target
  return Scan::OK;
}

void ChunkScanner::reset() {
  state_ = SIZE;
  size_ = 0;
  digits_ = 0;
  last_ = false;
}

size_t ChunkScanner::feed(const char* p, size_t n) {
  size_t i = 0;
  while (i < n && state_ != DONE && state_ != ERR) {
    char c = p[i];
    switch (state_) {
      case SIZE: {
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d >= 0) {
          if (++digits_ > 15) { state_ = ERR; break; }
          size_ = size_ * 16 + (uint64_t)d;
          i++;
          break;
        }
        if (digits_ == 0) { state_ = ERR; break; }
        if (c == '\r') { state_ = SIZE_LF; i++; break; }
        if (c == ';') { state_ = EXT; i++; break; }
        state_ = ERR;
        break;
      }
      case EXT:
        // Chunk extensions are relayed as they are; only their bytes are checked.
        if (c == '\r') { state_ = SIZE_LF; i++; break; }
        if ((unsigned char)c < 0x20 && c != '\t') { state_ = ERR; break; }
        if (c == 0x7f) { state_ = ERR; break; }
        i++;
        break;
      case SIZE_LF:
        if (c != '\n') { state_ = ERR; break; }
        i++;
        digits_ = 0;
        if (size_ == 0) { last_ = true; state_ = TRAILER_START; }
        else state_ = DATA;
        break;
      case DATA: {
        size_t take = n - i < size_ ? n - i : (size_t)size_;
        size_ -= take;
        i += take;
        if (size_ == 0) state_ = DATA_CR;
        break;
      }
      case DATA_CR:
        if (c != '\r') { state_ = ERR; break; }
        state_ = DATA_LF;
        i++;
        break;
      case DATA_LF:
        if (c != '\n') { state_ = ERR; break; }
        state_ = SIZE;
        size_ = 0;
        i++;
        break;
      case TRAILER_START:
        if (c == '\r') { state_ = END_LF; i++; break; }
        if (!is_tchar((unsigned char)c)) { state_ = ERR; break; }
        state_ = TRAILER_LINE;
        i++;
        break;
      case TRAILER_LINE:
        if (c == '\r') { state_ = TRAILER_LF; i++; break; }
        if (((unsigned char)c < 0x20 && c != '\t') || c == 0x7f) { state_ = ERR; break; }
        i++;
        break;
      case TRAILER_LF:
        if (c != '\n') { state_ = ERR; break; }
        state_ = TRAILER_START;
        i++;
        break;
      case END_LF:
        if (c != '\n') { state_ = ERR; break; }
        state_ = DONE;
        i++;
        break;
      case DONE:
      case ERR:
        break;
    }
  }
  return i;
}

}  // namespace sy
