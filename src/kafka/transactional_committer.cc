#include "kafka/transactional_committer.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "runtime/metrics.h"

namespace tally {
absl::Status TransactionalCommitter::Commit(TaskSet& tasks) {
  bool any = false;
  tasks.ForEach([&](Task& task) { any |= task.staged; });
  if (!any) return absl::OkStatus();

  const absl::Time started = absl::Now();
  if (absl::Status s = TryCommit(tasks); !s.ok()) return s;
  Metrics::Get().commit_duration(Metrics::kTransaction).Observe(absl::ToDoubleSeconds(absl::Now() - started));

  // Committed. The local stores take the same changes; a crash before they
  // do leaves them a checkpoint behind, and the restart reads the rest from
  // the changelog.
  absl::Status status;
  tasks.ForEach([&](Task& task) {
    if (!task.staged) return;
    DurableTaskState* durable = task.durable();
    if (durable != nullptr && !durable->staged().empty() && status.ok()) {
      const int64_t last = transaction_.producer().LastOffset(changelog_topic_, task.partition());
      if (last < 0) {
        status = absl::InternalError(absl::StrCat("the transaction committed, but no changelog offset of partition ",
                                                  task.partition(), " was acknowledged"));
        return;
      }
      status = durable->Checkpoint(last + 1);
    }
    task.staged_letters.clear();
    task.staged = false;
  });
  return status;
}

absl::Status TransactionalCommitter::TryCommit(TaskSet& tasks) {
  // Every step, retries and each call's own wait included, ends by
  // `give_up`, before the broker would time the transaction out.
  const absl::Time give_up = absl::Now() + transaction_.retry_window();
  KafkaProducer& producer = transaction_.producer();
  (void)producer.TakeDeliveryError();  // of an earlier transaction, reported then
  // The changelog's chunks of counted events do not compress: LZ4 would cost
  // CPU for 1% of their bytes. Dead letters keep the producer's codec.
  if (auto s = producer.SendUncompressed(changelog_topic_); !s.ok()) return s;
  if (auto s = RetryTransactionStep(give_up, [&] { return transaction_.Begin(); }); !s.ok()) {
    return transaction_.AbortAfter(s);
  }

  KafkaPartitionList offsets(rd_kafka_topic_partition_list_new(4));
  absl::Status status;
  absl::Duration changelog;  // handing the state changes to the producer
  tasks.ForEach([&](Task& task) {
    if (!task.staged || !status.ok()) return;
    status = dead_letters_.Write(task.staged_letters);
    if (!status.ok()) return;
    if (DurableTaskState* durable = task.durable()) {
      const absl::Time started = absl::Now();
      for (const StateRecord& r : durable->staged()) {
        status = producer.ProduceTo(changelog_topic_, task.partition(), r.key,
                                    r.tombstone ? std::nullopt : std::optional<std::string_view>(r.value));
        if (!status.ok()) return;
      }
      changelog += absl::Now() - started;
    }
    if (task.staged_position >= 0) {
      rd_kafka_topic_partition_list_add(offsets.get(), source_.topic().c_str(), task.partition())->offset =
          task.staged_position;
    }
  });
  if (!status.ok()) return transaction_.AbortAfter(status);
  Metrics::Get().commit_duration(Metrics::kChangelog).Observe(absl::ToDoubleSeconds(changelog));
  const absl::Time committing = absl::Now();
  absl::Status committed = transaction_.CommitWithOffsets(source_.consumer(), offsets.get(), give_up);
  if (committed.ok()) {
    Metrics::Get().commit_duration(Metrics::kOffsets).Observe(absl::ToDoubleSeconds(absl::Now() - committing));
  }
  return committed;
}

}  // namespace tally
