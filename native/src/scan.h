// The engine's view of the HTTP/1.1 scanners (http1.h, differential-tested against llhttp in
// test/unit/native/): what it needs to know about a head, in the engine's own terms.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "http1.h"

namespace sy {

struct Span {
  uint32_t off;
  uint32_t len;
};

constexpr uint32_t kMaxFields = 256;

enum class BodyKind : uint8_t { NONE, LENGTH, CHUNKED, UNTIL_CLOSE, SWITCH_PROTOCOLS };

struct HeadFacts {
  uint32_t head_len = 0;            // bytes of the head including the final CRLFCRLF
  Span method{0, 0};                // request only
  Span target{0, 0};                // request: request-target; response: reason phrase
  int version_minor = 1;
  int status = 0;                   // response only
  int64_t content_length = -1;
  bool conn_close = false;          // request: Connection: close
  bool keep_alive = false;          // response: the target connection may be reused (llhttp's verdict)
  bool keep_alive_token = false;    // response: Connection: keep-alive was sent
  BodyKind body = BodyKind::NONE;   // response only
  uint32_t nfields = 0;
  // The scanners write the field spans here directly (their storage; nothing is copied).
  switchyard::http1::FieldSpan fields[kMaxFields];
};

enum class Scan { NEED_MORE, OK, HANDOVER, ERROR };

// Request heads: OK only for the clean subset (docs/decisions/0017); HANDOVER for anything else,
// including heads larger than max_head bytes or with more than max_fields fields.
Scan scan_request(const char* p, size_t n, uint32_t max_head, uint32_t max_fields, HeadFacts& out);

// Response heads: OK, ERROR (malformed, or larger than max_head), NEED_MORE.
Scan scan_response(const char* p, size_t n, uint32_t max_head, bool request_was_head, HeadFacts& out);

// A chunked response body, decoded so that the engine re-frames it (one chunk per read, as the
// TypeScript engine relays it: the target's extensions and size formatting are never relayed).
// Validity and the end of the body are http1.h's (llhttp's rules); trailer fields are kept for
// relaying with the last chunk.
struct DataSpan {
  const char* p;
  size_t n;
};

class ChunkDecoder {
 public:
  void reset();
  // Consumes bytes; appends the chunk data in them to `data`. Returns the bytes that belong to
  // the body (fewer than n only once done or on error).
  size_t feed(const char* p, size_t n, std::vector<DataSpan>& data);
  bool done() const { return state_ == DONE; }
  bool error() const { return state_ == ERR; }
  // A trailer that may change the connection (Connection, Transfer-Encoding...): do not reuse it.
  bool no_reuse() const { return scan_.trailer_connection_fields; }
  // Trailer field lines ("name: value\r\n" each), valid once done().
  const std::string& trailers() const { return trailers_; }

 private:
  enum State : uint8_t { BODY, DONE, ERR };
  // Trailer capture: a small line reader over the bytes after the last chunk.
  enum TState : uint8_t { T_SIZE, T_SIZE_LINE, T_DATA, T_DATA_END, T_TRAILERS, T_LINE, T_END };
  void capture_trailers(const char* p, size_t n);
  switchyard::http1::ChunkedScanner scan_;
  State state_ = BODY;
  TState t_ = T_SIZE;
  uint64_t t_size_ = 0;
  bool t_last_ = false;
  std::string line_;
  std::string trailers_;
};

}  // namespace sy
