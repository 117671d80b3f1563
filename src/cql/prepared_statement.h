#pragma once

#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "cql/result.h"

namespace tally::cql {

// A statement prepared by a Session: its text, what its bind markers expect,
// and the id servers know it by. Made by Session::Prepare and shared by every
// request that executes it. Thread-safe.
//
// Servers forget prepared statements (on restart, on some schema changes);
// the session then prepares the text again and, should the server hand out a
// different id, records it here with UpdateId.
class PreparedStatement {
 public:
  PreparedStatement(std::string query, PreparedMetadata metadata)
      : query_(std::move(query)), metadata_(std::move(metadata)), id_(metadata_.id) {}

  const std::string& query() const { return query_; }
  // As returned by the first PREPARE; bind_columns and pk_indices describe the
  // values Execute expects, in order.
  const PreparedMetadata& metadata() const { return metadata_; }
  int bind_count() const { return static_cast<int>(metadata_.bind_columns.size()); }

  std::string id() const {
    std::lock_guard<std::mutex> lock(mu_);
    return id_;
  }
  // Calls f(absl::string_view id) with the current id, without copying it.
  template <typename F>
  auto WithId(F&& f) const {
    std::lock_guard<std::mutex> lock(mu_);
    return f(absl::string_view(id_));
  }
  void UpdateId(absl::string_view id) const {
    std::lock_guard<std::mutex> lock(mu_);
    id_.assign(id.data(), id.size());
  }

 private:
  const std::string query_;
  const PreparedMetadata metadata_;
  mutable std::mutex mu_;
  mutable std::string id_;  // guarded by mu_; a cache of the servers' state, hence mutable
};

}  // namespace tally::cql
