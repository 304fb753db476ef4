// KV files: the keys and values of a token prefix saved to disk, so long system prompts and
// conversations survive a restart. A file holds whole blocks of one model's KV cache:
//
//   magic "INFDKV01" | u32 version (2) | u32 block_size | u64 model fingerprint |
//   u32 layers | u32 key row bytes | u32 value row bytes | u32 token count (a multiple of
//   block_size) | tokens (i32 each) | per block: keys, then values (each in the order
//   [layer][KV head][position][head dim] of KvCache::read_block) | u64 checksum of everything
//   before it
//
// Version 2 holds each block head-major as above; files of version 1 (rows of all heads by
// position) are refused like any other version. All integers little-endian. Reading checks
// every field against the model and cache it is restored into, the sizes against the file size,
// and the checksum, so a corrupt, truncated or foreign file is a clear error and never a partial
// restore.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "inferd/token_id.h"

namespace inferd::kv {

// What a KV file must agree with.
struct KvFileShape {
  uint32_t block_size = 0;
  uint64_t model_fingerprint = 0;
  uint32_t layers = 0;
  uint32_t key_row_bytes = 0;    // bytes of one position's keys in one layer
  uint32_t value_row_bytes = 0;  // likewise for values
  size_t block_key_bytes() const { return static_cast<size_t>(layers) * block_size * key_row_bytes; }
  size_t block_value_bytes() const { return static_cast<size_t>(layers) * block_size * value_row_bytes; }
};

struct KvFileContents {
  std::vector<TokenId> tokens;
  std::vector<uint8_t> keys;    // block after block
  std::vector<uint8_t> values;  // block after block
};

// Writes atomically (a temporary file renamed over `path`). REQUIRES: tokens.size() is a multiple
// of the block size and keys/values hold that many blocks.
Status write_kv_file(const std::string& path, const KvFileShape& shape, const KvFileContents& contents);
Result<KvFileContents> read_kv_file(const std::string& path, const KvFileShape& expected);

}  // namespace inferd::kv
