#include "in_netns.h"

#include <fcntl.h>
#include <sched.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <thread>

#include "common/error.h"
#include "common/unique_fd.h"

namespace earshot::test {

void run_in_netns(const std::string& netns_path, const std::function<void()>& work) {
  UniqueFd netns(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!netns) throw Error("cannot open " + netns_path + ": " + std::strerror(errno));
  std::exception_ptr failure;
  std::thread worker([&] {
    try {
      if (::setns(netns.get(), CLONE_NEWNET) != 0) {
        throw Error("cannot join network namespace " + netns_path + ": " + std::strerror(errno));
      }
      work();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  worker.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace earshot::test
