// The client's copy of a target's response head on the native data path: the checks the
// TypeScript path makes beyond llhttp (src/proxy/framing.ts checkResponseHead) and the head it
// writes (src/proxy/headers.ts buildResponseHead), ported so that the target's header fields
// never become JavaScript strings. test/unit/native/relay-head.test.ts compares both functions
// with their TypeScript originals on generated heads.
#pragma once
#include <cstdint>
#include <string>

#include "scan.h"

namespace sy {

// Why a head scan_response accepted is still refused (502), as checkResponseHead names it.
enum class RelayRefusal : uint8_t {
  NONE = 0,
  BAD_STATUS,                  // outside 100-599
  SUSPICIOUS_HEADER,           // a look-alike of Transfer-Encoding or Content-Length
  BAD_TRANSFER_ENCODING,       // a second Transfer-Encoding, or a value other than "chunked"
  BAD_CONTENT_LENGTH,          // not one safe integer (more than 16 digits, above 2^53-1)
  BOTH_TE_CL_PRESENT,
  UNDEFINED_TE_SEMANTICS,      // Transfer-Encoding on HTTP/1.0
};

const char* relay_refusal_name(RelayRefusal r);

// The framing facts JavaScript decides on (headers.ts responseFraming): the Content-Length
// (-1: none) and whether a Transfer-Encoding was sent. Valid when the check passed.
struct RelayFacts {
  int64_t content_length = -1;
  bool transfer_encoding = false;
};

// checkResponseHead for a head scan_response accepted (so names are tokens and values hold no
// CR, LF or NUL: the checks llhttp already made are not repeated).
RelayRefusal check_relayed_head(const char* base, const HeadFacts& h, RelayFacts& facts);

// Appends buildResponseHead(status, reason, fields, framing, extra, false): "HTTP/1.1", the
// target's status and reason, its fields less Connection, Keep-Alive, Proxy-Connection,
// Transfer-Encoding, Content-Length, Upgrade and the fields Connection names, then `framing` and
// `extra` (whole lines) and the empty line.
void append_relayed_head(std::string& out, const char* base, const HeadFacts& h, const char* framing, size_t framing_len, const char* extra,
                         size_t extra_len);

}  // namespace sy
