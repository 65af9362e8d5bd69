// The engine's view of the HTTP/1.1 scanners: what it needs to know about a head, nothing more.
// (Implemented in scan.cc on top of http1.h.)
#pragma once
#include <cstddef>
#include <cstdint>

namespace sy {

struct Span {
  uint32_t off;
  uint32_t len;
};

constexpr uint32_t kMaxFields = 128;

struct HeadFacts {
  uint32_t head_len = 0;            // bytes of the head including the final CRLFCRLF
  Span method{0, 0};                // request: method; response: unused
  Span target{0, 0};                // request: request-target; response: reason phrase
  int version_minor = 1;
  int status = 0;                   // response only
  int64_t content_length = -1;
  bool chunked = false;             // response only (requests with Transfer-Encoding are handed over)
  bool conn_close = false;
  bool conn_keep_alive = false;
  bool upgrade = false;
  uint32_t nfields = 0;
  Span names[kMaxFields];
  Span values[kMaxFields];
};

enum class Scan { NEED_MORE, OK, HANDOVER, ERROR };

// Request heads: OK only for the clean subset (docs/decisions/0017); HANDOVER for anything else,
// including heads larger than max_head bytes or with more than max_fields fields.
Scan scan_request(const char* p, size_t n, uint32_t max_head, uint32_t max_fields, HeadFacts& out);

// Response heads: OK, ERROR (malformed), NEED_MORE.
Scan scan_response(const char* p, size_t n, uint32_t max_head, HeadFacts& out);

// Incremental chunked-body scanner: feed() returns how many of the n bytes belong to the body
// (framing included); done() once the last chunk and trailers ended; error() on bad framing.
class ChunkScanner {
 public:
  void reset();
  size_t feed(const char* p, size_t n);
  bool done() const { return state_ == DONE; }
  bool error() const { return state_ == ERR; }

 private:
  enum State : uint8_t { SIZE, SIZE_LF, EXT, DATA, DATA_CR, DATA_LF, TRAILER_START, TRAILER_LINE, TRAILER_LF, END_LF, DONE, ERR };
  State state_ = SIZE;
  uint64_t size_ = 0;
  uint32_t digits_ = 0;
  bool last_ = false;
};

}  // namespace sy
