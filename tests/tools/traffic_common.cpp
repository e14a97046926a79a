#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "traffic.h"

namespace earshot::traffic {

void say(const std::string& line) {
  std::cout << line << std::endl;
}

void wait_for_go(const Common& common) {
  if (common.wait_file.empty()) return;
  // Polling is enough: the point is to start several programs within a few
  // milliseconds of each other, not to be exact.
  while (!std::filesystem::exists(common.wait_file)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace earshot::traffic
