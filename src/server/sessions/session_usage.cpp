#include "server/sessions/session_usage.h"

#include <map>

#include <fmt/format.h>

#include "server/sessions/iso8601.h"
#include "server/sessions/session_service.h"

namespace inferd::server::sessions {
namespace {

constexpr std::string_view kUsagePrefix = "session_usage:";
constexpr int64_t kUsageKeepMs = int64_t{400} * 24 * 3600 * 1000;

const char* const kSums[] = {"turns",         "prompt_tokens", "completion_tokens",
                             "cached_tokens", "ttft_ms",       "duration_ms"};

double cost(const SessionOptions& o, const std::string& model, double prompt, double completion,
            double cached) {
  const auto it = o.prices.find(model);
  if (it == o.prices.end()) return 0;
  const ModelPrice& p = it->second;
  return ((prompt - cached) * p.prompt_per_mtok + cached * p.cached_per_mtok +
          completion * p.completion_per_mtok) /
         1e6;
}

}  // namespace

std::string usage_key_part(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '%' || c == '|' || c == ':' || c < 0x21 || c > 0x7e)
      out += fmt::format("%{:02X}", c);
    else
      out += static_cast<char>(c);
  }
  return out;
}

Status add_usage(KvStore& store, const SessionRecord& r, const TurnUsage& u, int64_t now_ms,
                 std::vector<KvExpect>* expect, std::vector<KvWrite>* writes) {
  const std::string day = utc_day(now_ms);
  const std::string key =
      fmt::format("{}{}|{}|{}|{}|{{{}}}", kUsagePrefix, usage_key_part(r.service), day,
                  usage_key_part(u.model), usage_key_part(r.user_id), record_key(r.session_id));
  INFERD_ASSIGN_OR_RETURN(auto current, store.get(key));
  Json c = current ? Json::parse(*current, nullptr, false) : Json();
  if (!c.is_object())
    c = {{"service", r.service}, {"day", day}, {"model", u.model}, {"user_id", r.user_id}};
  const double add[] = {1,
                        static_cast<double>(u.prompt_tokens),
                        static_cast<double>(u.completion_tokens),
                        static_cast<double>(u.cached_tokens),
                        u.ttft_ms,
                        u.duration_ms};
  for (size_t i = 0; i < std::size(kSums); ++i) c[kSums[i]] = c.value(kSums[i], 0.0) + add[i];
  expect->push_back({key, current});
  writes->push_back(KvWrite::put(key, dump_json(c), now_ms + kUsageKeepMs));
  return {};
}

Result<Json> query_usage(KvStore& store, const std::string& service, const UsageQuery& q,
                         const SessionOptions& o) {
  for (const auto& g : q.group_by)
    if (g != "day" && g != "model" && g != "user")
      return invalid_argument("'group_by' takes day, model and user, not '{}'", g)
          .with_field("group_by");
  for (const auto* d : {&q.from_day, &q.to_day})
    if (!d->empty() && !parse_iso8601(*d + "T00:00:00Z"))
      return invalid_argument("'{}' is not a day (YYYY-MM-DD)", *d)
          .with_field(d == &q.from_day ? "from" : "to");
  INFERD_ASSIGN_OR_RETURN(auto keys,
                          store.keys(std::string(kUsagePrefix) + usage_key_part(service) + "|"));
  INFERD_ASSIGN_OR_RETURN(auto values, store.get_many(keys));
  auto wants = [&](const char* g) {
    return std::find(q.group_by.begin(), q.group_by.end(), g) != q.group_by.end();
  };
  // Rows by group, and per row the cost (priced per model before grouping).
  std::map<std::vector<std::string>, Json> rows;
  for (const auto& v : values) {
    if (!v) continue;
    const Json c = Json::parse(*v, nullptr, false);
    if (!c.is_object()) continue;
    const std::string day = c.value("day", ""), model = c.value("model", ""),
                      user = c.value("user_id", "");
    if ((!q.from_day.empty() && day < q.from_day) || (!q.to_day.empty() && day > q.to_day))
      continue;
    std::vector<std::string> group = {wants("day") ? day : "", wants("model") ? model : "",
                                      wants("user") ? user : ""};
    Json& row = rows[group];
    if (row.is_null()) {
      row = Json::object();
      if (wants("day")) row["day"] = day;
      if (wants("model")) row["model"] = model;
      if (wants("user")) row["user_id"] = user;
      for (const char* s : kSums) row[s] = 0.0;
      row["cost_usd"] = 0.0;
    }
    for (const char* s : kSums) row[s] = row[s].get<double>() + c.value(s, 0.0);
    row["cost_usd"] = row["cost_usd"].get<double>() + cost(o, model, c.value("prompt_tokens", 0.0),
                                                           c.value("completion_tokens", 0.0),
                                                           c.value("cached_tokens", 0.0));
  }
  Json data = Json::array();
  for (auto& [group, row] : rows) {
    const double turns = row["turns"].get<double>();
    Json out = Json::object();
    for (const char* d : {"day", "model", "user_id"})
      if (row.contains(d)) out[d] = row[d];
    for (const char* s : {"turns", "prompt_tokens", "completion_tokens", "cached_tokens"})
      out[s] = static_cast<int64_t>(row[s].get<double>());
    out["avg_ttft_ms"] = turns > 0 ? row["ttft_ms"].get<double>() / turns : 0.0;
    out["avg_duration_ms"] = turns > 0 ? row["duration_ms"].get<double>() / turns : 0.0;
    out["cost_usd"] = row["cost_usd"];
    data.push_back(std::move(out));
  }
  Json groups = Json::array();
  for (const auto& g : q.group_by) groups.push_back(g);
  return Json{{"object", "session.usage"},
              {"from", q.from_day.empty() ? Json(nullptr) : Json(q.from_day)},
              {"to", q.to_day.empty() ? Json(nullptr) : Json(q.to_day)},
              {"group_by", std::move(groups)},
              {"data", std::move(data)}};
}

Json session_stats(const SessionRecord& r, const std::vector<Json>& messages,
                   const SessionOptions& o) {
  int64_t turns = 0, prompt = 0, completion = 0, cached = 0;
  double ttft = 0, duration = 0, cost_usd = 0;
  Json models = Json::object();
  for (const Json& m : messages) {
    if (m.value("role", "") != "assistant" || !m.contains("completion_tokens")) continue;
    ++turns;
    const int64_t p = m.value("prompt_tokens", int64_t{0}),
                  c = m.value("completion_tokens", int64_t{0}),
                  k = m.value("cached_tokens", int64_t{0});
    prompt += p;
    completion += c;
    cached += k;
    ttft += m.value("ttft_ms", 0.0);
    duration += m.value("duration_ms", 0.0);
    const std::string model = m.value("model", "");
    models[model] = models.value(model, int64_t{0}) + 1;
    cost_usd +=
        cost(o, model, static_cast<double>(p), static_cast<double>(c), static_cast<double>(k));
  }
  return Json{{"object", "session.stats"},
              {"session_id", r.session_id},
              {"messages", r.message_count},
              {"turns", turns},
              {"prompt_tokens", prompt},
              {"completion_tokens", completion},
              {"cached_tokens", cached},
              {"avg_ttft_ms", turns > 0 ? ttft / static_cast<double>(turns) : 0.0},
              {"avg_duration_ms", turns > 0 ? duration / static_cast<double>(turns) : 0.0},
              {"turns_by_model", std::move(models)},
              {"cost_usd", cost_usd}};
}

}  // namespace inferd::server::sessions
