#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/event_time.h"
#include "core/uuid.h"
#include "cql/data_type.h"
#include "cql/wire.h"

namespace tally::cql {

// The RESULT message of protocol v4 (section 4.2.5) and its five kinds.

struct ColumnSpec {
  std::string keyspace;
  std::string table;
  std::string name;
  DataType type;
};

// <metadata> of a Rows result, also the <result_metadata> of a Prepared one.
struct ResultMetadata {
  static constexpr int32_t kGlobalTablesSpec = 0x0001;
  static constexpr int32_t kHasMorePages = 0x0002;
  static constexpr int32_t kNoMetadata = 0x0004;

  int32_t flags = 0;
  int32_t column_count = 0;
  std::optional<std::string> paging_state;  // present iff kHasMorePages
  std::vector<ColumnSpec> columns;          // empty iff kNoMetadata

  bool has_more_pages() const { return (flags & kHasMorePages) != 0; }
};

// A Rows result: metadata and the cells of row_count() rows. Cells are kept as
// the server sent them; the typed getters decode uuid, timeuuid, date, bigint,
// counter, int, text/varchar/ascii, boolean and timestamp, and Cell() gives any
// column's raw bytes. A getter fails with InvalidArgument when the column's
// type (if the metadata names it) or byte count does not fit, OutOfRange for a
// bad row or column index, and FailedPrecondition for a null cell.
// Immutable after parsing: safe to read from many threads.
class Rows {
 public:
  const ResultMetadata& metadata() const { return metadata_; }
  int row_count() const { return row_count_; }
  int column_count() const { return metadata_.column_count; }

  // Index of the column named `name`, if the metadata has names.
  std::optional<int> ColumnIndex(absl::string_view name) const;

  // The raw bytes of a cell; nullopt for null (and for an index out of range).
  std::optional<absl::string_view> Cell(int row, int column) const;
  bool IsNull(int row, int column) const { return !Cell(row, column).has_value(); }

  absl::StatusOr<Uuid> GetUuid(int row, int column) const;
  absl::StatusOr<Day> GetDate(int row, int column) const;
  absl::StatusOr<int64_t> GetBigint(int row, int column) const;
  absl::StatusOr<int32_t> GetInt(int row, int column) const;
  absl::StatusOr<absl::string_view> GetText(int row, int column) const;  // valid while *this lives
  absl::StatusOr<bool> GetBoolean(int row, int column) const;
  absl::StatusOr<int64_t> GetTimestamp(int row, int column) const;  // ms since the epoch

  // Reads <metadata><rows_count><rows_content>.
  friend bool ReadRows(WireReader* reader, Rows* out);

 private:
  struct CellRef {
    int32_t offset;
    int32_t length;  // < 0: null
  };
  absl::StatusOr<absl::string_view> Typed(int row, int column, std::initializer_list<TypeId> accepted,
                                          const char* wanted) const;

  ResultMetadata metadata_;
  int row_count_ = 0;
  std::string data_;  // the <rows_content> bytes
  std::vector<CellRef> cells_;
};

// A Prepared result: the statement id and what its bind markers expect.
struct PreparedMetadata {
  std::string id;
  int32_t flags = 0;
  std::vector<uint16_t> pk_indices;  // bind marker index of each partition key column
  std::vector<ColumnSpec> bind_columns;
  ResultMetadata result_metadata;
};

// A Schema_change result (the body of a SCHEMA_CHANGE event).
struct SchemaChange {
  std::string change_type;  // CREATED, UPDATED, DROPPED
  std::string target;       // KEYSPACE, TABLE, TYPE, FUNCTION, AGGREGATE
  std::string keyspace;
  std::string name;  // empty for KEYSPACE
  std::vector<std::string> argument_types;  // FUNCTION, AGGREGATE
};

enum class ResultKind : int32_t {
  kVoid = 0x0001,
  kRows = 0x0002,
  kSetKeyspace = 0x0003,
  kPrepared = 0x0004,
  kSchemaChange = 0x0005,
};

// One RESULT. A value type; immutable once parsed.
class Result {
 public:
  Result() = default;  // Void
  ResultKind kind() const { return kind_; }

  // Each returns null unless kind() matches.
  const Rows* rows() const { return std::get_if<Rows>(&body_); }
  const PreparedMetadata* prepared() const { return std::get_if<PreparedMetadata>(&body_); }
  const SchemaChange* schema_change() const { return std::get_if<SchemaChange>(&body_); }
  const std::string* keyspace() const { return std::get_if<std::string>(&body_); }  // Set_keyspace

  // Reads a RESULT body; an unknown kind fails the reader.
  friend bool ReadResult(WireReader* reader, Result* out);

 private:
  ResultKind kind_ = ResultKind::kVoid;
  std::variant<std::monostate, Rows, std::string, PreparedMetadata, SchemaChange> body_;
};

bool ReadRows(WireReader* reader, Rows* out);
bool ReadResult(WireReader* reader, Result* out);

// How an asynchronous request reports its outcome; see Session.
using ResultCallback = absl::AnyInvocable<void(absl::StatusOr<Result>)>;

}  // namespace tally::cql
