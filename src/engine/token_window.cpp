#include "inferd/token_window.h"

#include <algorithm>

#include "base/check.h"

namespace inferd {

TokenWindow::TokenWindow(int vocab_size, int32_t window) : window_(window) {
  INFERD_CHECK(vocab_size > 0 && window >= -1);
  if (window_ == 0) return;
  slot_.assign(static_cast<size_t>(vocab_size), -1);
  const size_t max_distinct =
      window_ < 0 ? static_cast<size_t>(vocab_size) : std::min<size_t>(vocab_size, window_);
  distinct_.reserve(max_distinct);
  if (window_ > 0) recent_.reserve(2 * static_cast<size_t>(std::min(window_, kPreallocTokens)));
}

void TokenWindow::add(TokenId token) {
  int32_t& slot = slot_[static_cast<size_t>(token)];
  if (slot < 0) {
    slot = static_cast<int32_t>(distinct_.size());
    distinct_.push_back({token, 1});
  } else {
    ++distinct_[static_cast<size_t>(slot)].count;
  }
}

void TokenWindow::remove(TokenId token) {
  int32_t& slot = slot_[static_cast<size_t>(token)];
  INFERD_CHECK(slot >= 0);
  Entry& e = distinct_[static_cast<size_t>(slot)];
  if (--e.count > 0) return;
  // Swap-remove: the last entry takes the freed place.
  const Entry last = distinct_.back();
  distinct_[static_cast<size_t>(slot)] = last;
  slot_[static_cast<size_t>(last.id)] = slot;
  distinct_.pop_back();
  slot = -1;
}

void TokenWindow::push(TokenId token) {
  if (window_ == 0) return;
  INFERD_CHECK(token >= 0 && static_cast<size_t>(token) < slot_.size());
  add(token);
  if (window_ < 0) {
    ++num_tokens_;
    return;
  }
  recent_.push_back(token);
  if (recent_.size() - oldest_ > static_cast<size_t>(window_)) remove(recent_[oldest_++]);
  // Drop the tokens that left the window once they are as many as the window holds, so the
  // buffer stays below 2 * window tokens at amortised O(1) per push.
  if (oldest_ >= static_cast<size_t>(window_)) {
    recent_.erase(recent_.begin(), recent_.begin() + static_cast<std::ptrdiff_t>(oldest_));
    oldest_ = 0;
  }
  num_tokens_ = recent_.size() - oldest_;
}

int32_t TokenWindow::count(TokenId token) const {
  if (token < 0 || static_cast<size_t>(token) >= slot_.size()) return 0;
  const int32_t slot = slot_[static_cast<size_t>(token)];
  return slot < 0 ? 0 : distinct_[static_cast<size_t>(slot)].count;
}

}  // namespace inferd
