#include "kafka/consumer_assignment.h"

#include "absl/strings/str_cat.h"

namespace tally {
namespace {

// Reads big-endian integers and strings from `bytes`, failing once they end.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  absl::StatusOr<int64_t> Int(size_t width, const char* what) {
    if (bytes_.size() - pos_ < width) return Short(what);
    uint64_t v = 0;
    for (size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<uint8_t>(bytes_[pos_ + i]);
    pos_ += width;
    // Sign-extend from `width` bytes.
    const int shift = 64 - static_cast<int>(width) * 8;
    return static_cast<int64_t>(v << shift) >> shift;
  }

  absl::StatusOr<std::string_view> Bytes(size_t n, const char* what) {
    if (bytes_.size() - pos_ < n) return Short(what);
    std::string_view out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }

  absl::Status Short(const char* what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("consumer assignment of ", bytes_.size(), " bytes ends at byte ", pos_, " inside ", what));
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

absl::Status Negative(const char* what, int64_t n) {
  return absl::InvalidArgumentError(absl::StrCat("consumer assignment: negative ", what, " ", n));
}

}  // namespace

absl::StatusOr<std::vector<AssignedTopic>> ParseConsumerAssignment(std::string_view bytes) {
  std::vector<AssignedTopic> topics;
  if (bytes.empty()) return topics;
  Reader in(bytes);
  if (auto version = in.Int(2, "the version"); !version.ok()) return version.status();
  auto count = in.Int(4, "the topic count");
  if (!count.ok()) return count.status();
  if (*count < 0) return Negative("topic count", *count);
  for (int64_t t = 0; t < *count; ++t) {
    auto length = in.Int(2, "a topic name's length");
    if (!length.ok()) return length.status();
    if (*length < 0) return Negative("topic name length", *length);
    auto name = in.Bytes(static_cast<size_t>(*length), "a topic name");
    if (!name.ok()) return name.status();
    auto partitions = in.Int(4, "a partition count");
    if (!partitions.ok()) return partitions.status();
    if (*partitions < 0) return Negative("partition count", *partitions);
    AssignedTopic& topic = topics.emplace_back();
    topic.topic.assign(*name);
    for (int64_t p = 0; p < *partitions; ++p) {
      auto partition = in.Int(4, "a partition");
      if (!partition.ok()) return partition.status();
      topic.partitions.push_back(static_cast<int32_t>(*partition));
    }
  }
  // The userdata (a length and its bytes) follows; nothing here needs it.
  return topics;
}

}  // namespace tally
