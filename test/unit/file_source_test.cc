// FileSource: every line becomes one record with its line number, in memory
// bounded whatever the input. A line over the size limit is read past and
// delivered cut to its first kTooLargeKeptBytes with its whole size; batches
// stay within their bounds; an endless line (/dev/zero) neither grows the
// buffer nor keeps a poll from returning.

#include "source/file_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace tally {
namespace {

namespace fs = std::filesystem;

// A record as a test sees it: copied out of the batch.
struct Got {
  std::string bytes;
  int64_t line;
  uint64_t cut_size;
};

// What reading a whole input took.
struct Read {
  std::vector<Got> records;
  size_t max_batch_records = 0;
  size_t max_batch_bytes = 0;  // bytes of the records' views in one batch
  size_t max_buffer = 0;       // the read buffer's largest capacity
};

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "file_source_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& content) {
    const std::string path = (fs::path(dir_) / "in.jsonl").string();
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    return path;
  }

  // Polls until the end of the input.
  static Read ReadAll(FileSource& source) {
    Read r;
    RecordBatch batch;
    for (int polls = 0; polls < 1'000'000; ++polls) {
      EXPECT_TRUE(source.Poll(absl::Milliseconds(10), &batch).ok());
      size_t bytes = 0;
      for (const SourceRecord& rec : batch.records) {
        r.records.push_back(Got{std::string(rec.bytes), rec.origin.position, rec.cut_size});
        bytes += rec.bytes.size();
      }
      r.max_batch_records = std::max(r.max_batch_records, batch.records.size());
      r.max_batch_bytes = std::max(r.max_batch_bytes, bytes);
      r.max_buffer = std::max(r.max_buffer, source.buffer_capacity());
      if (batch.end_of_input) return r;
    }
    ADD_FAILURE() << "no end of input";
    return r;
  }

  std::string dir_;
};

TEST_F(FileSourceTest, LinesBecomeRecordsWithTheirLineNumbers) {
  auto source = FileSource::Open(Write("a\n\n  \t\nbb\r\n{\"c\":1}"));
  ASSERT_TRUE(source.ok());
  const Read r = ReadAll(**source);
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0].bytes, "a");
  EXPECT_EQ(r.records[0].line, 1);
  EXPECT_EQ(r.records[1].bytes, "bb\r");
  EXPECT_EQ(r.records[1].line, 4);
  EXPECT_EQ(r.records[2].bytes, "{\"c\":1}");  // the last line needs no newline
  EXPECT_EQ(r.records[2].line, 5);
  for (const Got& g : r.records) EXPECT_EQ(g.cut_size, 0u);
}

TEST_F(FileSourceTest, ALineAtTheLimitIsWholeAndOneByteOverIsCut) {
  const std::string at(3000, 'a'), over(3001, 'b'), blank(5000, ' ');
  auto source = FileSource::Open(Write(at + "\n" + over + "\n" + blank + "\nc\n" + over), /*max_record_bytes=*/3000);
  ASSERT_TRUE(source.ok());
  const Read r = ReadAll(**source);
  ASSERT_EQ(r.records.size(), 4u);
  EXPECT_EQ(r.records[0].bytes, at);
  EXPECT_EQ(r.records[0].cut_size, 0u);
  EXPECT_EQ(r.records[1].bytes, over.substr(0, kTooLargeKeptBytes));
  EXPECT_EQ(r.records[1].cut_size, 3001u);
  EXPECT_EQ(r.records[1].line, 2);
  // A long line of white space is still no record.
  EXPECT_EQ(r.records[2].bytes, "c");
  EXPECT_EQ(r.records[2].line, 4);
  // ... and a long last line without a newline is cut too.
  EXPECT_EQ(r.records[3].cut_size, 3001u);
  EXPECT_EQ(r.records[3].line, 5);
}

// The old source read a long line whole, doubling its buffer to hold it, and
// then delivered everything that one read brought after it as one batch: a
// 70 MB line followed by 30M short lines took 10 GB.
TEST_F(FileSourceTest, AHugeLineIsReadPastInBoundedMemory) {
  std::string content;
  content.reserve(40'000'000);
  content += "{\"huge\":\"";
  for (int i = 0; content.size() < 30'000'000; ++i) content += static_cast<char>('a' + i % 26);
  content += "\"}\n";
  const size_t huge = content.size() - 1;
  for (int i = 0; i < 1'000'000; ++i) content += "x\n";
  const size_t max_record_bytes = size_t{1} << 20;
  auto source = FileSource::Open(Write(content), max_record_bytes);
  ASSERT_TRUE(source.ok());
  const Read r = ReadAll(**source);

  ASSERT_EQ(r.records.size(), 1'000'001u);
  EXPECT_EQ(r.records[0].cut_size, huge);
  EXPECT_EQ(r.records[0].bytes, content.substr(0, kTooLargeKeptBytes));
  EXPECT_EQ(r.records[0].line, 1);
  EXPECT_EQ(r.records[1].bytes, "x");
  EXPECT_EQ(r.records[1].line, 2);
  EXPECT_EQ(r.records.back().line, 1'000'001);
  EXPECT_LE(r.max_buffer, max_record_bytes + FileSource::kReadChunk + kRecordPadding);
  EXPECT_LE(r.max_batch_records, FileSource::kMaxBatchRecords);
  EXPECT_LE(r.max_batch_bytes, FileSource::kMaxBatchBytes + max_record_bytes);
}

TEST_F(FileSourceTest, BatchesAreBoundedInRecordsAndBytes) {
  std::string tiny, wide;
  for (int i = 0; i < 200'000; ++i) tiny += "1\n";
  for (int i = 0; i < 3'000; ++i) wide += std::string(10'000, 'w') + "\n";
  for (const std::string* content : {&tiny, &wide}) {
    auto source = FileSource::Open(Write(*content), /*max_record_bytes=*/size_t{1} << 20);
    ASSERT_TRUE(source.ok());
    const Read r = ReadAll(**source);
    EXPECT_EQ(r.records.size(), content == &tiny ? 200'000u : 3'000u);
    EXPECT_LE(r.max_batch_records, FileSource::kMaxBatchRecords);
    EXPECT_LE(r.max_batch_bytes, FileSource::kMaxBatchBytes + 10'000);
  }
}

// An endless line (say /dev/zero) as a pipe gives it, here 300 MiB of zeros
// without a newline: polls keep returning while it is read past (so the
// runtime can trigger and stop), nothing is delivered until it ends, and the
// buffer stays put. (Bounded input, so that a regression fails rather than
// taking the machine's memory.)
TEST_F(FileSourceTest, AnEndlessLineKeepsMemoryFlatAndPollsReturning) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  constexpr size_t kChunk = size_t{1} << 20, kChunks = 300;
  std::thread writer([fd = fds[1]] {
    const std::vector<char> zeros(kChunk, '\0');
    for (size_t i = 0; i < kChunks; ++i) {
      for (size_t done = 0; done < kChunk;) {
        const ssize_t n = ::write(fd, zeros.data() + done, kChunk - done);
        if (n <= 0) break;
        done += static_cast<size_t>(n);
      }
    }
    ::close(fd);
  });
  const size_t max_record_bytes = size_t{1} << 20;
  FileSource source(fds[0], "pipe", /*is_stream=*/true, max_record_bytes);
  RecordBatch batch;
  int empty_polls = 0;
  size_t max_buffer = 0;
  std::vector<Got> got;
  // Reads to the end whatever happens, so the writer finishes.
  for (int polls = 0; polls < 1'000'000 && !batch.end_of_input; ++polls) {
    if (!source.Poll(absl::Seconds(1), &batch).ok()) break;
    if (batch.records.empty()) ++empty_polls;
    for (const SourceRecord& rec : batch.records) {
      got.push_back(Got{std::string(rec.bytes), rec.origin.position, rec.cut_size});
    }
    max_buffer = std::max(max_buffer, source.buffer_capacity());
  }
  writer.join();
  EXPECT_TRUE(batch.end_of_input);
  EXPECT_LE(max_buffer, max_record_bytes + FileSource::kReadChunk + kRecordPadding);
  EXPECT_GE(empty_polls, 300);  // at least one a MiB read past
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].cut_size, kChunk * kChunks);
  EXPECT_EQ(got[0].bytes, std::string(kTooLargeKeptBytes, '\0'));
}

// From a pipe, as a line ends, its record comes out with its whole size.
TEST_F(FileSourceTest, ALongLineFromAPipeIsCutWithItsSize) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  FileSource source(fds[0], "pipe", /*is_stream=*/true, /*max_record_bytes=*/1000);
  const std::string chunk(4096, 'z');
  RecordBatch batch;
  size_t written = 0;
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(::write(fds[1], chunk.data(), chunk.size()), static_cast<ssize_t>(chunk.size()));
    written += chunk.size();
    ASSERT_TRUE(source.Poll(absl::Milliseconds(10), &batch).ok());
    ASSERT_TRUE(batch.records.empty());
  }
  ASSERT_EQ(::write(fds[1], "\nok\n", 4), 4);
  ::close(fds[1]);
  std::vector<Got> got;
  for (int polls = 0; polls < 100 && !batch.end_of_input; ++polls) {
    ASSERT_TRUE(source.Poll(absl::Milliseconds(10), &batch).ok());
    for (const SourceRecord& rec : batch.records) {
      got.push_back(Got{std::string(rec.bytes), rec.origin.position, rec.cut_size});
    }
  }
  EXPECT_TRUE(batch.end_of_input);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].cut_size, written);
  EXPECT_EQ(got[0].bytes, chunk.substr(0, kTooLargeKeptBytes));
  EXPECT_EQ(got[1].bytes, "ok");
  EXPECT_EQ(got[1].line, 2);
  EXPECT_EQ(got[1].cut_size, 0u);
}

}  // namespace
}  // namespace tally
