// HTTP/1.1 scanners; see http1.h for the contract and the known differences from llhttp.
//
// Every scanner is a byte-level state machine whose state lives in the caller's struct, so a
// head or body arriving in many pieces is scanned once, not once per piece. Inner loops run over
// runs of ordinary bytes with one table lookup per byte. Indices are uint32_t for heads (the
// caller caps head sizes far below 4 GiB; longer buffers are cut, see clamp_length) and size_t
// for bodies. No recursion, no allocation, no signed arithmetic on input-derived values.
#include "http1.h"

namespace switchyard {
namespace http1 {
namespace {

// ---- Byte classes -----------------------------------------------------------------------------

enum : uint8_t {
  C_TCHAR = 1 << 0,   // RFC 9110 token: ALPHA DIGIT !#$%&'*+-.^_`|~
  C_VCHAR = 1 << 1,   // HTAB, SP, 0x21-0x7E: field value bytes of the clean request subset
  C_OBS = 1 << 2,     // obs-text 0x80-0xFF
  C_TARGET = 1 << 3,  // request-target bytes of the clean subset: 0x21-0x7E except '#'
  C_QDTEXT = 1 << 4,  // quoted-string text: HTAB SP 0x21 0x23-0x5B 0x5D-0x7E obs-text
  C_HEX = 1 << 5,
};

// Field values of responses and trailers (llhttp's HEADER_CHARS), reason phrases, quoted-pairs.
constexpr uint8_t C_TEXT = C_VCHAR | C_OBS;

struct ClassTable {
  uint8_t of[256];
};

constexpr bool is_token_punct(int c) {
  const char* p = "!#$%&'*+-.^_`|~";
  for (; *p != 0; p++) {
    if (*p == c) return true;
  }
  return false;
}

constexpr ClassTable make_classes() {
  ClassTable t{};
  for (int c = 0; c < 256; c++) {
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    const bool digit = c >= '0' && c <= '9';
    uint8_t f = 0;
    if (alpha || digit || is_token_punct(c)) f |= C_TCHAR;
    if (c == '\t' || (c >= 0x20 && c <= 0x7e)) f |= C_VCHAR;
    if (c >= 0x80) f |= C_OBS;
    if (c >= 0x21 && c <= 0x7e && c != '#') f |= C_TARGET;
    if (c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80) {
      f |= C_QDTEXT;
    }
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) f |= C_HEX;
    t.of[c] = f;
  }
  return t;
}

constexpr ClassTable kClass = make_classes();

inline bool has(uint8_t b, uint8_t cls) { return (kClass.of[b] & cls) != 0; }
inline bool is_ows(uint8_t b) { return b == ' ' || b == '\t'; }

inline uint8_t hex_value(uint8_t b) {
  if (b <= '9') return static_cast<uint8_t>(b - '0');
  return static_cast<uint8_t>((b | 0x20) - 'a' + 10);
}

// ASCII case-insensitive equality with a lowercase literal (A-Z folded only, as llhttp's
// toLower; the literals used here are letters and '-').
bool eq_lower(const uint8_t* p, uint32_t n, const char* lower) {
  for (uint32_t i = 0; i < n; i++) {
    uint8_t c = p[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<uint8_t>(c | 0x20);
    if (lower[i] == 0 || c != static_cast<uint8_t>(lower[i])) return false;
  }
  return lower[n] == 0;
}

// Whether p[0, avail) starts with `lower` (case-insensitive, see eq_lower).
bool starts_lower(const uint8_t* p, uint32_t avail, const char* lower, uint32_t lower_len) {
  return avail >= lower_len && eq_lower(p, lower_len, lower);
}

// Heads must fit uint32_t offsets; a longer buffer is looked at only up to this length.
constexpr uint32_t kMaxHeadScan = 0xfffffff0u;

uint32_t clamp_length(size_t len) { return len > kMaxHeadScan ? kMaxHeadScan : static_cast<uint32_t>(len); }

// ---- Field names that matter ------------------------------------------------------------------

enum class Name : uint8_t {
  OTHER,
  HOST,
  CONTENT_LENGTH,
  TRANSFER_ENCODING,
  CONNECTION,
  PROXY_CONNECTION,
  UPGRADE,
  EXPECT,
  TE,
  HTTP2_SETTINGS,
};

Name classify_name(const uint8_t* p, uint32_t n) {
  switch (n) {
    case 2:
      if (eq_lower(p, n, "te")) return Name::TE;
      break;
    case 4:
      if (eq_lower(p, n, "host")) return Name::HOST;
      break;
    case 6:
      if (eq_lower(p, n, "expect")) return Name::EXPECT;
      break;
    case 7:
      if (eq_lower(p, n, "upgrade")) return Name::UPGRADE;
      break;
    case 10:
      if (eq_lower(p, n, "connection")) return Name::CONNECTION;
      break;
    case 14:
      if (eq_lower(p, n, "content-length")) return Name::CONTENT_LENGTH;
      if (eq_lower(p, n, "http2-settings")) return Name::HTTP2_SETTINGS;
      break;
    case 16:
      if (eq_lower(p, n, "proxy-connection")) return Name::PROXY_CONNECTION;
      break;
    case 17:
      if (eq_lower(p, n, "transfer-encoding")) return Name::TRANSFER_ENCODING;
      break;
    default:
      break;
  }
  return Name::OTHER;
}

// framing.ts sameLetters for token names: the letters and digits of `name`, lowercased, are
// exactly `target` (other bytes dropped). Content_Length, Transfer.Encoding, Content-Length-...
bool same_letters(const uint8_t* name, uint32_t n, const char* target) {
  uint32_t j = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<uint8_t>(c | 0x20);
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum) continue;
    if (target[j] == 0 || static_cast<uint8_t>(target[j]) != c) return false;
    j++;
  }
  return target[j] == 0;
}

bool lookalike_framing_name(const uint8_t* p, uint32_t n) {
  // framing.ts nameKind: only names of 13-64 bytes are compared.
  if (n < 13 || n > 64) return false;
  return same_letters(p, n, "transferencoding") || same_letters(p, n, "contentlength");
}

// ---- Field values with llhttp semantics -------------------------------------------------------

// llhttp's Transfer-Encoding states (te_chunked, te_chunked_last, te_token, te_token_ows) over a
// non-empty raw value (leading OWS already skipped, trailing OWS kept: it matters). True when the
// last coding is "chunked" followed by nothing but SPs (a trailing HTAB makes it not chunked).
bool te_last_coding_is_chunked(const uint8_t* p, uint32_t i, uint32_t end) {
  enum { CODING, AFTER_CHUNKED, TOKEN, OWS } s = CODING;
  while (i < end) {
    const uint8_t b = p[i];
    switch (s) {
      case CODING:
        // llhttp lowercases with |0x20 here; for the letters of "chunked" that is plain folding.
        if (starts_lower(p + i, end - i, "chunked", 7)) {
          i += 7;
          s = AFTER_CHUNKED;
        } else {
          s = TOKEN;
        }
        break;
      case AFTER_CHUNKED:
        if (b == ' ') {
          i++;
        } else {
          s = TOKEN;  // ',' included: TOKEN takes it and goes on to the next coding
        }
        break;
      case TOKEN:
        if (b == ',') {
          i++;
          s = OWS;
        } else if (has(b, C_TEXT)) {
          i++;
        } else {
          return false;  // llhttp falls back to a plain value: not chunked
        }
        break;
      case OWS:
        if (is_ows(b)) {
          i++;
        } else {
          s = CODING;
        }
        break;
    }
  }
  return s == AFTER_CHUNKED;
}

struct ConnectionTokens {
  bool close;
  bool keep_alive;
  bool upgrade;
};

// llhttp's Connection states (connection, connection_ws, connection_token) over a raw value: a
// token counts when it is close / keep-alive / upgrade (any case) followed by SPs and then a
// comma or the end. A HTAB after the token breaks it (llhttp 9.3.1 behaviour).
void scan_connection_tokens(const uint8_t* p, uint32_t i, uint32_t end, ConnectionTokens* out) {
  enum { START, AFTER_WORD, TOKEN } s = START;
  enum { NONE, CLOSE, KEEP_ALIVE, UPGRADE } word = NONE;
  auto apply = [&]() {
    if (word == CLOSE) out->close = true;
    if (word == KEEP_ALIVE) out->keep_alive = true;
    if (word == UPGRADE) out->upgrade = true;
    word = NONE;
  };
  while (i < end) {
    const uint8_t b = p[i];
    switch (s) {
      case START:
        if (is_ows(b)) {
          i++;
        } else if (starts_lower(p + i, end - i, "close", 5)) {
          i += 5;
          word = CLOSE;
          s = AFTER_WORD;
        } else if (starts_lower(p + i, end - i, "keep-alive", 10)) {
          i += 10;
          word = KEEP_ALIVE;
          s = AFTER_WORD;
        } else if (starts_lower(p + i, end - i, "upgrade", 7)) {
          i += 7;
          word = UPGRADE;
          s = AFTER_WORD;
        } else {
          s = TOKEN;
        }
        break;
      case AFTER_WORD:
        if (b == ',') {
          apply();
          i++;
          s = START;
        } else if (b == ' ') {
          i++;
        } else {
          word = NONE;
          s = TOKEN;
        }
        break;
      case TOKEN:
        i++;
        if (b == ',') s = START;
        break;
    }
  }
  if (s == AFTER_WORD) apply();
}

// Content-Length as llhttp reads it: 1*DIGIT then SPs only (a HTAB is an error). Returns -1 when
// invalid or above max_value.
int64_t parse_content_length(const uint8_t* p, uint32_t i, uint32_t end, uint64_t max_value) {
  uint64_t n = 0;
  const uint32_t digits_start = i;
  for (; i < end && p[i] >= '0' && p[i] <= '9'; i++) {
    const uint64_t d = static_cast<uint64_t>(p[i] - '0');
    if (n > (max_value - d) / 10) return -1;
    n = n * 10 + d;
  }
  if (i == digits_start) return -1;
  for (; i < end; i++) {
    if (p[i] != ' ') return -1;
  }
  return static_cast<int64_t>(n);
}

uint32_t trim_end(const uint8_t* p, uint32_t start, uint32_t end) {
  while (end > start && is_ows(p[end - 1])) end--;
  return end;
}

// ---- Field lines (shared by request and response heads) ---------------------------------------

// Cursor states. The start-line states of each scanner come first, then the field-line ones.
enum : uint8_t {
  RQ_METHOD,
  RQ_TARGET_FIRST,
  RQ_TARGET,
  RQ_VERSION,
  RS_LEADING,
  RS_VERSION,
  RS_MINOR,
  RS_SP,
  RS_STATUS,
  RS_AFTER_STATUS,
  RS_REASON,
  RS_LINE_LF,
  FL_LINE_START,
  FL_NAME,
  FL_OWS,
  FL_VALUE,
  FL_VALUE_LF,
  FL_END_LF,
};

enum class Line : uint8_t { NEED_MORE, FIELD, END, BARE_CR, BARE_LF, OBS_FOLD, BAD_NAME, BAD_VALUE };

// Scans field lines from c.pos: returns at the end of one field (FIELD: c.mark, c.name_len,
// c.value_off and c.value_end describe it, c.pos is past its LF), at the end of the head (END:
// c.pos is past the final LF), when the data runs out, or at the first invalid byte (c.pos).
// `value_class` is C_VCHAR (clean request subset) or C_TEXT (responses: obs-text allowed).
Line next_field_line(const uint8_t* p, uint32_t len, LineCursor& c, uint8_t value_class) {
  uint32_t i = c.pos;
  while (i < len) {
    const uint8_t b = p[i];
    switch (c.state) {
      case FL_LINE_START:
        if (b == '\r') {
          c.state = FL_END_LF;
          i++;
          break;
        }
        if (has(b, C_TCHAR)) {
          c.mark = i;
          c.state = FL_NAME;
          i++;
          break;
        }
        c.pos = i;
        return is_ows(b) ? Line::OBS_FOLD : b == '\n' ? Line::BARE_LF : Line::BAD_NAME;
      case FL_NAME:
        while (i < len && has(p[i], C_TCHAR)) i++;
        if (i == len) break;
        if (p[i] != ':') {
          c.pos = i;
          return p[i] == '\n' ? Line::BARE_LF : Line::BAD_NAME;
        }
        c.name_len = i - c.mark;
        c.state = FL_OWS;
        i++;
        break;
      case FL_OWS:
        while (i < len && is_ows(p[i])) i++;
        if (i == len) break;
        c.value_off = i;
        c.state = FL_VALUE;
        break;
      case FL_VALUE:
        while (i < len && has(p[i], value_class)) i++;
        if (i == len) break;
        if (p[i] != '\r') {
          c.pos = i;
          return p[i] == '\n' ? Line::BARE_LF : Line::BAD_VALUE;
        }
        c.value_end = i;
        c.state = FL_VALUE_LF;
        i++;
        break;
      case FL_VALUE_LF:
        if (b != '\n') {
          c.pos = i;
          return Line::BARE_CR;
        }
        c.pos = i + 1;
        c.state = FL_LINE_START;
        return Line::FIELD;
      case FL_END_LF:
        if (b != '\n') {
          c.pos = i;
          return Line::BARE_CR;
        }
        c.pos = i + 1;
        return Line::END;
      default:
        c.pos = i;
        return Line::BAD_NAME;  // unreachable: the callers only pass field-line states
    }
  }
  c.pos = i;
  return Line::NEED_MORE;
}

// ---- Request heads ----------------------------------------------------------------------------

struct MethodEntry {
  const char* name;
  uint8_t len;
  Method method;
};

constexpr MethodEntry kMethods[] = {
    {"GET", 3, Method::GET},         {"HEAD", 4, Method::HEAD},     {"POST", 4, Method::POST},
    {"PUT", 3, Method::PUT},         {"DELETE", 6, Method::DELETE}, {"OPTIONS", 7, Method::OPTIONS},
    {"PATCH", 5, Method::PATCH},
};

constexpr uint32_t kLongestMethod = 7;

bool bytes_equal(const uint8_t* p, const char* s, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    if (p[i] != static_cast<uint8_t>(s[i])) return false;
  }
  return true;
}

Method match_method(const uint8_t* p, uint32_t n) {
  for (const MethodEntry& m : kMethods) {
    if (m.len == n && bytes_equal(p, m.name, n)) return m.method;
  }
  return Method::UNKNOWN;
}

bool is_method_prefix(const uint8_t* p, uint32_t n) {
  for (const MethodEntry& m : kMethods) {
    if (n <= m.len && bytes_equal(p, m.name, n)) return true;
  }
  return false;
}

constexpr char kRequestVersion[] = "HTTP/1.1\r\n";
constexpr uint8_t kRequestVersionLen = 10;

// The request line. Returns NONE with c.state == FL_LINE_START when it is complete, NONE with
// c.pos == len when more bytes are needed, or the reason to hand over.
Handover scan_request_line(const uint8_t* p, uint32_t len, RequestHead* h) {
  LineCursor& c = h->cursor;
  uint32_t i = c.pos;
  while (i < len) {
    switch (c.state) {
      case RQ_METHOD: {
        // Methods are short: look for the SP within the longest method's length.
        while (i < len && p[i] != ' ' && i - c.mark < kLongestMethod) i++;
        const uint32_t n = i - c.mark;
        if (i == len) {
          c.pos = i;
          return is_method_prefix(p + c.mark, n) ? Handover::NONE : Handover::BAD_METHOD;
        }
        if (p[i] != ' ') return Handover::BAD_METHOD;
        h->method = match_method(p + c.mark, n);
        if (h->method == Method::UNKNOWN) return Handover::BAD_METHOD;
        c.state = RQ_TARGET_FIRST;
        i++;
        break;
      }
      case RQ_TARGET_FIRST:
        if (p[i] != '/') return p[i] == ' ' ? Handover::BAD_REQUEST_LINE : Handover::BAD_TARGET;
        c.mark = i;
        c.state = RQ_TARGET;
        i++;
        break;
      case RQ_TARGET:
        while (i < len && has(p[i], C_TARGET)) i++;
        if (i == len) break;
        if (p[i] != ' ') return Handover::BAD_TARGET;
        h->target = Span{c.mark, i - c.mark};
        c.state = RQ_VERSION;
        c.matched = 0;
        i++;
        break;
      case RQ_VERSION: {
        const uint8_t want = static_cast<uint8_t>(kRequestVersion[c.matched]);
        if (p[i] != want) {
          if (want == '\r') return p[i] == '\n' ? Handover::BARE_LF : Handover::BAD_VERSION;
          if (want == '\n') return Handover::BARE_CR;
          return p[i] == ' ' && c.matched == 0 ? Handover::BAD_REQUEST_LINE : Handover::BAD_VERSION;
        }
        i++;
        c.matched++;
        if (c.matched == kRequestVersionLen) {
          c.state = FL_LINE_START;
          c.pos = i;
          return Handover::NONE;
        }
        break;
      }
      default:
        c.pos = i;
        return Handover::NONE;
    }
  }
  c.pos = i;
  return Handover::NONE;
}

// Judges one complete field of a request head against the clean subset and records it.
Handover take_request_field(const uint8_t* p, uint32_t max_fields, RequestHead* h) {
  const LineCursor& c = h->cursor;
  const uint32_t limit = max_fields < h->field_capacity ? max_fields : h->field_capacity;
  if (h->field_count >= limit) return Handover::TOO_MANY_FIELDS;
  const uint8_t* name = p + c.mark;
  const uint32_t name_len = c.name_len;
  const uint32_t value_end = trim_end(p, c.value_off, c.value_end);
  switch (classify_name(name, name_len)) {
    case Name::HOST:
      if (h->host_index >= 0) return Handover::DUPLICATE_HOST;
      h->host_index = static_cast<int32_t>(h->field_count);
      break;
    case Name::CONTENT_LENGTH: {
      if (h->content_length >= 0) return Handover::DUPLICATE_CONTENT_LENGTH;
      if (h->method == Method::GET || h->method == Method::HEAD) return Handover::BODY_ON_GET_OR_HEAD;
      // 15 digits stay below 2^53: JavaScript's numbers hold them exactly.
      if (value_end - c.value_off > 15) return Handover::BAD_CONTENT_LENGTH;
      const int64_t n = parse_content_length(p, c.value_off, c.value_end, UINT64_MAX);
      if (n < 0) return Handover::BAD_CONTENT_LENGTH;
      h->content_length = n;
      break;
    }
    case Name::CONNECTION: {
      // Exactly one token, followed by SPs at most (llhttp does not take "close\t" as close).
      const uint32_t raw_len = trim_end(p, c.value_off, c.value_end) - c.value_off;
      for (uint32_t i = c.value_off + raw_len; i < c.value_end; i++) {
        if (p[i] != ' ') return Handover::CONNECTION_OPTION;
      }
      if (eq_lower(p + c.value_off, raw_len, "close")) {
        h->close = true;
      } else if (!eq_lower(p + c.value_off, raw_len, "keep-alive")) {
        return Handover::CONNECTION_OPTION;
      }
      break;
    }
    case Name::TRANSFER_ENCODING:
      return Handover::TRANSFER_ENCODING;
    case Name::PROXY_CONNECTION:
      return Handover::PROXY_CONNECTION;
    case Name::UPGRADE:
      return Handover::UPGRADE;
    case Name::EXPECT:
      return Handover::EXPECT;
    case Name::TE:
      return Handover::TE;
    case Name::HTTP2_SETTINGS:
      return Handover::HTTP2_SETTINGS;
    case Name::OTHER:
      if (lookalike_framing_name(name, name_len)) return Handover::LOOKALIKE_FRAMING_NAME;
      break;
  }
  h->fields[h->field_count] = FieldSpan{c.mark, name_len, c.value_off, value_end - c.value_off};
  h->field_count++;
  return Handover::NONE;
}

Handover handover_for(Line line) {
  switch (line) {
    case Line::BARE_CR:
      return Handover::BARE_CR;
    case Line::BARE_LF:
      return Handover::BARE_LF;
    case Line::OBS_FOLD:
      return Handover::OBS_FOLD;
    case Line::BAD_NAME:
      return Handover::BAD_FIELD_NAME;
    case Line::BAD_VALUE:
      return Handover::BAD_FIELD_VALUE;
    default:
      return Handover::NONE;
  }
}

RequestScan request_handover(RequestHead* h, Handover reason) {
  h->reason = reason;
  return RequestScan::HANDOVER;
}

// ---- Response heads ---------------------------------------------------------------------------

constexpr char kResponseVersion[] = "HTTP/1.";
constexpr uint8_t kResponseVersionLen = 7;

// The status line (after any CR/LF bytes before it, which llhttp skips). Same return contract as
// scan_request_line.
ResponseError scan_status_line(const uint8_t* p, uint32_t len, ResponseHead* h) {
  LineCursor& c = h->cursor;
  uint32_t i = c.pos;
  while (i < len) {
    const uint8_t b = p[i];
    switch (c.state) {
      case RS_LEADING:
        if (b == '\r' || b == '\n') {
          i++;
          break;
        }
        h->start = i;
        c.state = RS_VERSION;
        c.matched = 0;
        break;
      case RS_VERSION:
        if (b != static_cast<uint8_t>(kResponseVersion[c.matched])) return ResponseError::BAD_VERSION;
        i++;
        c.matched++;
        if (c.matched == kResponseVersionLen) c.state = RS_MINOR;
        break;
      case RS_MINOR:
        if (b != '0' && b != '1') return ResponseError::BAD_VERSION;
        h->version_minor = static_cast<uint8_t>(b - '0');
        c.state = RS_SP;
        i++;
        break;
      case RS_SP:
        if (b != ' ') return ResponseError::BAD_STATUS_LINE;
        c.state = RS_STATUS;
        c.matched = 0;
        h->status = 0;
        i++;
        break;
      case RS_STATUS:
        if (b < '0' || b > '9') return ResponseError::BAD_STATUS_LINE;
        h->status = static_cast<uint16_t>(h->status * 10 + (b - '0'));
        i++;
        c.matched++;
        if (c.matched == 3) c.state = RS_AFTER_STATUS;
        break;
      case RS_AFTER_STATUS:
        // llhttp: SP and a reason phrase, or the end of the line at once.
        if (b == ' ') {
          c.mark = i + 1;
          c.state = RS_REASON;
          i++;
        } else if (b == '\r') {
          h->reason = Span{i, 0};
          c.state = RS_LINE_LF;
          i++;
        } else {
          return b == '\n' ? ResponseError::BARE_LF : ResponseError::BAD_STATUS_LINE;
        }
        break;
      case RS_REASON:
        while (i < len && has(p[i], C_TEXT)) i++;
        if (i == len) break;
        if (p[i] != '\r') return p[i] == '\n' ? ResponseError::BARE_LF : ResponseError::BAD_REASON;
        h->reason = Span{c.mark, i - c.mark};
        c.state = RS_LINE_LF;
        i++;
        break;
      case RS_LINE_LF:
        if (b != '\n') return ResponseError::BARE_CR;
        c.state = FL_LINE_START;
        c.pos = i + 1;
        return ResponseError::NONE;
      default:
        c.pos = i;
        return ResponseError::NONE;
    }
  }
  c.pos = i;
  return ResponseError::NONE;
}

// Records one complete field of a response head and applies llhttp's rules for the fields it
// interprets (Content-Length, Transfer-Encoding, Connection, Proxy-Connection, Upgrade).
ResponseError take_response_field(const uint8_t* p, uint32_t max_fields, ResponseHead* h) {
  const LineCursor& c = h->cursor;
  const uint32_t limit = max_fields < h->field_capacity ? max_fields : h->field_capacity;
  if (h->field_count >= limit) return ResponseError::TOO_MANY_FIELDS;
  const bool empty = c.value_off == c.value_end;
  switch (classify_name(p + c.mark, c.name_len)) {
    case Name::CONTENT_LENGTH: {
      // llhttp checks TE when the name ends, emptiness and duplicates when the value starts.
      if (h->transfer_encoding) return ResponseError::CONTENT_LENGTH_WITH_TRANSFER_ENCODING;
      if (empty) return ResponseError::BAD_CONTENT_LENGTH;
      if (h->content_length_seen_) return ResponseError::DUPLICATE_CONTENT_LENGTH;
      const int64_t n = parse_content_length(p, c.value_off, c.value_end, static_cast<uint64_t>(INT64_MAX));
      if (n < 0) return ResponseError::BAD_CONTENT_LENGTH;
      h->content_length = n;
      h->content_length_seen_ = true;
      break;
    }
    case Name::TRANSFER_ENCODING:
      // Checked when the name ends: even an empty TE after a Content-Length is an error.
      if (h->content_length_seen_) return ResponseError::CONTENT_LENGTH_WITH_TRANSFER_ENCODING;
      if (!empty) {
        h->transfer_encoding = true;
        h->chunked = te_last_coding_is_chunked(p, c.value_off, c.value_end);
      }
      break;
    case Name::CONNECTION:
    case Name::PROXY_CONNECTION: {
      ConnectionTokens t{h->connection_close, h->connection_keep_alive, h->connection_upgrade};
      scan_connection_tokens(p, c.value_off, c.value_end, &t);
      h->connection_close = t.close;
      h->connection_keep_alive = t.keep_alive;
      h->connection_upgrade = t.upgrade;
      break;
    }
    case Name::UPGRADE:
      if (!empty) h->upgrade_field = true;
      break;
    default:
      break;
  }
  const uint32_t value_end = trim_end(p, c.value_off, c.value_end);
  h->fields[h->field_count] = FieldSpan{c.mark, c.name_len, c.value_off, value_end - c.value_off};
  h->field_count++;
  return ResponseError::NONE;
}

ResponseError response_error_for(Line line) {
  switch (line) {
    case Line::BARE_CR:
      return ResponseError::BARE_CR;
    case Line::BARE_LF:
      return ResponseError::BARE_LF;
    case Line::OBS_FOLD:
      return ResponseError::OBS_FOLD;
    case Line::BAD_NAME:
      return ResponseError::BAD_FIELD_NAME;
    case Line::BAD_VALUE:
      return ResponseError::BAD_FIELD_VALUE;
    default:
      return ResponseError::NONE;
  }
}

ResponseScan response_error(ResponseHead* h, ResponseError e) {
  h->error = e;
  return ResponseScan::ERROR;
}

// llhttp_message_needs_eof: the body runs until the connection closes.
bool needs_eof(const ResponseHead& h, bool request_was_head) {
  const uint16_t s = h.status;
  if (s / 100 == 1 || s == 204 || s == 304 || request_was_head) return false;
  if (h.transfer_encoding && !h.chunked) return true;
  if (h.chunked || h.content_length >= 0) return false;
  return true;
}

// ---- Chunked bodies ---------------------------------------------------------------------------

enum : uint8_t {
  CK_SIZE_FIRST,
  CK_SIZE,
  CK_EXT_START,   // after ';'
  CK_EXT_NAME,
  CK_EXT_VALUE,   // after '='
  CK_EXT_QUOTED,
  CK_EXT_QPAIR,   // after '\' in a quoted value
  CK_EXT_QDONE,   // after the closing quote
  CK_SIZE_LF,
  CK_DATA,
  CK_DATA_CR,
  CK_DATA_LF,
  CK_TRAILER_START,
  CK_TRAILER_NAME,
  CK_TRAILER_VALUE,
  CK_TRAILER_LF,
  CK_END_LF,
  CK_DONE,
  CK_ERROR,
};

constexpr uint64_t kMaxBeforeHexDigit = UINT64_MAX >> 4;

// Keeps the lowercase start of a trailer name (the longest name compared has 17 bytes).
void keep_name_byte(ChunkedScanner* s, uint8_t b) {
  if (s->name_len_ < sizeof(s->name_)) {
    if (b >= 'A' && b <= 'Z') b = static_cast<uint8_t>(b | 0x20);
    s->name_[s->name_len_] = static_cast<char>(b);
  }
  if (s->name_len_ <= sizeof(s->name_)) s->name_len_++;
}

bool trailer_name_is(const ChunkedScanner* s, const char* lower) {
  uint32_t n = 0;
  while (lower[n] != 0) n++;
  if (s->name_len_ != n) return false;
  for (uint32_t i = 0; i < n; i++) {
    if (s->name_[i] != lower[i]) return false;
  }
  return true;
}

// A trailer name just ended (at its ':'). llhttp refuses Content-Length there (the message has
// Transfer-Encoding); the connection-level fields may change what happens after the message.
ChunkedError end_trailer_name(ChunkedScanner* s) {
  if (trailer_name_is(s, "content-length")) return ChunkedError::CONTENT_LENGTH_TRAILER;
  if (trailer_name_is(s, "connection") || trailer_name_is(s, "proxy-connection") ||
      trailer_name_is(s, "transfer-encoding") || trailer_name_is(s, "upgrade")) {
    s->trailer_connection_fields = true;
  }
  s->trailers = true;
  return ChunkedError::NONE;
}

// One byte of a chunk-size line after the size: llhttp's chunk_extensions states. Accepted, as in
// llhttp: empty names and values (";;a", ";=b", ";a="), a quoted-string that starts inside a
// token value (";a=b\"c\""). Refused, as in llhttp: SP/HTAB anywhere, ';' right before CR,
// anything after a closing quote but ';' or CR.
ChunkedError scan_chunk_extension(ChunkedScanner* s, uint8_t b) {
  switch (s->state_) {
    case CK_EXT_START:
      // Right after ';' the byte starts a (possibly empty) name; only CR is refused here.
      if (b == '\r') return ChunkedError::BAD_CHUNK_EXTENSION;
      s->state_ = CK_EXT_NAME;
      [[fallthrough]];
    case CK_EXT_NAME:
      if (has(b, C_TCHAR)) return ChunkedError::NONE;
      if (b == '=') {
        s->state_ = CK_EXT_VALUE;
      } else if (b == ';') {
        s->state_ = CK_EXT_START;
      } else if (b == '\r') {
        s->state_ = CK_SIZE_LF;
      } else {
        return b == '\n' ? ChunkedError::BARE_LF : ChunkedError::BAD_CHUNK_EXTENSION;
      }
      return ChunkedError::NONE;
    case CK_EXT_VALUE:
      if (has(b, C_TCHAR)) return ChunkedError::NONE;
      if (b == '"') {
        s->state_ = CK_EXT_QUOTED;
      } else if (b == ';') {
        s->state_ = CK_EXT_START;
      } else if (b == '\r') {
        s->state_ = CK_SIZE_LF;
      } else {
        return b == '\n' ? ChunkedError::BARE_LF : ChunkedError::BAD_CHUNK_EXTENSION;
      }
      return ChunkedError::NONE;
    case CK_EXT_QUOTED:
      if (has(b, C_QDTEXT)) return ChunkedError::NONE;
      if (b == '"') {
        s->state_ = CK_EXT_QDONE;
      } else if (b == '\\') {
        s->state_ = CK_EXT_QPAIR;
      } else {
        return ChunkedError::BAD_CHUNK_EXTENSION;
      }
      return ChunkedError::NONE;
    case CK_EXT_QPAIR:
      if (!has(b, C_TEXT)) return ChunkedError::BAD_CHUNK_EXTENSION;
      s->state_ = CK_EXT_QUOTED;
      return ChunkedError::NONE;
    case CK_EXT_QDONE:
      if (b == ';') {
        s->state_ = CK_EXT_START;
      } else if (b == '\r') {
        s->state_ = CK_SIZE_LF;
      } else {
        return b == '\n' ? ChunkedError::BARE_LF : ChunkedError::BAD_CHUNK_EXTENSION;
      }
      return ChunkedError::NONE;
    default:
      return ChunkedError::BAD_CHUNK_EXTENSION;
  }
}

// One byte of the trailer section (after the last chunk's size line).
ChunkedError scan_trailer_byte(ChunkedScanner* s, uint8_t b) {
  switch (s->state_) {
    case CK_TRAILER_START:
      if (b == '\r') {
        s->state_ = CK_END_LF;
      } else if (has(b, C_TCHAR)) {
        s->name_len_ = 0;
        keep_name_byte(s, b);
        s->state_ = CK_TRAILER_NAME;
      } else if (is_ows(b)) {
        return s->trailers ? ChunkedError::OBS_FOLD : ChunkedError::BAD_TRAILER_NAME;
      } else {
        return b == '\n' ? ChunkedError::BARE_LF : ChunkedError::BAD_TRAILER_NAME;
      }
      return ChunkedError::NONE;
    case CK_TRAILER_NAME:
      if (has(b, C_TCHAR)) {
        keep_name_byte(s, b);
        return ChunkedError::NONE;
      }
      if (b != ':') return b == '\n' ? ChunkedError::BARE_LF : ChunkedError::BAD_TRAILER_NAME;
      s->state_ = CK_TRAILER_VALUE;
      return end_trailer_name(s);
    case CK_TRAILER_VALUE:
      // Leading OWS are value bytes here: llhttp's rules for them are the same.
      if (has(b, C_TEXT)) return ChunkedError::NONE;
      if (b != '\r') return b == '\n' ? ChunkedError::BARE_LF : ChunkedError::BAD_TRAILER_VALUE;
      s->state_ = CK_TRAILER_LF;
      return ChunkedError::NONE;
    case CK_TRAILER_LF:
      if (b != '\n') return ChunkedError::BARE_CR;
      s->state_ = CK_TRAILER_START;
      return ChunkedError::NONE;
    default:
      return ChunkedError::BAD_TRAILER_NAME;
  }
}

// One byte of a chunk-size line: the hex digits (overflow past 2^64-1 refused, any number of
// leading zeros taken, as llhttp does), then ';' for extensions or CR.
ChunkedError scan_size_byte(ChunkedScanner* s, uint8_t b) {
  if (s->state_ == CK_SIZE_FIRST) {
    if (!has(b, C_HEX)) return ChunkedError::BAD_CHUNK_SIZE;
    s->remaining_ = hex_value(b);
    s->state_ = CK_SIZE;
    return ChunkedError::NONE;
  }
  if (has(b, C_HEX)) {
    if (s->remaining_ > kMaxBeforeHexDigit) return ChunkedError::CHUNK_SIZE_OVERFLOW;
    s->remaining_ = (s->remaining_ << 4) | hex_value(b);
  } else if (b == '\r') {
    s->state_ = CK_SIZE_LF;
  } else if (b == ';') {
    s->state_ = CK_EXT_START;
  } else {
    return b == '\n' ? ChunkedError::BARE_LF : ChunkedError::BAD_CHUNK_SIZE;  // SP/HTAB included
  }
  return ChunkedError::NONE;
}

// One byte of the body outside chunk data: size lines, CRLFs, trailer section.
ChunkedError scan_framing_byte(ChunkedScanner* s, uint8_t b) {
  switch (s->state_) {
    case CK_SIZE_FIRST:
    case CK_SIZE:
      return scan_size_byte(s, b);
    case CK_EXT_START:
    case CK_EXT_NAME:
    case CK_EXT_VALUE:
    case CK_EXT_QUOTED:
    case CK_EXT_QPAIR:
    case CK_EXT_QDONE:
      return scan_chunk_extension(s, b);
    case CK_SIZE_LF:
      if (b != '\n') return ChunkedError::BARE_CR;
      s->state_ = s->remaining_ == 0 ? CK_TRAILER_START : CK_DATA;  // size 0: the last chunk
      return ChunkedError::NONE;
    case CK_DATA_CR:
      if (b != '\r') return b == '\n' ? ChunkedError::BARE_LF : ChunkedError::BAD_CHUNK_DATA_END;
      s->state_ = CK_DATA_LF;
      return ChunkedError::NONE;
    case CK_DATA_LF:
      if (b != '\n') return ChunkedError::BARE_CR;
      s->state_ = CK_SIZE_FIRST;
      return ChunkedError::NONE;
    case CK_TRAILER_START:
    case CK_TRAILER_NAME:
    case CK_TRAILER_VALUE:
    case CK_TRAILER_LF:
      return scan_trailer_byte(s, b);
    case CK_END_LF:
      if (b != '\n') return ChunkedError::BARE_CR;
      s->state_ = CK_DONE;
      return ChunkedError::NONE;
    default:
      return ChunkedError::BAD_CHUNK_SIZE;  // unreachable: chunked_feed handles data and the end
  }
}

// Takes up to `n` bytes of the current chunk's data; returns how many.
size_t take_chunk_data(ChunkedScanner* s, const char* data, size_t n) {
  const size_t take = s->remaining_ < n ? static_cast<size_t>(s->remaining_) : n;
  if (s->on_data != nullptr && take > 0) s->on_data(s->on_data_ctx, data, take);
  s->remaining_ -= take;
  s->body_bytes += take;
  if (s->remaining_ == 0) s->state_ = CK_DATA_CR;
  return take;
}

}  // namespace

// ---- Public API -------------------------------------------------------------------------------

const char* method_name(Method m) {
  for (const MethodEntry& e : kMethods) {
    if (e.method == m) return e.name;
  }
  return "";
}

const char* handover_name(Handover h) {
  switch (h) {
    case Handover::NONE: return "NONE";
    case Handover::BAD_METHOD: return "BAD_METHOD";
    case Handover::BAD_REQUEST_LINE: return "BAD_REQUEST_LINE";
    case Handover::BAD_TARGET: return "BAD_TARGET";
    case Handover::BAD_VERSION: return "BAD_VERSION";
    case Handover::BARE_CR: return "BARE_CR";
    case Handover::BARE_LF: return "BARE_LF";
    case Handover::OBS_FOLD: return "OBS_FOLD";
    case Handover::BAD_FIELD_NAME: return "BAD_FIELD_NAME";
    case Handover::BAD_FIELD_VALUE: return "BAD_FIELD_VALUE";
    case Handover::TOO_MANY_FIELDS: return "TOO_MANY_FIELDS";
    case Handover::TRANSFER_ENCODING: return "TRANSFER_ENCODING";
    case Handover::BAD_CONTENT_LENGTH: return "BAD_CONTENT_LENGTH";
    case Handover::DUPLICATE_CONTENT_LENGTH: return "DUPLICATE_CONTENT_LENGTH";
    case Handover::BODY_ON_GET_OR_HEAD: return "BODY_ON_GET_OR_HEAD";
    case Handover::NO_HOST: return "NO_HOST";
    case Handover::DUPLICATE_HOST: return "DUPLICATE_HOST";
    case Handover::UPGRADE: return "UPGRADE";
    case Handover::EXPECT: return "EXPECT";
    case Handover::TE: return "TE";
    case Handover::HTTP2_SETTINGS: return "HTTP2_SETTINGS";
    case Handover::CONNECTION_OPTION: return "CONNECTION_OPTION";
    case Handover::PROXY_CONNECTION: return "PROXY_CONNECTION";
    case Handover::LOOKALIKE_FRAMING_NAME: return "LOOKALIKE_FRAMING_NAME";
    case Handover::HEAD_TOO_LONG: return "HEAD_TOO_LONG";
  }
  return "?";
}

const char* response_error_name(ResponseError e) {
  switch (e) {
    case ResponseError::NONE: return "NONE";
    case ResponseError::BAD_VERSION: return "BAD_VERSION";
    case ResponseError::BAD_STATUS_LINE: return "BAD_STATUS_LINE";
    case ResponseError::BAD_REASON: return "BAD_REASON";
    case ResponseError::BARE_CR: return "BARE_CR";
    case ResponseError::BARE_LF: return "BARE_LF";
    case ResponseError::OBS_FOLD: return "OBS_FOLD";
    case ResponseError::BAD_FIELD_NAME: return "BAD_FIELD_NAME";
    case ResponseError::BAD_FIELD_VALUE: return "BAD_FIELD_VALUE";
    case ResponseError::TOO_MANY_FIELDS: return "TOO_MANY_FIELDS";
    case ResponseError::BAD_CONTENT_LENGTH: return "BAD_CONTENT_LENGTH";
    case ResponseError::DUPLICATE_CONTENT_LENGTH: return "DUPLICATE_CONTENT_LENGTH";
    case ResponseError::CONTENT_LENGTH_WITH_TRANSFER_ENCODING: return "CONTENT_LENGTH_WITH_TRANSFER_ENCODING";
    case ResponseError::HEAD_TOO_LONG: return "HEAD_TOO_LONG";
  }
  return "?";
}

const char* chunked_error_name(ChunkedError e) {
  switch (e) {
    case ChunkedError::NONE: return "NONE";
    case ChunkedError::BAD_CHUNK_SIZE: return "BAD_CHUNK_SIZE";
    case ChunkedError::CHUNK_SIZE_OVERFLOW: return "CHUNK_SIZE_OVERFLOW";
    case ChunkedError::BAD_CHUNK_EXTENSION: return "BAD_CHUNK_EXTENSION";
    case ChunkedError::BARE_CR: return "BARE_CR";
    case ChunkedError::BARE_LF: return "BARE_LF";
    case ChunkedError::BAD_CHUNK_DATA_END: return "BAD_CHUNK_DATA_END";
    case ChunkedError::BAD_TRAILER_NAME: return "BAD_TRAILER_NAME";
    case ChunkedError::BAD_TRAILER_VALUE: return "BAD_TRAILER_VALUE";
    case ChunkedError::OBS_FOLD: return "OBS_FOLD";
    case ChunkedError::CONTENT_LENGTH_TRAILER: return "CONTENT_LENGTH_TRAILER";
  }
  return "?";
}

void request_head_init(RequestHead* head, FieldSpan* storage, uint32_t capacity) {
  *head = RequestHead{};
  head->method = Method::UNKNOWN;
  head->fields = storage;
  head->field_capacity = storage == nullptr ? 0 : capacity;
  head->content_length = -1;
  head->host_index = -1;
  head->reason = Handover::NONE;
  head->cursor.state = RQ_METHOD;
}

RequestScan scan_request_head(const char* data, size_t len, uint32_t max_fields, RequestHead* head) {
  // A verdict is final: a call after it (without request_head_init) must not scan on into
  // whatever follows the head.
  if (head->reason != Handover::NONE) return RequestScan::HANDOVER;
  if (head->head_length != 0) return RequestScan::CLEAN;
  const uint8_t* p = reinterpret_cast<const uint8_t*>(data);
  const uint32_t n = clamp_length(len);
  LineCursor& c = head->cursor;
  if (c.state < FL_LINE_START) {
    const Handover h = scan_request_line(p, n, head);
    if (h != Handover::NONE) return request_handover(head, h);
    if (c.state < FL_LINE_START) {
      return n < len ? request_handover(head, Handover::HEAD_TOO_LONG) : RequestScan::NEED_MORE;
    }
  }
  for (;;) {
    const Line line = next_field_line(p, n, c, C_VCHAR);
    if (line == Line::FIELD) {
      const Handover h = take_request_field(p, max_fields, head);
      if (h != Handover::NONE) return request_handover(head, h);
      continue;
    }
    if (line == Line::END) {
      if (head->host_index < 0) return request_handover(head, Handover::NO_HOST);
      head->head_length = c.pos;
      return RequestScan::CLEAN;
    }
    if (line == Line::NEED_MORE) {
      return n < len ? request_handover(head, Handover::HEAD_TOO_LONG) : RequestScan::NEED_MORE;
    }
    return request_handover(head, handover_for(line));
  }
}

void response_head_init(ResponseHead* head, FieldSpan* storage, uint32_t capacity) {
  *head = ResponseHead{};
  head->fields = storage;
  head->field_capacity = storage == nullptr ? 0 : capacity;
  head->content_length = -1;
  head->error = ResponseError::NONE;
  head->cursor.state = RS_LEADING;
}

ResponseScan scan_response_head(const char* data, size_t len, uint32_t max_fields, ResponseHead* head) {
  if (head->error != ResponseError::NONE) return ResponseScan::ERROR;  // verdicts are final
  if (head->head_length != 0) return ResponseScan::OK;
  const uint8_t* p = reinterpret_cast<const uint8_t*>(data);
  const uint32_t n = clamp_length(len);
  LineCursor& c = head->cursor;
  if (c.state < FL_LINE_START) {
    const ResponseError e = scan_status_line(p, n, head);
    if (e != ResponseError::NONE) return response_error(head, e);
    if (c.state < FL_LINE_START) {
      return n < len ? response_error(head, ResponseError::HEAD_TOO_LONG) : ResponseScan::NEED_MORE;
    }
  }
  for (;;) {
    const Line line = next_field_line(p, n, c, C_TEXT);
    if (line == Line::FIELD) {
      const ResponseError e = take_response_field(p, max_fields, head);
      if (e != ResponseError::NONE) return response_error(head, e);
      continue;
    }
    if (line == Line::END) {
      head->head_length = c.pos;
      return ResponseScan::OK;
    }
    if (line == Line::NEED_MORE) {
      return n < len ? response_error(head, ResponseError::HEAD_TOO_LONG) : ResponseScan::NEED_MORE;
    }
    return response_error(head, response_error_for(line));
  }
}

BodyFraming response_body_framing(const ResponseHead& head, bool request_was_head) {
  // llhttp__after_headers_complete, for responses.
  const uint16_t s = head.status;
  if (s == 101) return BodyFraming::SWITCH_PROTOCOLS;
  if (s == 100 || s == 102 || s == 103 || s == 204 || s == 304 || request_was_head) return BodyFraming::NONE;
  if (head.chunked) return BodyFraming::CHUNKED;
  if (head.transfer_encoding) return BodyFraming::UNTIL_CLOSE;
  if (head.content_length < 0) return needs_eof(head, false) ? BodyFraming::UNTIL_CLOSE : BodyFraming::NONE;
  return head.content_length == 0 ? BodyFraming::NONE : BodyFraming::CONTENT_LENGTH;
}

bool response_keep_alive(const ResponseHead& head, bool request_was_head) {
  // llhttp_should_keep_alive.
  if (head.version_minor == 1) {
    if (head.connection_close) return false;
  } else if (!head.connection_keep_alive) {
    return false;
  }
  return !needs_eof(head, request_was_head);
}

bool response_upgrade(const ResponseHead& head) {
  return head.status == 101 && head.upgrade_field && head.connection_upgrade;
}

void chunked_init(ChunkedScanner* s) {
  *s = ChunkedScanner{};
  s->error = ChunkedError::NONE;
  s->state_ = CK_SIZE_FIRST;
}

ChunkedResult chunked_feed(ChunkedScanner* s, const char* data, size_t n, size_t* consumed) {
  if (s->state_ == CK_DONE || s->state_ == CK_ERROR) {
    *consumed = 0;
    return s->state_ == CK_DONE ? ChunkedResult::DONE : ChunkedResult::ERROR;
  }
  const uint8_t* p = reinterpret_cast<const uint8_t*>(data);
  size_t i = 0;
  ChunkedError err = ChunkedError::NONE;
  while (i < n && s->state_ != CK_DONE) {
    if (s->state_ == CK_DATA) {
      i += take_chunk_data(s, data + i, n - i);
      continue;
    }
    err = scan_framing_byte(s, p[i]);
    if (err != ChunkedError::NONE) break;
    i++;
  }
  s->offset += i;
  *consumed = i;
  if (err != ChunkedError::NONE) {
    s->error = err;
    s->state_ = CK_ERROR;
    return ChunkedResult::ERROR;
  }
  return s->state_ == CK_DONE ? ChunkedResult::DONE : ChunkedResult::NEED_MORE;
}

bool is_lookalike_framing_name(const char* name, uint32_t n) {
  return lookalike_framing_name(reinterpret_cast<const uint8_t*>(name), n);
}

}  // namespace http1
}  // namespace switchyard
