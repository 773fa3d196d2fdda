#pragma once
// Sets a variable for a scope and puts its previous value back when the
// scope ends, so scopes nest: the thread-local switches (NoGradGuard,
// AutocastGuard, AutocastActivationsGuard, nn::ChannelsLastScope) are each
// one of these over their own variable.
#include <utility>

namespace dml {

template <class T>
class ScopedValue {
 public:
  ScopedValue(T& variable, T value)
      : variable_(variable), previous_(std::exchange(variable, value)) {}
  ~ScopedValue() { variable_ = previous_; }
  ScopedValue(const ScopedValue&) = delete;
  ScopedValue& operator=(const ScopedValue&) = delete;

 private:
  T& variable_;
  T previous_;
};

}  // namespace dml
