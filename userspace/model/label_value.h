#pragma once
// Label values for the Prometheus exposition: valid UTF-8, bounded length.
#include <cstddef>
#include <string>
#include <string_view>

namespace earshot::model {

// Turns arbitrary bytes (a process name, a DNS name) into a label value:
// - each ill-formed UTF-8 sequence (overlong, surrogate, above U+10FFFF,
//   truncated, stray continuation byte, 0xC0/0xC1/0xF5..0xFF) becomes one
//   U+FFFD per maximal subpart, as the Unicode standard recommends;
// - control characters (C0, DEL, C1) other than '\n' and '\t' become U+FFFD;
// - the result is cut to at most max_bytes, never inside a UTF-8 sequence.
std::string sanitize_label_value(std::string_view raw, size_t max_bytes = 128);

}  // namespace earshot::model
