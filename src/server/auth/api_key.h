// API keys: their text form, generation and hashing.
//
// A key reads "<prefix><id>_<secret>", e.g. "vista_7Kq2mZp9aQeT_4fR...": the prefix is the
// service's convention (lowercase letters and digits ending in '_': vista_, whisp_, fork_, data_,
// voice_, lbrx_); the id (12 base62 characters) names the key in lists, logs and the audit log; the
// secret (32 base62 characters, about 190 random bits from the CSPRNG) is shown once at creation
// and never stored.
//
// Stored form: "sha256:<64 hex>" of the whole key. A fast hash is the right choice here: slow
// password hashes (bcrypt, scrypt, Argon2) exist to make guessing low-entropy human passwords
// expensive, while a 190-bit random secret cannot be guessed however fast the hash is, and every
// request verifies a key, so a deliberately slow hash would cost each request milliseconds of CPU
// for no gain. Verification compares hashes in constant time.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace inferd::server::auth {

inline constexpr size_t kKeyIdChars = 12;
inline constexpr size_t kKeySecretChars = 32;
inline constexpr std::string_view kDefaultKeyPrefix = "inferd_";

struct ApiKeyParts {
  std::string_view prefix;  // with its trailing '_'
  std::string_view id;
  std::string_view secret;
};

// The parts of a well-formed key; nullopt for anything else (never an error message that could
// echo the text).
std::optional<ApiKeyParts> parse_api_key(std::string_view key);

// Errors: a prefix other than 1-24 lowercase letters or digits followed by '_'.
Status check_key_prefix(std::string_view prefix);

struct NewApiKey {
  std::string key;  // the whole key, to hand to its owner once
  std::string id;
};
// Errors: a bad prefix, the CSPRNG failing.
Result<NewApiKey> generate_api_key(std::string_view prefix);

// "sha256:<64 lowercase hex>" of the key.
std::string hash_api_key(std::string_view key);
// Errors: anything but the form hash_api_key writes.
Status check_key_hash(std::string_view hash);
// Whether `key` hashes to `stored_hash`, compared in constant time.
bool api_key_matches(std::string_view stored_hash, std::string_view key);

// The key as lists and messages show it: "<prefix><id>_..." (never the secret).
std::string key_display_name(std::string_view prefix, std::string_view id);

}  // namespace inferd::server::auth
