#include "cql/request.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace tally::cql {
namespace {

// QUERY / EXECUTE flags (section 4.1.4).
constexpr uint8_t kValues = 0x01;
constexpr uint8_t kSkipMetadata = 0x02;
constexpr uint8_t kPageSize = 0x04;
constexpr uint8_t kWithPagingState = 0x08;
constexpr uint8_t kWithSerialConsistency = 0x10;
constexpr uint8_t kWithDefaultTimestamp = 0x20;

constexpr size_t kMaxShort = std::numeric_limits<uint16_t>::max();

absl::Status TooMany(const char* what, size_t n) {
  return absl::InvalidArgumentError(absl::StrCat("too many ", what, ": ", n, " (the protocol allows 65535)"));
}

// Ends the frame begun at `start`: checks the writer, fills in the length, and
// on any failure restores *out to its size before the frame.
absl::Status Finish(WireWriter& w, std::string* out, size_t start) {
  absl::Status s = w.status();
  if (s.ok()) s = FinishFrame(out, start);
  if (!s.ok()) out->resize(start);
  return s;
}

void PutValues(WireWriter& w, absl::Span<const Value> values) {
  w.PutShort(static_cast<uint16_t>(values.size()));
  for (const Value& v : values) v.EncodeTo(&w);
}

absl::Status PutQueryParameters(WireWriter& w, const QueryParameters& p) {
  if (p.values.size() > kMaxShort) return TooMany("bind values", p.values.size());
  if (p.default_timestamp && *p.default_timestamp < 0) {
    return absl::InvalidArgumentError("a default timestamp must not be negative");
  }
  uint8_t flags = 0;
  if (!p.values.empty()) flags |= kValues;
  if (p.skip_metadata) flags |= kSkipMetadata;
  if (p.page_size > 0) flags |= kPageSize;
  if (p.paging_state) flags |= kWithPagingState;
  if (p.serial_consistency) flags |= kWithSerialConsistency;
  if (p.default_timestamp) flags |= kWithDefaultTimestamp;
  w.PutConsistency(p.consistency);
  w.PutByte(flags);
  if (flags & kValues) PutValues(w, p.values);
  if (flags & kPageSize) w.PutInt(p.page_size);
  if (flags & kWithPagingState) w.PutBytes(absl::string_view(*p.paging_state));
  if (flags & kWithSerialConsistency) w.PutConsistency(*p.serial_consistency);
  if (flags & kWithDefaultTimestamp) w.PutLong(*p.default_timestamp);
  return absl::OkStatus();
}

}  // namespace

StringMap DefaultStartupOptions() { return {{"CQL_VERSION", "3.0.0"}}; }

void AppendOptionsRequest(std::string* out, int16_t stream) {
  const size_t start = BeginRequestFrame(out, Opcode::kOptions, stream);
  (void)FinishFrame(out, start);  // an empty body cannot fail
}

absl::Status AppendStartupRequest(std::string* out, int16_t stream, const StringMap& options) {
  const size_t start = BeginRequestFrame(out, Opcode::kStartup, stream);
  WireWriter w(out);
  w.PutStringMap(options);
  return Finish(w, out, start);
}

absl::Status AppendAuthResponseRequest(std::string* out, int16_t stream, std::optional<absl::string_view> token) {
  const size_t start = BeginRequestFrame(out, Opcode::kAuthResponse, stream);
  WireWriter w(out);
  w.PutBytes(token);
  return Finish(w, out, start);
}

absl::Status AppendPrepareRequest(std::string* out, int16_t stream, absl::string_view query) {
  const size_t start = BeginRequestFrame(out, Opcode::kPrepare, stream);
  WireWriter w(out);
  w.PutLongString(query);
  return Finish(w, out, start);
}

absl::Status AppendQueryRequest(std::string* out, int16_t stream, absl::string_view query,
                                const QueryParameters& params) {
  const size_t start = BeginRequestFrame(out, Opcode::kQuery, stream);
  WireWriter w(out);
  w.PutLongString(query);
  if (absl::Status s = PutQueryParameters(w, params); !s.ok()) {
    out->resize(start);
    return s;
  }
  return Finish(w, out, start);
}

absl::Status AppendExecuteRequest(std::string* out, int16_t stream, absl::string_view prepared_id,
                                  const QueryParameters& params) {
  const size_t start = BeginRequestFrame(out, Opcode::kExecute, stream);
  WireWriter w(out);
  w.PutShortBytes(prepared_id);
  if (absl::Status s = PutQueryParameters(w, params); !s.ok()) {
    out->resize(start);
    return s;
  }
  return Finish(w, out, start);
}

absl::Status AppendBatchRequest(std::string* out, int16_t stream, absl::Span<const BatchEntry> entries,
                                const BatchParameters& params) {
  if (entries.size() > kMaxShort) return TooMany("batch statements", entries.size());
  for (const BatchEntry& e : entries) {
    if (e.values.size() > kMaxShort) return TooMany("bind values in a batch statement", e.values.size());
  }
  if (params.default_timestamp && *params.default_timestamp < 0) {
    return absl::InvalidArgumentError("a default timestamp must not be negative");
  }
  const size_t start = BeginRequestFrame(out, Opcode::kBatch, stream);
  WireWriter w(out);
  w.PutByte(static_cast<uint8_t>(params.type));
  w.PutShort(static_cast<uint16_t>(entries.size()));
  for (const BatchEntry& e : entries) {
    w.PutByte(e.prepared ? 1 : 0);
    if (e.prepared) {
      w.PutShortBytes(e.id_or_query);
    } else {
      w.PutLongString(e.id_or_query);
    }
    PutValues(w, e.values);
  }
  uint8_t flags = 0;
  if (params.serial_consistency) flags |= kWithSerialConsistency;
  if (params.default_timestamp) flags |= kWithDefaultTimestamp;
  w.PutConsistency(params.consistency);
  w.PutByte(flags);
  if (params.serial_consistency) w.PutConsistency(*params.serial_consistency);
  if (params.default_timestamp) w.PutLong(*params.default_timestamp);
  return Finish(w, out, start);
}

absl::Status ReplacePreparedId(std::string* frame, absl::string_view id) {
  if (id.size() > kMaxShort) return TooMany("bytes in a prepared id", id.size());
  absl::StatusOr<FrameHeader> header = DecodeFrameHeader(*frame, Direction::kRequest);
  if (!header.ok()) return header.status();
  if (frame->size() != kFrameHeaderSize + header->length) {
    return absl::InvalidArgumentError("not one whole request frame");
  }
  if (header->opcode != Opcode::kExecute && header->opcode != Opcode::kBatch) {
    return absl::InvalidArgumentError(absl::StrCat("no prepared id in a ", OpcodeName(header->opcode), " request"));
  }
  WireReader r(absl::string_view(*frame).substr(kFrameHeaderSize));
  std::string out(frame->data(), kFrameHeaderSize);
  WireWriter w(&out);
  size_t copied = 0;  // body bytes up to here are in `out`
  // Copies the body up to the id about to be read, then the new id instead.
  const auto replace_id = [&] {
    const size_t at = r.offset();
    absl::string_view old;
    if (!r.ReadShortBytes(&old)) return false;
    out.append(frame->data() + kFrameHeaderSize + copied, at - copied);
    w.PutShortBytes(id);
    copied = r.offset();
    return true;
  };
  bool ok = true;
  if (header->opcode == Opcode::kExecute) {
    ok = replace_id();
  } else {
    uint8_t type;
    uint16_t n;
    ok = r.ReadByte(&type) && r.ReadShort(&n);
    for (uint16_t i = 0; ok && i < n; ++i) {
      uint8_t kind;
      uint16_t values;
      ok = r.ReadByte(&kind);
      if (ok && kind == 1) {
        ok = replace_id();
      } else if (ok) {
        absl::string_view query;
        ok = r.ReadLongString(&query);
      }
      ok = ok && r.ReadShort(&values);
      for (uint16_t v = 0; ok && v < values; ++v) {
        int32_t length;
        absl::string_view bytes;
        ok = r.ReadInt(&length) && (length < 0 || r.ReadRaw(static_cast<size_t>(length), &bytes));
      }
    }
  }
  if (!ok) return absl::InvalidArgumentError(absl::StrCat("a malformed ", OpcodeName(header->opcode), " request"));
  out.append(frame->data() + kFrameHeaderSize + copied, header->length - copied);
  if (absl::Status s = FinishFrame(&out, 0); !s.ok()) return s;
  frame->swap(out);
  return absl::OkStatus();
}

}  // namespace tally::cql
