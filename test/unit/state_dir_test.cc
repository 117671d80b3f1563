// StateDir: a new dir gets an identity and keeps it; a dir of another job, of
// another format or with a garbled identity is refused, with a message that
// names it and says what to do, and without a byte written to it; one process
// at a time; a dir that cannot be written is PermissionDenied.

#include "state/state_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace tally {
namespace {

namespace fs = std::filesystem;

class StateDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "state_dir_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    // A test may have left a dir without write permission.
    for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_directory()) fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(root_, ec);
  }

  static std::string Read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static void Write(const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::trunc);
    out << text;
  }
  // Every file under `dir` with its contents: to show that nothing changed.
  static std::map<std::string, std::string> Snapshot(const fs::path& dir) {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      files[e.path().string()] = e.is_regular_file() ? Read(e.path()) : "<dir>";
    }
    return files;
  }
  static bool IsInstanceId(const std::string& s) {
    return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
  }

  fs::path root_;
  const StateDirIdentity job_{"events", "tally"};
};

TEST_F(StateDirTest, NewDirGetsIdentityWhenBoundAndKeepsItsInstanceId) {
  const std::string path = (root_ / "a" / "b" / "state").string();  // parents created too
  std::string first_id;
  {
    auto dir = StateDir::Open(path, job_);
    ASSERT_TRUE(dir.ok()) << dir.status();
    EXPECT_EQ((*dir)->path(), path);
    first_id = (*dir)->instance_id();
    EXPECT_TRUE(IsInstanceId(first_id)) << first_id;
    EXPECT_TRUE(fs::exists(fs::path(path) / "LOCK"));
    EXPECT_FALSE((*dir)->bound());
    EXPECT_FALSE(fs::exists(fs::path(path) / "tally-state.json"));
    ASSERT_TRUE((*dir)->Bind().ok());
    ASSERT_TRUE((*dir)->Bind().ok());  // idempotent
    EXPECT_TRUE((*dir)->bound());
    const std::string text = Read(fs::path(path) / "tally-state.json");
    EXPECT_NE(text.find("\"format\": 2"), std::string::npos) << text;
    EXPECT_NE(text.find("\"topic\": \"events\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"group\": \"tally\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"instance\": \"" + first_id + "\""), std::string::npos) << text;
    EXPECT_FALSE(fs::exists(fs::path(path) / "tally-state.json.tmp"));
  }
  auto again = StateDir::Open(path, job_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->instance_id(), first_id);

  auto other = StateDir::Open((root_ / "other").string(), job_);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_TRUE(IsInstanceId((*other)->instance_id()));
  EXPECT_NE((*other)->instance_id(), first_id);
}

TEST_F(StateDirTest, AnUnboundDirIsFreeForAnotherJob) {
  // A start that failed before its first commit (a topic misspelt) must not
  // keep the corrected run out.
  const std::string path = (root_ / "s").string();
  ASSERT_TRUE(StateDir::Open(path, {"babel", "tally"}).ok());
  auto corrected = StateDir::Open(path, job_);
  ASSERT_TRUE(corrected.ok()) << corrected.status();
  ASSERT_TRUE((*corrected)->Bind().ok());
  corrected->reset();
  EXPECT_EQ(StateDir::Open(path, {"babel", "tally"}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(StateDirTest, TaskPathIsComputedNotCreated) {
  auto dir = StateDir::Open((root_ / "s").string(), job_);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ((*dir)->TaskPath(7), (root_ / "s" / "partition-7").string());
  EXPECT_FALSE(fs::exists((*dir)->TaskPath(7)));
  auto slash = StateDir::Open((root_ / "s2").string() + "/", job_);
  ASSERT_TRUE(slash.ok()) << slash.status();
  EXPECT_EQ((*slash)->TaskPath(0), (root_ / "s2" / "partition-0").string());
}

TEST_F(StateDirTest, RefusesTheDirOfAnotherTopicOrGroupAndWritesNothing) {
  const std::string path = (root_ / "s").string();
  {
    auto dir = StateDir::Open(path, job_);
    ASSERT_TRUE(dir.ok()) << dir.status();
    ASSERT_TRUE((*dir)->Bind().ok());
  }
  fs::remove(fs::path(path) / "LOCK");  // to see that a refusal does not make it again
  const auto before = Snapshot(path);

  auto topic = StateDir::Open(path, {"clicks", "tally"});
  EXPECT_EQ(topic.status().code(), absl::StatusCode::kFailedPrecondition) << topic.status();
  const std::string message(topic.status().message());
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("--state-dir"), std::string::npos) << message;
  EXPECT_NE(message.find("topic 'events', group 'tally'"), std::string::npos) << message;
  EXPECT_NE(message.find("topic 'clicks', group 'tally'"), std::string::npos) << message;

  auto group = StateDir::Open(path, {"events", "other"});
  EXPECT_EQ(group.status().code(), absl::StatusCode::kFailedPrecondition) << group.status();
  EXPECT_NE(group.status().message().find(path), std::string::npos) << group.status();
  EXPECT_NE(group.status().message().find("--state-dir"), std::string::npos) << group.status();
  EXPECT_NE(group.status().message().find("group 'other'"), std::string::npos) << group.status();

  EXPECT_EQ(Snapshot(path), before);
  EXPECT_TRUE(StateDir::Open(path, job_).ok());
}

// Format 1 held window rows in the changelog and the local store; its state
// must be rebuilt, not misread.
TEST_F(StateDirTest, RefusesAnotherFormatVersionAndWritesNothing) {
  const fs::path path = root_ / "s";
  fs::create_directories(path);
  Write(path / "tally-state.json",
        R"({"format": 1, "topic": "events", "group": "tally", "instance": "0123456789abcdef0123456789abcdef"})");
  const auto before = Snapshot(path);
  auto dir = StateDir::Open(path.string(), job_);
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kFailedPrecondition) << dir.status();
  const std::string message(dir.status().message());
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("--state-dir"), std::string::npos) << message;
  EXPECT_NE(message.find("format version 1"), std::string::npos) << message;
  EXPECT_NE(message.find("version 2"), std::string::npos) << message;
  EXPECT_EQ(Snapshot(path), before);
  EXPECT_FALSE(fs::exists(path / "LOCK"));
}

TEST_F(StateDirTest, RefusesAGarbledIdentityFileAndWritesNothing) {
  const std::string good_id = "0123456789abcdef0123456789abcdef";
  const std::vector<std::string> garbled = {
      "",
      "{not json",
      "[1, 2]",
      R"({"topic": "events", "group": "tally", "instance": ")" + good_id + R"("})",
      R"({"format": "1", "topic": "events", "group": "tally", "instance": ")" + good_id + R"("})",
      R"({"format": 2, "group": "tally", "instance": ")" + good_id + R"("})",
      R"({"format": 2, "topic": 5, "group": "tally", "instance": ")" + good_id + R"("})",
      R"({"format": 2, "topic": "events", "group": "tally", "instance": "0123"})",
      R"({"format": 2, "topic": "events", "group": "tally", "instance": "0123456789ABCDEF0123456789ABCDEF"})",
      R"({"format": 2, "topic": "events", "group": "tally", "instance": ")" + good_id + R"(", "x": 1})",
      R"({"format": 2, "topic": "events", "topic": "events", "group": "tally", "instance": ")" + good_id + R"("})",
  };
  for (size_t i = 0; i < garbled.size(); ++i) {
    SCOPED_TRACE(garbled[i]);
    const fs::path path = root_ / ("s" + std::to_string(i));
    fs::create_directories(path);
    Write(path / "tally-state.json", garbled[i]);
    const auto before = Snapshot(path);
    auto dir = StateDir::Open(path.string(), job_);
    EXPECT_EQ(dir.status().code(), absl::StatusCode::kFailedPrecondition) << dir.status();
    const std::string message(dir.status().message());
    EXPECT_NE(message.find((path / "tally-state.json").string()), std::string::npos) << message;
    EXPECT_NE(message.find("delete " + path.string() + " to rebuild its state from the changelog"), std::string::npos)
        << message;
    EXPECT_EQ(Snapshot(path), before);
  }
  // The same, well formed, is accepted: the cases above fail for their flaw.
  const fs::path path = root_ / "good";
  fs::create_directories(path);
  Write(path / "tally-state.json",
        R"({"format": 2, "topic": "events", "group": "tally", "instance": ")" + good_id + R"("})");
  auto dir = StateDir::Open(path.string(), job_);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ((*dir)->instance_id(), good_id);
}

TEST_F(StateDirTest, NamesWithJsonSpecialCharactersSurviveAReopen) {
  const std::string path = (root_ / "s").string();
  const StateDirIdentity odd{"events", "g \"quoted\" \\ back\nslash \x01 \xc3\xbc"};
  std::string id;
  {
    auto dir = StateDir::Open(path, odd);
    ASSERT_TRUE(dir.ok()) << dir.status();
    ASSERT_TRUE((*dir)->Bind().ok());
    id = (*dir)->instance_id();
  }
  auto again = StateDir::Open(path, odd);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->instance_id(), id);
  again->reset();
  EXPECT_EQ(StateDir::Open(path, {"events", "g \"quoted\""}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(StateDirTest, RefusesNamesThatAreNotUtf8) {
  auto dir = StateDir::Open((root_ / "s").string(), {"events", "\xff\xfe"});
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kInvalidArgument) << dir.status();
  EXPECT_FALSE(fs::exists(root_ / "s"));
}

TEST_F(StateDirTest, OneProcessAtATime) {
  const std::string path = (root_ / "s").string();
  auto first = StateDir::Open(path, job_);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE((*first)->Bind().ok());
  // flock() locks belong to an open file description: a second open() of LOCK,
  // even in this process, conflicts as another process would.
  auto second = StateDir::Open(path, job_);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
  EXPECT_NE(second.status().message().find("in use"), std::string::npos) << second.status();
  EXPECT_NE(second.status().message().find(path), std::string::npos) << second.status();
  EXPECT_NE(second.status().message().find("--state-dir"), std::string::npos) << second.status();

  const std::string id = (*first)->instance_id();
  first->reset();
  auto third = StateDir::Open(path, job_);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ((*third)->instance_id(), id);
}

TEST_F(StateDirTest, TheLockIsHeldAgainstAChildProcess) {
  const std::string path = (root_ / "s").string();
  auto first = StateDir::Open(path, job_);
  ASSERT_TRUE(first.ok()) << first.status();
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Another process, as a second tally would be: its own open() of LOCK
    // conflicts with the lock the parent holds.
    auto second = StateDir::Open(path, job_);
    ::_exit(second.status().code() == absl::StatusCode::kFailedPrecondition ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(StateDirTest, APathUnderAFileCannotBeCreated) {
  Write(root_ / "file", "x");
  auto dir = StateDir::Open((root_ / "file" / "state").string(), job_);
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kPermissionDenied) << dir.status();
  EXPECT_NE(dir.status().message().find("--state-dir"), std::string::npos) << dir.status();
  EXPECT_NE(dir.status().message().find((root_ / "file" / "state").string()), std::string::npos) << dir.status();
}

TEST_F(StateDirTest, AnUnwritableDirIsPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores file permissions";
  // A parent that cannot be written: the dir cannot be made.
  const fs::path parent = root_ / "ro";
  fs::create_directories(parent);
  fs::permissions(parent, fs::perms::owner_read | fs::perms::owner_exec);
  auto made = StateDir::Open((parent / "state").string(), job_);
  EXPECT_EQ(made.status().code(), absl::StatusCode::kPermissionDenied) << made.status();
  EXPECT_NE(made.status().message().find("--state-dir"), std::string::npos) << made.status();
  EXPECT_FALSE(fs::exists(parent / "state"));

  // The dir exists but cannot be written: no LOCK, no identity.
  const fs::path existing = root_ / "existing";
  fs::create_directories(existing);
  fs::permissions(existing, fs::perms::owner_read | fs::perms::owner_exec);
  auto written = StateDir::Open(existing.string(), job_);
  EXPECT_EQ(written.status().code(), absl::StatusCode::kPermissionDenied) << written.status();
  EXPECT_NE(written.status().message().find(existing.string()), std::string::npos) << written.status();
  EXPECT_TRUE(fs::is_empty(existing));
}

}  // namespace
}  // namespace tally
