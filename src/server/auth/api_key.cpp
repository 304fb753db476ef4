#include "server/auth/api_key.h"

#include <algorithm>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

namespace inferd::server::auth {
namespace {

constexpr std::string_view kBase62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kHashPrefix = "sha256:";
constexpr size_t kMaxPrefixChars = 25;  // 24 characters and the '_'

bool is_base62(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return kBase62.find(c) != std::string_view::npos; });
}

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Uniform base62 characters by rejection sampling (bytes >= 248 are redrawn).
Status append_random_base62(size_t n, std::string& out) {
  while (n > 0) {
    unsigned char bytes[64];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return internal_error("the CSPRNG failed (RAND_bytes)");
    for (unsigned char b : bytes) {
      if (n == 0) break;
      if (b >= 248) continue;
      out += kBase62[b % 62];
      --n;
    }
  }
  return {};
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string hex;
  hex.reserve(2 * sizeof digest);
  for (unsigned char d : digest) hex += fmt::format("{:02x}", d);
  return hex;
}

}  // namespace

std::optional<ApiKeyParts> parse_api_key(std::string_view key) {
  const size_t tail = kKeyIdChars + 1 + kKeySecretChars;
  if (key.size() < tail + 2 || key.size() > tail + kMaxPrefixChars) return std::nullopt;
  ApiKeyParts p;
  p.prefix = key.substr(0, key.size() - tail);
  p.id = key.substr(p.prefix.size(), kKeyIdChars);
  p.secret = key.substr(key.size() - kKeySecretChars);
  if (!check_key_prefix(p.prefix).ok() || key[key.size() - kKeySecretChars - 1] != '_' || !is_base62(p.id) ||
      !is_base62(p.secret))
    return std::nullopt;
  return p;
}

Status check_key_prefix(std::string_view prefix) {
  if (prefix.size() < 2 || prefix.size() > kMaxPrefixChars || prefix.back() != '_' ||
      !std::all_of(prefix.begin(), prefix.end() - 1, is_lower_alnum))
    return invalid_argument("a key prefix is 1-24 lowercase letters or digits followed by '_' (e.g. vista_), not '{}'",
                            prefix);
  return {};
}

Result<NewApiKey> generate_api_key(std::string_view prefix) {
  INFERD_RETURN_IF_ERROR(check_key_prefix(prefix));
  NewApiKey k;
  INFERD_RETURN_IF_ERROR(append_random_base62(kKeyIdChars, k.id));
  std::string secret;
  INFERD_RETURN_IF_ERROR(append_random_base62(kKeySecretChars, secret));
  k.key = fmt::format("{}{}_{}", prefix, k.id, secret);
  return k;
}

std::string hash_api_key(std::string_view key) { return std::string(kHashPrefix) + sha256_hex(key); }

Status check_key_hash(std::string_view hash) {
  const std::string_view hex = hash.substr(std::min(hash.size(), kHashPrefix.size()));
  if (!hash.starts_with(kHashPrefix) || hex.size() != 2 * SHA256_DIGEST_LENGTH ||
      !std::all_of(hex.begin(), hex.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
    return invalid_argument("expected sha256:<64 lowercase hex digits> (inferd keys hash KEY prints it)");
  return {};
}

bool api_key_matches(std::string_view stored_hash, std::string_view key) {
  const std::string computed = hash_api_key(key);
  return stored_hash.size() == computed.size() &&
         CRYPTO_memcmp(stored_hash.data(), computed.data(), computed.size()) == 0;
}

std::string key_display_name(std::string_view prefix, std::string_view id) {
  return fmt::format("{}{}_...", prefix, id);
}

}  // namespace inferd::server::auth
