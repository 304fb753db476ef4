// Test helper: an independent validator for the JSON Schema subset JsonSchemaCompiler supports,
// used to check that generated text is valid and that test data means what it says. Patterns
// use std::wregex (ECMAScript) rather than the compiler's own regex translation; formats are
// checked with plain code. check() returns "" when `instance` is valid, else the first reason.
#pragma once

#include <algorithm>
#include <cmath>
#include <regex>
#include <string>

#include <nlohmann/json.hpp>

#include "tokenizer/utf8.h"

namespace inferd::engine::testing {

class JsonSchemaChecker {
 public:
  using Json = nlohmann::ordered_json;

  explicit JsonSchemaChecker(const Json& root) : root_(root) {}

  std::string check(const Json& instance) const { return check(root_, instance, "#", 0); }

 private:
  static std::wstring widen(const std::string& s) {
    std::wstring out;
    size_t pos = 0;
    while (pos < s.size()) out += static_cast<wchar_t>(tokenizer::utf8_decode(s, pos));
    return out;
  }

  static size_t code_points(const std::string& s) {
    size_t n = 0, pos = 0;
    while (pos < s.size()) {
      tokenizer::utf8_decode(s, pos);
      ++n;
    }
    return n;
  }

  static bool digits(const std::string& s, size_t pos, size_t n) {
    if (pos + n > s.size()) return false;
    for (size_t i = pos; i < pos + n; ++i)
      if (s[i] < '0' || s[i] > '9') return false;
    return true;
  }
  static int num(const std::string& s, size_t pos, size_t n) { return std::stoi(s.substr(pos, n)); }

  static bool is_date(const std::string& s) {
    if (s.size() != 10 || !digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' || !digits(s, 8, 2))
      return false;
    const int y = num(s, 0, 4), m = num(s, 5, 2), d = num(s, 8, 2);
    if (m < 1 || m > 12 || d < 1) return false;
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
  }

  static bool is_time(const std::string& s) {
    if (s.size() < 9 || !digits(s, 0, 2) || s[2] != ':' || !digits(s, 3, 2) || s[5] != ':' || !digits(s, 6, 2))
      return false;
    if (num(s, 0, 2) > 23 || num(s, 3, 2) > 59 || num(s, 6, 2) > 59) return false;
    size_t pos = 8;
    if (s[pos] == '.') {
      size_t n = 0;
      while (pos + 1 + n < s.size() && s[pos + 1 + n] >= '0' && s[pos + 1 + n] <= '9') ++n;
      if (n == 0) return false;
      pos += 1 + n;
    }
    if (pos == s.size()) return false;
    if (s[pos] == 'Z' || s[pos] == 'z') return pos + 1 == s.size();
    if ((s[pos] != '+' && s[pos] != '-') || s.size() != pos + 6) return false;
    return digits(s, pos + 1, 2) && s[pos + 3] == ':' && digits(s, pos + 4, 2) && num(s, pos + 1, 2) <= 23 &&
           num(s, pos + 4, 2) <= 59;
  }

  static bool is_uuid(const std::string& s) {
    if (s.size() != 36) return false;
    for (size_t i = 0; i < s.size(); ++i) {
      if (i == 8 || i == 13 || i == 18 || i == 23) {
        if (s[i] != '-') return false;
      } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
        return false;
      }
    }
    return true;
  }

  static bool is_email(const std::string& s) {
    static const std::regex re(R"(^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@([A-Za-z0-9]+(-[A-Za-z0-9]+)*\.)+[A-Za-z]{2,}$)");
    return std::regex_match(s, re);
  }

  static bool format_ok(const std::string& format, const std::string& s) {
    if (format == "date") return is_date(s);
    if (format == "time") return is_time(s);
    if (format == "date-time") {
      const size_t t = s.find_first_of("Tt");
      return t != std::string::npos && is_date(s.substr(0, t)) && is_time(s.substr(t + 1));
    }
    if (format == "uuid") return is_uuid(s);
    if (format == "email") return is_email(s);
    return true;  // other formats are annotations
  }

  static bool has_type(const Json& v, const std::string& t) {
    if (t == "null") return v.is_null();
    if (t == "boolean") return v.is_boolean();
    if (t == "string") return v.is_string();
    if (t == "number") return v.is_number();
    if (t == "integer")
      return v.is_number_integer() || (v.is_number_float() && v.get<double>() == std::floor(v.get<double>()));
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    return false;
  }

  const Json& resolve(const std::string& ref) const {
    if (ref == "#") return root_;
    std::string pointer;
    for (size_t i = 1; i < ref.size(); ++i) {
      if (ref[i] == '%' && i + 2 < ref.size()) {
        pointer += static_cast<char>(std::stoi(ref.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        pointer += ref[i];
      }
    }
    return root_.at(Json::json_pointer(pointer));
  }

  std::string check(const Json& s, const Json& v, const std::string& path, int depth) const {
    if (depth > 200) return path + ": too deep";
    if (s.is_boolean()) return s.get<bool>() ? "" : path + ": schema false";
    if (s.contains("$ref")) {
      const std::string r = check(resolve(s["$ref"].get<std::string>()), v, path, depth + 1);
      if (!r.empty()) return r;
    }
    if (s.contains("allOf"))
      for (const Json& part : s["allOf"]) {
        const std::string r = check(part, v, path, depth + 1);
        if (!r.empty()) return r;
      }
    if (s.contains("anyOf")) {
      bool any = false;
      for (const Json& part : s["anyOf"]) any |= check(part, v, path, depth + 1).empty();
      if (!any) return path + ": matches no anyOf alternative";
    }
    if (s.contains("oneOf")) {
      int n = 0;
      for (const Json& part : s["oneOf"]) n += check(part, v, path, depth + 1).empty();
      if (n != 1) return path + ": matches " + std::to_string(n) + " oneOf alternatives";
    }
    if (s.contains("const") && s["const"] != v) return path + ": not the const value";
    if (s.contains("enum") && std::find(s["enum"].begin(), s["enum"].end(), v) == s["enum"].end())
      return path + ": not an enum value";
    if (s.contains("type")) {
      std::vector<std::string> types;
      if (s["type"].is_string()) types.push_back(s["type"].get<std::string>());
      if (s["type"].is_array())
        for (const Json& t : s["type"]) types.push_back(t.get<std::string>());
      if (s.value("nullable", false)) types.push_back("null");
      bool ok = false;
      for (const auto& t : types) ok |= has_type(v, t);
      if (!ok) return path + ": wrong type";
    }
    if (v.is_string()) {
      const std::string str = v.get<std::string>();
      const size_t n = code_points(str);
      if (s.contains("minLength") && n < s["minLength"].get<size_t>()) return path + ": too short";
      if (s.contains("maxLength") && n > s["maxLength"].get<size_t>()) return path + ": too long";
      if (s.contains("pattern")) {
        const std::wregex re(widen(s["pattern"].get<std::string>()), std::regex::ECMAScript);
        if (!std::regex_search(widen(str), re)) return path + ": pattern mismatch";
      }
      if (s.contains("format") && !format_ok(s["format"].get<std::string>(), str)) return path + ": bad format";
    }
    if (v.is_number()) {
      const double x = v.get<double>();
      auto bound = [&](const char* inc, const char* exc, bool lower) -> std::string {
        bool draft4 = s.contains(exc) && s[exc].is_boolean() && s[exc].get<bool>();
        if (s.contains(inc)) {
          const double b = s[inc].get<double>();
          if (lower ? (x < b || (draft4 && x == b)) : (x > b || (draft4 && x == b))) return path + ": out of range";
        }
        if (s.contains(exc) && s[exc].is_number()) {
          const double b = s[exc].get<double>();
          if (lower ? x <= b : x >= b) return path + ": out of exclusive range";
        }
        return "";
      };
      std::string r = bound("minimum", "exclusiveMinimum", true);
      if (r.empty()) r = bound("maximum", "exclusiveMaximum", false);
      if (!r.empty()) return r;
    }
    if (v.is_object()) {
      if (s.contains("required"))
        for (const Json& r : s["required"])
          if (!v.contains(r.get<std::string>())) return path + ": missing " + r.get<std::string>();
      const Json props = s.value("properties", Json::object());
      for (auto it = v.begin(); it != v.end(); ++it) {
        const std::string child = path + "/" + it.key();
        if (props.contains(it.key())) {
          const std::string r = check(props[it.key()], it.value(), child, depth + 1);
          if (!r.empty()) return r;
        } else if (s.contains("additionalProperties")) {
          const std::string r = check(s["additionalProperties"], it.value(), child, depth + 1);
          if (!r.empty()) return r;
        }
      }
    }
    if (v.is_array()) {
      if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) return path + ": too few items";
      if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) return path + ": too many items";
      const Json* prefix = s.contains("prefixItems") ? &s["prefixItems"]
                           : (s.contains("items") && s["items"].is_array()) ? &s["items"]
                                                                             : nullptr;
      const Json* rest = s.contains("prefixItems") ? (s.contains("items") ? &s["items"] : nullptr)
                         : (s.contains("items") && s["items"].is_array())
                             ? (s.contains("additionalItems") ? &s["additionalItems"] : nullptr)
                             : (s.contains("items") ? &s["items"] : nullptr);
      for (size_t i = 0; i < v.size(); ++i) {
        const Json* item = prefix && i < prefix->size() ? &(*prefix)[i] : rest;
        if (!item) continue;
        const std::string r = check(*item, v[i], path + "/" + std::to_string(i), depth + 1);
        if (!r.empty()) return r;
      }
    }
    return "";
  }

  const Json& root_;
};

}  // namespace inferd::engine::testing
