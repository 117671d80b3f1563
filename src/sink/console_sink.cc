#include "sink/console_sink.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tally {

absl::Status ConsoleSink::Write(int64_t batch_id, const TriggerOutput& output) {
  if (output.updates.empty()) return absl::OkStatus();
  std::vector<DailyCount> rows = output.updates;
  const size_t shown = std::min(rows.size(), max_rows_);
  std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(shown), rows.end(),
                    [](const DailyCount& a, const DailyCount& b) {
                      return std::tie(a.user, a.day) < std::tie(b.user, b.day);
                    });
  constexpr absl::string_view kRule = "+------------------------------------+------------+-----------+\n";
  std::string text = absl::StrCat("-------------------------------------------\nBatch: ", batch_id,
                                  "\n-------------------------------------------\n", kRule,
                                  "|user_uuid                           |created_date|event_count|\n", kRule);
  for (size_t i = 0; i < shown; ++i) {
    absl::StrAppendFormat(&text, "|%s|%-12s|%11d|\n", FormatUuid(rows[i].user), FormatDay(rows[i].day),
                          rows[i].count);
  }
  absl::StrAppend(&text, kRule);
  if (shown < rows.size()) absl::StrAppend(&text, "only showing top ", shown, " of ", rows.size(), " rows\n");
  text += "\n";
  if (std::fwrite(text.data(), 1, text.size(), out_) != text.size() || std::fflush(out_) != 0) {
    return absl::DataLossError(absl::StrCat("cannot write to the console: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status ConsoleSink::Commit() {
  if (std::fflush(out_) != 0) {
    return absl::DataLossError(absl::StrCat("cannot write to the console: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace tally
