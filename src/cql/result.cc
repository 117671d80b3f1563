#include "cql/result.h"

#include "absl/strings/str_cat.h"
#include "cql/value.h"

namespace tally::cql {
namespace {

// Reads `count` column specs after <flags>, honouring Global_tables_spec. Each
// spec takes at least 4 bytes (8 without a global table spec), and counts
// against the reader's element budget, which bounds `count` before any
// allocation (a ColumnSpec is some 250 bytes in memory).
bool ReadColumnSpecs(WireReader* r, int32_t flags, int32_t count, std::vector<ColumnSpec>* out) {
  if (count < 0) {
    r->Fail(absl::StrCat("negative column count ", count));
    return false;
  }
  std::string ks, table;
  const bool global = (flags & ResultMetadata::kGlobalTablesSpec) != 0;
  if (global && (!r->ReadString(&ks) || !r->ReadString(&table))) return false;
  if (!r->Allot(static_cast<uint64_t>(count), global ? 4 : 8, "column count")) return false;
  out->resize(static_cast<size_t>(count));
  for (ColumnSpec& c : *out) {
    if (global) {
      c.keyspace = ks;
      c.table = table;
    } else if (!r->ReadString(&c.keyspace) || !r->ReadString(&c.table)) {
      return false;
    }
    if (!r->ReadString(&c.name) || !ReadDataType(r, &c.type)) return false;
  }
  return true;
}

bool ReadResultMetadata(WireReader* r, ResultMetadata* m) {
  if (!r->ReadInt(&m->flags) || !r->ReadInt(&m->column_count)) return false;
  if (m->column_count < 0) {
    r->Fail(absl::StrCat("negative column count ", m->column_count));
    return false;
  }
  if (m->flags & ResultMetadata::kHasMorePages) {
    std::optional<absl::string_view> state;
    if (!r->ReadBytes(&state)) return false;
    if (state) m->paging_state.emplace(state->data(), state->size());
  }
  if (m->flags & ResultMetadata::kNoMetadata) return true;
  return ReadColumnSpecs(r, m->flags, m->column_count, &m->columns);
}

bool ReadPrepared(WireReader* r, PreparedMetadata* p) {
  absl::string_view id;
  if (!r->ReadShortBytes(&id)) return false;
  p->id.assign(id.data(), id.size());
  int32_t columns, pk_count;
  if (!r->ReadInt(&p->flags) || !r->ReadInt(&columns) || !r->ReadInt(&pk_count)) return false;
  if (pk_count < 0 || static_cast<size_t>(pk_count) > r->remaining() / 2) {
    r->Fail(absl::StrCat("implausible partition key count ", pk_count));
    return false;
  }
  p->pk_indices.resize(static_cast<size_t>(pk_count));
  for (uint16_t& i : p->pk_indices) {
    if (!r->ReadShort(&i)) return false;
  }
  return ReadColumnSpecs(r, p->flags, columns, &p->bind_columns) && ReadResultMetadata(r, &p->result_metadata);
}

bool ReadSchemaChange(WireReader* r, SchemaChange* c) {
  if (!r->ReadString(&c->change_type) || !r->ReadString(&c->target) || !r->ReadString(&c->keyspace)) return false;
  if (c->target == "KEYSPACE") return true;
  if (!r->ReadString(&c->name)) return false;
  if (c->target == "FUNCTION" || c->target == "AGGREGATE") return r->ReadStringList(&c->argument_types);
  return true;
}

}  // namespace

bool ReadRows(WireReader* r, Rows* out) {
  *out = Rows();
  if (!ReadResultMetadata(r, &out->metadata_)) return false;
  int32_t rows;
  if (!r->ReadInt(&rows)) return false;
  const uint64_t cells = static_cast<uint64_t>(rows < 0 ? 0 : rows) * static_cast<uint64_t>(out->metadata_.column_count);
  if (rows < 0 || cells > r->remaining() / 4) {  // every cell takes at least its 4-byte length
    r->Fail(absl::StrCat("implausible row count ", rows, " of ", out->metadata_.column_count, " columns for ",
                         r->remaining(), " bytes"));
    return false;
  }
  out->row_count_ = rows;
  out->cells_.resize(cells);
  const size_t start = r->offset();
  for (Rows::CellRef& c : out->cells_) {
    std::optional<absl::string_view> b;
    if (!r->ReadBytes(&b)) return false;
    c.length = b ? static_cast<int32_t>(b->size()) : -1;
    c.offset = b ? static_cast<int32_t>(r->offset() - start - b->size()) : 0;
  }
  const absl::string_view content = r->ConsumedSince(start);
  out->data_.assign(content.data(), content.size());
  return true;
}

std::optional<int> Rows::ColumnIndex(absl::string_view name) const {
  for (size_t i = 0; i < metadata_.columns.size(); ++i) {
    if (metadata_.columns[i].name == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::optional<absl::string_view> Rows::Cell(int row, int column) const {
  if (row < 0 || row >= row_count_ || column < 0 || column >= metadata_.column_count) return std::nullopt;
  const CellRef& c = cells_[static_cast<size_t>(row) * static_cast<size_t>(metadata_.column_count) +
                            static_cast<size_t>(column)];
  if (c.length < 0) return std::nullopt;
  return absl::string_view(data_).substr(static_cast<size_t>(c.offset), static_cast<size_t>(c.length));
}

absl::StatusOr<absl::string_view> Rows::Typed(int row, int column, std::initializer_list<TypeId> accepted,
                                              const char* wanted) const {
  if (row < 0 || row >= row_count_ || column < 0 || column >= metadata_.column_count) {
    return absl::OutOfRangeError(absl::StrCat("no cell (", row, ", ", column, ") in ", row_count_, " rows of ",
                                              metadata_.column_count, " columns"));
  }
  if (static_cast<size_t>(column) < metadata_.columns.size()) {
    const ColumnSpec& spec = metadata_.columns[static_cast<size_t>(column)];
    bool ok = false;
    for (TypeId id : accepted) ok = ok || spec.type.id == id;
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("column ", spec.name, " is ", spec.type.ToString(), ", not ", wanted));
    }
  }
  std::optional<absl::string_view> cell = Cell(row, column);
  if (!cell) return absl::FailedPreconditionError(absl::StrCat("cell (", row, ", ", column, ") is null"));
  return *cell;
}

absl::StatusOr<Uuid> Rows::GetUuid(int row, int column) const {
  absl::StatusOr<absl::string_view> b = Typed(row, column, {TypeId::kUuid, TypeId::kTimeuuid}, "uuid");
  if (!b.ok()) return b.status();
  return DecodeUuid(*b);
}

absl::StatusOr<Day> Rows::GetDate(int row, int column) const {
  absl::StatusOr<absl::string_view> b = Typed(row, column, {TypeId::kDate}, "date");
  if (!b.ok()) return b.status();
  return DecodeDate(*b);
}

absl::StatusOr<int64_t> Rows::GetBigint(int row, int column) const {
  absl::StatusOr<absl::string_view> b = Typed(row, column, {TypeId::kBigint, TypeId::kCounter}, "bigint");
  if (!b.ok()) return b.status();
  return DecodeBigint(*b);
}

absl::StatusOr<int32_t> Rows::GetInt(int row, int column) const {
  absl::StatusOr<absl::string_view> b = Typed(row, column, {TypeId::kInt}, "int");
  if (!b.ok()) return b.status();
  return DecodeInt(*b);
}

absl::StatusOr<absl::string_view> Rows::GetText(int row, int column) const {
  return Typed(row, column, {TypeId::kVarchar, TypeId::kAscii}, "text");
}

absl::StatusOr<bool> Rows::GetBoolean(int row, int column) const {
  absl::StatusOr<absl::string_view> b = Typed(row, column, {TypeId::kBoolean}, "boolean");
  if (!b.ok()) return b.status();
  return DecodeBoolean(*b);
}

absl::StatusOr<int64_t> Rows::GetTimestamp(int row, int column) const {
  absl::StatusOr<absl::string_view> b = Typed(row, column, {TypeId::kTimestamp}, "timestamp");
  if (!b.ok()) return b.status();
  return DecodeTimestamp(*b);
}

bool ReadResult(WireReader* r, Result* out) {
  int32_t kind;
  if (!r->ReadInt(&kind)) return false;
  out->kind_ = static_cast<ResultKind>(kind);
  switch (out->kind_) {
    case ResultKind::kVoid:
      out->body_ = std::monostate{};
      return true;
    case ResultKind::kRows:
      return ReadRows(r, &out->body_.emplace<Rows>());
    case ResultKind::kSetKeyspace:
      return r->ReadString(&out->body_.emplace<std::string>());
    case ResultKind::kPrepared:
      return ReadPrepared(r, &out->body_.emplace<PreparedMetadata>());
    case ResultKind::kSchemaChange:
      return ReadSchemaChange(r, &out->body_.emplace<SchemaChange>());
  }
  r->Fail(absl::StrCat("unknown RESULT kind ", kind));
  return false;
}

}  // namespace tally::cql
