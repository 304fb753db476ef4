// Redis Cluster key slots: which of the 16384 hash slots a key belongs to.
//
// The slot is CRC16 (XMODEM: polynomial 0x1021, initial value 0) of the key modulo 16384, or of
// its hash tag when it has one: the bytes between the first '{' and the first '}' after it, when
// that span is not empty. Keys with the same tag ("a:{user1}:x", "b:{user1}") share a slot, which
// is what lets one transaction or script touch all of them on a cluster.
#pragma once

#include <cstdint>
#include <string_view>

namespace inferd::server::sessions {

inline constexpr uint16_t kRedisClusterSlots = 16384;

// CRC16/XMODEM of `bytes` (crc16("123456789") == 0x31C3).
uint16_t redis_crc16(std::string_view bytes);

// The part of `key` that is hashed: its hash tag, or the whole key.
std::string_view redis_hashed_part(std::string_view key);

// The cluster slot of `key`, 0-16383.
uint16_t redis_key_slot(std::string_view key);

}  // namespace inferd::server::sessions
