// SafetensorsSet: the weights of a Hugging Face / MLX model directory, one or more memory-mapped
// .safetensors shards seen as one name -> tensor map. The shard list comes from
// model.safetensors.index.json ("weight_map") when present, else model.safetensors, else every
// *.safetensors file in the directory. Every tensor the index names must be in the shard it names;
// a name present in two shards is an error; shard names must be plain file names in the
// directory (no path separators).
// Thread safety: immutable after open(); safe to share.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "format/safetensors_file.h"

namespace inferd::format {

class SafetensorsSet {
 public:
  static constexpr const char* kIndexName = "model.safetensors.index.json";

  static Result<std::unique_ptr<SafetensorsSet>> open_dir(const std::string& dir);
  // A set over already opened files (tests).
  static Result<std::unique_ptr<SafetensorsSet>> from_files(
      std::vector<std::unique_ptr<SafetensorsFile>> files);

  const SafetensorsTensor* find(std::string_view name) const;
  // Every tensor of every shard, in shard order then data order.
  const std::vector<const SafetensorsTensor*>& tensors() const { return all_; }
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }
  uint64_t file_size_bytes() const;

 private:
  SafetensorsSet() = default;
  Status index_tensors();

  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::vector<const SafetensorsTensor*> all_;
  std::map<std::string, const SafetensorsTensor*, std::less<>> by_name_;
};

}  // namespace inferd::format
