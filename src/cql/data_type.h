#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cql/wire.h"

namespace tally::cql {

// The [option] ids of CQL types (protocol v4, section 4.2.5.2).
enum class TypeId : uint16_t {
  kCustom = 0x0000,
  kAscii = 0x0001,
  kBigint = 0x0002,
  kBlob = 0x0003,
  kBoolean = 0x0004,
  kCounter = 0x0005,
  kDecimal = 0x0006,
  kDouble = 0x0007,
  kFloat = 0x0008,
  kInt = 0x0009,
  kTimestamp = 0x000B,
  kUuid = 0x000C,
  kVarchar = 0x000D,
  kVarint = 0x000E,
  kTimeuuid = 0x000F,
  kInet = 0x0010,
  kDate = 0x0011,
  kTime = 0x0012,
  kSmallint = 0x0013,
  kTinyint = 0x0014,
  kList = 0x0020,
  kMap = 0x0021,
  kSet = 0x0022,
  kUdt = 0x0030,
  kTuple = 0x0031,
};

// The type of a column or bind marker as the server describes it. A value
// type; nested for collections, tuples and user-defined types.
struct DataType {
  TypeId id = TypeId::kBlob;
  std::string custom_class;               // kCustom: the Java class name
  std::string udt_keyspace, udt_name;     // kUdt
  std::vector<std::string> field_names;   // kUdt: one per entry of `params`
  std::vector<DataType> params;           // list/set: element; map: key, value; tuple, udt: fields

  // The CQL spelling: "bigint", "map<text, int>", "frozen<ks.point>" is
  // written "ks.point", a custom type "'org.Foo'".
  std::string ToString() const;
};

// Reads one [option] type, recursing into collections, tuples and UDTs up to a
// nesting depth of 32 (deeper input fails the reader). Unknown ids fail the
// reader too: their layout, and so the rest of the message, is unknown.
bool ReadDataType(WireReader* reader, DataType* out);

}  // namespace tally::cql
