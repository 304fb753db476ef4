#include "server/sessions/model_prices.h"

#include <cstdlib>
#include <string_view>

namespace inferd::server::sessions {

Status parse_model_prices(const std::vector<std::string>& specs, std::map<std::string, ModelPrice>* prices) {
  for (const std::string& spec : specs) {
    const auto bad = [&] {
      return invalid_argument("'{}' must be MODEL=PROMPT,COMPLETION[,CACHED] (USD per million tokens)", spec);
    };
    const auto eq = spec.rfind('=');
    if (eq == std::string::npos || eq == 0) return bad();
    std::vector<double> v;
    std::string_view rest = std::string_view(spec).substr(eq + 1);
    for (;;) {
      const auto comma = rest.find(',');
      const std::string part(rest.substr(0, comma));
      char* end = nullptr;
      const double x = std::strtod(part.c_str(), &end);
      if (part.empty() || *end != '\0' || !(x >= 0)) return bad();
      v.push_back(x);
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
    if (v.size() < 2 || v.size() > 3) return bad();
    (*prices)[spec.substr(0, eq)] = {v[0], v[1], v.size() == 3 ? v[2] : v[0]};
  }
  return {};
}

}  // namespace inferd::server::sessions
