// Test hooks of the switchyard_native module (docs/decisions/0017): the HTTP/1.1 scanners
// (http1.h) seen from JavaScript. The engine itself is engine.cc, whose module init adds these.
// The hooks copy results into JavaScript values (strings as latin1, one char per byte) and may
// allocate; the scanners they call do not.
//
// Test hooks (used by test/unit/native/*.test.ts; not an API for the data path):
//
//   scanRequestHead(head: Buffer, maxFields: number, cuts?: number[]) → {
//     result: 'NEED_MORE' | 'CLEAN' | 'HANDOVER', reason: string, steps: string[],
//     method, target, headers: string[] (flat [name, value, ...]), contentLength: number,
//     close: boolean, headLength: number, hostIndex: number }
//   scanResponseHead(head: Buffer, maxFields: number, cuts?: number[]) → {
//     result: 'NEED_MORE' | 'OK' | 'ERROR', error: string, steps: string[], start, versionMinor,
//     status, reason: string, headers: string[], contentLength: bigint, chunked,
//     transferEncoding, connectionClose, connectionKeepAlive, connectionUpgrade, upgradeField,
//     upgrade, headLength, framing, framingAfterHead (request was HEAD): 'NONE' |
//     'CONTENT_LENGTH' | 'CHUNKED' | 'UNTIL_CLOSE' | 'SWITCH_PROTOCOLS', keepAlive,
//     keepAliveAfterHead }
//   relayResponseHead(head: Buffer, framing: string, extra: string) → { result: 'NEED_MORE' |
//     'OK' | 'ERROR' (the engine's scan_response, head size limit 64 KiB), refusal: '' or a
//     framing.ts ResponseProblem name (relay.h check_relayed_head), contentLength, transferEncoding,
//     head: string (append_relayed_head with `framing` and `extra`; '' when refused) }
//   idMapCheck(ops: number[]) → string: '' when id-map.h's IdMap agreed with std::unordered_map
//     after every operation, else what differed. Each op is an id: positive inserts it (when
//     absent), negative erases it; every present and absent id is looked up after each op.
//   scanChunked(pieces: Buffer[]) → { result: 'NEED_MORE' | 'DONE' | 'ERROR', error: string,
//     consumed: number[] (per piece fed), endOffset: number (-1 unless DONE),
//     body: Buffer (the decoded chunk data), bodyBytes: number, trailers, trailerConnectionFields }
//
// `cuts` feeds the head in growing prefixes (each cut a length) to the same scanner state before
// the whole buffer, to test resumption; `steps` lists the result of every call.
//
// Every call hands the scanner its own exactly-sized heap copy of the bytes (Buffers share
// 8 KiB pool slabs): a read past the end is then a read past a heap block, which valgrind and
// sanitizers report.
#include <node_api.h>

#include <cstdint>
#include <string>
#include <vector>

#include <unordered_map>

#include "http1.h"
#include "id-map.h"
#include "relay.h"
#include "scan.h"

namespace {

using namespace switchyard::http1;

// ---- Small N-API helpers (each returns false when a call failed; a JS exception is pending) ----

bool set(napi_env env, napi_value obj, const char* key, napi_value v) {
  return napi_set_named_property(env, obj, key, v) == napi_ok;
}

bool set_string(napi_env env, napi_value obj, const char* key, const char* s) {
  napi_value v;
  return napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v) == napi_ok && set(env, obj, key, v);
}

napi_value latin1(napi_env env, const char* p, size_t n) {
  napi_value v = nullptr;
  napi_create_string_latin1(env, p, n, &v);
  return v;
}

bool set_latin1(napi_env env, napi_value obj, const char* key, const char* p, size_t n) {
  napi_value v = latin1(env, p, n);
  return v != nullptr && set(env, obj, key, v);
}

bool set_number(napi_env env, napi_value obj, const char* key, double d) {
  napi_value v;
  return napi_create_double(env, d, &v) == napi_ok && set(env, obj, key, v);
}

bool set_bool(napi_env env, napi_value obj, const char* key, bool b) {
  napi_value v;
  return napi_get_boolean(env, b, &v) == napi_ok && set(env, obj, key, v);
}

napi_value throw_type_error(napi_env env, const char* msg) {
  napi_throw_type_error(env, nullptr, msg);
  return nullptr;
}

bool get_buffer(napi_env env, napi_value v, const char** data, size_t* len) {
  bool is_buffer = false;
  if (napi_is_buffer(env, v, &is_buffer) != napi_ok || !is_buffer) return false;
  void* p = nullptr;
  if (napi_get_buffer_info(env, v, &p, len) != napi_ok) return false;
  *data = static_cast<const char*>(p);
  return true;
}

bool get_u32(napi_env env, napi_value v, uint32_t* out) {
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

// Reads an optional array of cut lengths (undefined → none).
bool get_cuts(napi_env env, napi_value v, std::vector<uint32_t>* cuts) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t == napi_undefined) return true;
  uint32_t n = 0;
  if (napi_get_array_length(env, v, &n) != napi_ok) return false;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    uint32_t cut = 0;
    if (napi_get_element(env, v, i, &e) != napi_ok || !get_u32(env, e, &cut)) return false;
    cuts->push_back(cut);
  }
  return true;
}

// An exactly-sized heap copy of data[0, len) (see the file comment).
std::vector<char> exact_copy(const char* data, size_t len) { return std::vector<char>(data, data + len); }

napi_value string_array(napi_env env, const std::vector<std::string>& items) {
  napi_value arr;
  if (napi_create_array_with_length(env, items.size(), &arr) != napi_ok) return nullptr;
  for (size_t i = 0; i < items.size(); i++) {
    napi_value s;
    if (napi_create_string_utf8(env, items[i].c_str(), items[i].size(), &s) != napi_ok) return nullptr;
    if (napi_set_element(env, arr, static_cast<uint32_t>(i), s) != napi_ok) return nullptr;
  }
  return arr;
}

napi_value field_array(napi_env env, const char* data, const FieldSpan* fields, uint32_t count) {
  napi_value arr;
  if (napi_create_array_with_length(env, count * 2u, &arr) != napi_ok) return nullptr;
  for (uint32_t i = 0; i < count; i++) {
    const FieldSpan& f = fields[i];
    if (napi_set_element(env, arr, 2 * i, latin1(env, data + f.name_off, f.name_len)) != napi_ok) return nullptr;
    if (napi_set_element(env, arr, 2 * i + 1, latin1(env, data + f.value_off, f.value_len)) != napi_ok) return nullptr;
  }
  return arr;
}

// Arguments of the head hooks: (buffer, maxFields, cuts?).
struct HeadArgs {
  const char* data = nullptr;
  size_t len = 0;
  uint32_t max_fields = 0;
  std::vector<uint32_t> cuts;
};

bool get_head_args(napi_env env, napi_callback_info info, HeadArgs* a) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 2) return false;
  if (!get_buffer(env, argv[0], &a->data, &a->len) || !get_u32(env, argv[1], &a->max_fields)) return false;
  return argc < 3 || get_cuts(env, argv[2], &a->cuts);
}

// ---- Hooks ------------------------------------------------------------------------------------

const char* request_scan_name(RequestScan r) {
  switch (r) {
    case RequestScan::NEED_MORE: return "NEED_MORE";
    case RequestScan::CLEAN: return "CLEAN";
    case RequestScan::HANDOVER: return "HANDOVER";
  }
  return "?";
}

napi_value ScanRequestHead(napi_env env, napi_callback_info info) {
  HeadArgs a;
  if (!get_head_args(env, info, &a)) return throw_type_error(env, "scanRequestHead(buffer, maxFields, cuts?)");
  std::vector<FieldSpan> storage(a.max_fields);
  RequestHead head;
  request_head_init(&head, storage.data(), a.max_fields);
  std::vector<std::string> steps;
  RequestScan r = RequestScan::NEED_MORE;
  for (uint32_t cut : a.cuts) {
    if (cut > a.len || r != RequestScan::NEED_MORE) break;
    const std::vector<char> prefix = exact_copy(a.data, cut);
    r = scan_request_head(prefix.data(), cut, a.max_fields, &head);
    steps.push_back(request_scan_name(r));
  }
  if (r == RequestScan::NEED_MORE) {
    const std::vector<char> whole = exact_copy(a.data, a.len);
    r = scan_request_head(whole.data(), a.len, a.max_fields, &head);
    steps.push_back(request_scan_name(r));
  }
  napi_value out;
  if (napi_create_object(env, &out) != napi_ok) return nullptr;
  const bool clean = r == RequestScan::CLEAN;
  bool ok = set_string(env, out, "result", request_scan_name(r)) &&
            set_string(env, out, "reason", handover_name(head.reason)) && set(env, out, "steps", string_array(env, steps)) &&
            set_string(env, out, "method", method_name(head.method)) &&
            set_latin1(env, out, "target", a.data + head.target.off, clean ? head.target.len : 0) &&
            set(env, out, "headers", field_array(env, a.data, head.fields, clean ? head.field_count : 0)) &&
            set_number(env, out, "contentLength", static_cast<double>(head.content_length)) &&
            set_bool(env, out, "close", head.close) && set_number(env, out, "headLength", head.head_length) &&
            set_number(env, out, "hostIndex", head.host_index);
  return ok ? out : nullptr;
}

const char* response_scan_name(ResponseScan r) {
  switch (r) {
    case ResponseScan::NEED_MORE: return "NEED_MORE";
    case ResponseScan::OK: return "OK";
    case ResponseScan::ERROR: return "ERROR";
  }
  return "?";
}

const char* framing_name(BodyFraming f) {
  switch (f) {
    case BodyFraming::NONE: return "NONE";
    case BodyFraming::CONTENT_LENGTH: return "CONTENT_LENGTH";
    case BodyFraming::CHUNKED: return "CHUNKED";
    case BodyFraming::UNTIL_CLOSE: return "UNTIL_CLOSE";
    case BodyFraming::SWITCH_PROTOCOLS: return "SWITCH_PROTOCOLS";
  }
  return "?";
}

napi_value ScanResponseHead(napi_env env, napi_callback_info info) {
  HeadArgs a;
  if (!get_head_args(env, info, &a)) return throw_type_error(env, "scanResponseHead(buffer, maxFields, cuts?)");
  std::vector<FieldSpan> storage(a.max_fields);
  ResponseHead head;
  response_head_init(&head, storage.data(), a.max_fields);
  std::vector<std::string> steps;
  ResponseScan r = ResponseScan::NEED_MORE;
  for (uint32_t cut : a.cuts) {
    if (cut > a.len || r != ResponseScan::NEED_MORE) break;
    const std::vector<char> prefix = exact_copy(a.data, cut);
    r = scan_response_head(prefix.data(), cut, a.max_fields, &head);
    steps.push_back(response_scan_name(r));
  }
  if (r == ResponseScan::NEED_MORE) {
    const std::vector<char> whole = exact_copy(a.data, a.len);
    r = scan_response_head(whole.data(), a.len, a.max_fields, &head);
    steps.push_back(response_scan_name(r));
  }
  napi_value out;
  if (napi_create_object(env, &out) != napi_ok) return nullptr;
  const bool ok_head = r == ResponseScan::OK;
  napi_value cl;
  if (napi_create_bigint_int64(env, head.content_length, &cl) != napi_ok) return nullptr;
  bool ok = set_string(env, out, "result", response_scan_name(r)) &&
            set_string(env, out, "error", response_error_name(head.error)) && set(env, out, "steps", string_array(env, steps)) &&
            set_number(env, out, "start", head.start) && set_number(env, out, "versionMinor", head.version_minor) &&
            set_number(env, out, "status", head.status) &&
            set_latin1(env, out, "reason", a.data + head.reason.off, ok_head ? head.reason.len : 0) &&
            set(env, out, "headers", field_array(env, a.data, head.fields, ok_head ? head.field_count : 0)) &&
            set(env, out, "contentLength", cl) && set_bool(env, out, "chunked", head.chunked) &&
            set_bool(env, out, "transferEncoding", head.transfer_encoding) &&
            set_bool(env, out, "connectionClose", head.connection_close) &&
            set_bool(env, out, "connectionKeepAlive", head.connection_keep_alive) &&
            set_bool(env, out, "connectionUpgrade", head.connection_upgrade) &&
            set_bool(env, out, "upgradeField", head.upgrade_field) && set_bool(env, out, "upgrade", response_upgrade(head)) &&
            set_number(env, out, "headLength", head.head_length) &&
            set_string(env, out, "framing", framing_name(response_body_framing(head, false))) &&
            set_string(env, out, "framingAfterHead", framing_name(response_body_framing(head, true))) &&
            set_bool(env, out, "keepAlive", response_keep_alive(head, false)) &&
            set_bool(env, out, "keepAliveAfterHead", response_keep_alive(head, true));
  return ok ? out : nullptr;
}

const char* chunked_result_name(ChunkedResult r) {
  switch (r) {
    case ChunkedResult::NEED_MORE: return "NEED_MORE";
    case ChunkedResult::DONE: return "DONE";
    case ChunkedResult::ERROR: return "ERROR";
  }
  return "?";
}

void append_body(void* ctx, const char* p, size_t n) { static_cast<std::string*>(ctx)->append(p, n); }

napi_value ScanChunked(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value pieces;
  uint32_t count = 0;
  if (napi_get_cb_info(env, info, &argc, &pieces, nullptr, nullptr) != napi_ok || argc < 1 ||
      napi_get_array_length(env, pieces, &count) != napi_ok) {
    return throw_type_error(env, "scanChunked(pieces: Buffer[])");
  }
  std::string body;
  ChunkedScanner s;
  chunked_init(&s);
  s.on_data = append_body;
  s.on_data_ctx = &body;
  napi_value consumed_arr;
  if (napi_create_array(env, &consumed_arr) != napi_ok) return nullptr;
  ChunkedResult r = ChunkedResult::NEED_MORE;
  for (uint32_t i = 0; i < count && r == ChunkedResult::NEED_MORE; i++) {
    napi_value piece;
    const char* data = nullptr;
    size_t len = 0;
    if (napi_get_element(env, pieces, i, &piece) != napi_ok || !get_buffer(env, piece, &data, &len)) {
      return throw_type_error(env, "scanChunked(pieces: Buffer[])");
    }
    size_t consumed = 0;
    const std::vector<char> copy = exact_copy(data, len);
    r = chunked_feed(&s, copy.data(), len, &consumed);
    napi_value c;
    if (napi_create_double(env, static_cast<double>(consumed), &c) != napi_ok ||
        napi_set_element(env, consumed_arr, i, c) != napi_ok) {
      return nullptr;
    }
  }
  napi_value out;
  napi_value body_buf;
  if (napi_create_object(env, &out) != napi_ok ||
      napi_create_buffer_copy(env, body.size(), body.data(), nullptr, &body_buf) != napi_ok) {
    return nullptr;
  }
  const double end = r == ChunkedResult::DONE ? static_cast<double>(s.offset) : -1;
  bool ok = set_string(env, out, "result", chunked_result_name(r)) &&
            set_string(env, out, "error", chunked_error_name(s.error)) && set(env, out, "consumed", consumed_arr) &&
            set_number(env, out, "endOffset", end) && set(env, out, "body", body_buf) &&
            set_number(env, out, "bodyBytes", static_cast<double>(s.body_bytes)) &&
            set_bool(env, out, "trailers", s.trailers) &&
            set_bool(env, out, "trailerConnectionFields", s.trailer_connection_fields);
  return ok ? out : nullptr;
}

// relayResponseHead(head, framing, extra): see the file comment.
napi_value RelayResponseHead(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 3) return throw_type_error(env, "(head, framing, extra)");
  const char* data = nullptr;
  size_t len = 0;
  if (!get_buffer(env, argv[0], &data, &len)) return throw_type_error(env, "head: a Buffer");
  std::string text[2];
  for (int i = 0; i < 2; i++) {
    size_t n = 0;
    if (napi_get_value_string_latin1(env, argv[1 + i], nullptr, 0, &n) != napi_ok) return throw_type_error(env, "framing, extra: strings");
    text[i].resize(n + 1);
    napi_get_value_string_latin1(env, argv[1 + i], &text[i][0], n + 1, &n);
    text[i].resize(n);
  }
  const std::vector<char> copy = exact_copy(data, len);
  static sy::HeadFacts h;  // large (the field array): not on the stack
  h = sy::HeadFacts{};
  const sy::Scan r = sy::scan_response(copy.data(), len, 65536, false, h);
  napi_value out;
  if (napi_create_object(env, &out) != napi_ok) return nullptr;
  const char* result = r == sy::Scan::OK ? "OK" : r == sy::Scan::NEED_MORE ? "NEED_MORE" : "ERROR";
  if (!set_string(env, out, "result", result)) return nullptr;
  if (r != sy::Scan::OK) return out;
  sy::RelayFacts facts;
  const sy::RelayRefusal refusal = sy::check_relayed_head(copy.data(), h, facts);
  std::string head;
  if (refusal == sy::RelayRefusal::NONE) {
    sy::append_relayed_head(head, copy.data(), h, text[0].data(), text[0].size(), text[1].data(), text[1].size());
  }
  bool ok = set_string(env, out, "refusal", sy::relay_refusal_name(refusal)) &&
            set_number(env, out, "contentLength", static_cast<double>(facts.content_length)) &&
            set_bool(env, out, "transferEncoding", facts.transfer_encoding) && set_latin1(env, out, "head", head.data(), head.size());
  return ok ? out : nullptr;
}

// idMapCheck(ops): see the file comment.
napi_value IdMapCheck(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool is_array = false;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array)
    return throw_type_error(env, "(ops: number[])");
  uint32_t n = 0;
  napi_get_array_length(env, argv[0], &n);
  sy::IdMap<int> map;
  std::unordered_map<uint32_t, int*> ref;
  static int stored;  // what is stored does not matter here: presence does
  std::string problem;
  std::vector<uint32_t> seen;
  for (uint32_t k = 0; k < n && problem.empty(); k++) {
    napi_value el;
    int64_t op = 0;
    napi_get_element(env, argv[0], k, &el);
    napi_get_value_int64(env, el, &op);
    if (op == 0) continue;
    uint32_t id = (uint32_t)(op > 0 ? op : -op);
    int* value = &stored;
    seen.push_back(id);
    if (op > 0) {
      if (ref.count(id) == 0) {
        ref[id] = value;
        map.insert(id, value);
      }
    } else {
      ref.erase(id);
      map.erase(id);
    }
    if (map.size() != ref.size()) problem = "size " + std::to_string(map.size()) + " != " + std::to_string(ref.size()) + " after op " + std::to_string(k);
    for (uint32_t s : seen) {
      bool in_ref = ref.count(s) != 0;
      bool in_map = map.find(s) != nullptr;
      if (in_ref != in_map) {
        problem = "id " + std::to_string(s) + (in_ref ? " missing" : " still found") + " after op " + std::to_string(k);
        break;
      }
    }
  }
  napi_value out;
  napi_create_string_latin1(env, problem.data(), problem.size(), &out);
  return out;
}

bool export_function(napi_env env, napi_value exports, const char* name, napi_callback cb) {
  napi_value fn;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn) == napi_ok && set(env, exports, name, fn);
}

}  // namespace

// Adds the test hooks to the module's exports (called by engine.cc's module init).
bool register_test_hooks(napi_env env, napi_value exports) {
  return export_function(env, exports, "scanRequestHead", ScanRequestHead) &&
         export_function(env, exports, "scanResponseHead", ScanResponseHead) &&
         export_function(env, exports, "scanChunked", ScanChunked) &&
         export_function(env, exports, "relayResponseHead", RelayResponseHead) &&
         export_function(env, exports, "idMapCheck", IdMapCheck);
}
