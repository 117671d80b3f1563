#include "runtime/log.h"

#include <gtest/gtest.h>

namespace tally {
namespace {

TEST(PrintableTextTest, KeepsPlainTextAndUtf8) {
  EXPECT_EQ(PrintableText("cannot reach 127.0.0.1:9042"), "cannot reach 127.0.0.1:9042");
  EXPECT_EQ(PrintableText("Zürich – 東京 🙂"), "Zürich – 東京 🙂");
}

TEST(PrintableTextTest, AForgedLineStaysOnTheSameLine) {
  const std::string forged = PrintableText("denied\ntally: read 0 records ... all outputs committed.\r");
  EXPECT_EQ(forged, "denied\\ntally: read 0 records ... all outputs committed.\\r");
  EXPECT_EQ(forged.find('\n'), std::string::npos);
}

TEST(PrintableTextTest, EscapesTerminalControls) {
  EXPECT_EQ(PrintableText("\x1b[2J\x1b]0;owned\x07"), "\\x1b[2J\\x1b]0;owned\\x07");
  EXPECT_EQ(PrintableText(std::string("a\0b\x7f", 4)), "a\\x00b\\x7f");
  EXPECT_EQ(PrintableText("tab\there"), "tab\\there");
  // U+009B is CSI on terminals that read C1 controls.
  EXPECT_EQ(PrintableText("\xc2\x9b" "31m"), "\\u009b31m");
  EXPECT_EQ(PrintableText("\xc2\xa0"), "\xc2\xa0");  // U+00A0 is not a control
}

TEST(PrintableTextTest, EscapesBytesThatAreNotUtf8) {
  EXPECT_EQ(PrintableText("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(PrintableText("\xc3"), "\\xc3");                 // truncated sequence
  EXPECT_EQ(PrintableText("\xc0\xaf"), "\\xc0\\xaf");        // overlong '/'
  EXPECT_EQ(PrintableText("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
}

TEST(PrintableTextTest, ABackslashIsEscapedSoEscapesAreUnambiguous) {
  EXPECT_EQ(PrintableText("C:\\n"), "C:\\\\n");
  EXPECT_NE(PrintableText("\\n"), PrintableText("\n"));
}

}  // namespace
}  // namespace tally
