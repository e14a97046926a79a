#include "model/label_value.h"

#include <algorithm>
#include <cstdint>

namespace earshot::model {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed UTF-8 sequence at the start of s, or 0 when it is
// ill-formed; then *subpart is the length of its maximal subpart (>= 1), the
// bytes one U+FFFD stands for. Ranges from the Unicode standard, table 3-7.
size_t well_formed_length(std::string_view s, size_t* subpart) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t lead = byte(0);
  *subpart = 1;
  if (lead < 0x80) return 1;
  size_t length = 0;
  uint8_t low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;  // continuation byte as lead, 0xC0, 0xC1, 0xF5..0xFF
  }
  for (size_t i = 1; i < length; ++i) {
    uint8_t lo = i == 1 ? low : 0x80, hi = i == 1 ? high : 0xBF;
    if (i >= s.size() || byte(i) < lo || byte(i) > hi) {
      *subpart = i;
      return 0;
    }
  }
  return length;
}

// Why controls are replaced: a process chooses its own name, and escape
// sequences (ESC, CSI) in a label would reach the terminal of whoever curls
// /metrics; NUL cuts the value short in C-string consumers. '\n' and '\t' stay:
// the exposition format escapes '\n' and a tab is harmless inside quotes, so
// those names remain recognisable.
bool is_replaced_control(std::string_view sequence) {
  const auto first = static_cast<uint8_t>(sequence[0]);
  if (sequence.size() == 1)
    return (first < 0x20 && first != '\n' && first != '\t') || first == 0x7F;
  return first == 0xC2 && static_cast<uint8_t>(sequence[1]) < 0xA0;  // U+0080..U+009F
}

}  // namespace

std::string sanitize_label_value(std::string_view raw, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(raw.size(), max_bytes));
  while (!raw.empty()) {
    size_t subpart = 1;
    size_t length = well_formed_length(raw, &subpart);
    std::string_view piece = kReplacement;
    if (length != 0) {
      std::string_view sequence = raw.substr(0, length);
      if (!is_replaced_control(sequence)) piece = sequence;
    } else {
      length = subpart;
    }
    if (out.size() + piece.size() > max_bytes) break;
    out.append(piece);
    raw.remove_prefix(length);
  }
  return out;
}

}  // namespace earshot::model
