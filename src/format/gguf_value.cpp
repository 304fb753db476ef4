#include "format/gguf_value.h"

#include <limits>

#include <fmt/format.h>

#include "base/check.h"

namespace inferd::format {

const char* gguf_type_name(GgufType type) {
  static constexpr const char* kNames[] = {"u8",  "i8",     "u16",   "i16", "u32",
                                           "i32", "f32",    "bool",  "string",
                                           "array", "u64",  "i64",   "f64"};
  const auto i = static_cast<uint32_t>(type);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

bool GgufValue::is_integer() const {
  switch (type()) {
    case GgufType::kU8: case GgufType::kI8: case GgufType::kU16: case GgufType::kI16:
    case GgufType::kU32: case GgufType::kI32: case GgufType::kI64:
      return true;
    case GgufType::kU64:
      return std::get<uint64_t>(v_) <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    default:
      return false;
  }
}

int64_t GgufValue::as_int() const {
  INFERD_CHECK(is_integer());
  return std::visit(
      [](const auto& x) -> int64_t {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) return static_cast<int64_t>(x);
        else return 0;
      },
      v_);
}

double GgufValue::as_double() const {
  if (type() == GgufType::kF32) return std::get<float>(v_);
  if (type() == GgufType::kF64) return std::get<double>(v_);
  if (type() == GgufType::kU64) return static_cast<double>(std::get<uint64_t>(v_));
  return static_cast<double>(as_int());
}

const GgufArray* GgufValue::as_array() const {
  auto* p = std::get_if<std::shared_ptr<const GgufArray>>(&v_);
  return p ? p->get() : nullptr;
}

size_t GgufArray::size() const {
  return std::visit([](const auto& v) { return v.size(); }, items);
}

std::string GgufValue::to_display_string() const {
  if (const auto* s = as_string()) {
    if (s->size() > 80) return fmt::format("\"{}...\" ({} bytes)", s->substr(0, 77), s->size());
    return fmt::format("\"{}\"", *s);
  }
  if (const auto* b = as_bool()) return *b ? "true" : "false";
  if (const auto* a = as_array()) return fmt::format("[{} x {}]", a->size(), gguf_type_name(a->elem_type));
  if (is_float()) return fmt::format("{}", as_double());
  if (type() == GgufType::kU64) return fmt::format("{}", std::get<uint64_t>(v_));
  return fmt::format("{}", as_int());
}

}  // namespace inferd::format
