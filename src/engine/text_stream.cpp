#include "inferd/text_stream.h"

#include "inferd/engine.h"
#include "tokenizer/incremental_decoder.h"

namespace inferd {

struct TextStream::Impl {
  tokenizer::IncrementalDecoder decoder;
};

TextStream::TextStream(const Model& model, bool skip_special, bool at_sequence_start)
    : impl_(new Impl{tokenizer::IncrementalDecoder(model.tokenizer(), skip_special, at_sequence_start)}) {}
TextStream::~TextStream() = default;
TextStream::TextStream(TextStream&&) noexcept = default;
TextStream& TextStream::operator=(TextStream&&) noexcept = default;

size_t TextStream::push(TokenId token, std::string& out) { return impl_->decoder.push(token, out); }
size_t TextStream::flush(std::string& out) { return impl_->decoder.flush(out); }

}  // namespace inferd
