#pragma once
// Running a piece of a test inside a network namespace (a network namespace
// is per thread): reaching a daemon that listens on loopback in namespace A,
// or sending from A with sockets the test itself controls.
#include <functional>
#include <string>

namespace earshot::test {

// Calls work on a new thread that has setns()'d into the namespace at
// netns_path, and waits for it. An exception from work is rethrown here;
// failing to join the namespace throws earshot::Error naming the path.
void run_in_netns(const std::string& netns_path, const std::function<void()>& work);

}  // namespace earshot::test
