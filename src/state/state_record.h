#pragma once

#include <string>

namespace tally {

// One change to a task's durable state, as it goes to the local store and to
// the changelog topic: a key and its new value, or a tombstone that deletes
// the key. The same bytes serve both, so the local store is exactly the
// changelog's materialization (Kafka Streams' design) and a restore is a
// replay of records. What keys and values mean is state/state_codec.h's
// business; the stores treat them as bytes.
struct StateRecord {
  std::string key;
  std::string value;       // empty for a tombstone
  bool tombstone = false;  // true: delete `key`
};

}  // namespace tally
