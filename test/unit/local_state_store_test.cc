// LocalStateStore: records and the checkpoint survive a reopen, atomically
// together; Scan returns exactly the keys of a prefix, in order, and never the
// store's own; Destroy leaves nothing; and corruption, wherever RocksDB finds
// it, is DataLoss.

#include "state/local_state_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace tally {
namespace {

namespace fs = std::filesystem;

using Entries = std::vector<std::pair<std::string, std::string>>;

StateRecord Put(std::string key, std::string value) { return StateRecord{std::move(key), std::move(value), false}; }
StateRecord Tombstone(std::string key) { return StateRecord{std::move(key), "", true}; }

Entries ScanAll(const LocalStateStore& store, std::string_view prefix) {
  Entries out;
  absl::Status s = store.Scan(prefix, [&](std::string_view k, std::string_view v) { out.emplace_back(k, v); });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

std::vector<fs::path> FilesStartingWith(const fs::path& dir, std::string_view start) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().starts_with(start)) files.push_back(e.path());
  }
  return files;
}

std::vector<fs::path> FilesEndingWith(const fs::path& dir, std::string_view end) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().ends_with(end)) files.push_back(e.path());
  }
  return files;
}

// Overwrites `n` bytes in the middle of `file` with garbage.
void Scribble(const fs::path& file, size_t n) {
  const uintmax_t size = fs::file_size(file);
  ASSERT_GT(size, 2 * n) << file;
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(size / 2));
  const std::string garbage(n, '\xa5');
  f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  ASSERT_TRUE(f.good()) << file;
}

// Values that do not compress, so that the SST files are big.
std::string RandomValue(std::mt19937_64& rng, size_t n) {
  std::string v(n, '\0');
  for (char& c : v) c = static_cast<char>(rng());
  return v;
}

class LocalStateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "local_state_store_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    path_ = (root_ / "partition-0").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  std::unique_ptr<LocalStateStore> OpenOk() {
    auto store = LocalStateStore::Open(path_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Fills the store with `n` records of 200 random bytes; checkpoint n.
  void Fill(LocalStateStore& store, int n) {
    std::mt19937_64 rng(42);
    std::vector<StateRecord> batch;
    for (int i = 0; i < n; ++i) {
      batch.push_back(Put("D" + std::to_string(1000000 + i), RandomValue(rng, 200)));
      if (batch.size() == 1000 || i == n - 1) {
        ASSERT_TRUE(store.Apply(batch, i + 1).ok());
        batch.clear();
      }
    }
  }

  fs::path root_;
  std::string path_;
};

TEST_F(LocalStateStoreTest, ANewStoreIsEmptyAtCheckpointZero) {
  auto store = OpenOk();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->checkpoint(), 0);
  EXPECT_EQ(store->path(), path_);
  EXPECT_TRUE(fs::is_directory(path_));
  EXPECT_TRUE(ScanAll(*store, "").empty());
  EXPECT_GT(store->DiskBytes(), 0u);
}

TEST_F(LocalStateStoreTest, RecordsAndCheckpointSurviveAReopen) {
  {
    auto store = OpenOk();
    ASSERT_NE(store, nullptr);
    const std::vector<StateRecord> first = {Put("D1", "one"), Put("D2", "two"), Put("W1", "w"),
                                            Put("M1", std::string("m\0m", 3)), Put("D9", "gone soon")};
    ASSERT_TRUE(store->Apply(first, 10).ok());
    EXPECT_EQ(store->checkpoint(), 10);
    const std::vector<StateRecord> second = {Tombstone("D1"),        Put("D3", "three"), Put("W1", "w2"),
                                             Tombstone("Dabsent"),   Put("D9", "back"),  Tombstone("D9"),
                                             Put("D0", ""),          Put("D4", "x"),     Tombstone("D4"),
                                             Put("D4", "four")};
    ASSERT_TRUE(store->Apply(second, 25).ok());
    EXPECT_EQ(store->checkpoint(), 25);
  }
  auto store = OpenOk();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->checkpoint(), 25);
  EXPECT_EQ(ScanAll(*store, "D"), (Entries{{"D0", ""}, {"D2", "two"}, {"D3", "three"}, {"D4", "four"}}));
  EXPECT_EQ(ScanAll(*store, "W"), (Entries{{"W1", "w2"}}));
  EXPECT_EQ(ScanAll(*store, "M"), (Entries{{"M1", std::string("m\0m", 3)}}));
  EXPECT_EQ(ScanAll(*store, "D3"), (Entries{{"D3", "three"}}));
  EXPECT_TRUE(ScanAll(*store, "X").empty());
  EXPECT_TRUE(ScanAll(*store, "D31").empty());
  EXPECT_EQ(ScanAll(*store, ""), (Entries{{"D0", ""},
                                          {"D2", "two"},
                                          {"D3", "three"},
                                          {"D4", "four"},
                                          {"M1", std::string("m\0m", 3)},
                                          {"W1", "w2"}}));
}

TEST_F(LocalStateStoreTest, ACheckpointAloneIsApplied) {
  constexpr int64_t kBig = (int64_t{1} << 40) + 0x0102030405;
  {
    auto store = OpenOk();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Apply({}, kBig).ok());
  }
  auto store = OpenOk();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->checkpoint(), kBig);
  EXPECT_TRUE(ScanAll(*store, "").empty());  // the checkpoint is no state key
}

TEST_F(LocalStateStoreTest, ScanNeverReturnsTheStoresOwnKeys) {
  auto store = OpenOk();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Apply(std::vector<StateRecord>{Put("D1", "a"), Put("", "empty key")}, 7).ok());
  EXPECT_EQ(ScanAll(*store, ""), (Entries{{"", "empty key"}, {"D1", "a"}}));
  EXPECT_TRUE(ScanAll(*store, std::string("\0", 1)).empty());
  EXPECT_TRUE(ScanAll(*store, std::string("\0checkpoint", 11)).empty());
}

TEST_F(LocalStateStoreTest, ApplyRefusesReservedKeysAndWritesNothing) {
  auto store = OpenOk();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Apply(std::vector<StateRecord>{Put("D1", "a")}, 3).ok());
  const std::vector<StateRecord> bad = {Put("D2", "b"), Put(std::string("\0checkpoint", 11), "12345678")};
  EXPECT_EQ(store->Apply(bad, 4).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Apply(std::vector<StateRecord>{Put("D2", "b")}, -1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->checkpoint(), 3);
  EXPECT_EQ(ScanAll(*store, ""), (Entries{{"D1", "a"}}));
  store.reset();
  store = OpenOk();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->checkpoint(), 3);
}

TEST_F(LocalStateStoreTest, ScanHandlesPrefixesEndingIn0xff) {
  auto store = OpenOk();
  ASSERT_NE(store, nullptr);
  const std::vector<StateRecord> records = {Put("D\xfe", "1"), Put("D\xff", "2"), Put("D\xff\xff", "3"),
                                            Put("D\xff\xff" "a", "4"), Put("E", "5")};
  ASSERT_TRUE(store->Apply(records, 1).ok());
  EXPECT_EQ(ScanAll(*store, "D\xff"), (Entries{{"D\xff", "2"}, {"D\xff\xff", "3"}, {"D\xff\xff" "a", "4"}}));
  EXPECT_EQ(ScanAll(*store, "D\xff\xff"), (Entries{{"D\xff\xff", "3"}, {"D\xff\xff" "a", "4"}}));
  EXPECT_EQ(ScanAll(*store, "\xff").size(), 0u);
  EXPECT_EQ(ScanAll(*store, "D").size(), 4u);
}

TEST_F(LocalStateStoreTest, DestroyThenOpenGivesAnEmptyStore) {
  {
    auto store = OpenOk();
    ASSERT_NE(store, nullptr);
    Fill(*store, 3000);
    ASSERT_TRUE(store->Flush().ok());
    // An open store is not destroyed from under itself.
    EXPECT_FALSE(LocalStateStore::Destroy(path_).ok());
    EXPECT_EQ(ScanAll(*store, "D").size(), 3000u);
  }
  ASSERT_TRUE(LocalStateStore::Destroy(path_).ok());
  EXPECT_FALSE(fs::exists(path_));
  EXPECT_TRUE(LocalStateStore::Destroy(path_).ok());  // absent: fine
  auto store = OpenOk();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->checkpoint(), 0);
  EXPECT_TRUE(ScanAll(*store, "").empty());
}

TEST_F(LocalStateStoreTest, DiskBytesCountsTheData) {
  auto store = OpenOk();
  ASSERT_NE(store, nullptr);
  const uint64_t empty = store->DiskBytes();
  Fill(*store, 5000);  // 1 MB of incompressible values, in the memtable (no WAL)
  ASSERT_TRUE(store->Flush().ok());  // and now in an SST file
  EXPECT_FALSE(FilesEndingWith(path_, ".sst").empty());
  EXPECT_GT(store->DiskBytes(), empty + 1000000);
}

// A process that dies (kill -9) leaves the store's files as they are at that
// instant: a copy of the dir taken while the store is open is what the next
// start finds. The store keeps no WAL, so that is the last flush: an earlier
// checkpoint, with exactly the records up to it (the restart reads the rest
// from the changelog), never a batch in part.
TEST_F(LocalStateStoreTest, AKilledProcessLeavesAnEarlierWholeCheckpoint) {
  constexpr int kBatches = 50, kFlushedAt = 20;
  const std::string crashed = (root_ / "crashed").string();
  {
    auto store = OpenOk();
    ASSERT_NE(store, nullptr);
    for (int i = 1; i <= kBatches; ++i) {
      const std::string n = std::to_string(100 + i);
      const std::vector<StateRecord> batch = {Put("D" + n, std::string(100, 'd')), Put("W" + n, std::string(100, 'w'))};
      ASSERT_TRUE(store->Apply(batch, i).ok());
      if (i == kFlushedAt) {
        ASSERT_TRUE(store->Flush().ok());
      }
    }
    fs::copy(path_, crashed, fs::copy_options::recursive);
  }
  auto reopened = LocalStateStore::Open(crashed);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  LocalStateStore& store = **reopened;
  const int64_t checkpoint = store.checkpoint();
  EXPECT_EQ(checkpoint, kFlushedAt);  // no WAL: what was not flushed is gone
  const Entries d = ScanAll(store, "D");
  const Entries w = ScanAll(store, "W");
  ASSERT_EQ(d.size(), static_cast<size_t>(checkpoint));
  ASSERT_EQ(w.size(), static_cast<size_t>(checkpoint));
  EXPECT_EQ(d.back().first, "D" + std::to_string(100 + checkpoint));
  EXPECT_EQ(w.back().first, "W" + std::to_string(100 + checkpoint));
}

// A clean close flushes what only the memtable held: the next start finds
// the store current.
TEST_F(LocalStateStoreTest, ACloseKeepsEveryBatch) {
  {
    auto store = OpenOk();
    ASSERT_NE(store, nullptr);
    for (int i = 1; i <= 30; ++i) {
      const std::vector<StateRecord> batch = {Put("W" + std::to_string(100 + i), "v")};
      ASSERT_TRUE(store->Apply(batch, i).ok());
    }
  }
  auto store = OpenOk();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->checkpoint(), 30);
  EXPECT_EQ(ScanAll(*store, "W").size(), 30u);
}

TEST_F(LocalStateStoreTest, ACorruptManifestIsDataLoss) {
  {
    auto store = OpenOk();
    ASSERT_NE(store, nullptr);
    Fill(*store, 3000);
    ASSERT_TRUE(store->Flush().ok());  // so that the MANIFEST records a file
    Fill(*store, 3000);
    ASSERT_TRUE(store->Flush().ok());
  }
  const std::vector<fs::path> manifests = FilesStartingWith(path_, "MANIFEST-");
  ASSERT_EQ(manifests.size(), 1u);
  Scribble(manifests[0], 16);
  auto store = LocalStateStore::Open(path_);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
  EXPECT_NE(store.status().message().find(path_), std::string::npos) << store.status();

  // What the caller then does: destroy it and start over.
  ASSERT_TRUE(LocalStateStore::Destroy(path_).ok());
  auto fresh = OpenOk();
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(fresh->checkpoint(), 0);
}

TEST_F(LocalStateStoreTest, ACorruptSstIsDataLoss) {
  {
    auto store = OpenOk();
    ASSERT_NE(store, nullptr);
    Fill(*store, 5000);  // ~1 MB: several data blocks
    ASSERT_TRUE(store->Flush().ok());
  }
  const std::vector<fs::path> ssts = FilesEndingWith(path_, ".sst");
  ASSERT_FALSE(ssts.empty());
  for (const fs::path& sst : ssts) Scribble(sst, 64);
  auto store = LocalStateStore::Open(path_);
  if (store.ok()) {
    // Had Open not read every block, a full scan must.
    absl::Status s = (*store)->Scan("", [](std::string_view, std::string_view) {});
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  } else {
    EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
    EXPECT_NE(store.status().message().find(path_), std::string::npos) << store.status();
  }
  EXPECT_FALSE(store.ok()) << "Open verifies every block";
}

}  // namespace
}  // namespace tally
