#include "kafka/kafka_source.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace tally {

KafkaSource::KafkaSource(const KafkaSourceOptions& options) : options_(options) {}

KafkaSource::~KafkaSource() {
  ReleaseMessages();
  DropHeld(-1);
  listener_ = nullptr;
  closing_ = true;  // see OnRebalance
  if (queue_ != nullptr) rd_kafka_queue_destroy(queue_);
  // Leaves the group, so that another member takes the partitions at once.
  if (consumer_) rd_kafka_consumer_close(consumer_.get());
}

absl::StatusOr<std::unique_ptr<KafkaSource>> KafkaSource::Open(const KafkaSourceOptions& options) {
  auto source = std::make_unique<KafkaSource>(options);
  if (auto s = source->Connect(); !s.ok()) return s;
  return source;
}

absl::Status KafkaSource::Connect() {
  const KafkaEndpoint& ep = options_.endpoint;
  auto conf = MakeKafkaConf(
      {
          {"bootstrap.servers", ep.bootstrap_servers},
          {"group.id", options_.group},
          {"client.id", "tally"},
          {"enable.auto.commit", "false"},
          {"enable.auto.offset.store", "false"},
          {"auto.offset.reset", options_.starting_offsets == StartingOffsets::kEarliest ? "earliest" : "latest"},
          {"enable.partition.eof", "true"},
          {"isolation.level", "read_committed"},
          {"allow.auto.create.topics", "false"},
          // 10 s rather than librdkafka's 45: a member that died (SIGKILL)
          // keeps its partitions this long, and a restart waits for them.
          {"session.timeout.ms", "10000"},
          // The eager protocol (librdkafka's default): a rebalance revokes
          // every partition of every member, and the tasks reopen from their
          // last commit. cooperative-sticky would keep the partitions that
          // stay running, and the source handles it, but librdkafka 2.0.2
          // (Debian 12's) aborts when such a consumer is destroyed before
          // its first assignment (librdkafka #4312, fixed in 2.3.0): a start
          // that fails, or a SIGTERM, while joining. It can be chosen with
          // --kafka partition.assignment.strategy=cooperative-sticky on a
          // newer librdkafka.
          {"partition.assignment.strategy", "range,roundrobin"},
          // 10 s rather than librdkafka's 300: partitions added to the topic
          // are noticed (and taken, or with refuse_new_partitions refused)
          // within a couple of triggers.
          {"topic.metadata.refresh.interval.ms", "10000"},
          // 4 MiB per partition per fetch rather than librdkafka's 1 MiB:
          // while catching up, a quarter of the fetch requests, responses
          // and their buffers (measured: the consumer's system time down by
          // about a fifth, about 0.05 CPU-s per million records less, peak
          // memory up by about 15 MiB). Tunable with --kafka.
          {"max.partition.fetch.bytes", "4194304"},
          // 256 KiB rather than librdkafka's 1 byte: on a live stream the
          // broker answered a fetch as soon as any record was there, about
          // 170 times a second behind a producer lingering 5 ms, and those
          // fetches cost more than the counting (measured at 10,000
          // records/s with a 5 s trigger: 3.9-4.3 CPU-s per million records
          // in tally and 17-20 in the broker, against 1.9-2.2 and 10-13).
          // A fetch now waits for 256 KiB or fetch.wait.max.ms (librdkafka's
          // 500 ms), so a record may reach the task up to half a second
          // later: nothing, against a trigger of seconds. Both tunable with
          // --kafka.
          {"fetch.min.bytes", "262144"},
      },
      options_.properties);
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_opaque(conf->get(), this);
  rd_kafka_conf_set_rebalance_cb(conf->get(), &KafkaSource::RebalanceCallback);

  char error[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), error, sizeof error);
  if (rk == nullptr) return absl::InvalidArgumentError(absl::StrCat(ep.Describe(), ": ", error));
  conf->release();  // rd_kafka_new took it
  consumer_.reset(rk);
  rd_kafka_poll_set_consumer(rk);
  queue_ = rd_kafka_queue_get_consumer(rk);

  // Ask the cluster for every topic's metadata, rather than the one topic's:
  // a request naming a missing topic could create it on a broker that
  // auto-creates topics, and a typo would then wait forever on an empty topic.
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &raw, KafkaTimeoutMs(options_.connect_timeout));
  KafkaMetadata metadata(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaUnreachableError(ep.bootstrap_servers, options_.connect_timeout, err);
  }
  const rd_kafka_metadata_topic_t* topic = nullptr;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (ep.topic == metadata->topics[i].topic) topic = &metadata->topics[i];
  }
  if (topic == nullptr || topic->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
    return absl::NotFoundError(absl::StrCat("topic '", ep.topic, "' does not exist on ", ep.bootstrap_servers,
                                            ": check the name, or create it (produce to it, e.g. tally produce --to ",
                                            ep.Describe(), ")"));
  }
  if (topic->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::FailedPreconditionError(
        absl::StrCat(ep.Describe(), ": cannot read the topic: ", KafkaErrorText(topic->err)));
  }
  partitions_.resize(static_cast<size_t>(topic->partition_cnt));
  opened_partitions_ = topic->partition_cnt;

  if (options_.available_now) {
    if (auto s = MeasureEnds(); !s.ok()) return s;
  }

  KafkaPartitionList subscription(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(subscription.get(), ep.topic.c_str(), RD_KAFKA_PARTITION_UA);
  err = rd_kafka_subscribe(rk, subscription.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat(ep.Describe(), ": cannot subscribe: ", KafkaErrorText(err)));
  }
  return absl::OkStatus();
}

absl::Status KafkaSource::MeasureEnds() {
  // The end of the run: each partition's high watermark now.
  const KafkaEndpoint& ep = options_.endpoint;
  for (int32_t p = 0; p < static_cast<int32_t>(partitions_.size()); ++p) {
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(consumer_.get(), ep.topic.c_str(), p, &low, &high,
                                                               KafkaTimeoutMs(options_.connect_timeout));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(absl::StrCat(ep.Describe(), ": cannot read the end offset of partition ", p, ": ",
                                                 KafkaErrorText(err)));
    }
    State(p).start_offset = low;
    State(p).end_offset = high;
    State(p).reached_end = State(p).assigned && std::max(State(p).next_offset, State(p).eof_offset) >= high;
  }
  return absl::OkStatus();
}

absl::Status KafkaSource::BeginAvailableNow() {
  if (options_.available_now) return absl::OkStatus();
  if (auto s = MeasureEnds(); !s.ok()) return s;
  options_.available_now = true;
  next_committed_check_ = absl::InfinitePast();
  return absl::OkStatus();
}

KafkaSource::PartitionState& KafkaSource::State(int32_t partition) {
  const auto index = static_cast<size_t>(partition);
  if (index >= partitions_.size()) partitions_.resize(index + 1);  // partitions added since Open
  return partitions_[index];
}

void KafkaSource::RebalanceCallback(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                                    void* opaque) {
  static_cast<KafkaSource*>(opaque)->OnRebalance(err, partitions);
}

// librdkafka answers NULL when its group thread no longer serves requests,
// as in rd_kafka_consumer_close, which still calls the rebalance callback:
// the protocol cannot change then, so the last answer stands (eager before
// any).
bool KafkaSource::CooperativeProtocol() {
  const char* protocol = rd_kafka_rebalance_protocol(consumer_.get());
  if (protocol != nullptr) cooperative_ = std::strcmp(protocol, "COOPERATIVE") == 0;
  return cooperative_;
}

void KafkaSource::OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* list) {
  rd_kafka_t* rk = consumer_.get();
  const bool cooperative = CooperativeProtocol();
  if (closing_) {
    // Close serves the rebalance events still queued, such as an assignment
    // that arrived after the last Poll: take nothing. (Assigning from inside
    // close deadlocks librdkafka 2.0.2.)
    if (cooperative) {
      rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, list);
      if (e != nullptr) rd_kafka_error_destroy(e);
    } else {
      rd_kafka_assign(rk, nullptr);
    }
    return;
  }
  AssignmentChange change;
  change.assigned = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
  for (int i = 0; i < list->cnt; ++i) change.partitions.push_back(list->elems[i].partition);

  // Messages held while idle from partitions that change hands now would be
  // read again from the committed offset: drop them.
  for (int32_t p : change.partitions) DropHeld(p);
  if (change.assigned) {
    for (int32_t p : change.partitions) {
      PartitionState& state = State(p);
      state.assigned = true;
      state.next_offset = -1;
      state.committed = -1;
      state.reached_end = false;
      state.consumed = false;
      state.eof_offset = -1;
    }
    assigned_once_ = true;
    if (cooperative) {
      rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, list);
      if (e != nullptr) rd_kafka_error_destroy(e);
    } else {
      rd_kafka_assign(rk, list);
    }
  } else {
    // If the partitions were lost, another member may own them already: the
    // runtime must not commit for them, and cannot.
    change.lost = rd_kafka_assignment_lost(rk) != 0;
    // librdkafka keeps a partition's pause across an unassignment: one
    // assigned here again later must fetch.
    rd_kafka_resume_partitions(rk, list);
    for (int32_t p : change.partitions) {
      PartitionState& state = State(p);
      state = PartitionState{.start_offset = state.start_offset, .end_offset = state.end_offset};
      revoked_in_call_.push_back(p);
    }
    if (cooperative) {
      rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, list);
      if (e != nullptr) rd_kafka_error_destroy(e);
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  }
  if (!change.partitions.empty()) changes_.push_back(std::move(change));
}

absl::Status KafkaSource::DeliverAssignmentChanges() {
  while (!changes_.empty()) {
    AssignmentChange change = std::move(changes_.front());
    changes_.erase(changes_.begin());
    if (change.assigned) {
      // Revoked again meanwhile (a later change in the queue): skip what is
      // no longer assigned.
      std::erase_if(change.partitions, [this](int32_t p) { return !State(p).assigned; });
      if (change.partitions.empty()) continue;
      if (options_.refuse_new_partitions) {
        // Before the listener is told: a new partition gets no task.
        recheck_partitions_ = true;
        const int32_t highest = *std::max_element(change.partitions.begin(), change.partitions.end());
        if (highest >= opened_partitions_) return PartitionsGrownError(absl::StrCat("at least ", highest + 1));
      }
      // Where each starts (the group's committed offset): PositionAfterEnd
      // reports only a position past it. Unknown if the coordinator does
      // not answer: then at worst one commit too many.
      KafkaPartitionList starts(rd_kafka_topic_partition_list_new(static_cast<int>(change.partitions.size())));
      for (int32_t p : change.partitions) {
        rd_kafka_topic_partition_list_add(starts.get(), options_.endpoint.topic.c_str(), p);
      }
      if (rd_kafka_committed(consumer_.get(), starts.get(), 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < starts->cnt; ++i) {
          const rd_kafka_topic_partition_t& e = starts->elems[i];
          if (e.err == RD_KAFKA_RESP_ERR_NO_ERROR && e.offset >= 0) State(e.partition).committed = e.offset;
        }
      }
      if (listener_ != nullptr) {
        if (auto s = listener_->OnPartitionsAssigned(change.partitions); !s.ok()) return s;
      }
    } else if (listener_ != nullptr) {
      if (auto s = listener_->OnPartitionsRevoked(change.partitions, change.lost); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status KafkaSource::Consume(absl::Duration wait, std::vector<rd_kafka_message_t*>* out) {
  revoked_in_call_.clear();
  out->resize(options_.max_batch);
  const ssize_t n = rd_kafka_consume_batch_queue(queue_, KafkaTimeoutMs(wait), out->data(), out->size());
  out->resize(n < 0 ? 0 : static_cast<size_t>(n));
  if (!revoked_in_call_.empty()) {
    // Fetched before a revocation in this same call: another member reads
    // them now. A partition assigned here again in the call may have
    // messages of both assignments here, which cannot be told apart: drop
    // them all and send it back to its committed offset, where its new task
    // starts.
    auto revoked = [this](int32_t p) {
      return std::find(revoked_in_call_.begin(), revoked_in_call_.end(), p) != revoked_in_call_.end();
    };
    std::erase_if(*out, [&](rd_kafka_message_t* m) {
      if (!revoked(m->partition)) return false;
      rd_kafka_message_destroy(m);
      return true;
    });
    KafkaPartitionList again(rd_kafka_topic_partition_list_new(static_cast<int>(revoked_in_call_.size())));
    for (int32_t p : revoked_in_call_) {
      if (State(p).assigned) rd_kafka_topic_partition_list_add(again.get(), options_.endpoint.topic.c_str(), p);
    }
    if (again->cnt > 0) {
      if (auto s = SeekToCommitted(again.get()); !s.ok()) return s;
    }
  }
  for (rd_kafka_message_t* m : *out) {
    if (m->partition >= 0 && m->rkt != nullptr) State(m->partition).consumed = true;
  }
  return absl::OkStatus();
}

void KafkaSource::ReleaseMessages() {
  for (rd_kafka_message_t* m : messages_) rd_kafka_message_destroy(m);
  messages_.clear();
}

void KafkaSource::DropHeld(int32_t partition) {
  std::erase_if(held_, [partition](rd_kafka_message_t* m) {
    if (partition >= 0 && m->partition != partition) return false;
    rd_kafka_message_destroy(m);
    return true;
  });
}

absl::Status KafkaSource::PauseWhileIdle() {
  idle_ = true;
  KafkaPartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size())));
  for (size_t p = 0; p < partitions_.size(); ++p) {
    PartitionState& state = partitions_[p];
    if (!state.assigned || !state.consumed || state.paused) continue;
    rd_kafka_topic_partition_list_add(list.get(), options_.endpoint.topic.c_str(), static_cast<int32_t>(p));
    state.paused = true;
  }
  if (list->cnt == 0) return absl::OkStatus();
  if (rd_kafka_resp_err_t err = rd_kafka_pause_partitions(consumer_.get(), list.get());
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat(Describe(), ": cannot pause the partitions: ", KafkaErrorText(err)));
  }
  return absl::OkStatus();
}

absl::Status KafkaSource::ResumeAfterIdle() {
  if (!idle_) return absl::OkStatus();
  idle_ = false;
  KafkaPartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size())));
  for (size_t p = 0; p < partitions_.size(); ++p) {
    PartitionState& state = partitions_[p];
    if (!state.paused) continue;
    rd_kafka_topic_partition_list_add(list.get(), options_.endpoint.topic.c_str(), static_cast<int32_t>(p));
    state.paused = false;
  }
  if (list->cnt == 0) return absl::OkStatus();
  if (rd_kafka_resp_err_t err = rd_kafka_resume_partitions(consumer_.get(), list.get());
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat(Describe(), ": cannot resume the partitions: ", KafkaErrorText(err)));
  }
  return absl::OkStatus();
}

absl::Status KafkaSource::Idle(absl::Duration wait) {
  if (auto s = PauseWhileIdle(); !s.ok()) return s;
  std::vector<rd_kafka_message_t*> buffer;
  if (auto s = Consume(wait, &buffer); !s.ok()) return s;
  absl::Status status;
  for (rd_kafka_message_t* m : buffer) {
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && State(m->partition).assigned) {
      held_.push_back(m);
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && status.ok()) status = MessageError(*m);
    rd_kafka_message_destroy(m);
  }
  if (auto s = DeliverAssignmentChanges(); !s.ok()) return s;
  return status;
}

absl::Status KafkaSource::Rewind() {
  DropHeld(-1);
  rd_kafka_topic_partition_list_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_assignment(consumer_.get(), &raw);
  KafkaPartitionList assignment(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat(Describe(), ": cannot read the assignment: ", KafkaErrorText(err)));
  }
  return SeekToCommitted(assignment.get());
}

absl::Status KafkaSource::SeekToCommitted(rd_kafka_topic_partition_list_t* list) {
  if (list->cnt == 0) return absl::OkStatus();
  if (rd_kafka_resp_err_t err = rd_kafka_committed(consumer_.get(), list, KafkaTimeoutMs(absl::Minutes(1)));
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat(Describe(), ": cannot read the committed offsets of group '",
                                               options_.group, "' to redo uncommitted work: ", KafkaErrorText(err)));
  }
  for (int i = 0; i < list->cnt; ++i) {
    rd_kafka_topic_partition_t& e = list->elems[i];
    if (e.offset < 0) {
      e.offset = options_.starting_offsets == StartingOffsets::kEarliest ? RD_KAFKA_OFFSET_BEGINNING
                                                                          : RD_KAFKA_OFFSET_END;
    }
    PartitionState& state = State(e.partition);
    state.next_offset = -1;
    state.reached_end = false;
    state.consumed = false;  // nothing handed over from the new position yet
    state.eof_offset = -1;
  }
  rd_kafka_error_t* e = rd_kafka_seek_partitions(consumer_.get(), list, KafkaTimeoutMs(absl::Minutes(1)));
  if (e != nullptr) {
    const std::string reason = rd_kafka_error_string(e);
    rd_kafka_error_destroy(e);
    return absl::UnavailableError(absl::StrCat(Describe(), ": cannot go back to the committed offsets: ", reason));
  }
  return absl::OkStatus();
}

bool KafkaSource::AvailableNowDone() const {
  // Every partition of the topic, not only those assigned here: an empty
  // assignment (the group's partitions all held by other members, a stale
  // one among them) is not the end of the topic. And not before this member
  // has joined the group: partitions it is about to be given restore first.
  return assigned_once_ &&
         std::all_of(partitions_.begin(), partitions_.end(), [](const PartitionState& s) { return s.Done(); });
}

void KafkaSource::RefreshGroupCommitted() {
  KafkaPartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size())));
  for (size_t p = 0; p < partitions_.size(); ++p) {
    const PartitionState& s = partitions_[p];
    if (s.Done() || s.assigned) continue;
    rd_kafka_topic_partition_list_add(list.get(), options_.endpoint.topic.c_str(), static_cast<int32_t>(p));
  }
  if (list->cnt == 0) return;
  // Short: this runs inside Poll. No answer (a coordinator moving, an offset
  // still in an open transaction) is asked again at the next check.
  if (rd_kafka_committed(consumer_.get(), list.get(), 2000) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& e = list->elems[i];
    if (e.err == RD_KAFKA_RESP_ERR_NO_ERROR && e.offset >= 0) State(e.partition).group_committed = e.offset;
  }
}

absl::Status KafkaSource::MessageError(const rd_kafka_message_t& m) {
  switch (m.err) {
    case RD_KAFKA_RESP_ERR__PARTITION_EOF: {
      PartitionState& state = State(m.partition);
      if (state.assigned) state.eof_offset = m.offset;
      if (m.offset >= state.end_offset) state.reached_end = true;
      return absl::OkStatus();
    }
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
      return absl::NotFoundError(absl::StrCat(Describe(), ": the topic is gone: ", rd_kafka_message_errstr(&m)));
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
      return absl::PermissionDeniedError(absl::StrCat(Describe(), ": not authorized (group '", options_.group,
                                                      "'): ", rd_kafka_message_errstr(&m)));
    case RD_KAFKA_RESP_ERR__FATAL: {
      char reason[512];
      rd_kafka_fatal_error(consumer_.get(), reason, sizeof reason);
      return absl::InternalError(absl::StrCat(Describe(), ": fatal consumer error: ", reason));
    }
    default:
      // Transient (a broker down, a connection reset): librdkafka retries by
      // itself and the consumer resumes when the broker is back.
      return absl::OkStatus();
  }
}

absl::Status KafkaSource::PartitionsGrownError(const std::string& now) const {
  return absl::FailedPreconditionError(absl::StrCat(
      Describe(), ": the topic grew from ", opened_partitions_, " to ", now,
      " partitions while the job ran; a learner's records must stay in one partition (the partition of their "
      "key, with --input-keyed-by-user), and a partition change moves or splits them: stop the job, re-create the "
      "topic (or reprocess it into a new one) with a fixed partition count; tally cannot count a topic exactly "
      "across a partition change"));
}

absl::Status KafkaSource::CheckPartitionCount() {
  // Every topic's metadata, as in Connect: asking for the one topic could
  // create it again on a broker that auto-creates topics, were it deleted.
  // Short: this runs inside Poll. No answer is asked again at the next Poll.
  const rd_kafka_metadata_t* raw = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(consumer_.get(), 1, nullptr, &raw, 2000);
  KafkaMetadata metadata(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  recheck_partitions_ = false;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = metadata->topics[i];
    if (options_.endpoint.topic == t.topic && t.err == RD_KAFKA_RESP_ERR_NO_ERROR &&
        t.partition_cnt > opened_partitions_) {
      return PartitionsGrownError(absl::StrCat(t.partition_cnt));
    }
  }
  return absl::OkStatus();
}

absl::Status KafkaSource::Poll(absl::Duration max_wait, RecordBatch* batch) {
  ReleaseMessages();
  batch->records.clear();
  batch->padded = false;
  batch->end_of_input = false;
  batch->end_of_run = false;
  if (options_.available_now_when != nullptr && !options_.available_now && options_.available_now_when->load()) {
    if (auto s = BeginAvailableNow(); !s.ok()) return s;
  }
  if (options_.available_now) {
    if (!AvailableNowDone() && absl::Now() >= next_committed_check_) {
      RefreshGroupCommitted();
      next_committed_check_ = absl::Now() + options_.committed_check_interval;
    }
    if (AvailableNowDone()) {
      batch->end_of_run = true;
      return absl::OkStatus();
    }
  }
  if (auto s = ResumeAfterIdle(); !s.ok()) return s;

  if (!held_.empty()) {
    messages_.swap(held_);  // what arrived while idle comes first
  } else {
    if (auto s = Consume(max_wait, &messages_); !s.ok()) return s;
  }

  absl::Status status;
  size_t kept = 0;
  for (rd_kafka_message_t* m : messages_) {
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (status.ok()) status = MessageError(*m);
      rd_kafka_message_destroy(m);
      continue;
    }
    PartitionState& state = State(m->partition);
    if (!state.assigned) {  // fetched before a revocation; another member reads it now
      rd_kafka_message_destroy(m);
      continue;
    }
    state.next_offset = m->offset + 1;
    if (state.next_offset >= state.end_offset) state.reached_end = true;
    const char* payload = static_cast<const char*>(m->payload);
    SourceRecord& record = batch->records.emplace_back(SourceRecord{
        std::string_view(payload == nullptr ? "" : payload, m->len), RecordOrigin{m->partition, m->offset}});
    if (m->key != nullptr) record.key.emplace(static_cast<const char*>(m->key), m->key_len);
    messages_[kept++] = m;
  }
  messages_.resize(kept);
  // The batch holds no record of a partition revoked here, and none yet of
  // one assigned here: the listener may drop and restore tasks before the
  // runtime processes it.
  if (auto s = DeliverAssignmentChanges(); !s.ok()) return s;
  if (recheck_partitions_) {
    if (auto s = CheckPartitionCount(); !s.ok()) return s;
  }
  return status;
}

absl::Status KafkaSource::Commit() {
  KafkaPartitionList offsets(rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size())));
  for (size_t p = 0; p < partitions_.size(); ++p) {
    const PartitionState& s = partitions_[p];
    if (!s.assigned || s.next_offset < 0 || s.next_offset == s.committed) continue;
    rd_kafka_topic_partition_list_add(offsets.get(), options_.endpoint.topic.c_str(), static_cast<int32_t>(p))
        ->offset = s.next_offset;
  }
  if (offsets->cnt == 0) return absl::OkStatus();
  const rd_kafka_resp_err_t err = rd_kafka_commit(consumer_.get(), offsets.get(), /*async=*/0);
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      break;
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR__STATE:
      // The group is rebalancing or this member fell out of it: the offsets
      // stay uncommitted and the records will be read again by whoever owns
      // the partitions; the revocation follows in the next Poll.
      return absl::OkStatus();
    default:
      return absl::UnavailableError(
          absl::StrCat(Describe(), ": cannot commit offsets for group '", options_.group, "': ", KafkaErrorText(err)));
  }
  for (int i = 0; i < offsets->cnt; ++i) {
    const auto& e = offsets->elems[i];
    if (e.err == RD_KAFKA_RESP_ERR_NO_ERROR) State(e.partition).committed = e.offset;
  }
  return absl::OkStatus();
}

int64_t KafkaSource::PositionAfterEnd(int32_t partition) const {
  if (partition < 0 || static_cast<size_t>(partition) >= partitions_.size()) return -1;
  const PartitionState& s = partitions_[static_cast<size_t>(partition)];
  if (!s.assigned || s.eof_offset < 0 || s.eof_offset <= std::max(s.next_offset, s.committed)) return -1;
  return s.eof_offset;
}

int64_t KafkaSource::Lag() const {
  int64_t lag = 0;
  bool known = false;
  ForEachPartitionLag([&](const std::string&, int32_t, int64_t records) {
    lag += records;
    known = true;
  });
  return known ? lag : -1;
}

void KafkaSource::ForEachPartitionLag(const std::function<void(const std::string&, int32_t, int64_t)>& f) const {
  for (size_t p = 0; p < partitions_.size(); ++p) {
    const PartitionState& s = partitions_[p];
    if (!s.assigned) continue;
    int64_t low = 0, high = 0;
    if (rd_kafka_get_watermark_offsets(consumer_.get(), options_.endpoint.topic.c_str(), static_cast<int32_t>(p), &low,
                                       &high) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0) {
      continue;
    }
    // Where the end-of-partition event found it, if that is further than the
    // last record read (commit markers follow the records of a transactional
    // producer); unknown if neither is known (not its start: a restart of a
    // caught-up job would report the whole partition as lag).
    const int64_t position = std::max(s.next_offset, s.eof_offset);
    if (position < 0) continue;
    f(options_.endpoint.topic, static_cast<int32_t>(p), std::max<int64_t>(0, high - position));
  }
}

}  // namespace tally
