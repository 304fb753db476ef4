// GgufValue: one metadata value of a GGUF file (scalar, string, or typed array).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace inferd::format {

// Value type ids as stored in GGUF files.
enum class GgufType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};

const char* gguf_type_name(GgufType type);

struct GgufArray;

// Scalars keep their stored width so a file can be rewritten exactly; accessors widen.
class GgufValue {
 public:
  using Storage = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool,
                               std::string, std::shared_ptr<const GgufArray>, uint64_t, int64_t,
                               double>;
  GgufValue() = default;
  explicit GgufValue(Storage v) : v_(std::move(v)) {}

  GgufType type() const { return static_cast<GgufType>(v_.index()); }
  const Storage& storage() const { return v_; }

  bool is_integer() const;
  bool is_float() const { return type() == GgufType::kF32 || type() == GgufType::kF64; }
  // Integer value of any integer type (unsigned 64-bit values above INT64_MAX are not integers
  // for this accessor); REQUIRES is_integer().
  int64_t as_int() const;
  // Float value of any float or integer type; REQUIRES is_float() || is_integer().
  double as_double() const;
  const std::string* as_string() const { return std::get_if<std::string>(&v_); }
  const bool* as_bool() const { return std::get_if<bool>(&v_); }
  const GgufArray* as_array() const;

  // Short text for diagnostics (`inferd models`, errors): arrays show type and length.
  std::string to_display_string() const;

 private:
  Storage v_;
};

// Arrays are homogeneous; elements are stored in the vector matching `elem_type`.
struct GgufArray {
  GgufType elem_type = GgufType::kU8;
  std::variant<std::vector<uint8_t>, std::vector<int8_t>, std::vector<uint16_t>,
               std::vector<int16_t>, std::vector<uint32_t>, std::vector<int32_t>,
               std::vector<float>, std::vector<bool>, std::vector<std::string>,
               std::vector<GgufArray>, std::vector<uint64_t>, std::vector<int64_t>,
               std::vector<double>>
      items;

  size_t size() const;
  template <typename T>
  const std::vector<T>* get() const {
    return std::get_if<std::vector<T>>(&items);
  }
};

}  // namespace inferd::format
