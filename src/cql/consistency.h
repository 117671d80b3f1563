#pragma once

#include <cstdint>

namespace tally::cql {

// A consistency level, with its [consistency] code on the wire (protocol v4,
// section 3). LOCAL_QUORUM is what tally writes with: a majority of the replicas
// in the coordinator's datacenter, which is also what Amazon Keyspaces requires
// for writes.
enum class Consistency : uint16_t {
  kAny = 0x0000,
  kOne = 0x0001,
  kTwo = 0x0002,
  kThree = 0x0003,
  kQuorum = 0x0004,
  kAll = 0x0005,
  kLocalQuorum = 0x0006,
  kEachQuorum = 0x0007,
  kSerial = 0x0008,
  kLocalSerial = 0x0009,
  kLocalOne = 0x000A,
};

// The CQL name, e.g. "LOCAL_QUORUM"; "UNKNOWN" for a code outside the list.
inline const char* ConsistencyName(Consistency c) {
  switch (c) {
    case Consistency::kAny: return "ANY";
    case Consistency::kOne: return "ONE";
    case Consistency::kTwo: return "TWO";
    case Consistency::kThree: return "THREE";
    case Consistency::kQuorum: return "QUORUM";
    case Consistency::kAll: return "ALL";
    case Consistency::kLocalQuorum: return "LOCAL_QUORUM";
    case Consistency::kEachQuorum: return "EACH_QUORUM";
    case Consistency::kSerial: return "SERIAL";
    case Consistency::kLocalSerial: return "LOCAL_SERIAL";
    case Consistency::kLocalOne: return "LOCAL_ONE";
  }
  return "UNKNOWN";
}

}  // namespace tally::cql
