#include "engine/grammar/token_trie.h"

#include <algorithm>

#include "base/check.h"

namespace inferd::engine {

TokenTrie::TokenTrie(std::span<const TokenId> ids, std::span<const std::string_view> bytes_by_id) {
  std::vector<std::pair<std::string_view, TokenId>> sorted;
  sorted.reserve(ids.size());
  for (TokenId id : ids) sorted.push_back({bytes_by_id[static_cast<size_t>(id)], id});
  std::sort(sorted.begin(), sorted.end());
  nodes_.reserve(sorted.size() * 2);
  first_token_.reserve(sorted.size() * 2 + 1);
  order_.reserve(sorted.size());
  std::vector<uint32_t> path;  // node index per depth - 1 on the current branch
  std::string_view prev;
  for (const auto& [s, id] : sorted) {
    INFERD_CHECK(!s.empty() && s.size() <= kMaxTokenBytes);
    size_t lcp = 0;
    while (lcp < prev.size() && lcp < s.size() && prev[lcp] == s[lcp]) ++lcp;
    while (path.size() > lcp) {
      nodes_[path.back()].end = static_cast<uint32_t>(nodes_.size());
      path.pop_back();
    }
    for (size_t d = lcp; d < s.size(); ++d) {
      path.push_back(static_cast<uint32_t>(nodes_.size()));
      nodes_.push_back({static_cast<uint8_t>(s[d]), 0, static_cast<uint16_t>(d + 1), 0});
      first_token_.push_back(static_cast<uint32_t>(order_.size()));
    }
    order_.push_back(id);
    max_depth_ = std::max(max_depth_, s.size());
    prev = s;
  }
  while (!path.empty()) {
    nodes_[path.back()].end = static_cast<uint32_t>(nodes_.size());
    path.pop_back();
  }
  first_token_.push_back(static_cast<uint32_t>(order_.size()));
}

}  // namespace inferd::engine
