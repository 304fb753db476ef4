#include "server/http/request_id.h"

#include <cstdint>
#include <random>

#include <fmt/format.h>

namespace inferd::server {

std::string new_request_id() {
  thread_local std::mt19937_64 rng = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  const uint64_t hi = rng();
  const uint64_t lo = rng();
  return fmt::format("req_{:016x}{:016x}", hi, lo);
}

bool is_acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace inferd::server
