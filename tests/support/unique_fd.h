#pragma once
// Tests use the project's fd owner: a failing assertion never leaks sockets
// or pipes into the next test.
#include "common/unique_fd.h"

namespace earshot::test {
using earshot::UniqueFd;
}  // namespace earshot::test
