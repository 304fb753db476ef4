#include "server/registry/model_directory.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "format/gguf_file.h"

namespace inferd::server {
namespace {

namespace fs = std::filesystem;

FoundModel gguf_model(const fs::path& path) {
  FoundModel m;
  m.path = path.string();
  m.format = "gguf";
  std::error_code ec;
  m.size_bytes = fs::file_size(path, ec);
  auto file = format::GgufFile::open(m.path);
  if (!file.ok()) {
    m.error = file.status().message();
    return m;
  }
  auto arch = (*file)->get_string("general.architecture");
  if (arch.ok())
    m.architecture = *arch;
  else
    m.error = arch.status().message();
  return m;
}

FoundModel safetensors_model(const fs::path& dir) {
  FoundModel m;
  m.path = dir.string();
  m.format = "safetensors";
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(dir, ec))
    if (f.is_regular_file(ec)) m.size_bytes += f.file_size(ec);
  std::ifstream in(dir / "config.json");
  const auto config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object()) {
    m.error = "config.json is not a JSON object";
    return m;
  }
  const auto archs = config.find("architectures");
  const auto type = config.find("model_type");
  if (archs != config.end() && archs->is_array() && !archs->empty() && archs->front().is_string())
    m.architecture = archs->front().get<std::string>();
  else if (type != config.end() && type->is_string())
    m.architecture = type->get<std::string>();
  else
    m.error = "config.json names no architecture";
  return m;
}

bool has_safetensors(const fs::path& dir) {
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(dir, ec))
    if (f.path().extension() == ".safetensors") return true;
  return false;
}

}  // namespace

Result<std::vector<FoundModel>> scan_models_dir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return io_error("'{}' is not a readable directory", dir);
  std::vector<FoundModel> found;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) return io_error("cannot read '{}': {}", dir, ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const fs::path& p = it->path();
    if (it->is_regular_file(ec) && p.extension() == ".gguf") {
      found.push_back(gguf_model(p));
    } else if (it->is_directory(ec) && fs::exists(p / "config.json", ec) && has_safetensors(p)) {
      found.push_back(safetensors_model(p));
      it.disable_recursion_pending();
    }
  }
  std::sort(found.begin(), found.end(),
            [](const FoundModel& a, const FoundModel& b) { return a.path < b.path; });
  return found;
}

}  // namespace inferd::server
