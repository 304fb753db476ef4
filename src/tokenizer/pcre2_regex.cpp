#include "tokenizer/pcre2_regex.h"

namespace inferd::tokenizer {

Result<pcre2_code*> compile_pcre2(std::string_view pattern) {
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error_code,
                                   &error_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof(message));
    return invalid_argument("regex /{}/ does not compile at offset {}: {}", pattern, error_offset,
                            reinterpret_cast<char*>(message));
  }
  // JIT is an optimisation: when it is unavailable the interpreter runs the same pattern.
  (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  return code;
}

}  // namespace inferd::tokenizer
