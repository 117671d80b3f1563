// The primitive notations of the CQL native protocol v4 (spec section 3) and
// the serialization of the value types tally uses (section 6), against byte
// sequences written out from the spec text.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "absl/strings/escaping.h"
#include "cql_test_bytes.h"
#include "cql/value.h"
#include "cql/wire.h"

namespace tally::cql {
namespace {

using testing::B;
using testing::Contains;
using testing::Hex;



TEST(CqlWire, IntegersAreBigEndian) {
  std::string out;
  WireWriter w(&out);
  w.PutByte(0xab);
  w.PutShort(0x0102);
  w.PutInt(-2);
  w.PutLong(0x0102030405060708LL);
  EXPECT_EQ(Hex(out), "ab" "0102" "fffffffe" "0102030405060708");

  WireReader r(out);
  uint8_t b;
  uint16_t s;
  int32_t i;
  int64_t l;
  ASSERT_TRUE(r.ReadByte(&b) && r.ReadShort(&s) && r.ReadInt(&i) && r.ReadLong(&l));
  EXPECT_EQ(b, 0xab);
  EXPECT_EQ(s, 0x0102);
  EXPECT_EQ(i, -2);
  EXPECT_EQ(l, 0x0102030405060708LL);
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_TRUE(r.ok());
}

TEST(CqlWire, Strings) {
  std::string out;
  WireWriter w(&out);
  w.PutString("abc");        // [string]: [short] n, n bytes
  w.PutLongString("xy");     // [long string]: [int] n, n bytes
  w.PutStringList({"a", "bc"});
  EXPECT_EQ(out, B({0, 3, 'a', 'b', 'c', 0, 0, 0, 2, 'x', 'y', 0, 2, 0, 1, 'a', 0, 2, 'b', 'c'}));

  WireReader r(out);
  std::string s;
  absl::string_view ls;
  std::vector<std::string> list;
  ASSERT_TRUE(r.ReadString(&s) && r.ReadLongString(&ls) && r.ReadStringList(&list));
  EXPECT_EQ(s, "abc");
  EXPECT_EQ(ls, "xy");
  EXPECT_EQ(list, (std::vector<std::string>{"a", "bc"}));
}

TEST(CqlWire, Uuid) {
  std::string out;
  WireWriter w(&out);
  Uuid u;
  ASSERT_TRUE(ParseUuid("0b6e1c2a-6f3b-4c2d-9e8f-0123456789ab", &u));
  w.PutUuid(u);
  EXPECT_EQ(Hex(out), "0b6e1c2a6f3b4c2d9e8f0123456789ab");
  WireReader r(out);
  Uuid back;
  ASSERT_TRUE(r.ReadUuid(&back));
  EXPECT_EQ(back, u);
}

TEST(CqlWire, BytesValueAndShortBytes) {
  std::string out;
  WireWriter w(&out);
  w.PutBytes(absl::string_view("\x01\x02", 2));
  w.PutBytes(std::nullopt);  // null: length -1
  w.PutValue("z");
  w.PutNullValue();   // [value] n == -1
  w.PutUnsetValue();  // [value] n == -2
  w.PutShortBytes(absl::string_view("\x07", 1));
  EXPECT_EQ(Hex(out), "000000020102" "ffffffff" "000000017a" "ffffffff" "fffffffe" "000107");

  WireReader r(out);
  std::optional<absl::string_view> b1, b2;
  ASSERT_TRUE(r.ReadBytes(&b1) && r.ReadBytes(&b2));
  EXPECT_EQ(*b1, absl::string_view("\x01\x02", 2));
  EXPECT_FALSE(b2.has_value());
}

TEST(CqlWire, StringMapIsTheStartupBody) {
  // The STARTUP body of spec section 4.1.1: a [string map] {"CQL_VERSION": "3.0.0"}.
  std::string out;
  WireWriter w(&out);
  w.PutStringMap({{"CQL_VERSION", "3.0.0"}});
  EXPECT_EQ(out, B({0, 1, 0, 11}) + "CQL_VERSION" + B({0, 5}) + "3.0.0");

  WireReader r(out);
  StringMap m;
  ASSERT_TRUE(r.ReadStringMap(&m));
  EXPECT_EQ(m, (StringMap{{"CQL_VERSION", "3.0.0"}}));
}

TEST(CqlWire, StringMultimapIsTheSupportedBody) {
  const std::string body = B({0, 2}) + B({0, 11}) + "CQL_VERSION" + B({0, 1, 0, 5}) + "3.4.7" + B({0, 11}) +
                           "COMPRESSION" + B({0, 2, 0, 6}) + "snappy" + B({0, 3}) + "lz4";
  WireReader r(body);
  StringMultimap m;
  ASSERT_TRUE(r.ReadStringMultimap(&m));
  EXPECT_EQ(m, (StringMultimap{{"CQL_VERSION", {"3.4.7"}}, {"COMPRESSION", {"snappy", "lz4"}}}));

  std::string out;
  WireWriter w(&out);
  w.PutStringMultimap(m);
  WireReader again(out);
  StringMultimap m2;
  ASSERT_TRUE(again.ReadStringMultimap(&m2));
  EXPECT_EQ(m2, m);
}

TEST(CqlWire, Consistency) {
  std::string out;
  WireWriter w(&out);
  w.PutConsistency(Consistency::kLocalQuorum);
  w.PutConsistency(Consistency::kLocalOne);
  EXPECT_EQ(out, B({0x00, 0x06, 0x00, 0x0A}));
  EXPECT_STREQ(ConsistencyName(Consistency::kLocalQuorum), "LOCAL_QUORUM");
  WireReader r(out);
  Consistency c;
  ASSERT_TRUE(r.ReadConsistency(&c));
  EXPECT_EQ(c, Consistency::kLocalQuorum);
}

TEST(CqlWire, TruncationFailsTheReaderWithAClearMessage) {
  const std::string body = B({0, 7, 'a', 'b', 'c'});  // a [string] of 7 bytes with 3 present
  WireReader r(body);
  std::string s;
  EXPECT_FALSE(r.ReadString(&s));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(r.status().message(), "truncated [string] at byte 2: needs 7 bytes, 3 left");
  uint8_t b;
  EXPECT_FALSE(r.ReadByte(&b)) << "a failed reader stays failed";
}

TEST(CqlWire, NegativeLongStringLengthIsRejected) {
  const std::string body = B({0xff, 0xff, 0xff, 0xf0});
  WireReader r(body);
  absl::string_view s;
  EXPECT_FALSE(r.ReadLongString(&s));
  EXPECT_NE(r.status().message().find("negative [long string] length -16"), absl::string_view::npos);
}

TEST(CqlWire, WriterRefusesOversizedShortStrings) {
  std::string out;
  WireWriter w(&out);
  w.PutString(std::string(70000, 'x'));
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(w.status().message(), "cannot encode [string] of size 70000");
}

// --- values (spec section 6) ---

TEST(CqlValue, NullAndUnset) {
  std::string out;
  WireWriter w(&out);
  Value::Null().EncodeTo(&w);
  Value::Unset().EncodeTo(&w);
  EXPECT_EQ(Hex(out), "ffffffff" "fffffffe");
  EXPECT_TRUE(Value().is_null());
  EXPECT_TRUE(Value::Unset().is_unset());
}

TEST(CqlValue, DateIsUnsignedDaysCenteredAt2Pow31) {
  // "2^31: 1970-1-1" (section 6.5).
  EXPECT_EQ(Hex(std::string(Value::FromDate(0).bytes())), "80000000");
  EXPECT_EQ(Hex(std::string(Value::FromDate(-1).bytes())), "7fffffff");
  EXPECT_EQ(Hex(std::string(Value::FromDate(19723).bytes())), "80004d0b");  // 2024-01-01
  EXPECT_EQ(*DecodeDate(B({0x80, 0, 0x4d, 0x0b})), 19723);
  EXPECT_EQ(*DecodeDate(B({0, 0, 0, 0})), -(int64_t{1} << 31));
}

TEST(CqlValue, FixedWidthTypes) {
  EXPECT_EQ(Hex(std::string(Value::FromBigint(-2).bytes())), "fffffffffffffffe");
  EXPECT_EQ(Hex(std::string(Value::FromInt(258).bytes())), "00000102");
  EXPECT_EQ(Hex(std::string(Value::FromBoolean(true).bytes())), "01");
  EXPECT_EQ(Hex(std::string(Value::FromTimestamp(1000).bytes())), "00000000000003e8");
  EXPECT_EQ(*DecodeBigint(B({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe})), -2);
  EXPECT_EQ(*DecodeInt(B({0, 0, 1, 2})), 258);
  EXPECT_TRUE(*DecodeBoolean(B({2})));  // "any other value denotes true"
  EXPECT_EQ(*DecodeTimestamp(B({0, 0, 0, 0, 0, 0, 3, 0xe8})), 1000);

  Uuid u{0x0011223344556677ULL, 0x8899aabbccddeeffULL};
  EXPECT_EQ(Hex(std::string(Value::FromUuid(u).bytes())), "00112233445566778899aabbccddeeff");
  EXPECT_EQ(*DecodeUuid(Value::FromUuid(u).bytes()), u);

  std::string out;
  WireWriter w(&out);
  Value::FromBigint(5).EncodeTo(&w);
  EXPECT_EQ(Hex(out), "00000008" "0000000000000005");
}

TEST(CqlValue, LongValuesLeaveTheInlineBuffer) {
  const std::string text(100, 't');
  Value v = Value::FromText(text);
  EXPECT_EQ(v.wire_length(), 100);
  EXPECT_EQ(v.bytes(), text);
  Value copy = v;
  EXPECT_EQ(copy, v);
}

TEST(CqlValue, WrongSizesAreErrors) {
  EXPECT_EQ(DecodeUuid("short").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeBigint(B({1, 2, 3})).status().message(), "a bigint value has 8 bytes, not 3");
  EXPECT_FALSE(DecodeDate("").ok());
}

}  // namespace
}  // namespace tally::cql
