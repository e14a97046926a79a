#pragma once
// The one error-handling style of earshot: a function that cannot do what it
// was asked throws earshot::Error with a message that names the thing at fault
// (the config key and line, the hook, the path). Code that can go on without
// the failed part (a hook that does not attach) catches it at that boundary,
// records it, and continues.
#include <cstring>
#include <stdexcept>
#include <string>

namespace earshot {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// errno as words, for an Error's message; libbpf returns it negated.
inline std::string errno_text(int err) {
  return std::strerror(err < 0 ? -err : err);
}

}  // namespace earshot
