#include "cql/data_type.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tally::cql {
namespace {

constexpr int kMaxTypeDepth = 32;

bool ReadAt(WireReader* r, DataType* out, int depth) {
  if (depth > kMaxTypeDepth) {
    r->Fail(absl::StrCat("type nested deeper than ", kMaxTypeDepth, " levels"));
    return false;
  }
  uint16_t id;
  if (!r->Allot(1, 2, "type node") || !r->ReadShort(&id)) return false;
  *out = DataType{};
  out->id = static_cast<TypeId>(id);
  switch (out->id) {
    case TypeId::kCustom:
      return r->ReadString(&out->custom_class);
    case TypeId::kAscii:
    case TypeId::kBigint:
    case TypeId::kBlob:
    case TypeId::kBoolean:
    case TypeId::kCounter:
    case TypeId::kDecimal:
    case TypeId::kDouble:
    case TypeId::kFloat:
    case TypeId::kInt:
    case TypeId::kTimestamp:
    case TypeId::kUuid:
    case TypeId::kVarchar:
    case TypeId::kVarint:
    case TypeId::kTimeuuid:
    case TypeId::kInet:
    case TypeId::kDate:
    case TypeId::kTime:
    case TypeId::kSmallint:
    case TypeId::kTinyint:
      return true;
    case TypeId::kList:
    case TypeId::kSet:
      out->params.resize(1);
      return ReadAt(r, &out->params[0], depth + 1);
    case TypeId::kMap:
      out->params.resize(2);
      return ReadAt(r, &out->params[0], depth + 1) && ReadAt(r, &out->params[1], depth + 1);
    case TypeId::kUdt: {
      uint16_t n;
      if (!r->ReadString(&out->udt_keyspace) || !r->ReadString(&out->udt_name) || !r->ReadShort(&n)) return false;
      if (!r->Allot(n, 4, "UDT field count")) return false;  // a name and a type each
      out->field_names.resize(n);
      out->params.resize(n);
      for (uint16_t i = 0; i < n; ++i) {
        if (!r->ReadString(&out->field_names[i]) || !ReadAt(r, &out->params[i], depth + 1)) return false;
      }
      return true;
    }
    case TypeId::kTuple: {
      uint16_t n;
      if (!r->ReadShort(&n) || !r->Allot(n, 2, "tuple field count")) return false;
      out->params.resize(n);
      for (uint16_t i = 0; i < n; ++i) {
        if (!ReadAt(r, &out->params[i], depth + 1)) return false;
      }
      return true;
    }
  }
  r->Fail(absl::StrFormat("unknown type id 0x%04x at byte %d", id, r->offset() - 2));
  return false;
}

const char* NativeName(TypeId id) {
  switch (id) {
    case TypeId::kAscii: return "ascii";
    case TypeId::kBigint: return "bigint";
    case TypeId::kBlob: return "blob";
    case TypeId::kBoolean: return "boolean";
    case TypeId::kCounter: return "counter";
    case TypeId::kDecimal: return "decimal";
    case TypeId::kDouble: return "double";
    case TypeId::kFloat: return "float";
    case TypeId::kInt: return "int";
    case TypeId::kTimestamp: return "timestamp";
    case TypeId::kUuid: return "uuid";
    case TypeId::kVarchar: return "text";
    case TypeId::kVarint: return "varint";
    case TypeId::kTimeuuid: return "timeuuid";
    case TypeId::kInet: return "inet";
    case TypeId::kDate: return "date";
    case TypeId::kTime: return "time";
    case TypeId::kSmallint: return "smallint";
    case TypeId::kTinyint: return "tinyint";
    default: return nullptr;
  }
}

}  // namespace

bool ReadDataType(WireReader* reader, DataType* out) { return ReadAt(reader, out, 0); }

std::string DataType::ToString() const {
  if (const char* name = NativeName(id)) return name;
  const auto join = [this]() {
    std::string s;
    for (size_t i = 0; i < params.size(); ++i) absl::StrAppend(&s, i ? ", " : "", params[i].ToString());
    return s;
  };
  switch (id) {
    case TypeId::kCustom: return absl::StrCat("'", custom_class, "'");
    case TypeId::kList: return absl::StrCat("list<", join(), ">");
    case TypeId::kSet: return absl::StrCat("set<", join(), ">");
    case TypeId::kMap: return absl::StrCat("map<", join(), ">");
    case TypeId::kTuple: return absl::StrCat("tuple<", join(), ">");
    case TypeId::kUdt: return absl::StrCat(udt_keyspace, ".", udt_name);
    default: return absl::StrFormat("type(0x%04x)", static_cast<int>(id));
  }
}

}  // namespace tally::cql
