#include "kafka/transactional_committer.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace tally {
absl::Status TransactionalCommitter::Commit(TaskSet& tasks) {
  bool any = false;
  tasks.ForEach([&](Task& task) { any |= task.staged; });
  if (!any) return absl::OkStatus();

  absl::Status s = TryCommit(tasks);
  if (!s.ok()) {
    // Fatal (fenced, or the producer is dead): nothing more may be committed.
    if (absl::IsFailedPrecondition(s) || absl::IsInternal(s)) return s;
    // A record of this transaction that can never be delivered (the
    // transaction's own error says only that it must abort): a redo would
    // produce it again. Abort, so readers are not held back, and stop.
    absl::Status delivery = transaction_.producer().TakeDeliveryError();
    if (absl::Status aborted = transaction_.Abort(); absl::IsFailedPrecondition(aborted)) return aborted;
    if (absl::IsFailedPrecondition(delivery)) return delivery;
    // Abortable, or the cluster stayed away longer than the retry window: the
    // loop redoes the work from the last commit; unless it has failed too often.
    if (++consecutive_aborts_ >= kMaxConsecutiveAborts) {
      return absl::FailedPreconditionError(absl::StrCat("the transaction aborted ", consecutive_aborts_,
                                                        " times in a row, redoing the same work; giving up. The "
                                                        "last error: ",
                                                        s.message()));
    }
    return absl::AbortedError(absl::StrCat("the transaction did not commit: ", s.message()));
  }
  consecutive_aborts_ = 0;

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
  auto retried = [&](auto&& call) { return RetryTransactionStep(give_up, call); };
  KafkaProducer& producer = transaction_.producer();
  (void)producer.TakeDeliveryError();  // of an earlier transaction, reported then
  if (auto s = retried([&] { return transaction_.Begin(); }); !s.ok()) return s;

  KafkaPartitionList offsets(rd_kafka_topic_partition_list_new(4));
  absl::Status status;
  tasks.ForEach([&](Task& task) {
    if (!task.staged || !status.ok()) return;
    status = dead_letters_.Write(task.staged_letters);
    if (!status.ok()) return;
    if (DurableTaskState* durable = task.durable()) {
      for (const StateRecord& r : durable->staged()) {
        status = producer.ProduceTo(changelog_topic_, task.partition(), r.key,
                                    r.tombstone ? std::nullopt : std::optional<std::string_view>(r.value));
        if (!status.ok()) return;
      }
    }
    if (task.staged_position >= 0) {
      rd_kafka_topic_partition_list_add(offsets.get(), source_.topic().c_str(), task.partition())->offset =
          task.staged_position;
    }
  });
  if (!status.ok()) {
    const bool fatal = absl::IsInternal(status) || absl::IsFailedPrecondition(status);
    return fatal ? status : absl::AbortedError(status.message());
  }
  if (offsets->cnt > 0) {
    auto send = [&] { return transaction_.SendOffsets(source_.consumer(), offsets.get(), give_up); };
    if (auto s = retried(send); !s.ok()) return s;
  }
  return retried([&] { return transaction_.Commit(give_up); });
}

}  // namespace tally
