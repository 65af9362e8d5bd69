// HTTP/1.1 scanners for the native data path: request heads, response heads, chunked bodies.
//
// Pure C++17: no N-API, no exceptions, no allocation. Every function works on (const char*,
// size_t) given by the caller, never reads past that length, and fills caller-provided structs.
// The reference for every behaviour is llhttp 9.3.1 in strict mode (LENIENT_NONE) as Node 20
// drives it (src/proxy/http-parser.ts); test/unit/native/*.test.ts compare the two.
//
// 1. Request heads: a recognizer of a conservative "clean subset" (scan_request_head). CLEAN
//    means llhttp accepts the head and the TypeScript path would treat it the same way; anything
//    else is HANDOVER (with a reason for logs), and the bytes go, untouched, to the TypeScript
//    engine, which answers exactly as it does today. A head is never rejected here.
// 2. Response heads: a full strict parser (scan_response_head). Responses cannot be handed over,
//    so it accepts what llhttp accepts and rejects what it rejects, except for the rare forms
//    below where it is deliberately STRICTER. It is never more lenient than llhttp.
// 3. Chunked response bodies: an incremental scanner (chunked_feed) that finds where a chunked
//    body ends, so the bytes can be relayed unchanged and pipelined bytes after it are not taken.
//
// Known differences from llhttp 9.3.1 strict (each one STRICTER here; the tests list them too):
//   Response heads
//   - R1 Only "HTTP/1.0" and "HTTP/1.1" status lines. llhttp also accepts HTTP/0.9 and HTTP/2.0
//        status lines and the RTSP/ and ICE/ protocols.
//   - R2 Reason phrase: only HTAB, SP, VCHAR and obs-text (0x80-0xFF). llhttp accepts any byte
//        but CR and LF there (NUL, other controls, DEL); src/proxy/framing.ts refuses those too.
//   - R3 Content-Length above 2^63-1 is an error. llhttp accepts up to 2^64-1.
//   - R4 At most `max_fields` header fields (the caller's array). llhttp has no count limit.
//   - R5 A head whose offsets do not fit in 32 bits (4 GiB) is an error; the caller's head size
//        limit is far below that.
//   - R6 A status line ended by CR CR is an error (BARE_CR). llhttp 9.3.1 takes a CR followed by
//        CR or LF as its end, so "HTTP/1.1 200 OK\r\rX: y\r\n\r\n" is a valid head for it.
//   Chunked bodies
//   - none known: chunk sizes (up to 2^64-1, any number of leading zeros), chunk extensions
//     (including llhttp's odd accepted forms, see scan_chunk_extension in http1.cc) and trailer
//     fields follow llhttp exactly.
//   Request heads are not a parser but a subset recognizer: everything outside the subset is
//   HANDOVER by design, so there is no "difference" to list, only the subset (see below).
//
// Facts the engine author must know (llhttp behaviours that are easy to get wrong):
//   - llhttp trims leading SP/HTAB of a field value; Node's binding trims trailing SP/HTAB. Field
//     value spans here are trimmed both ways, like the strings JavaScript sees.
//   - "Transfer-Encoding: chunked\t" (a trailing TAB) is NOT chunked for llhttp (only trailing
//     SPs are allowed after the last coding): the body is read until close, although JavaScript
//     sees the trimmed value "chunked". The `chunked` flag here follows llhttp.
//   - A Transfer-Encoding field with an empty value sets nothing (not even "TE present"), but a
//     Content-Length before ANY Transfer-Encoding field (even an empty one) is an error, while an
//     empty Transfer-Encoding before a Content-Length is accepted.
//   - "Connection: close\t" is not a close token for llhttp (a TAB after the token breaks it),
//     "Connection: close ,x" is. Proxy-Connection counts as Connection.
//   - An empty Upgrade value does not count as an Upgrade field.
//   - Trailer fields can change what happens after the message: "Connection: close" or a
//     "Transfer-Encoding: gzip" trailer makes llhttp close the connection after the message, a
//     Content-Length trailer is an error. ChunkedScanner::trailer_connection_fields flags every
//     trailer that might matter; do not reuse the connection when it is set.
//   - Status codes 000-099 and 600-999 are valid for llhttp and here; the TypeScript path refuses
//     a status outside 100-599 (framing.ts checkResponseHead) and so must the engine. It must also
//     apply the rest of checkResponseHead (Transfer-Encoding other than one "chunked", TE on
//     HTTP/1.0, look-alike framing names) because llhttp accepts those.
//   - 1xx responses other than 101 are complete messages of their own (interim); the final
//     response follows on the same connection. But a 1xx with a non-chunked
//     Transfer-Encoding is read UNTIL_CLOSE while llhttp still calls it keep-alive: when the
//     framing is UNTIL_CLOSE, never reuse the connection, whatever response_keep_alive says.
#ifndef SWITCHYARD_NATIVE_HTTP1_H_
#define SWITCHYARD_NATIVE_HTTP1_H_

#include <cstddef>
#include <cstdint>

namespace switchyard {
namespace http1 {

// A byte range of the caller's buffer: [off, off + len).
struct Span {
  uint32_t off;
  uint32_t len;
};

// One header field: name as sent, value without leading and trailing SP/HTAB.
struct FieldSpan {
  uint32_t name_off;
  uint32_t name_len;
  uint32_t value_off;
  uint32_t value_len;
};

// Where a field-line scan stopped; lets a head scan resume when more bytes arrive, so feeding a
// head in many small pieces costs no more than feeding it at once. Internal to http1.cc.
struct LineCursor {
  uint32_t pos;        // next byte to look at
  uint32_t mark;       // start of the token being scanned (method, target, name, reason)
  uint32_t name_len;   // of the field being scanned
  uint32_t value_off;  // of the field being scanned
  uint32_t value_end;  // raw end (the CR) of the field being scanned
  uint8_t state;
  uint8_t matched;     // bytes of a literal matched so far ("HTTP/1.1\r\n", status digits)
};

// ---- Requests ---------------------------------------------------------------------------------

enum class Method : uint8_t { UNKNOWN = 0, GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH };

// "GET", "HEAD", ...; "" for UNKNOWN.
const char* method_name(Method m);

enum class RequestScan : uint8_t {
  NEED_MORE,  // no end of head yet and nothing seen so far leaves the clean subset
  CLEAN,      // complete head inside the clean subset; RequestHead holds its facts
  HANDOVER,   // outside the subset: give the bytes, untouched, to the TypeScript engine
};

// Why a request head was handed over (for logs and tests; the TypeScript path decides the answer).
enum class Handover : uint8_t {
  NONE = 0,
  BAD_METHOD,              // not one of the seven methods, exact case
  BAD_REQUEST_LINE,        // spacing: not exactly one SP between the parts
  BAD_TARGET,              // not origin-form, or a byte outside 0x21-0x7E, or '#'
  BAD_VERSION,             // not "HTTP/1.1"
  BARE_CR,                 // CR not followed by LF
  BARE_LF,                 // LF not preceded by CR
  OBS_FOLD,                // a line starting with SP or HTAB
  BAD_FIELD_NAME,          // empty, a non-token byte, or whitespace before the colon
  BAD_FIELD_VALUE,         // a control byte, DEL or obs-text (>= 0x80)
  TOO_MANY_FIELDS,         // more than max_fields
  TRANSFER_ENCODING,       // any Transfer-Encoding field
  BAD_CONTENT_LENGTH,      // not 1-15 digits (a trailing SP is allowed, as llhttp does)
  DUPLICATE_CONTENT_LENGTH,
  BODY_ON_GET_OR_HEAD,     // Content-Length on GET/HEAD (the desync classifier flags it)
  NO_HOST,
  DUPLICATE_HOST,
  UPGRADE,
  EXPECT,
  TE,
  HTTP2_SETTINGS,
  CONNECTION_OPTION,       // a Connection value other than exactly "close" or "keep-alive"
  PROXY_CONNECTION,        // llhttp reads it as Connection; rare enough to leave to TypeScript
  LOOKALIKE_FRAMING_NAME,  // Transfer_Encoding, Content.Length... (framing.ts SuspiciousHeader)
  HEAD_TOO_LONG,           // offsets would not fit in 32 bits
};

// "BAD_METHOD", ...
const char* handover_name(Handover h);

// The facts of a CLEAN request head. Offsets are into the buffer given to scan_request_head.
struct RequestHead {
  Method method;
  Span target;
  FieldSpan* fields;        // caller's array
  uint32_t field_capacity;  // its size
  uint32_t field_count;
  int64_t content_length;   // -1: no Content-Length
  bool close;               // "Connection: close" was sent
  uint32_t head_length;     // bytes up to and including the final CRLFCRLF
  int32_t host_index;       // index in fields of the one Host field
  Handover reason;          // when HANDOVER
  LineCursor cursor;        // resume state (internal)
};

// Prepares `head` for a new request head; `storage` holds up to `capacity` fields.
void request_head_init(RequestHead* head, FieldSpan* storage, uint32_t capacity);

// Scans data[0, len). After NEED_MORE, call again with the same head and the buffer grown (same
// bytes in front): the scan resumes where it stopped. CLEAN and HANDOVER are final (a further call
// returns them again); call request_head_init before the next head. More than min(max_fields, capacity) fields is
// HANDOVER. The caller enforces the head size limit (NEED_MORE says nothing about size).
//
// CLEAN requires all of: the head ends at the first CRLFCRLF, every line ends in CRLF, no bare CR
// or LF; request line METHOD SP origin-form SP "HTTP/1.1" CRLF with METHOD one of GET HEAD POST
// PUT DELETE OPTIONS PATCH (exact case) and a target starting with '/', bytes 0x21-0x7E except
// '#'; field lines token ":" OWS value with value bytes HTAB or 0x20-0x7E, no obs-fold; no
// Transfer-Encoding, TE, Upgrade, Expect, HTTP2-Settings or Proxy-Connection field; Content-Length
// at most once, 1-15 digits, not on GET/HEAD; exactly one Host; Connection only "close" or
// "keep-alive"; no name that looks like a framing field (Content_Length, Transfer.Encoding...).
RequestScan scan_request_head(const char* data, size_t len, uint32_t max_fields, RequestHead* head);

// framing.ts nameKind's SUSPICIOUS, for token names: 13-64 bytes whose letters and digits,
// lowercased, spell "transferencoding" or "contentlength" without being that header
// (Content_Length, Transfer.Encoding...). True for the exact names too: tell those apart first.
bool is_lookalike_framing_name(const char* name, uint32_t n);

// ---- Responses --------------------------------------------------------------------------------

enum class ResponseScan : uint8_t {
  NEED_MORE,  // no end of head yet; everything so far is valid
  OK,         // complete valid head; ResponseHead holds its facts
  ERROR,      // invalid (llhttp would refuse it too, or one of the differences R1-R6)
};

enum class ResponseError : uint8_t {
  NONE = 0,
  BAD_VERSION,                 // not "HTTP/1.0" or "HTTP/1.1" (R1)
  BAD_STATUS_LINE,             // spacing, status not 3 digits
  BAD_REASON,                  // control byte or DEL in the reason phrase (R2)
  BARE_CR,                     // (and R6)
  BARE_LF,
  OBS_FOLD,
  BAD_FIELD_NAME,
  BAD_FIELD_VALUE,             // a control byte (other than HTAB) or DEL
  TOO_MANY_FIELDS,             // (R4)
  BAD_CONTENT_LENGTH,          // empty, not digits [SP*], or above 2^63-1 (R3)
  DUPLICATE_CONTENT_LENGTH,    // any second Content-Length, even with the same value (llhttp)
  CONTENT_LENGTH_WITH_TRANSFER_ENCODING,
  HEAD_TOO_LONG,               // (R5)
};

const char* response_error_name(ResponseError e);

// The facts of a response head. Offsets are into the buffer given to scan_response_head.
struct ResponseHead {
  uint32_t start;            // first byte of the status line (llhttp skips CR/LF before it)
  uint8_t version_minor;     // 0 or 1
  uint16_t status;           // 0-999, as llhttp
  Span reason;               // as sent, not trimmed (llhttp does not trim it either)
  FieldSpan* fields;
  uint32_t field_capacity;
  uint32_t field_count;
  int64_t content_length;    // -1: none
  bool chunked;              // llhttp's F_CHUNKED: the last TE field's last coding is "chunked"
  bool transfer_encoding;    // llhttp's F_TRANSFER_ENCODING: a TE field with a non-empty value
  bool connection_close;     // a "close" token in Connection / Proxy-Connection
  bool connection_keep_alive;
  bool connection_upgrade;
  bool upgrade_field;        // an Upgrade field with a non-empty value
  uint32_t head_length;      // bytes up to and including the final CRLFCRLF (from 0, not start)
  ResponseError error;
  LineCursor cursor;         // resume state (internal)
  bool content_length_seen_; // internal: llhttp's F_CONTENT_LENGTH while scanning
};

void response_head_init(ResponseHead* head, FieldSpan* storage, uint32_t capacity);

// Same resumption contract as scan_request_head.
ResponseScan scan_response_head(const char* data, size_t len, uint32_t max_fields, ResponseHead* head);

// How the body of a valid response head is framed (llhttp__after_headers_complete).
enum class BodyFraming : uint8_t {
  NONE,              // no body: 1xx (interim, or 150 without Content-Length...), 204, 304, HEAD, CL 0
  CONTENT_LENGTH,    // exactly content_length bytes
  CHUNKED,           // feed a ChunkedScanner
  UNTIL_CLOSE,       // read until the target closes (no CL, or TE without final chunked)
  SWITCH_PROTOCOLS,  // 101: the bytes after the head belong to another protocol
};

BodyFraming response_body_framing(const ResponseHead& head, bool request_was_head);

// Whether the target connection may carry another request after this response (llhttp's
// should_keep_alive, evaluated after the message: a HEAD response has no body to wait for).
// Meaningless for UNTIL_CLOSE and SWITCH_PROTOCOLS framings (see the notes at the top).
bool response_keep_alive(const ResponseHead& head, bool request_was_head);

// llhttp's `upgrade` as Node reports it: 101 with an Upgrade field and a Connection "upgrade".
bool response_upgrade(const ResponseHead& head);

// ---- Chunked bodies ---------------------------------------------------------------------------

enum class ChunkedResult : uint8_t {
  NEED_MORE,  // all bytes given belong to the body; the body goes on
  DONE,       // the body ended `consumed` bytes into this piece; bytes after it are not the body's
  ERROR,      // invalid from byte `consumed` of this piece on
};

enum class ChunkedError : uint8_t {
  NONE = 0,
  BAD_CHUNK_SIZE,       // not 1*HEXDIG, or SP/HTAB after it
  CHUNK_SIZE_OVERFLOW,  // above 2^64-1
  BAD_CHUNK_EXTENSION,
  BARE_CR,
  BARE_LF,
  BAD_CHUNK_DATA_END,   // chunk data not followed by CRLF
  BAD_TRAILER_NAME,
  BAD_TRAILER_VALUE,
  OBS_FOLD,
  CONTENT_LENGTH_TRAILER,  // llhttp: "Content-Length can't be present with Transfer-Encoding"
};

const char* chunked_error_name(ChunkedError e);

// State of one chunked body. Initialise with chunked_init; feed pieces as they arrive.
struct ChunkedScanner {
  uint64_t body_bytes;             // decoded chunk-data bytes so far
  uint64_t offset;                 // bytes consumed so far, all pieces together
  bool trailers;                   // at least one trailer field
  bool trailer_connection_fields;  // a Connection, Proxy-Connection, Transfer-Encoding or Upgrade
                                   // trailer: llhttp may close the connection after the message
  ChunkedError error;
  // Optional: told about every run of chunk data (for tests or inspection); may be null.
  void (*on_data)(void* ctx, const char* p, size_t n);
  void* on_data_ctx;
  // Internal state.
  uint64_t remaining_;             // chunk size being read, then data bytes still due
  uint8_t state_;
  uint8_t name_len_;               // trailer name bytes kept (saturates above 17)
  char name_[17];                  // lowercase prefix of the trailer name being read
};

void chunked_init(ChunkedScanner* s);

// Consumes data[0, n). *consumed: n (NEED_MORE), the end of the body within this piece (DONE), or
// the offending byte's index (ERROR). After DONE or ERROR, further calls consume nothing.
ChunkedResult chunked_feed(ChunkedScanner* s, const char* data, size_t n, size_t* consumed);

}  // namespace http1
}  // namespace switchyard

#endif  // SWITCHYARD_NATIVE_HTTP1_H_
