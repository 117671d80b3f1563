#include "core/repartition_record.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace tally {
namespace {

template <typename T>
void Put(char*& p, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) *p++ = static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff);
}

template <typename T>
T Get(const char*& p) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(*p++)) << (8 * i);
  return static_cast<T>(v);
}

}  // namespace

void EncodeRepartitionValue(const Event& event, RecordOrigin input_origin, std::string_view original,
                            std::string* out) {
  out->resize(kRepartitionHeaderBytes + original.size());
  char* p = out->data();
  Put<uint8_t>(p, kRepartitionFormat);
  Put<uint64_t>(p, event.event_id.hi);
  Put<uint64_t>(p, event.event_id.lo);
  Put<uint64_t>(p, event.user_id.hi);
  Put<uint64_t>(p, event.user_id.lo);
  Put<uint64_t>(p, static_cast<uint64_t>(event.event_time));
  Put<uint32_t>(p, static_cast<uint32_t>(input_origin.partition));
  Put<uint64_t>(p, static_cast<uint64_t>(input_origin.position));
  if (!original.empty()) std::memcpy(p, original.data(), original.size());
}

void EncodeRepartitionInvalid(DeadLetterReason reason, RecordOrigin input_origin, std::string* out) {
  out->resize(kRepartitionInvalidBytes);
  char* p = out->data();
  Put<uint8_t>(p, kRepartitionInvalidKind);
  Put<uint8_t>(p, static_cast<uint8_t>(reason));
  Put<uint32_t>(p, static_cast<uint32_t>(input_origin.partition));
  Put<uint64_t>(p, static_cast<uint64_t>(input_origin.position));
}

void EncodeRepartitionKey(const Uuid& user, std::string* out) {
  out->resize(16);
  char* p = out->data();
  Put<uint64_t>(p, user.hi);
  Put<uint64_t>(p, user.lo);
}

int32_t RepartitionPartition(const Uuid& user, int32_t partitions) {
  // A fixed mix (not std::hash, which may differ between builds): the same
  // learner must land in the same partition from every process and version.
  uint64_t h = user.hi * 0x9E3779B97F4A7C15ull ^ user.lo;
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  return static_cast<int32_t>(h % static_cast<uint64_t>(partitions));
}

absl::Status DecodeRepartitionValue(std::string_view value, RepartitionRecord* record) {
  if (!value.empty() && static_cast<uint8_t>(value[0]) == kRepartitionInvalidKind) {
    if (value.size() != kRepartitionInvalidBytes) {
      return absl::DataLossError(absl::StrCat("a repartition record of an invalid input record of ", value.size(),
                                              " bytes, not ", kRepartitionInvalidBytes));
    }
    const char* p = value.data() + 1;
    const auto reason = Get<uint8_t>(p);
    if (reason >= kDeadLetterReasonCount || reason == static_cast<uint8_t>(DeadLetterReason::kLate)) {
      return absl::DataLossError(absl::StrCat("a repartition record of an invalid input record with reason ", reason));
    }
    record->invalid = true;
    record->reason = static_cast<DeadLetterReason>(reason);
    record->input_origin.partition = static_cast<int32_t>(Get<uint32_t>(p));
    record->input_origin.position = static_cast<int64_t>(Get<uint64_t>(p));
    record->original = {};
    return absl::OkStatus();
  }
  record->invalid = false;
  if (value.size() < kRepartitionHeaderBytes) {
    return absl::DataLossError(absl::StrCat("a repartition record of ", value.size(), " bytes, shorter than its ",
                                            kRepartitionHeaderBytes, "-byte header"));
  }
  const char* p = value.data();
  const auto version = Get<uint8_t>(p);
  if (version != kRepartitionFormat) {
    return absl::DataLossError(absl::StrCat("a repartition record of format ", version, "; this tally reads format ",
                                            kRepartitionFormat));
  }
  record->event.event_id.hi = Get<uint64_t>(p);
  record->event.event_id.lo = Get<uint64_t>(p);
  record->event.user_id.hi = Get<uint64_t>(p);
  record->event.user_id.lo = Get<uint64_t>(p);
  record->event.event_time = static_cast<Micros>(Get<uint64_t>(p));
  record->input_origin.partition = static_cast<int32_t>(Get<uint32_t>(p));
  record->input_origin.position = static_cast<int64_t>(Get<uint64_t>(p));
  record->original = value.substr(kRepartitionHeaderBytes);
  return absl::OkStatus();
}

}  // namespace tally
