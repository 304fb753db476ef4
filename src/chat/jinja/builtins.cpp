// Globals of jinja2's sandboxed environment plus Hugging Face's raise_exception and
// strftime_now.
#include <ctime>
#include <string_view>

#include "chat/jinja/args.h"
#include "chat/jinja/context.h"
#include "chat/jinja/py_ops.h"
#include "chat/jinja/value_format.h"

namespace inferd::chat::jinja {
namespace {

// jinja2.sandbox.MAX_RANGE.
constexpr int64_t kMaxRange = 100000;

Result<int64_t> range_arg(const Value& v) {
  if (!v.is_integral()) {
    return invalid_argument("'{}' object cannot be interpreted as an integer", py_type_name(v));
  }
  return v.as_int();
}

Result<Value> builtin_range(Context&, CallArgs& args) {
  if (!args.keywords.empty()) return invalid_argument("range() takes no keyword arguments");
  const auto& a = args.positional;
  if (a.empty() || a.size() > 3) {
    return invalid_argument("range expected at most 3 arguments, got {}", a.size());
  }
  int64_t start = 0, stop = 0, step = 1;
  if (a.size() == 1) {
    INFERD_ASSIGN_OR_RETURN(stop, range_arg(a[0]));
  } else {
    INFERD_ASSIGN_OR_RETURN(start, range_arg(a[0]));
    INFERD_ASSIGN_OR_RETURN(stop, range_arg(a[1]));
    if (a.size() == 3) {
      INFERD_ASSIGN_OR_RETURN(step, range_arg(a[2]));
    }
  }
  if (step == 0) return invalid_argument("range() arg 3 must not be zero");
  // Length without overflow: compute in long double-free integer arithmetic.
  __int128 span =
      step > 0 ? static_cast<__int128>(stop) - start : static_cast<__int128>(start) - stop;
  const __int128 abs_step = step > 0 ? step : -static_cast<__int128>(step);
  const __int128 length = span <= 0 ? 0 : (span + abs_step - 1) / abs_step;
  if (length > kMaxRange) {
    return out_of_range("Range too big. The sandbox blocks ranges larger than MAX_RANGE ({}).",
                        kMaxRange);
  }
  auto it = std::make_shared<IteratorData>();
  it->flavor = IteratorData::Flavor::kRange;
  it->type_name = "range";
  it->range_start = start;
  it->range_stop = stop;
  it->range_step = step;
  it->items.reserve(static_cast<size_t>(length));
  for (__int128 i = 0; i < length; ++i) {
    it->items.push_back(Value::integer(static_cast<int64_t>(start + i * step)));
  }
  return Value::iterator(std::move(it));
}

Status add_pairs(DictData& dict, const Value& source) {
  if (source.is_dict()) {
    for (const auto& [k, v] : source.as_dict().entries()) INFERD_RETURN_IF_ERROR(dict.set(k, v));
    return Status::ok_status();
  }
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> items, py_iterate(source));
  for (size_t i = 0; i < items.size(); ++i) {
    INFERD_ASSIGN_OR_RETURN(std::vector<Value> pair, py_iterate(items[i]));
    if (pair.size() != 2) {
      return invalid_argument("dictionary update sequence element #{} has length {}; 2 is required",
                              i, pair.size());
    }
    INFERD_RETURN_IF_ERROR(dict.set(pair[0], pair[1]));
  }
  return Status::ok_status();
}

Result<Value> builtin_dict(Context&, CallArgs& args) {
  if (args.positional.size() > 1) {
    return invalid_argument("dict expected at most 1 argument, got {}", args.positional.size());
  }
  auto dict = std::make_shared<DictData>();
  if (!args.positional.empty()) INFERD_RETURN_IF_ERROR(add_pairs(*dict, args.positional[0]));
  for (const auto& [k, v] : args.keywords) INFERD_RETURN_IF_ERROR(dict->set(Value::string(k), v));
  return Value::dict(std::move(dict));
}

Result<Value> builtin_namespace(Context& ctx, CallArgs& args) {
  if (args.positional.size() > 1) {
    return invalid_argument("dict expected at most 1 argument, got {}", args.positional.size());
  }
  DictData initial;
  if (!args.positional.empty()) INFERD_RETURN_IF_ERROR(add_pairs(initial, args.positional[0]));
  for (const auto& [k, v] : args.keywords) INFERD_RETURN_IF_ERROR(initial.set(Value::string(k), v));
  auto ns = std::make_shared<NamespaceObject>();
  for (const auto& [k, v] : initial.entries()) {
    if (!k.is_string()) return invalid_argument("namespace attribute names must be strings");
    INFERD_RETURN_IF_ERROR(ns->set_attr(k.as_string(), v));
  }
  ctx.track(ns);
  return Value::object(std::move(ns));
}

Result<Value> builtin_cycler(Context&, CallArgs& args) {
  if (!args.keywords.empty()) return invalid_argument("cycler() takes no keyword arguments");
  if (args.positional.empty()) return invalid_argument("at least one item has to be provided");
  return Value::object(std::make_shared<CyclerObject>(args.positional));
}

Result<Value> builtin_joiner(Context&, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args("joiner", args, {optional("sep", Value::string(", "))}));
  return Value::object(std::make_shared<JoinerObject>(a[0]));
}

Result<Value> builtin_raise_exception(Context& ctx, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args("raise_exception", args, {required("message")}));
  INFERD_ASSIGN_OR_RETURN(std::string message, to_str(a[0]));
  return ctx.template_error(std::move(message));
}

Result<Value> builtin_strftime_now(Context& ctx, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args("strftime_now", args, {required("format")}));
  if (!a[0].is_string()) {
    return invalid_argument("strftime() argument 1 must be str, not {}", py_type_name(a[0]));
  }
  const std::string& format = a[0].as_string();
  if (format.empty()) return Value::string("");
  const std::time_t now = ctx.now();
  std::tm tm{};
  localtime_r(&now, &tm);
  // strftime returns 0 both on overflow and for empty results; a sentinel character tells
  // them apart.
  const std::string fmt_with_sentinel = format + "\x01";
  std::string buf(format.size() * 4 + 64, '\0');
  for (int attempt = 0; attempt < 8; ++attempt) {
    const size_t n = std::strftime(buf.data(), buf.size(), fmt_with_sentinel.c_str(), &tm);
    if (n > 0) {
      buf.resize(n - 1);
      return Value::string(std::move(buf));
    }
    if (buf.size() > ctx.limits().max_output_bytes) break;
    buf.resize(buf.size() * 4);
  }
  return resource_exhausted("strftime_now() result is too long");
}

// jinja2's lipsum(n=5, html=True, min=20, max=100). jinja2 picks words at random; this
// version is deterministic (a fixed pseudo-random sequence), so renders are reproducible.
Result<Value> builtin_lipsum(Context& ctx, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(
      std::vector<Value> a,
      bind_args("generate_lorem_ipsum", args,
                {optional("n", Value::integer(5)), optional("html", Value::boolean(true)),
                 optional("min", Value::integer(20)), optional("max", Value::integer(100))}));
  for (const Value& v : {a[0], a[2], a[3]}) {
    if (!v.is_integral()) {
      return invalid_argument("'{}' object cannot be interpreted as an integer", py_type_name(v));
    }
  }
  static constexpr std::string_view kWords[] = {
      "lorem",  "ipsum",   "dolor",  "sit",     "amet",         "consectetur", "adipiscing",
      "elit",   "sed",     "do",     "eiusmod", "tempor",       "incididunt",  "ut",
      "labore", "et",      "dolore", "magna",   "aliqua",       "enim",        "ad",
      "minim",  "veniam",  "quis",   "nostrud", "exercitation", "ullamco",     "laboris",
      "nisi",   "aliquip", "ex",     "ea",      "commodo",      "consequat"};
  const int64_t n = a[0].as_int(), lo = a[2].as_int(), hi = a[3].as_int();
  if (lo >= hi) return invalid_argument("empty range for randrange() ({}, {})", lo, hi);
  if (n > 1000 || hi > 100000) return invalid_argument("lipsum() arguments are too large");
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state](uint64_t bound) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % bound;
  };
  std::vector<std::string> paragraphs;
  for (int64_t p = 0; p < n; ++p) {
    const int64_t count = lo + static_cast<int64_t>(next(static_cast<uint64_t>(hi - lo)));
    std::string text;
    for (int64_t i = 0; i < count; ++i) {
      std::string word(kWords[next(std::size(kWords))]);
      if (i == 0 || text.back() == '.') word[0] = static_cast<char>(word[0] - 'a' + 'A');
      if (!text.empty()) text += ' ';
      text += word;
      if (i + 1 < count && next(12) == 0) text += '.';
    }
    if (text.empty() || text.back() != '.') text += '.';
    paragraphs.push_back(std::move(text));
  }
  std::string out;
  for (size_t i = 0; i < paragraphs.size(); ++i) {
    if (truthy(a[1])) {
      if (i > 0) out += "\n";
      out += "<p>" + paragraphs[i] + "</p>";
    } else {
      if (i > 0) out += "\n\n";
      out += paragraphs[i];
    }
  }
  INFERD_RETURN_IF_ERROR(ctx.budget().charge_string(out.size()));
  return Value::string(std::move(out), truthy(a[1]));
}

struct GlobalEntry {
  std::string_view name;
  Result<Value> (*fn)(Context&, CallArgs&);
};

constexpr GlobalEntry kGlobals[] = {
    {"range", builtin_range},
    {"dict", builtin_dict},
    {"namespace", builtin_namespace},
    {"cycler", builtin_cycler},
    {"joiner", builtin_joiner},
    {"raise_exception", builtin_raise_exception},
    {"strftime_now", builtin_strftime_now},
    {"lipsum", builtin_lipsum},
};

}  // namespace

bool lookup_global(std::string_view name, Value& out) {
  for (const GlobalEntry& g : kGlobals) {
    if (g.name == name) {
      auto fn = g.fn;
      out = Value::object(std::make_shared<NativeFunction>(
          std::string(name), [fn](Context& ctx, CallArgs& args) { return fn(ctx, args); },
          name == "raise_exception" || name == "strftime_now" || name == "lipsum"
              ? "function"
              : "builtin_function_or_method"));
      return true;
    }
  }
  return false;
}

}  // namespace inferd::chat::jinja
