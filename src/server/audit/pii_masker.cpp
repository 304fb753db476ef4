#include "server/audit/pii_masker.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>

#include "tokenizer/hf_regex.h"

namespace inferd::server {
namespace {

// Given a match of a kind's pattern, the length of its prefix that really is that kind (the whole
// match, a shorter prefix, or 0 to reject it).
using Validator = size_t (*)(std::string_view match);

std::string digits_of(std::string_view s) {
  std::string d;
  for (char c : s)
    if (std::isdigit(static_cast<unsigned char>(c))) d.push_back(c);
  return d;
}

size_t luhn(std::string_view match) {
  const std::string d = digits_of(match);
  if (d.size() < 13 || d.size() > 19) return 0;
  int sum = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    int v = d[d.size() - 1 - i] - '0';
    if (i % 2 == 1) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
    sum += v;
  }
  return sum % 10 == 0 ? match.size() : 0;
}

// ISO 13616: the country code and check digits moved to the end, letters as 10..35, mod 97 == 1.
bool iban_checksum_ok(std::string_view compact) {
  if (compact.size() < 15 || compact.size() > 34) return false;
  int remainder = 0;
  const std::string rotated = std::string(compact.substr(4)) + std::string(compact.substr(0, 4));
  for (char c : rotated) {
    const int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : c - 'A' + 10;
    remainder = (v >= 10 ? remainder * 100 : remainder * 10) + v;
    remainder %= 97;
  }
  return remainder == 1;
}

// The longest prefix ending at a group boundary whose checksum holds (the pattern may have taken
// a following upper-case word as one more group).
size_t iban(std::string_view match) {
  for (size_t end = match.size(); end >= 15; --end) {
    if (end < match.size() && match[end] != ' ') continue;
    std::string compact;
    for (char c : match.substr(0, end))
      if (c != ' ') compact.push_back(c);
    if (iban_checksum_ok(compact)) return end;
  }
  return 0;
}

size_t pesel(std::string_view match) {
  static constexpr int kWeights[10] = {1, 3, 7, 9, 1, 3, 7, 9, 1, 3};
  int sum = 0;
  for (int i = 0; i < 10; ++i) sum += kWeights[i] * (match[i] - '0');
  if ((10 - sum % 10) % 10 != match[10] - '0') return 0;
  const int month = (match[2] - '0') * 10 + (match[3] - '0');
  const int day = (match[4] - '0') * 10 + (match[5] - '0');
  return month % 20 >= 1 && month % 20 <= 12 && day >= 1 && day <= 31 ? match.size() : 0;
}

size_t phone(std::string_view match) {
  const size_t n = digits_of(match).size();
  return n >= 8 && n <= 15 ? match.size() : 0;
}

size_t ip_address(std::string_view match) {
  const std::string s(match);
  unsigned char buf[16];
  const int family = s.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (family == AF_INET6 && std::count(s.begin(), s.end(), ':') < 2) return 0;
  if (family == AF_INET6 && std::none_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
    return 0;
  return inet_pton(family, s.c_str(), buf) == 1 ? match.size() : 0;
}

struct Kind {
  const char* name;
  const char* regex;
  Validator validate;  // nullptr: every match
};

// The built-in kinds. Look-arounds keep a pattern from starting or ending inside a longer run of
// digits or word characters.
constexpr Kind kKinds[] = {
    {"EMAIL", R"([\p{L}\p{N}._%+-]+@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+\p{L}{2,}(?![\p{L}\p{N}_-]))", nullptr},
    {"CARD", R"((?<![\d-])\d(?:[ -]?\d){12,18}(?!\d))", luhn},
    {"IBAN", R"((?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![a-z0-9]))", iban},
    {"SSN", R"((?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-]))", nullptr},
    {"PESEL", R"((?<!\d)\d{11}(?!\d))", pesel},
    {"PHONE", R"((?<![\w+])\+[1-9]\d{0,2}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,4})){2,5}(?!\w)|(?<![\w(])(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}(?![\w-]))", phone},
    {"IP", R"((?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])|(?<![\w.:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w.:]))", ip_address},
};

}  // namespace

struct PiiMasker::Detector {
  std::string label;  // "[EMAIL]"
  tokenizer::HfRegex regex;
  Validator validate;
};

PiiMasker::PiiMasker() = default;
PiiMasker::~PiiMasker() = default;

std::vector<std::string> PiiMasker::builtin_kinds() {
  std::vector<std::string> out;
  for (const Kind& k : kKinds) out.emplace_back(k.name);
  return out;
}

Result<std::unique_ptr<PiiMasker>> PiiMasker::create(const PiiMaskerOptions& options) {
  std::unique_ptr<PiiMasker> m(new PiiMasker());
  for (const std::string& name : options.kinds)
    if (std::none_of(std::begin(kKinds), std::end(kKinds), [&](const Kind& k) { return name == k.name; }))
      return invalid_argument("unknown PII kind '{}'", name);
  for (const Kind& k : kKinds) {
    if (!options.kinds.empty() && std::find(options.kinds.begin(), options.kinds.end(), k.name) == options.kinds.end())
      continue;
    auto re = tokenizer::HfRegex::compile(k.regex, false);
    if (!re.ok()) return re.status();  // a broken built-in pattern: the tests catch it
    m->detectors_.push_back({fmt::format("[{}]", k.name), std::move(re).value(), k.validate});
  }
  for (const PiiPattern& p : options.extra) {
    const bool name_ok = !p.name.empty() && std::all_of(p.name.begin(), p.name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
    if (!name_ok) return invalid_argument("PII pattern name '{}' must be letters, digits or '_'", p.name);
    if (p.regex.empty()) return invalid_argument("PII pattern '{}' is empty", p.name);
    auto re = tokenizer::HfRegex::compile(p.regex, false);
    if (!re.ok()) return invalid_argument("PII pattern '{}': {}", p.name, re.status().message());
    m->detectors_.push_back({fmt::format("[{}]", p.name), std::move(re).value(), nullptr});
  }
  return m;
}

std::string PiiMasker::mask(std::string_view text) const {
  struct Hit {
    size_t begin, end;
    const std::string* label;
  };
  std::vector<Hit> hits;
  for (const Detector& d : detectors_) {
    for (const tokenizer::TextSpan& span : d.regex.find_all(text)) {
      const std::string_view match = text.substr(span.offset, span.length);
      const size_t length = d.validate ? d.validate(match) : match.size();
      if (length > 0) hits.push_back({span.offset, span.offset + length, &d.label});
    }
  }
  if (hits.empty()) return std::string(text);
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
  });
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const Hit& h : hits) {
    if (h.begin < pos) continue;  // overlaps a hit already masked
    out.append(text.substr(pos, h.begin - pos));
    out.append(*h.label);
    pos = h.end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace inferd::server
