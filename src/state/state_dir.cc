#include "state/state_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/json_string.h"
#include "simdjson.h"

namespace tally {
namespace {

constexpr char kIdentityFile[] = "tally-state.json";
constexpr char kIdentityTemp[] = "tally-state.json.tmp";
constexpr char kLockFile[] = "LOCK";
constexpr size_t kInstanceIdLength = 32;

// What an identity file holds, once parsed.
struct StoredIdentity {
  int64_t format = 0;
  std::string topic;
  std::string group;
  std::string instance;
};

std::string Join(const std::string& dir, const char* name) { return (std::filesystem::path(dir) / name).string(); }

absl::Status CannotWrite(const std::string& dir, int error) {
  return absl::PermissionDeniedError(absl::StrCat("state dir ", dir, ": cannot create/write it (", std::strerror(error),
                                                  "): give --state-dir a directory this user can write"));
}

absl::Status Garbled(const std::string& dir, const std::string& why) {
  return absl::FailedPreconditionError(absl::StrCat("state dir ", dir, ": its identity file ", Join(dir, kIdentityFile),
                                                    " is unreadable (", why, "): delete ", dir,
                                                    " to rebuild its state from the changelog, or give this job "
                                                    "its own --state-dir"));
}

bool IsInstanceId(std::string_view s) {
  if (s.size() != kInstanceIdLength) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string NewInstanceId() {
  absl::BitGen gen;  // seeded from the OS's entropy: two dirs never share an id
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen), absl::Uniform<uint64_t>(gen));
}

// Reads the whole file at `path`. nullopt if it does not exist; errno in
// *error (and nullopt) if it cannot be read.
std::optional<std::string> ReadFile(const std::string& path, int* error) {
  *error = 0;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) *error = errno;
    return std::nullopt;
  }
  std::string contents;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = errno;
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return contents;
}

// Parses an identity file strictly: a JSON object with exactly the keys this
// code writes, each once and of its type. A file of another format version is
// returned with only `format` set, whatever else it holds: its layout is not
// this version's to judge.
absl::StatusOr<StoredIdentity> ParseIdentity(const std::string& dir, const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(text).get(root); err) {
    return Garbled(dir, absl::StrCat("not JSON: ", simdjson::error_message(err)));
  }
  simdjson::dom::object object;
  if (root.get(object)) return Garbled(dir, "not a JSON object");
  StoredIdentity stored;
  if (object["format"].get(stored.format)) return Garbled(dir, "no integer \"format\"");
  if (stored.format != StateDir::kFormatVersion) return stored;

  bool seen_format = false, seen_topic = false, seen_group = false, seen_instance = false;
  for (simdjson::dom::key_value_pair field : object) {
    auto take_string = [&](bool* seen, std::string* out) -> bool {
      std::string_view s;
      if (*seen || field.value.get(s)) return false;
      *seen = true;
      *out = std::string(s);
      return true;
    };
    bool ok;
    if (field.key == "format") {
      ok = !seen_format;
      seen_format = true;
    } else if (field.key == "topic") {
      ok = take_string(&seen_topic, &stored.topic);
    } else if (field.key == "group") {
      ok = take_string(&seen_group, &stored.group);
    } else if (field.key == "instance") {
      ok = take_string(&seen_instance, &stored.instance);
    } else {
      return Garbled(dir, absl::StrCat("unknown key \"", std::string(field.key), "\""));
    }
    if (!ok) return Garbled(dir, absl::StrCat("\"", std::string(field.key), "\" repeated or not a string"));
  }
  if (!seen_topic || !seen_group || !seen_instance) return Garbled(dir, "\"topic\", \"group\" or \"instance\" missing");
  if (!IsInstanceId(stored.instance)) return Garbled(dir, "\"instance\" is not 32 lowercase hex digits");
  return stored;
}

// Checks the identity file of `dir`, if there is one. Ok with nullopt if there
// is none; the id of the dir's instance if it is this job's; otherwise the
// refusal.
absl::StatusOr<std::optional<std::string>> CheckIdentity(const std::string& dir, const StateDirIdentity& identity) {
  int error;
  std::optional<std::string> text = ReadFile(Join(dir, kIdentityFile), &error);
  if (error != 0) return Garbled(dir, std::strerror(error));
  if (!text.has_value()) return std::optional<std::string>();
  absl::StatusOr<StoredIdentity> stored = ParseIdentity(dir, *text);
  if (!stored.ok()) return stored.status();
  const std::string what_to_do =
      absl::StrCat("give this job its own --state-dir, or delete ", dir, " to rebuild its state from the changelog");
  if (stored->format != StateDir::kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat("state dir ", dir, " holds state of format version ",
                                                      stored->format, ", not of version ", StateDir::kFormatVersion,
                                                      " (this tally's): ", what_to_do));
  }
  if (stored->topic != identity.topic || stored->group != identity.group) {
    return absl::FailedPreconditionError(absl::StrCat(
        "state dir ", dir, " holds the state of topic '", stored->topic, "', group '", stored->group, "' (format ",
        stored->format, "), not of topic '", identity.topic, "', group '", identity.group, "': ", what_to_do));
  }
  return std::optional<std::string>(std::move(stored->instance));
}

// Writes the identity file of `dir` so that it is there whole or not at all,
// even across a crash: a temp file, synced, renamed over, and the dir synced.
// The caller holds the lock, so the temp file is its own.
absl::Status WriteIdentity(const std::string& dir, const StateDirIdentity& identity, const std::string& instance) {
  std::string text = absl::StrCat("{\"format\": ", StateDir::kFormatVersion, ", \"topic\": ");
  AppendJsonString(identity.topic, &text);
  text += ", \"group\": ";
  AppendJsonString(identity.group, &text);
  absl::StrAppend(&text, ", \"instance\": \"", instance, "\"}\n");

  const std::string temp = Join(dir, kIdentityTemp);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return CannotWrite(dir, errno);
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    written += static_cast<size_t>(n);
  }
  if (written < text.size() || ::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return CannotWrite(dir, error);
  }
  if (::close(fd) != 0 || ::rename(temp.c_str(), Join(dir, kIdentityFile).c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    return CannotWrite(dir, error);
  }
  // The rename is durable only once the directory is.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return CannotWrite(dir, errno);
  const bool synced = ::fsync(dir_fd) == 0;
  const int error = errno;
  ::close(dir_fd);
  if (!synced) return CannotWrite(dir, error);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<StateDir>> StateDir::Open(const std::string& path, const StateDirIdentity& identity) {
  if (path.empty()) return absl::InvalidArgumentError("--state-dir is empty");
  // The identity file is JSON, which holds only UTF-8.
  if (!simdjson::validate_utf8(identity.topic) || !simdjson::validate_utf8(identity.group)) {
    return absl::InvalidArgumentError(
        absl::StrCat("state dir ", path, ": the topic and group must be UTF-8 to be recorded in it"));
  }
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return CannotWrite(path, ec.value());

  // A dir that is another job's is refused before anything (even LOCK) is
  // written to it. An identity file, once there, never changes, and it is
  // renamed into place whole, so reading it without the lock is safe.
  absl::StatusOr<std::optional<std::string>> instance = CheckIdentity(path, identity);
  if (!instance.ok()) return instance.status();

  const std::string lock_path = Join(path, kLockFile);
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) return CannotWrite(path, errno);
  const int lock_error = ::flock(lock_fd, LOCK_EX | LOCK_NB) == 0 ? 0 : errno;
  // From here on the object owns the fd, so that every return closes it.
  auto dir = absl::WrapUnique(new StateDir(path, "", lock_fd));
  if (lock_error != 0) {
    if (lock_error == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat("state dir ", path,
                                                        " is in use by another tally process (its LOCK is held): "
                                                        "give each process its own --state-dir"));
    }
    return absl::UnavailableError(absl::StrCat("state dir ", path, ": cannot lock ", lock_path, ": ",
                                               std::strerror(lock_error)));
  }

  // Under the lock, again: another process may have made the dir between the
  // check above and the lock.
  if (!instance->has_value()) {
    instance = CheckIdentity(path, identity);
    if (!instance.ok()) return instance.status();
  }
  dir->identity_ = identity;
  if (instance->has_value()) {
    dir->instance_id_ = std::move(**instance);
    dir->bound_ = true;
  } else {
    dir->instance_id_ = NewInstanceId();
  }
  return dir;
}

absl::Status StateDir::Bind() {
  if (bound_) return absl::OkStatus();
  if (absl::Status s = WriteIdentity(path_, identity_, instance_id_); !s.ok()) return s;
  bound_ = true;
  return absl::OkStatus();
}

StateDir::~StateDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

std::string StateDir::TaskPath(int32_t partition) const {
  return (std::filesystem::path(path_) / absl::StrCat("partition-", partition)).string();
}

}  // namespace tally
