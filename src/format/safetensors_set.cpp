#include "format/safetensors_set.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace inferd::format {
namespace {

namespace fs = std::filesystem;

Result<std::string> read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("{}: cannot open", path.string());
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return io_error("{}: read failed", path.string());
  return s.str();
}

bool plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos && name.find('\0') == std::string::npos;
}

}  // namespace

Result<std::unique_ptr<SafetensorsSet>> SafetensorsSet::open_dir(const std::string& dir) {
  const fs::path root(dir);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return not_found("{}: not a directory", dir);
  std::vector<std::unique_ptr<SafetensorsFile>> files;
  std::map<std::string, std::string> weight_map;
  const fs::path index_path = root / kIndexName;
  if (fs::exists(index_path, ec)) {
    INFERD_ASSIGN_OR_RETURN(std::string text, read_text(index_path));
    auto index = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (index.is_discarded() || !index.is_object())
      return data_loss("{}: not a JSON object", index_path.string());
    auto wm = index.find("weight_map");
    if (wm == index.end() || !wm->is_object())
      return data_loss("{}: no \"weight_map\" object", index_path.string());
    std::set<std::string> shards;
    for (const auto& [name, file] : wm->items()) {
      if (!file.is_string() || !plain_file_name(file.get<std::string>()))
        return data_loss("{}: tensor '{}' names an invalid shard {}", index_path.string(), name,
                         file.dump());
      weight_map[name] = file.get<std::string>();
      shards.insert(file.get<std::string>());
    }
    if (shards.empty()) return data_loss("{}: empty weight_map", index_path.string());
    std::map<std::string, const SafetensorsFile*> by_shard;
    for (const std::string& shard : shards) {
      INFERD_ASSIGN_OR_RETURN(auto f, SafetensorsFile::open((root / shard).string()));
      by_shard[shard] = f.get();
      files.push_back(std::move(f));
    }
    for (const auto& [name, shard] : weight_map)
      if (!by_shard[shard]->find(name))
        return data_loss("{}: tensor '{}' is not in shard {}", index_path.string(), name, shard);
  } else if (fs::exists(root / "model.safetensors", ec)) {
    INFERD_ASSIGN_OR_RETURN(auto f, SafetensorsFile::open((root / "model.safetensors").string()));
    files.push_back(std::move(f));
  } else {
    std::vector<fs::path> paths;
    for (const auto& entry : fs::directory_iterator(root, ec))
      if (entry.path().extension() == ".safetensors") paths.push_back(entry.path());
    if (ec) return io_error("{}: cannot list: {}", dir, ec.message());
    if (paths.empty()) return not_found("{}: no .safetensors files", dir);
    std::sort(paths.begin(), paths.end());
    for (const auto& p : paths) {
      INFERD_ASSIGN_OR_RETURN(auto f, SafetensorsFile::open(p.string()));
      files.push_back(std::move(f));
    }
  }
  return from_files(std::move(files));
}

Result<std::unique_ptr<SafetensorsSet>> SafetensorsSet::from_files(
    std::vector<std::unique_ptr<SafetensorsFile>> files) {
  std::unique_ptr<SafetensorsSet> set(new SafetensorsSet());
  set->files_ = std::move(files);
  INFERD_RETURN_IF_ERROR(set->index_tensors());
  return set;
}

Status SafetensorsSet::index_tensors() {
  for (const auto& f : files_)
    for (const SafetensorsTensor& t : f->tensors()) {
      if (!by_name_.emplace(t.name, &t).second)
        return data_loss("tensor '{}' appears in more than one shard ({})", t.name, f->path());
      all_.push_back(&t);
    }
  return Status::ok_status();
}

const SafetensorsTensor* SafetensorsSet::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

uint64_t SafetensorsSet::file_size_bytes() const {
  uint64_t n = 0;
  for (const auto& f : files_) n += f->file_size_bytes();
  return n;
}

}  // namespace inferd::format
