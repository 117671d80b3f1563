#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "kafka/changelog_store_provider.h"
#include "kafka/kafka_transaction.h"
#include "state/state_dir.h"

namespace tally {

// Copies intact local state back to a changelog topic that lost it (deleted
// and made anew), the repair ChangelogStoreProvider's refusal points to.
//
// For each input partition in [0, `partitions`) whose local store under `dir`
// holds state and has a checkpoint the changelog partition no longer has
// (outside its offsets): writes every record of the store to the partition,
// and a tombstone for every key the partition holds that the store does not,
// in one transaction of `transaction` per partition; once it commits, moves
// the store's checkpoint to the offset after the last record written. The
// changelog partition then materializes to exactly the local store, and the
// next start restores nothing. A partition whose changelog holds the
// store's checkpoint is left alone (nothing lost). A crash half way is
// repaired by running it again.
//
// Fails before writing anything, with FailedPrecondition naming the path and
// what to do, if a local store is corrupt, or if `dir` holds no state to
// reseed from and some partition would need it. Returns the number of
// partitions reseeded; tells each on `options.log`.
//
// The job must be stopped while it runs: a process that owns a partition
// writes its changelog too.
absl::StatusOr<int> ReseedChangelog(StateDir& dir, int32_t partitions, const ChangelogStoreOptions& options,
                                    KafkaTransaction& transaction);

}  // namespace tally
