#include "model/label_value.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "utf8_check.h"

namespace earshot::model::label_value_test {
namespace {

using earshot::testing::is_valid_utf8;

const std::string R = "\xEF\xBF\xBD";  // U+FFFD

TEST(Utf8Check, RejectsWhatItShould) {
  // The oracle itself must be able to say no.
  EXPECT_TRUE(is_valid_utf8("ok \xF0\x9F\x8E\xA4"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));
  EXPECT_FALSE(is_valid_utf8("\xE6\x97"));
}

TEST(SanitizeLabelValue, ValidTextUnchanged) {
  for (std::string s :
       {"firefox", "", "pipewire-pulse", "a\"b\\c\nd", "tab\there", "\xE6\x97\xA5\xE6\x9C\xAC",
        "\xF0\x9F\x8E\xA4 mic", "\xC2\xA0nbsp", "\xF4\x8F\xBF\xBF", "\xEF\xBF\xBD"}) {
    EXPECT_EQ(sanitize_label_value(s), s);
  }
}

TEST(SanitizeLabelValue, InvalidSequencesBecomeReplacementPerMaximalSubpart) {
  EXPECT_EQ(sanitize_label_value("a\xFF"
                                 "b"),
            "a" + R + "b");
  EXPECT_EQ(sanitize_label_value("\xC0\xAF"), R + R);          // overlong '/'
  EXPECT_EQ(sanitize_label_value("\xE0\x80\xAF"), R + R + R);  // overlong, 3 bytes
  EXPECT_EQ(sanitize_label_value("\xF0\x80\x80\xAF"), R + R + R + R);
  EXPECT_EQ(sanitize_label_value("\xED\xA0\x80"), R + R + R);          // surrogate U+D800
  EXPECT_EQ(sanitize_label_value("\xF4\x90\x80\x80"), R + R + R + R);  // above U+10FFFF
  EXPECT_EQ(sanitize_label_value("\xF5\xF8\xFE"), R + R + R);
  EXPECT_EQ(sanitize_label_value("\x80\xBF"), R + R);  // stray continuation bytes
  // Truncated sequences: the valid prefix is one subpart, one U+FFFD.
  EXPECT_EQ(sanitize_label_value("\xE6\x97"), R);
  EXPECT_EQ(sanitize_label_value("\xE6\x97x"), R + "x");
  EXPECT_EQ(sanitize_label_value("\xF0\x9F\x8Ex"), R + "x");
  EXPECT_EQ(sanitize_label_value("\xF0\x9F\x8E\xF0\x9F\x8E\xA4"), R + "\xF0\x9F\x8E\xA4");
}

TEST(SanitizeLabelValue, CommTruncatedInsideCharacter) {
  // TASK_COMM_LEN keeps 15 bytes: "ab" + four CJK characters + the first byte of a fifth.
  std::string comm = "ab\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE6\x97\xA5\xE6";
  EXPECT_EQ(sanitize_label_value(comm), "ab\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE6\x97\xA5" + R);
}

TEST(SanitizeLabelValue, ControlCharactersOtherThanNewlineAndTabAreReplaced) {
  EXPECT_EQ(sanitize_label_value(std::string("a\0b", 3)), "a" + R + "b");
  EXPECT_EQ(sanitize_label_value("\x1B[31mred"), R + "[31mred");
  EXPECT_EQ(sanitize_label_value("cr\rlf"), "cr" + R + "lf");
  EXPECT_EQ(sanitize_label_value("del\x7F"), "del" + R);
  EXPECT_EQ(sanitize_label_value("\xC2\x9B"
                                 "2J"),
            R + "2J");                             // C1 CSI
  EXPECT_EQ(sanitize_label_value("\xC2\x85"), R);  // C1 NEL
  EXPECT_EQ(sanitize_label_value("keep\nnewline\tand tab"), "keep\nnewline\tand tab");
}

TEST(SanitizeLabelValue, TruncatesAtCharacterBoundary) {
  const std::string nihon = "ab\xE6\x97\xA5";  // "ab" + 3-byte character
  EXPECT_EQ(sanitize_label_value(nihon, 5), nihon);
  EXPECT_EQ(sanitize_label_value(nihon, 4), "ab");
  EXPECT_EQ(sanitize_label_value(nihon, 3), "ab");
  EXPECT_EQ(sanitize_label_value(nihon, 2), "ab");
  EXPECT_EQ(sanitize_label_value(nihon, 0), "");
  EXPECT_EQ(sanitize_label_value("ab\xFF", 4), "ab");  // U+FFFD needs 3 bytes
  EXPECT_EQ(sanitize_label_value("\xF0\x9F\x8E\xA4\xF0\x9F\x8E\xA4", 7), "\xF0\x9F\x8E\xA4");
  EXPECT_EQ(sanitize_label_value(std::string(200, 'a')), std::string(128, 'a'));
}

TEST(SanitizeLabelValue, RandomBytesAlwaysGiveValidBoundedText) {
  std::mt19937 rng(20261125);
  std::uniform_int_distribution<int> byte(0, 255), length(0, 40), limit(0, 48);
  for (int round = 0; round < 20000; ++round) {
    std::string raw(static_cast<size_t>(length(rng)), '\0');
    for (char& c : raw) c = static_cast<char>(byte(rng));
    const size_t max_bytes = static_cast<size_t>(limit(rng));
    const std::string out = sanitize_label_value(raw, max_bytes);
    ASSERT_LE(out.size(), max_bytes) << round;
    ASSERT_TRUE(is_valid_utf8(out)) << round;
    for (unsigned char c : out) {
      ASSERT_TRUE(c >= 0x20 || c == '\n' || c == '\t') << round;
      ASSERT_NE(c, 0x7F) << round;
    }
    // Idempotent: sanitized text is already a label value.
    ASSERT_EQ(sanitize_label_value(out, max_bytes), out) << round;
  }
}

}  // namespace
}  // namespace earshot::model::label_value_test
