#include "tokenizer/special_token_matcher.h"

#include <algorithm>
#include <map>

namespace inferd::tokenizer {
namespace {

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

}  // namespace

SpecialTokenMatcher::SpecialTokenMatcher(const Vocab& vocab, std::vector<uint8_t> lstrip,
                                         std::vector<uint8_t> rstrip)
    : lstrip_(std::move(lstrip)), rstrip_(std::move(rstrip)) {
  // Build a pointer trie first, then flatten it into sorted edge arrays.
  struct BuildNode {
    std::map<uint8_t, uint32_t> children;
    TokenId token = kNoToken;
    bool always = false;
  };
  std::vector<BuildNode> build(1);
  for (TokenId id = 0; id < vocab.size(); ++id) {
    const TokenType type = vocab.type(id);
    const std::string_view text = vocab.text(id);
    if (!is_partition_type(type) || text.empty()) continue;
    uint32_t node = 0;
    for (char c : text) {
      const auto b = static_cast<uint8_t>(c);
      auto it = build[node].children.find(b);
      if (it == build[node].children.end()) {
        build.emplace_back();
        it = build[node].children.emplace(b, static_cast<uint32_t>(build.size() - 1)).first;
      }
      node = it->second;
    }
    build[node].token = id;
    build[node].always = type == TokenType::kUserDefined;
    first_byte_[static_cast<uint8_t>(text[0])] = true;
  }
  nodes_.resize(build.size());
  for (size_t i = 0; i < build.size(); ++i) {
    nodes_[i].first_edge = static_cast<uint32_t>(edges_.size());
    nodes_[i].num_edges = static_cast<uint16_t>(build[i].children.size());
    nodes_[i].token = build[i].token;
    nodes_[i].always = build[i].always;
    for (const auto& [b, child] : build[i].children) edges_.push_back({b, child});
  }
}

TokenId SpecialTokenMatcher::longest_match(std::string_view text, size_t pos, bool parse_special,
                                           size_t& len) const {
  TokenId best = kNoToken;
  uint32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const Node& n = nodes_[node];
    const auto b = static_cast<uint8_t>(text[i]);
    const Edge* begin = edges_.data() + n.first_edge;
    const Edge* end = begin + n.num_edges;
    const Edge* e =
        std::lower_bound(begin, end, b, [](const Edge& x, uint8_t v) { return x.byte < v; });
    if (e == end || e->byte != b) break;
    node = e->child;
    const Node& m = nodes_[node];
    if (m.token != kNoToken && (parse_special || m.always)) {
      best = m.token;
      len = i + 1 - pos;
    }
  }
  return best;
}

void SpecialTokenMatcher::partition(std::string_view text, bool parse_special,
                                    std::vector<Segment>& out) const {
  out.clear();
  size_t raw_start = 0;
  size_t pos = 0;
  auto flag = [](const std::vector<uint8_t>& flags, TokenId id) {
    return !flags.empty() && flags[id] != 0;
  };
  while (pos < text.size()) {
    size_t len = 0;
    const TokenId id = first_byte_[static_cast<uint8_t>(text[pos])]
                           ? longest_match(text, pos, parse_special, len)
                           : kNoToken;
    if (id == kNoToken) {
      ++pos;
      continue;
    }
    size_t raw_end = pos;
    if (flag(lstrip_, id))
      while (raw_end > raw_start && is_ascii_space(text[raw_end - 1])) --raw_end;
    if (raw_end > raw_start) out.push_back({raw_start, raw_end - raw_start, kNoToken});
    out.push_back({pos, len, id});
    pos += len;
    if (flag(rstrip_, id))
      while (pos < text.size() && is_ascii_space(text[pos])) ++pos;
    raw_start = pos;
  }
  if (raw_start < text.size()) out.push_back({raw_start, text.size() - raw_start, kNoToken});
}

}  // namespace inferd::tokenizer
