#include "kernel/netns_scope.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>

#include "common/error.h"
#include "common/log.h"

namespace earshot::kernel {

NetnsScope::NetnsScope(const std::filesystem::path& path)
    : home_(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
  UniqueFd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!target) throw Error(fmt::format("cannot open {}: {}", path.string(), errno_text(errno)));
  if (!home_) throw Error(fmt::format("cannot open own netns: {}", errno_text(errno)));
  if (::setns(target.get(), CLONE_NEWNET) != 0)
    throw Error(fmt::format("cannot enter {}: {}", path.string(), errno_text(errno)));
}

NetnsScope::~NetnsScope() {
  if (::setns(home_.get(), CLONE_NEWNET) != 0)
    log::error("cannot return to own network namespace", {{"error", errno_text(errno)}});
}

}  // namespace earshot::kernel
