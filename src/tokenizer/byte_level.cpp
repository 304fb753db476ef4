#include "tokenizer/byte_level.h"

#include "tokenizer/utf8.h"

namespace inferd::tokenizer {
namespace {

bool maps_to_itself(int b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct ByteLevelTables {
  std::array<uint32_t, 256> to_unicode{};
  std::array<std::string, 256> to_utf8;
  std::array<int16_t, 512> from_unicode{};  // every image lies below U+0200

  ByteLevelTables() {
    from_unicode.fill(-1);
    uint32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      const uint32_t cp = maps_to_itself(b) ? static_cast<uint32_t>(b) : next++;
      to_unicode[b] = cp;
      from_unicode[cp] = static_cast<int16_t>(b);
      utf8_append(to_utf8[b], cp);
    }
  }
};

const ByteLevelTables& tables() {
  static const ByteLevelTables t;
  return t;
}

}  // namespace

uint32_t byte_to_unicode(uint8_t byte) {
  return tables().to_unicode[byte];
}

std::string_view byte_to_unicode_utf8(uint8_t byte) {
  return tables().to_utf8[byte];
}

int unicode_to_byte(uint32_t cp) {
  return cp < tables().from_unicode.size() ? tables().from_unicode[cp] : -1;
}

void byte_level_decode_append(std::string& out, std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    const uint32_t cp = utf8_decode(text, pos);
    const int b = unicode_to_byte(cp);
    if (b >= 0) {
      out.push_back(static_cast<char>(b));
    } else {
      out.append(text.data() + start, pos - start);
    }
  }
}

}  // namespace inferd::tokenizer
