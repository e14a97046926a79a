// Sanitized label values through prometheus-cpp's text exposition: the
// escaping is exact and the page stays valid UTF-8 that promtool accepts.
#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <stdio.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "model/label_value.h"
#include "utf8_check.h"

namespace earshot::model {
namespace {

using earshot::testing::is_valid_utf8;

std::string exposition_with_hostile_names() {
  prometheus::Registry registry;
  auto& family = prometheus::BuildCounter()
                     .Name("earshot_egress_bytes_total")
                     .Help("Bytes each process sent, by destination.")
                     .Register(registry);
  const auto add = [&](std::string_view process, double bytes) {
    family.Add({{"process", sanitize_label_value(process)}, {"destination", "192.0.2.1"}})
        .Increment(bytes);
  };
  add("a\"b\\c\nd", 1);
  add("bad\xFF\xC0utf8", 2);
  add("\xF0\x9F\x8E\xA4 recorder", 3);
  add("esc\x1B]0;pwned\x07", 4);
  add(std::string(150, 'x'), 5);
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(Exposition, HostileLabelValuesAreEscapedExactly) {
  const std::string text = exposition_with_hostile_names();
  SCOPED_TRACE(text);
  EXPECT_TRUE(has_line(
      text, R"(earshot_egress_bytes_total{destination="192.0.2.1",process="a\"b\\c\nd"} 1)"));
  EXPECT_TRUE(has_line(text,
                       "earshot_egress_bytes_total{destination=\"192.0.2.1\",process="
                       "\"bad\xEF\xBF\xBD\xEF\xBF\xBDutf8\"} 2"));
  EXPECT_TRUE(has_line(text,
                       "earshot_egress_bytes_total{destination=\"192.0.2.1\",process="
                       "\"\xF0\x9F\x8E\xA4 recorder\"} 3"));
  EXPECT_TRUE(has_line(text,
                       "earshot_egress_bytes_total{destination=\"192.0.2.1\",process="
                       "\"esc\xEF\xBF\xBD]0;pwned\xEF\xBF\xBD\"} 4"));
  EXPECT_TRUE(has_line(text, "earshot_egress_bytes_total{destination=\"192.0.2.1\",process=\"" +
                                 std::string(128, 'x') + "\"} 5"));
  EXPECT_TRUE(is_valid_utf8(text));
}

struct PromtoolResult {
  int status = -1;
  std::string output;
};

// Pipes an exposition page to `promtool check metrics`.
PromtoolResult check_metrics(const std::filesystem::path& promtool, const std::string& page_text) {
  const std::filesystem::path page =
      std::filesystem::temp_directory_path() / ("earshot-labels-" + std::to_string(getpid()));
  {
    std::ofstream out(page, std::ios::binary);
    out << page_text;
  }
  struct Remove {
    std::filesystem::path path;
    ~Remove() { std::filesystem::remove(path); }
  } remove_page{page};

  const std::string command = promtool.string() + " check metrics < " + page.string() + " 2>&1";
  const auto close_pipe = [](FILE* f) { return pclose(f); };
  std::unique_ptr<FILE, decltype(close_pipe)> pipe(popen(command.c_str(), "r"), close_pipe);
  PromtoolResult result;
  if (!pipe) return result;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe.get())) result.output.append(buffer, n);
  result.status = pclose(pipe.release());
  return result;
}

class Promtool : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(promtool_)) GTEST_SKIP() << promtool_ << " is not installed";
  }
  const std::filesystem::path promtool_ = EARSHOT_PROMTOOL;
};

TEST_F(Promtool, AcceptsSanitizedPage) {
  const PromtoolResult result = check_metrics(promtool_, exposition_with_hostile_names());
  EXPECT_TRUE(WIFEXITED(result.status) && WEXITSTATUS(result.status) == 0)
      << "status " << result.status << ": " << result.output;
  EXPECT_EQ(result.output, "");
}

TEST_F(Promtool, RejectsUnsanitizedName) {
  // The control: without sanitizing, a process name with a stray byte breaks
  // the whole page, so the check above is not vacuous.
  prometheus::Registry registry;
  prometheus::BuildCounter()
      .Name("earshot_egress_bytes_total")
      .Help("Bytes each process sent, by destination.")
      .Register(registry)
      .Add({{"process", "bad\xFFname"}})
      .Increment();
  const PromtoolResult result =
      check_metrics(promtool_, prometheus::TextSerializer().Serialize(registry.Collect()));
  EXPECT_FALSE(WIFEXITED(result.status) && WEXITSTATUS(result.status) == 0) << result.output;
  EXPECT_NE(result.output.find("invalid label value"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace earshot::model
