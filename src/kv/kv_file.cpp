#include "kv/kv_file.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace inferd::kv {
namespace {

constexpr char kMagic[8] = {'I', 'N', 'F', 'D', 'K', 'V', '0', '1'};
constexpr uint32_t kVersion = 2;
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 + 4 + 4 + 4 + 4;
constexpr uint32_t kMaxTokens = 1u << 24;

uint64_t checksum(const uint8_t* p, size_t n) {
  // FNV-1a over 8-byte words, then the tail bytes.
  uint64_t h = 0xCBF29CE484222325ull;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x100000001B3ull;
  }
  for (; i < n; ++i) h = (h ^ p[i]) * 0x100000001B3ull;
  return h;
}

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &v, sizeof(T));
}

template <typename T>
T get(const uint8_t*& p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  p += sizeof(T);
  return v;
}

}  // namespace

Status write_kv_file(const std::string& path, const KvFileShape& shape, const KvFileContents& c) {
  const size_t blocks = c.tokens.size() / shape.block_size;
  if (c.tokens.size() % shape.block_size != 0 || c.keys.size() != blocks * shape.block_key_bytes() ||
      c.values.size() != blocks * shape.block_value_bytes())
    return invalid_argument("KV file contents do not hold whole blocks");
  std::vector<uint8_t> out;
  out.reserve(kHeaderBytes + c.tokens.size() * 4 + c.keys.size() + c.values.size() + 8);
  out.insert(out.end(), kMagic, kMagic + 8);
  put(out, kVersion);
  put(out, shape.block_size);
  put(out, shape.model_fingerprint);
  put(out, shape.layers);
  put(out, shape.key_row_bytes);
  put(out, shape.value_row_bytes);
  put(out, static_cast<uint32_t>(c.tokens.size()));
  for (TokenId t : c.tokens) put(out, static_cast<int32_t>(t));
  for (size_t b = 0; b < blocks; ++b) {
    const auto* k = c.keys.data() + b * shape.block_key_bytes();
    const auto* v = c.values.data() + b * shape.block_value_bytes();
    out.insert(out.end(), k, k + shape.block_key_bytes());
    out.insert(out.end(), v, v + shape.block_value_bytes());
  }
  put(out, checksum(out.data(), out.size()));

  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return io_error("cannot write {}", tmp);
    f.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
    if (!f) return io_error("cannot write {}", tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return io_error("cannot rename {} to {}: {}", tmp, path, ec.message());
  return {};
}

Result<KvFileContents> read_kv_file(const std::string& path, const KvFileShape& expected) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return not_found("no KV file {}", path);
  std::vector<uint8_t> in((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto bad = [&](const std::string& why) { return invalid_argument("KV file {}: {}", path, why); };
  if (in.size() < kHeaderBytes + 8) return bad("truncated header");
  if (std::memcmp(in.data(), kMagic, 8) != 0) return bad("not a KV file");
  uint64_t stored;
  std::memcpy(&stored, in.data() + in.size() - 8, 8);
  if (stored != checksum(in.data(), in.size() - 8)) return bad("checksum mismatch (corrupt or truncated)");
  const uint8_t* p = in.data() + 8;
  const auto version = get<uint32_t>(p);
  if (version != kVersion) return bad("unsupported version " + std::to_string(version));
  KvFileShape s;
  s.block_size = get<uint32_t>(p);
  s.model_fingerprint = get<uint64_t>(p);
  s.layers = get<uint32_t>(p);
  s.key_row_bytes = get<uint32_t>(p);
  s.value_row_bytes = get<uint32_t>(p);
  const auto num_tokens = get<uint32_t>(p);
  if (s.model_fingerprint != expected.model_fingerprint) return bad("saved from another model");
  if (s.block_size != expected.block_size || s.layers != expected.layers ||
      s.key_row_bytes != expected.key_row_bytes || s.value_row_bytes != expected.value_row_bytes)
    return bad("its cache layout differs from this server's (block size, layers or row sizes)");
  if (num_tokens > kMaxTokens || num_tokens % s.block_size != 0) return bad("bad token count");
  const size_t blocks = num_tokens / s.block_size;
  const size_t need = kHeaderBytes + size_t{num_tokens} * 4 + blocks * (s.block_key_bytes() + s.block_value_bytes()) + 8;
  if (in.size() != need) return bad("size does not match its header");
  KvFileContents c;
  c.tokens.resize(num_tokens);
  for (auto& t : c.tokens) t = get<int32_t>(p);
  c.keys.resize(blocks * s.block_key_bytes());
  c.values.resize(blocks * s.block_value_bytes());
  for (size_t b = 0; b < blocks; ++b) {
    std::memcpy(c.keys.data() + b * s.block_key_bytes(), p, s.block_key_bytes());
    p += s.block_key_bytes();
    std::memcpy(c.values.data() + b * s.block_value_bytes(), p, s.block_value_bytes());
    p += s.block_value_bytes();
  }
  return c;
}

}  // namespace inferd::kv
