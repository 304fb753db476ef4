// PiiMasker: replaces personal data in text with a label naming its kind before the text is
// written to an audit log ("write to alice@example.com" -> "write to [EMAIL]").
//
// Kinds (each one table row in pii_masker.cpp: a pattern and an optional checksum):
//   EMAIL, PHONE (international "+48 601 234 567" and North American "(555) 123-4567" forms),
//   CARD (13-19 digits, spaces or dashes between groups, Luhn checksum), IBAN (ISO 13616
//   mod-97 checksum), IP (IPv4 dotted quads with octets <= 255, IPv6 with at least 3 groups),
//   PESEL (11 digits with the weighted checksum), SSN (AAA-GG-SSSS without the invalid areas
//   000, 666, 9xx, group 00 or serial 0000).
// plus configured patterns (a name and a PCRE2 expression). Digits that fail a kind's checksum
// stay as they are, so order numbers and timestamps survive. Where matches overlap, the one that
// starts first wins (the longer one when they start together).
//
// Thread safety: immutable after create(); mask() may run on any number of threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace inferd::server {

struct PiiPattern {
  std::string name;   // label, e.g. "EMPLOYEE_ID" -> "[EMPLOYEE_ID]"
  std::string regex;  // PCRE2 syntax
};

struct PiiMaskerOptions {
  // The built-in kinds to mask (names as above); empty = all of them.
  std::vector<std::string> kinds = {};
  std::vector<PiiPattern> extra = {};
};

class PiiMasker {
 public:
  // Errors: an unknown kind, an empty or malformed extra pattern or name (naming it).
  static Result<std::unique_ptr<PiiMasker>> create(const PiiMaskerOptions& options);
  ~PiiMasker();

  std::string mask(std::string_view text) const;
  // The names of the built-in kinds.
  static std::vector<std::string> builtin_kinds();

 private:
  struct Detector;
  PiiMasker();
  std::vector<Detector> detectors_;
};

}  // namespace inferd::server
