#pragma once
// Enters a network namespace for the current thread and returns on scope
// exit. Interface indexes, netfilter hooks and netlink sockets all belong to
// the namespace of the thread that names or opens them.
#include <filesystem>

#include "common/unique_fd.h"

namespace earshot::kernel {

class NetnsScope {
 public:
  // Throws Error naming the path when it cannot be entered.
  explicit NetnsScope(const std::filesystem::path& path);
  ~NetnsScope();
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;

 private:
  UniqueFd home_;
};

}  // namespace earshot::kernel
