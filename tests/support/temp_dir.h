#pragma once
// A private directory under /tmp (or $TMPDIR), removed with everything in it
// when the owner goes away.
#include <string>
#include <string_view>

namespace earshot::test {

class TempDir {
 public:
  // prefix names the directory, e.g. "earshot-daemon" -> /tmp/earshot-daemon-XXXXXX.
  explicit TempDir(std::string_view prefix = "earshot-test");
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name; the file is not created. name may hold slashes
  // ("class/sound").
  std::string file(std::string_view name) const;
  // Writes text to path()/name (replacing it), making the directories name
  // holds ("pcmC0D0c/dev" makes pcmC0D0c/), and returns the full path.
  std::string write_file(std::string_view name, std::string_view text) const;
  // Copies an executable to path()/name, keeping it executable, and returns
  // the full path: two copies of one program are two processes with
  // different executable names for earshot's attribution.
  std::string copy_executable(const std::string& source, std::string_view name) const;

 private:
  std::string path_;
};

// The whole content of a file; throws earshot::Error naming the path.
std::string read_text_file(const std::string& path);

}  // namespace earshot::test
