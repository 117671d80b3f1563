#include "runtime/task_set.h"

namespace tally {

absl::StatusOr<Task*> TaskSet::Get(int32_t partition) {
  if (partition < 0) return absl::InvalidArgumentError("negative partition");
  const auto index = static_cast<size_t>(partition);
  if (index >= tasks_.size()) tasks_.resize(index + 1);
  if (!tasks_[index]) {
    auto stores = stores_.Open(partition);
    if (!stores.ok()) return stores.status();
    tasks_[index] = std::make_unique<Task>(partition, std::move(*stores), options_);
  }
  return tasks_[index].get();
}

void TaskSet::Remove(int32_t partition, bool keep_counts) {
  const auto index = static_cast<size_t>(partition);
  if (partition < 0 || index >= tasks_.size() || !tasks_[index]) return;
  if (keep_counts) removed_counts_ += tasks_[index]->processor().counts();
  tasks_[index].reset();
}

std::vector<int32_t> TaskSet::Partitions() const {
  std::vector<int32_t> partitions;
  for (const auto& t : tasks_) {
    if (t) partitions.push_back(t->partition());
  }
  return partitions;
}

RecordCounts TaskSet::TotalCounts() const {
  RecordCounts total = removed_counts_;
  for (const auto& t : tasks_) {
    if (t) total += t->processor().counts();
  }
  return total;
}

}  // namespace tally
