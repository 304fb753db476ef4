// Utf8Sanitizer: makes streamed text well-formed UTF-8 without depending on where the stream was
// split. A character split across deltas is held until it completes; every maximal ill-formed
// subpart (Unicode's "substitution of maximal subparts") becomes one U+FFFD.
#pragma once

#include <string>
#include <string_view>

namespace inferd::chat {

class Utf8Sanitizer {
 public:
  // Appends the well-formed text of `delta` (after any held bytes) to *out.
  void append(std::string_view delta, std::string* out);
  // Ends the stream: a held incomplete character becomes U+FFFD.
  void finish(std::string* out);

 private:
  std::string held_;  // a proper prefix of a well-formed multi-byte character (at most 3 bytes)
};

}  // namespace inferd::chat
