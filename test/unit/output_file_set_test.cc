#include "sink/output_file_set.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sink/atomic_output_file.h"

namespace tally {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void Write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

class OutputFileSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "output_file_set_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
  }
  void TearDown() override { fs::remove_all(root_); }

  // Names of the directory's entries, sorted, space-separated.
  std::string Listing() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(root_)) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    std::string text;
    for (const std::string& name : names) absl::StrAppend(&text, text.empty() ? "" : " ", name);
    return text;
  }

  fs::path root_;
};

TEST_F(OutputFileSetTest, FilesAppearOnlyWhenTheSetIsPublished) {
  Write(root_ / "a", "old a");
  OutputFileSet set;
  auto a = set.Create((root_ / "a").string());
  auto b = set.Create((root_ / "b").string());
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Append("new a").ok());
  ASSERT_TRUE((*b)->Append("new b").ok());
  ASSERT_TRUE((*a)->Commit().ok());
  ASSERT_TRUE((*b)->Commit().ok());
  // Committed, not yet published: the previous outputs are still in place.
  EXPECT_EQ(Read(root_ / "a"), "old a");
  EXPECT_FALSE(fs::exists(root_ / "b"));
  ASSERT_TRUE(set.Publish().ok());
  EXPECT_EQ(Read(root_ / "a"), "new a");
  EXPECT_EQ(Read(root_ / "b"), "new b");
  EXPECT_EQ(Listing(), "a b");  // no temporary file left
}

TEST_F(OutputFileSetTest, NothingIsRenamedUnlessEveryFileIsCommitted) {
  Write(root_ / "a", "old a");
  Write(root_ / "b", "old b");
  {
    OutputFileSet set;
    auto a = set.Create((root_ / "a").string());
    auto b = set.Create((root_ / "b").string());
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_TRUE((*a)->Append("new a").ok());
    ASSERT_TRUE((*a)->Commit().ok());
    ASSERT_TRUE((*b)->Append("new b").ok());  // b is never committed: its run failed
    EXPECT_FALSE(set.Publish().ok());
    EXPECT_EQ(Read(root_ / "a"), "old a");
  }
  EXPECT_EQ(Read(root_ / "a"), "old a");
  EXPECT_EQ(Read(root_ / "b"), "old b");
  EXPECT_EQ(Listing(), "a b");  // both temporary files removed
}

TEST_F(OutputFileSetTest, AFileOutsideASetAppearsAtCommit) {
  auto file = AtomicOutputFile::Create((root_ / "c").string());
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("c").ok());
  EXPECT_FALSE(fs::exists(root_ / "c"));
  ASSERT_TRUE((*file)->Commit().ok());
  EXPECT_EQ(Read(root_ / "c"), "c");
}

TEST_F(OutputFileSetTest, ASymbolicLinkStaysALinkAndItsTargetGetsTheContent) {
  Write(root_ / "target", "old");
  fs::create_symlink("target", root_ / "link");
  auto file = AtomicOutputFile::Create((root_ / "link").string());
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("new").ok());
  ASSERT_TRUE((*file)->Commit().ok());
  EXPECT_TRUE(fs::is_symlink(root_ / "link"));
  EXPECT_EQ(Read(root_ / "target"), "new");
}

TEST_F(OutputFileSetTest, StaleTemporaryFilesOfDeadProcessesAreRemoved) {
  Write(root_ / "d.tmp-999999", "stale");  // no such process
  const std::string live = absl::StrCat("d.tmp-", ::getppid());
  Write(root_ / live, "a live writer's");
  Write(root_ / "d.tmp-x", "not a pid");
  Write(root_ / "e.tmp-999999", "another output's");
  auto file = AtomicOutputFile::Create((root_ / "d").string());
  ASSERT_TRUE(file.ok());
  EXPECT_FALSE(fs::exists(root_ / "d.tmp-999999"));
  EXPECT_TRUE(fs::exists(root_ / live));
  EXPECT_TRUE(fs::exists(root_ / "d.tmp-x"));
  EXPECT_TRUE(fs::exists(root_ / "e.tmp-999999"));
}

}  // namespace
}  // namespace tally
