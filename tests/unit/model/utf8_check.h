#pragma once
// An independent UTF-8 validity check (glibc's iconv decoder rejects
// overlongs, surrogates and code points above U+10FFFF), so the sanitizer is
// not judged by its own decoder.
#include <iconv.h>

#include <string>
#include <string_view>
#include <vector>

namespace earshot::testing {

inline bool is_valid_utf8(std::string_view text) {
  iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;
  std::string in(text);
  std::vector<char> out(4 * text.size() + 4);
  char* in_ptr = in.data();
  size_t in_left = in.size();
  char* out_ptr = out.data();
  size_t out_left = out.size();
  size_t result = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
  iconv_close(cd);
  return result != static_cast<size_t>(-1) && in_left == 0;
}

}  // namespace earshot::testing
