#include "chat/output_parser_utf8.h"

#include <cstdint>

namespace inferd::chat {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the character a lead byte starts and the allowed range of its second byte;
// length 0 for bytes that cannot start a character.
struct LeadInfo {
  uint8_t length;
  uint8_t second_min;
  uint8_t second_max;
};

LeadInfo lead_info(uint8_t b) {
  if (b < 0x80) return {1, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b >= 0xE1 && b <= 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

// Appends the well-formed part of data to *out; returns how many trailing bytes form an
// incomplete (but so far well-formed) character.
size_t sanitize(std::string_view data, std::string* out) {
  size_t i = 0;
  while (i < data.size()) {
    const uint8_t b = static_cast<uint8_t>(data[i]);
    if (b < 0x80) {
      // Copy the ASCII run in one go.
      size_t j = i + 1;
      while (j < data.size() && static_cast<uint8_t>(data[j]) < 0x80) ++j;
      out->append(data.substr(i, j - i));
      i = j;
      continue;
    }
    const LeadInfo info = lead_info(b);
    if (info.length == 0) {
      out->append(kReplacement);
      ++i;
      continue;
    }
    size_t k = 1;
    bool ill_formed = false;
    while (k < info.length) {
      if (i + k >= data.size()) return data.size() - i;  // incomplete: hold it
      const uint8_t c = static_cast<uint8_t>(data[i + k]);
      const uint8_t lo = k == 1 ? info.second_min : 0x80;
      const uint8_t hi = k == 1 ? info.second_max : 0xBF;
      if (c < lo || c > hi) {
        ill_formed = true;
        break;
      }
      ++k;
    }
    if (ill_formed) {
      out->append(kReplacement);  // the maximal subpart data[i, i + k)
    } else {
      out->append(data.substr(i, k));
    }
    i += k;
  }
  return 0;
}

}  // namespace

void Utf8Sanitizer::append(std::string_view delta, std::string* out) {
  if (held_.empty()) {
    const size_t held = sanitize(delta, out);
    held_.assign(delta.substr(delta.size() - held));
    return;
  }
  std::string data = std::move(held_);
  data.append(delta);
  const size_t held = sanitize(data, out);
  held_ = data.substr(data.size() - held);
}

void Utf8Sanitizer::finish(std::string* out) {
  if (!held_.empty()) out->append(kReplacement);
  held_.clear();
}

}  // namespace inferd::chat
