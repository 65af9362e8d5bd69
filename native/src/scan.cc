// Adapters from http1.h's scanners to the engine's HeadFacts (see scan.h).
#include "scan.h"

#include <cstring>

namespace sy {
namespace h1 = switchyard::http1;

Scan scan_request(const char* p, size_t n, uint32_t max_head, uint32_t max_fields, HeadFacts& out) {
  h1::RequestHead head;
  h1::request_head_init(&head, out.fields, kMaxFields);
  uint32_t limit = max_fields < kMaxFields ? max_fields : kMaxFields;
  h1::RequestScan r = h1::scan_request_head(p, n < max_head ? n : max_head, limit, &head);
  if (r == h1::RequestScan::HANDOVER) return Scan::HANDOVER;
  if (r == h1::RequestScan::NEED_MORE) return n >= max_head ? Scan::HANDOVER : Scan::NEED_MORE;
  out.head_len = head.head_length;
  const char* name = h1::method_name(head.method);
  uint32_t mlen = (uint32_t)strlen(name);
  out.method = Span{head.target.off - 1 - mlen, mlen};
  out.target = Span{head.target.off, head.target.len};
  out.version_minor = 1;
  out.content_length = head.content_length;
  out.conn_close = head.close;
  out.nfields = head.field_count;
  return Scan::OK;
}

Scan scan_response(const char* p, size_t n, uint32_t max_head, bool request_was_head, HeadFacts& out) {
  h1::ResponseHead head;
  h1::response_head_init(&head, out.fields, kMaxFields);
  h1::ResponseScan r = h1::scan_response_head(p, n < max_head ? n : max_head, kMaxFields, &head);
  if (r == h1::ResponseScan::ERROR) return Scan::ERROR;
  if (r == h1::ResponseScan::NEED_MORE) return n >= max_head ? Scan::ERROR : Scan::NEED_MORE;
  out.head_len = head.head_length;
  out.version_minor = head.version_minor;
  out.status = head.status;
  out.target = Span{head.reason.off, head.reason.len};
  out.content_length = head.content_length;
  out.keep_alive_token = head.connection_keep_alive;
  switch (h1::response_body_framing(head, request_was_head)) {
    case h1::BodyFraming::NONE: out.body = BodyKind::NONE; break;
    case h1::BodyFraming::CONTENT_LENGTH: out.body = BodyKind::LENGTH; break;
    case h1::BodyFraming::CHUNKED: out.body = BodyKind::CHUNKED; break;
    case h1::BodyFraming::UNTIL_CLOSE: out.body = BodyKind::UNTIL_CLOSE; break;
    case h1::BodyFraming::SWITCH_PROTOCOLS: out.body = BodyKind::SWITCH_PROTOCOLS; break;
  }
  out.keep_alive = out.body != BodyKind::UNTIL_CLOSE && out.body != BodyKind::SWITCH_PROTOCOLS && h1::response_keep_alive(head, request_was_head);
  out.nfields = head.field_count;
  return Scan::OK;
}

namespace {
void on_chunk_data(void* ctx, const char* p, size_t n) { ((std::vector<DataSpan>*)ctx)->push_back(DataSpan{p, n}); }
bool is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}
}  // namespace

void ChunkDecoder::reset() {
  h1::chunked_init(&scan_);
  state_ = BODY;
  t_ = T_SIZE;
  t_size_ = 0;
  t_last_ = false;
  line_.clear();
  trailers_.clear();
}

size_t ChunkDecoder::feed(const char* p, size_t n, std::vector<DataSpan>& data) {
  if (state_ != BODY) return 0;
  scan_.on_data = on_chunk_data;
  scan_.on_data_ctx = &data;
  size_t consumed = 0;
  h1::ChunkedResult r = h1::chunked_feed(&scan_, p, n, &consumed);
  scan_.on_data = nullptr;
  if (r == h1::ChunkedResult::ERROR) {
    state_ = ERR;
    return consumed;
  }
  capture_trailers(p, consumed);
  if (r == h1::ChunkedResult::DONE) state_ = DONE;
  return consumed;
}

// Follows the framing (already validated by http1.h) only to copy out the trailer lines. A
// trailer line that is not plainly "token: value" is dropped rather than relayed.
void ChunkDecoder::capture_trailers(const char* p, size_t n) {
  size_t i = 0;
  while (i < n && t_ != T_END) {
    char c = p[i];
    switch (t_) {
      case T_SIZE:
        if (c == '\n') {
          t_ = t_last_ ? T_TRAILERS : T_DATA;
        } else if (c == ';' || c == '\r' || c == ' ' || c == '\t') {
          t_ = T_SIZE_LINE;
        } else {
          int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : 0;
          t_size_ = t_size_ * 16 + (uint64_t)d;
          t_last_ = t_size_ == 0;
        }
        i++;
        break;
      case T_SIZE_LINE:
        if (c == '\n') t_ = t_last_ ? T_TRAILERS : T_DATA;
        i++;
        break;
      case T_DATA: {
        size_t take = n - i < t_size_ ? n - i : (size_t)t_size_;
        t_size_ -= take;
        i += take;
        if (t_size_ == 0) t_ = T_DATA_END;
        break;
      }
      case T_DATA_END:
        if (c == '\n') {
          t_ = T_SIZE;
          t_size_ = 0;
          t_last_ = false;
        }
        i++;
        break;
      case T_TRAILERS:
        if (c == '\r') {
          i++;
          break;
        }
        if (c == '\n') {
          t_ = T_END;
          i++;
          break;
        }
        line_.clear();
        t_ = T_LINE;
        break;
      case T_LINE:
        if (c == '\r' || c == '\n') {
          size_t k = 0;
          while (k < line_.size() && is_tchar((unsigned char)line_[k])) k++;
          if (k > 0 && k < line_.size() && line_[k] == ':' && trailers_.size() + line_.size() < 65536) {
            trailers_.append(line_);
            trailers_.append("\r\n", 2);
          }
          t_ = T_TRAILERS;
          if (c == '\n') i++;
          break;
        }
        line_.push_back(c);
        i++;
        break;
      case T_END:
        break;
    }
  }
}

}  // namespace sy
