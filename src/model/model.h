// Model: a loaded GGUF model (file mapping, hyper-parameters, bound weights and the forward
// pass). Immutable after load; share it between contexts and threads.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "format/gguf_file.h"
#include "model/hparams.h"
#include "model/transformer.h"
#include "model/weights.h"

namespace inferd::model {

class Model {
 public:
  static Result<std::unique_ptr<Model>> load(const std::string& path);
  // Takes ownership of an already opened file.
  static Result<std::unique_ptr<Model>> from_file(std::unique_ptr<format::GgufFile> file);

  const format::GgufFile& file() const { return *file_; }
  const HParams& hparams() const { return hp_; }
  const Weights& weights() const { return weights_; }
  const Transformer& transformer() const { return *transformer_; }

 private:
  Model() = default;
  std::unique_ptr<format::GgufFile> file_;
  HParams hp_;
  Weights weights_;
  std::unique_ptr<Transformer> transformer_;
};

}  // namespace inferd::model
