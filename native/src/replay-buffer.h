// The request body kept while a request may still be sent again on a fresh target connection
// (the keep-alive race: the target closed an idle connection as we reused it). Up to 64 KiB.
//
// Why a buffer of its own and not a std::string: keeping the body costs no copy. The read that
// brings a request head lands in a pooled block (take_block); when the body that came with the
// head is forwarded, the block becomes the replay buffer with those bytes where they were read
// (adopt); later body reads land straight after them (room) and are written to the target from
// there. Blocks are pooled, so a 64 KiB POST per request does not malloc and free one each time.
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
  // A block holds a head of up to 16 KiB and the largest body kept behind it (the body of a
  // larger head is copied into a block of its own: see adopt).
  static constexpr size_t kBlock = kLimit + 16 * 1024;

  ReplayBuffer() = default;
  ReplayBuffer(const ReplayBuffer&) = delete;
  ReplayBuffer& operator=(const ReplayBuffer&) = delete;
  ~ReplayBuffer() { release(); }

  // A pooled block of kBlock bytes (null when memory is short), and its return.
  static char* take_block() {
    auto& blocks = pool();
    if (blocks.empty()) return (char*)malloc(kBlock);
    char* b = blocks.back();
    blocks.pop_back();
    return b;
  }
  static void give_block(char* b) {
    auto& blocks = pool();
    if (blocks.size() < kPoolMax) blocks.push_back(b);
    else free(b);
  }

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

  // Keeps the first n body bytes at p, inside `block` (from take_block), where they were read:
  // the block becomes this buffer's. False (nothing taken) unless the buffer is empty and the
  // whole body kept fits behind p in the block; the caller then keep()s a copy.
  bool adopt(char* block, const char* p, size_t n) {
    if (!ok_ || buf_ != nullptr || n == 0 || n > want_) return false;
    size_t behind = kBlock - (size_t)(p - block);
    if (behind < want_) return false;
    base_ = block;
    pooled_ = true;
    buf_ = (char*)p;
    cap_ = want_;
    size_ = n;
    return true;
  }

 private:
  static constexpr size_t kPoolMax = 16;
  static std::vector<char*>& pool() {
    static std::vector<char*> blocks;
    return blocks;
  }

  bool acquire() {
    // A body of full size gets a pooled block; a small one, its own size.
    size_t cap = want_ == 0 ? kLimit : want_;
    pooled_ = cap == kLimit;
    base_ = pooled_ ? take_block() : (char*)malloc(cap);
    if (base_ == nullptr) return false;
    buf_ = base_;
    cap_ = cap;
    size_ = 0;
    return true;
  }

  void release() {
    if (base_ != nullptr) {
      if (pooled_) give_block(base_);
      else free(base_);
    }
    base_ = nullptr;
    buf_ = nullptr;
    size_ = 0;
    cap_ = 0;
  }

  char* base_ = nullptr;  // what was allocated (a pooled block or an exact-size one)
  char* buf_ = nullptr;   // the kept bytes (inside base_)
  size_t size_ = 0;
  size_t cap_ = 0;        // room from buf_
  size_t want_ = 0;
  bool pooled_ = false;
  bool ok_ = true;
};

}  // namespace sy
