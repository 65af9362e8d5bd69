// See relay.h. Each function mirrors its TypeScript original line for line where it can; where
// the scanner has already refused something (a non-token name, a CR in a value), the check is
// not repeated.
#include "relay.h"

#include <cstring>
#include <vector>

namespace sy {
namespace {

namespace h1 = switchyard::http1;

constexpr int64_t kMaxSafeInteger = 9007199254740991;  // Number.MAX_SAFE_INTEGER

unsigned char lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c; }

// ASCII-case-insensitive equality with a lowercase literal (framing.ts eqLower).
bool eq_lower(const char* p, size_t n, const char* lit, size_t lit_len) {
  if (n != lit_len) return false;
  for (size_t i = 0; i < n; i++) {
    if (lower((unsigned char)p[i]) != (unsigned char)lit[i]) return false;
  }
  return true;
}

template <size_t N>
bool is(const char* p, size_t n, const char (&lit)[N]) {
  return eq_lower(p, n, lit, N - 1);
}

// The characters String.prototype.trim removes that a scanned value can hold: SP, HTAB (the
// scanner trimmed those already) and NBSP (0xA0, a latin1 character JavaScript calls space).
bool js_space(unsigned char c) { return c == ' ' || c == '\t' || c == 0xa0; }

void js_trim(const char*& p, size_t& n) {
  while (n > 0 && js_space((unsigned char)p[0])) {
    p++;
    n--;
  }
  while (n > 0 && js_space((unsigned char)p[n - 1])) n--;
}

// Case-insensitive equality of a field name and a Connection token (headers.ts compares both
// lowercased; a token byte above 0x7F never equals a name's token byte).
bool same_name(const char* a, size_t an, const char* b, size_t bn) {
  if (an != bn) return false;
  for (size_t i = 0; i < an; i++) {
    if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return false;
  }
  return true;
}

struct Token {
  const char* p;
  size_t n;
};

enum class Kind : uint8_t { OTHER, TE, CL, SUSPICIOUS };

// framing.ts nameKind, as far as responses care.
Kind name_kind(const char* p, size_t n) {
  if (n == 17 && is(p, n, "transfer-encoding")) return Kind::TE;
  if (n == 14 && is(p, n, "content-length")) return Kind::CL;
  if (h1::is_lookalike_framing_name(p, (uint32_t)n)) return Kind::SUSPICIOUS;
  return Kind::OTHER;
}

// headers.ts buildResponseHead: the fields never relayed whatever Connection says.
bool hop_by_hop(const char* p, size_t n) {
  switch (n) {
    case 7: return is(p, n, "upgrade");
    case 10: return is(p, n, "connection") || is(p, n, "keep-alive");
    case 14: return is(p, n, "content-length");
    case 16: return is(p, n, "proxy-connection");
    case 17: return is(p, n, "transfer-encoding");
    default: return false;
  }
}

// headers.ts connectionTokens: the comma-separated tokens of every Connection field, trimmed,
// except close, keep-alive and upgrade. Calls f(token, length) for each.
template <typename F>
void each_connection_token(const char* base, const HeadFacts& h, F f) {
  for (uint32_t i = 0; i < h.nfields; i++) {
    const h1::FieldSpan& fs = h.fields[i];
    if (!is(base + fs.name_off, fs.name_len, "connection")) continue;
    const char* v = base + fs.value_off;
    size_t start = 0;
    for (size_t k = 0; k <= fs.value_len; k++) {
      if (k < fs.value_len && v[k] != ',') continue;
      const char* t = v + start;
      size_t n = k - start;
      start = k + 1;
      js_trim(t, n);
      if (n == 0 || is(t, n, "close") || is(t, n, "keep-alive") || is(t, n, "upgrade")) continue;
      f(t, n);
    }
  }
}

}  // namespace

const char* relay_refusal_name(RelayRefusal r) {
  switch (r) {
    case RelayRefusal::NONE: return "";
    case RelayRefusal::BAD_STATUS: return "BadStatus";
    case RelayRefusal::SUSPICIOUS_HEADER: return "SuspiciousHeader";
    case RelayRefusal::BAD_TRANSFER_ENCODING: return "BadTransferEncoding";
    case RelayRefusal::BAD_CONTENT_LENGTH: return "BadContentLength";
    case RelayRefusal::BOTH_TE_CL_PRESENT: return "BothTeClPresent";
    case RelayRefusal::UNDEFINED_TE_SEMANTICS: return "UndefinedTransferEncodingSemantics";
  }
  return "";
}

RelayRefusal check_relayed_head(const char* base, const HeadFacts& h, RelayFacts& facts) {
  facts = RelayFacts{};
  if (h.status < 100 || h.status > 599) return RelayRefusal::BAD_STATUS;
  // (A control byte in the reason, an empty or non-token name, CR, LF or NUL in a value: the
  // scanner refused those already.)
  int te = 0;
  for (uint32_t i = 0; i < h.nfields; i++) {
    const h1::FieldSpan& f = h.fields[i];
    const char* name = base + f.name_off;
    switch (name_kind(name, f.name_len)) {
      case Kind::SUSPICIOUS:
        return RelayRefusal::SUSPICIOUS_HEADER;
      case Kind::TE: {
        te++;
        const char* v = base + f.value_off;
        size_t n = f.value_len;
        js_trim(v, n);
        if (te > 1 || !is(v, n, "chunked")) return RelayRefusal::BAD_TRANSFER_ENCODING;
        facts.transfer_encoding = true;
        break;
      }
      case Kind::CL:
        // The scanner took 1*DIGIT (trimmed) below 2^63 and refused a second one; parseContentLength
        // also refuses more than 16 characters and anything above Number.MAX_SAFE_INTEGER.
        if (f.value_len > 16 || h.content_length < 0 || h.content_length > kMaxSafeInteger) return RelayRefusal::BAD_CONTENT_LENGTH;
        facts.content_length = h.content_length;
        break;
      case Kind::OTHER:
        break;
    }
  }
  if (te > 0 && facts.content_length >= 0) return RelayRefusal::BOTH_TE_CL_PRESENT;
  if (te > 0 && h.version_minor == 0) return RelayRefusal::UNDEFINED_TE_SEMANTICS;
  return RelayRefusal::NONE;
}

void append_relayed_head(std::string& out, const char* base, const HeadFacts& h, const char* framing, size_t framing_len, const char* extra,
                         size_t extra_len) {
  // Fields named by Connection (rare: no allocation without them).
  std::vector<Token> named;
  each_connection_token(base, h, [&](const char* t, size_t n) { named.push_back(Token{t, n}); });
  // The status is 100-599 here (check_relayed_head): three digits.
  char status[4] = {(char)('0' + h.status / 100), (char)('0' + h.status / 10 % 10), (char)('0' + h.status % 10), ' '};
  out.append("HTTP/1.1 ", 9);
  out.append(status, 4);
  out.append(base + h.target.off, h.target.len);
  out.append("\r\n", 2);
  for (uint32_t i = 0; i < h.nfields; i++) {
    const h1::FieldSpan& f = h.fields[i];
    const char* name = base + f.name_off;
    if (hop_by_hop(name, f.name_len)) continue;
    bool drop = false;
    for (size_t k = 0; k < named.size() && !drop; k++) drop = same_name(name, f.name_len, named[k].p, named[k].n);
    if (drop) continue;
    out.append(name, f.name_len);
    out.append(": ", 2);
    out.append(base + f.value_off, f.value_len);
    out.append("\r\n", 2);
  }
  out.append(framing, framing_len);
  out.append(extra, extra_len);
  out.append("\r\n", 2);
}

}  // namespace sy
