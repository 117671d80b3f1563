#pragma once

#include <string>

#include "kafka/kafka_dead_letter_sink.h"
#include "kafka/kafka_source.h"
#include "kafka/kafka_transaction.h"
#include "runtime/committer.h"

namespace tally {

// Exactly once: each trigger's dead letters, state changes and input offsets
// go to Kafka in one transaction (exactly-once v2: the offsets carry the
// consumer group's metadata, so a member fenced out of the group cannot
// commit). The trigger loop calls Commit only after the sink acknowledged
// the trigger's rows, so a committed offset never covers a row that could
// still be lost; a crash before the commit redoes the trigger from the last
// one, with the state as it was then, and writes the same counts again.
//
// Once the transaction commits, each task's local store takes the same state
// changes, with the changelog offset after them as its checkpoint.
//
// A broker that is briefly away (a restart) is waited for, and a failure
// that a redo can cure aborts the transaction and returns Aborted (the loop
// redoes the work): KafkaTransaction::CommitWithOffsets and AbortAfter, the
// same sequence as the repartition router's. A fatal one (fenced), or one no
// redo can cure, returns FailedPrecondition.
class TransactionalCommitter final : public Committer {
 public:
  TransactionalCommitter(KafkaTransaction& transaction, KafkaSource& source, KafkaDeadLetterSink& dead_letters,
                         std::string changelog_topic)
      : transaction_(transaction),
        source_(source),
        dead_letters_(dead_letters),
        changelog_topic_(std::move(changelog_topic)) {}

  bool carries_dead_letters() const override { return true; }
  absl::Status Commit(TaskSet& tasks) override;

 private:
  // Begin, produce, then KafkaTransaction::CommitWithOffsets.
  absl::Status TryCommit(TaskSet& tasks);

  KafkaTransaction& transaction_;
  KafkaSource& source_;
  KafkaDeadLetterSink& dead_letters_;
  std::string changelog_topic_;
};

}  // namespace tally
