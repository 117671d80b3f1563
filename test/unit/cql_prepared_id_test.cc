// ReplacePreparedId: a request encoded once from its caller's values is sent
// again, after its statement was prepared anew, with only the id changed.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cql/request.h"
#include "cql/value.h"

namespace tally::cql {
namespace {

std::vector<Value> Row(int64_t n) {
  return {Value::FromUuid(Uuid{1, static_cast<uint64_t>(n)}), Value::FromDate(19000), Value::FromBigint(n), Value::Null(),
          Value::FromText(std::string(40, 'x'))};
}

QueryParameters Params(const std::vector<Value>& values) {
  QueryParameters p;
  p.values = values;
  p.default_timestamp = 42;
  return p;
}

TEST(CqlPreparedId, ExecuteGetsTheNewIdAndKeepsEverythingElse) {
  const std::vector<Value> values = Row(7);
  for (const std::string& new_id : {std::string("0123456789abcdef"), std::string("short"), std::string(300, 'L')}) {
    std::string frame, expected;
    ASSERT_TRUE(AppendExecuteRequest(&frame, 5, "0123456789ABCDEF", Params(values)).ok());
    ASSERT_TRUE(AppendExecuteRequest(&expected, 5, new_id, Params(values)).ok());
    ASSERT_TRUE(ReplacePreparedId(&frame, new_id).ok());
    EXPECT_EQ(frame, expected) << new_id.size();
  }
}

TEST(CqlPreparedId, EveryStatementOfABatchGetsTheNewId) {
  const std::vector<Value> a = Row(1), b = Row(2), c = Row(3);
  const auto batch = [&](absl::string_view id) {
    std::string out;
    const BatchEntry entries[] = {{true, id, a}, {false, "INSERT INTO t (x) VALUES (1)", {}}, {true, id, b},
                                  {true, id, c}};
    BatchParameters params;
    params.default_timestamp = 9;
    EXPECT_TRUE(AppendBatchRequest(&out, 0, entries, params).ok());
    return out;
  };
  std::string frame = batch("OLD-ID");
  ASSERT_TRUE(ReplacePreparedId(&frame, "a-new-and-longer-id").ok());
  EXPECT_EQ(frame, batch("a-new-and-longer-id"));
}

TEST(CqlPreparedId, OtherRequestsAndBrokenFramesAreRefusedUnchanged) {
  std::string query;
  ASSERT_TRUE(AppendQueryRequest(&query, 0, "SELECT 1", QueryParameters()).ok());
  const std::string before = query;
  EXPECT_EQ(ReplacePreparedId(&query, "id").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(query, before);

  const std::vector<Value> values = Row(1);
  std::string batch;
  const BatchEntry entries[] = {{true, "ID", values}};
  ASSERT_TRUE(AppendBatchRequest(&batch, 0, entries, BatchParameters()).ok());
  std::string cut = batch.substr(0, batch.size() - 20);
  cut[8] = static_cast<char>(cut.size() - 9);  // a consistent header over a truncated body
  cut[7] = 0;
  const std::string cut_before = cut;
  EXPECT_EQ(ReplacePreparedId(&cut, "id").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cut, cut_before);
}

}  // namespace
}  // namespace tally::cql
