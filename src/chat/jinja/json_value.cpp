#include "chat/jinja/json_value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "chat/jinja/unicode.h"
#include "chat/jinja/value_format.h"

namespace inferd::chat::jinja {
namespace {

Result<Value> convert(const nlohmann::ordered_json& j, uint32_t depth, uint32_t max_depth) {
  using Type = nlohmann::ordered_json::value_t;
  switch (j.type()) {
    case Type::null:
    case Type::discarded: return Value::none();
    case Type::boolean: return Value::boolean(j.get<bool>());
    case Type::number_integer: return Value::integer(j.get<int64_t>());
    case Type::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Value::integer(static_cast<int64_t>(u));
      }
      return Value::number(static_cast<double>(u));
    }
    case Type::number_float: return Value::number(j.get<double>());
    case Type::string: return Value::string(j.get<std::string>());
    case Type::binary: return invalid_argument("binary JSON values are not supported");
    case Type::array:
    case Type::object: break;
  }
  if (depth >= max_depth) {
    return invalid_argument("JSON value nested deeper than {} levels", max_depth);
  }
  if (j.is_array()) {
    std::vector<Value> items;
    items.reserve(j.size());
    for (const auto& item : j) {
      INFERD_ASSIGN_OR_RETURN(Value v, convert(item, depth + 1, max_depth));
      items.push_back(std::move(v));
    }
    return Value::list(std::move(items));
  }
  auto dict = std::make_shared<DictData>();
  for (const auto& [key, item] : j.items()) {
    INFERD_ASSIGN_OR_RETURN(Value v, convert(item, depth + 1, max_depth));
    INFERD_RETURN_IF_ERROR(dict->set(Value::string(key), std::move(v)));
  }
  return Value::dict(std::move(dict));
}

void append_u_escape(std::string& out, unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "\\u%04x", v);
  out += buf;
}

void append_json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out.push_back('"');
  size_t pos = 0;
  while (pos < s.size()) {
    const auto byte = static_cast<unsigned char>(s[pos]);
    if (byte < 0x80) {
      ++pos;
      switch (byte) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (byte < 0x20 || (ensure_ascii && byte == 0x7F)) {
            append_u_escape(out, byte);
          } else {
            out.push_back(static_cast<char>(byte));
          }
      }
      continue;
    }
    const size_t start = pos;
    const char32_t c = unicode::decode_next(s, pos);
    if (!ensure_ascii) {
      out.append(s.substr(start, pos - start));
    } else if (c >= 0x10000) {
      const char32_t v = c - 0x10000;
      append_u_escape(out, 0xD800 | static_cast<unsigned>(v >> 10));
      append_u_escape(out, 0xDC00 | static_cast<unsigned>(v & 0x3FF));
    } else {
      append_u_escape(out, static_cast<unsigned>(c));
    }
  }
  out.push_back('"');
}

std::string json_float(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f < 0 ? "-Infinity" : "Infinity";
  return float_repr(f);
}

class Dumper {
 public:
  Dumper(const JsonDumpOptions& options, size_t max_bytes)
      : options_(options),
        max_bytes_(max_bytes),
        item_sep_(options.item_separator.value_or(options.indent ? "," : ", ")),
        key_sep_(options.key_separator.value_or(": ")) {}

  Status dump(const Value& v, int level) {
    if (out_.size() > max_bytes_) {
      return resource_exhausted("JSON text exceeds the limit of {} bytes", max_bytes_);
    }
    switch (v.kind()) {
      case ValueKind::kNone: out_ += "null"; return Status::ok_status();
      case ValueKind::kBool: out_ += v.as_bool() ? "true" : "false"; return Status::ok_status();
      case ValueKind::kInt: out_ += std::to_string(v.as_int()); return Status::ok_status();
      case ValueKind::kFloat: out_ += json_float(v.as_float()); return Status::ok_status();
      case ValueKind::kString:
        append_json_string(out_, v.as_string(), options_.ensure_ascii);
        return Status::ok_status();
      case ValueKind::kList:
      case ValueKind::kTuple: return dump_array(v.items(), level);
      case ValueKind::kDict: return dump_object(v.as_dict(), level);
      default:
        return invalid_argument("Object of type {} is not JSON serializable", py_type_name(v));
    }
  }

  std::string take() { return std::move(out_); }

 private:
  void newline(int level) {
    if (!options_.indent) return;
    out_.push_back('\n');
    for (int i = 0; i < level; ++i) out_ += *options_.indent;
  }

  Status dump_array(const std::vector<Value>& items, int level) {
    if (items.empty()) {
      out_ += "[]";
      return Status::ok_status();
    }
    out_.push_back('[');
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out_ += item_sep_;
      newline(level + 1);
      INFERD_RETURN_IF_ERROR(dump(items[i], level + 1));
    }
    newline(level);
    out_.push_back(']');
    return Status::ok_status();
  }

  Result<std::string> key_text(const Value& key) {
    switch (key.kind()) {
      case ValueKind::kString: return key.as_string();
      case ValueKind::kNone: return std::string("null");
      case ValueKind::kBool: return std::string(key.as_bool() ? "true" : "false");
      case ValueKind::kInt: return std::to_string(key.as_int());
      case ValueKind::kFloat: return json_float(key.as_float());
      default:
        return invalid_argument("keys must be str, int, float, bool or None, not {}",
                                py_type_name(key));
    }
  }

  Status dump_object(const DictData& dict, int level) {
    if (dict.size() == 0) {
      out_ += "{}";
      return Status::ok_status();
    }
    std::vector<const std::pair<Value, Value>*> entries;
    entries.reserve(dict.size());
    for (const auto& entry : dict.entries()) entries.push_back(&entry);
    if (options_.sort_keys) {
      for (const auto* e : entries) {
        if (!e->first.is_string()) {
          return unsupported("sort_keys supports string keys only");
        }
      }
      std::stable_sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) {
        return a->first.as_string() < b->first.as_string();
      });
    }
    out_.push_back('{');
    bool first = true;
    for (const auto* e : entries) {
      if (!first) out_ += item_sep_;
      first = false;
      newline(level + 1);
      INFERD_ASSIGN_OR_RETURN(std::string key, key_text(e->first));
      append_json_string(out_, key, options_.ensure_ascii);
      out_ += key_sep_;
      INFERD_RETURN_IF_ERROR(dump(e->second, level + 1));
    }
    newline(level);
    out_.push_back('}');
    return Status::ok_status();
  }

  const JsonDumpOptions& options_;
  size_t max_bytes_;
  std::string item_sep_;
  std::string key_sep_;
  std::string out_;
};

}  // namespace

Result<Value> value_from_json(const nlohmann::ordered_json& json, uint32_t max_depth) {
  return convert(json, 0, max_depth);
}

Result<std::string> json_dumps(const Value& v, const JsonDumpOptions& options, size_t max_bytes) {
  Dumper dumper(options, max_bytes);
  INFERD_RETURN_IF_ERROR(dumper.dump(v, 0));
  std::string out = dumper.take();
  if (out.size() > max_bytes) {
    return resource_exhausted("JSON text exceeds the limit of {} bytes", max_bytes);
  }
  return out;
}

}  // namespace inferd::chat::jinja
