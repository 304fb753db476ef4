// FunctionRef<R(Args...)>: a non-owning reference to a callable object (a lambda, a functor),
// passed by value (two pointers, no allocation). The callable must outlive every call through
// the reference: one made from a lambda written in place lasts until the end of the full
// expression, so pass it straight to a function; to keep one, name the lambda first.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace inferd {

template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F, std::enable_if_t<std::is_object_v<std::remove_reference_t<F>> &&
                                             !std::is_same_v<std::remove_cvref_t<F>, FunctionRef> &&
                                             std::is_invocable_r_v<R, F&, Args...>,
                                         int> = 0>
  FunctionRef(F&& fn)  // NOLINT(google-explicit-constructor): converts like a function pointer
      : ctx_(const_cast<void*>(static_cast<const void*>(std::addressof(fn)))),
        call_([](void* ctx, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(ctx))(std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const { return call_(ctx_, std::forward<Args>(args)...); }

 private:
  void* ctx_;
  R (*call_)(void*, Args...);
};

}  // namespace inferd
