// CsvSink: which rows the file holds (the rows the run wrote, each once, at
// its last count), whether or not the run finalized them.
#include "sink/csv_sink.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace tally {
namespace {

Uuid User(int n) { return Uuid{0, static_cast<uint64_t>(n)}; }

class CsvSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("csv_sink_test." + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "out.csv").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Contents() const {
    std::ifstream in(path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(CsvSinkTest, RowsStillOpenAtTheEndAreWrittenAtTheirLastCount) {
  // A run whose state outlives it (Kafka): day 10 closes, day 11 never does.
  auto sink = CsvSink::Create(path_, /*state_outlives_run=*/true);
  ASSERT_TRUE(sink.ok()) << sink.status();
  TriggerOutput first;
  first.updates = {{User(1), 10, 1}, {User(1), 11, 1}};
  ASSERT_TRUE((*sink)->Write(0, first).ok());
  TriggerOutput second;
  second.updates = {{User(1), 10, 2}, {User(1), 11, 3}};
  second.finalized = {{User(1), 10, 2}};
  ASSERT_TRUE((*sink)->Write(1, second).ok());
  ASSERT_TRUE((*sink)->Commit().ok());
  EXPECT_EQ(Contents(),
            "user_uuid,created_date,event_count\n"
            "00000000-0000-0000-0000-000000000001,1970-01-11,2\n"
            "00000000-0000-0000-0000-000000000001,1970-01-12,3\n");
}

TEST_F(CsvSinkTest, ARowFinalizedWithoutAnUpdateInThisRunIsNotWritten) {
  // Restored state: day 10 was counted and written by an earlier run, and
  // closes in this one unchanged. A Cassandra sink would not write it either.
  auto sink = CsvSink::Create(path_, /*state_outlives_run=*/true);
  ASSERT_TRUE(sink.ok()) << sink.status();
  TriggerOutput output;
  output.updates = {{User(2), 12, 1}};
  output.finalized = {{User(1), 10, 5}, {User(2), 12, 1}};
  ASSERT_TRUE((*sink)->Write(0, output).ok());
  ASSERT_TRUE((*sink)->Commit().ok());
  EXPECT_EQ(Contents(),
            "user_uuid,created_date,event_count\n"
            "00000000-0000-0000-0000-000000000002,1970-01-13,1\n");
}

TEST_F(CsvSinkTest, WithStateThatDiesWithTheRunEachFinalRowIsWrittenAsItComes) {
  // A file run: every row is finalized once; updates are not the csv's
  // business, and no row is held until Commit.
  auto sink = CsvSink::Create(path_, /*state_outlives_run=*/false);
  ASSERT_TRUE(sink.ok()) << sink.status();
  TriggerOutput output;
  output.updates = {{User(1), 10, 1}, {User(2), 11, 4}};
  output.finalized = {{User(3), 9, 7}};
  ASSERT_TRUE((*sink)->Write(0, output).ok());
  ASSERT_TRUE((*sink)->Commit().ok());
  EXPECT_EQ(Contents(),
            "user_uuid,created_date,event_count\n"
            "00000000-0000-0000-0000-000000000003,1970-01-10,7\n");
}

TEST_F(CsvSinkTest, AnEmptyRunWritesTheHeader) {
  auto sink = CsvSink::Create(path_, /*state_outlives_run=*/true);
  ASSERT_TRUE(sink.ok()) << sink.status();
  ASSERT_TRUE((*sink)->Write(0, TriggerOutput{}).ok());
  ASSERT_TRUE((*sink)->Commit().ok());
  EXPECT_EQ(Contents(), "user_uuid,created_date,event_count\n");
}

}  // namespace
}  // namespace tally
