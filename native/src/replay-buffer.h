// The request body kept while a request may still be sent again on a fresh target connection
// (the keep-alive race: the target closed an idle connection as we reused it). Up to 64 KiB.
//
// Why a buffer of its own and not a std::string: the body is read straight into it (room()) and
// written to the target from there, so keeping it costs no copy; and full-size blocks are pooled,
// so a 64 KiB POST per request does not malloc, grow and free a block each time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace sy {

class ReplayBuffer {
 public:
  static constexpr size_t kLimit = 64 * 1024;

  ReplayBuffer() = default;
  ReplayBuffer(const ReplayBuffer&) = delete;
  ReplayBuffer& operator=(const ReplayBuffer&) = delete;
  ~ReplayBuffer() { release(); }

  const char* data() const { return buf_; }
  size_t size() const { return size_; }
  // Whether every body byte sent so far is kept (a replay is possible).
  bool ok() const { return ok_; }

  // A new request whose body has `total` bytes (0: none).
  void start(int64_t total) {
    release();
    ok_ = true;
    want_ = total <= 0 ? 0 : total < (int64_t)kLimit ? (size_t)total : kLimit;
  }
  // No replay from here on: the response has begun, or the body outgrew the limit.
  void drop() {
    release();
    ok_ = false;
  }

  // Room for the next read to land in directly; null when there is none to give.
  char* room(size_t& len) {
    if (!ok_ || want_ == 0) return nullptr;
    if (buf_ == nullptr && !acquire()) return nullptr;
    if (size_ == cap_) return nullptr;
    len = cap_ - size_;
    return buf_ + size_;
  }

  // Keeps n bytes at p: no copy when they were read into room(). Beyond the limit (or when memory
  // is short) nothing more is kept and ok() turns false.
  void keep(const char* p, size_t n) {
    if (!ok_ || n == 0) return;
    if (buf_ != nullptr && p == buf_ + size_ && n <= cap_ - size_) {
      size_ += n;
      return;
    }
    if (buf_ == nullptr && !acquire()) {
      drop();
      return;
    }
    if (n > cap_ - size_) {
      drop();
      return;
    }
    memcpy(buf_ + size_, p, n);
    size_ += n;
  }

 private:
  static constexpr size_t kPoolMax = 16;
  static std::vector<char*>& pool() {
    static std::vector<char*> blocks;
    return blocks;
  }

  bool acquire() {
    // A body of unknown or full size gets a pooled full-size block; a small one, its own size.
    size_t cap = want_ == 0 ? kLimit : want_;
    auto& blocks = pool();
    if (cap == kLimit && !blocks.empty()) {
      buf_ = blocks.back();
      blocks.pop_back();
    } else {
      buf_ = (char*)malloc(cap);
      if (buf_ == nullptr) return false;
    }
    cap_ = cap;
    size_ = 0;
    return true;
  }

  void release() {
    if (buf_ != nullptr) {
      auto& blocks = pool();
      if (cap_ == kLimit && blocks.size() < kPoolMax) blocks.push_back(buf_);
      else free(buf_);
    }
    buf_ = nullptr;
    size_ = 0;
    cap_ = 0;
  }

  char* buf_ = nullptr;
  size_t size_ = 0;
  size_t cap_ = 0;
  size_t want_ = 0;
  bool ok_ = true;
};

}  // namespace sy
