#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/uuid.h"
#include "cql/consistency.h"

namespace tally::cql {

// The primitive notations of the CQL native protocol v4 (section 3 of the
// spec), big-endian throughout:
//   [byte] [short] (unsigned 16) [int] (signed 32) [long] (signed 64)
//   [string]       [short] n, n bytes of UTF-8
//   [long string]  [int] n, n bytes of UTF-8
//   [uuid]         16 bytes
//   [string list]  [short] n, n [string]
//   [bytes]        [int] n, n bytes if n >= 0, null if n < 0
//   [value]        [int] n, n bytes if n >= 0, null if n == -1, unset if n == -2
//   [short bytes]  [short] n, n bytes
//   [string map]   [short] n, n pairs of [string] [string]
//   [string multimap]  [short] n, n pairs of [string] [string list]
//   [bytes map]    [short] n, n pairs of [string] [bytes]
//   [consistency]  [short]

using StringMap = std::map<std::string, std::string>;
using StringMultimap = std::map<std::string, std::vector<std::string>>;

// Appends primitives to a caller-owned buffer, which the caller may reuse
// across messages (clear() keeps its capacity). A value that cannot be encoded
// (a [string] longer than 65535 bytes, a list with more than 65535 entries)
// makes the writer fail: status() reports the first such error and the buffer
// content is then unspecified. Not thread-safe.
class WireWriter {
 public:
  explicit WireWriter(std::string* out) : out_(out) {}

  void PutByte(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void PutShort(uint16_t v);
  void PutInt(int32_t v);
  void PutLong(int64_t v);
  void PutString(absl::string_view s);
  void PutLongString(absl::string_view s);
  void PutUuid(const Uuid& u);
  void PutStringList(const std::vector<std::string>& list);
  // [bytes]: nullopt encodes null (length -1).
  void PutBytes(std::optional<absl::string_view> b);
  // [value]: the three forms.
  void PutValue(absl::string_view b);
  void PutNullValue() { PutInt(-1); }
  void PutUnsetValue() { PutInt(-2); }
  void PutShortBytes(absl::string_view b);
  void PutStringMap(const StringMap& m);
  void PutStringMultimap(const StringMultimap& m);
  void PutConsistency(Consistency c) { PutShort(static_cast<uint16_t>(c)); }
  void PutRaw(absl::string_view b) { out_->append(b.data(), b.size()); }

  // Overwrites 4 bytes at `pos` (which must already exist) with [int] v; used to
  // fill in a length once the bytes it counts are written.
  void PatchInt(size_t pos, int32_t v);

  size_t size() const { return out_->size(); }
  std::string* buffer() { return out_; }
  const absl::Status& status() const { return status_; }

 private:
  void Fail(absl::string_view what, size_t n);

  std::string* out_;
  absl::Status status_;
};

// Reads primitives from a byte range it does not own. Reading past the end, or
// a malformed length, fails the reader: the Read* call returns false, leaves its
// output unspecified, and every later Read* returns false too; status() then
// names the primitive and the offset ("truncated [string] at byte 12: needs 7
// bytes, 3 left"). This lets a parser read a whole message and check once.
// string_view outputs point into the input. Not thread-safe.
//
// Memory: the bytes come from a peer that may lie. Every length is checked
// against the bytes actually left before anything is allocated for it, and
// the structured elements one reader decodes into owned objects (list and map
// entries, column specs, type nodes: each tens to hundreds of bytes for as few
// as 2 bytes of input) are limited to kMaxElements in all (see Allot), so a
// message costs a bounded multiple of its size, and at most ~16 MB beyond it.
class WireReader {
 public:
  // Far more than any response tally asks for holds (a few columns, a
  // SUPPORTED map of a dozen entries).
  static constexpr size_t kMaxElements = 65536;

  explicit WireReader(absl::string_view in) : in_(in) {}

  bool ReadByte(uint8_t* v);
  bool ReadShort(uint16_t* v);
  bool ReadInt(int32_t* v);
  bool ReadLong(int64_t* v);
  bool ReadString(absl::string_view* s);
  bool ReadString(std::string* s);
  bool ReadLongString(absl::string_view* s);
  bool ReadUuid(Uuid* u);
  bool ReadStringList(std::vector<std::string>* list);
  // [bytes]: nullopt for null (any negative length).
  bool ReadBytes(std::optional<absl::string_view>* b);
  bool ReadShortBytes(absl::string_view* b);
  bool ReadStringMap(StringMap* m);
  bool ReadStringMultimap(StringMultimap* m);
  bool ReadBytesMap(std::map<std::string, std::optional<std::string>>* m);
  bool ReadConsistency(Consistency* c);
  // Takes the next n raw bytes.
  bool ReadRaw(size_t n, absl::string_view* b);

  // Takes `n` structured elements, each of at least `min_bytes` bytes still to
  // be read, from the reader's budget: fails the reader (naming `what`) when
  // fewer than n * min_bytes bytes are left or the message would decode more
  // than kMaxElements in all. Call before allocating for n elements.
  bool Allot(uint64_t n, size_t min_bytes, const char* what);

  // Fails the reader with a message of the caller's (e.g. an invalid flag
  // combination found while parsing); keeps an earlier failure.
  void Fail(absl::string_view message);

  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }
  size_t offset() const { return pos_; }
  // The bytes read from offset `from` up to the current offset.
  absl::string_view ConsumedSince(size_t from) const { return in_.substr(from, pos_ - from); }
  size_t remaining() const { return in_.size() - pos_; }

 private:
  bool Need(size_t n, const char* what);

  absl::string_view in_;
  size_t pos_ = 0;
  size_t elements_ = 0;  // allotted so far
  absl::Status status_;
};

}  // namespace tally::cql
