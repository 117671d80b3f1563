#include "sink/temporary_files.h"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace tally {
namespace {

// A fixed table, not a container: the signal handler may only read memory that
// never moves or goes away. A slot is free (0), being filled (1), or holds a
// path (2).
struct Slot {
  std::atomic<int> state{0};
  char path[PATH_MAX];
};
std::array<Slot, 32> slots;

}  // namespace

std::string TemporaryFileName(const std::string& path) { return absl::StrCat(path, ".tmp-", ::getpid()); }

int RememberTemporaryFile(const std::string& temp_path) {
  if (temp_path.size() >= PATH_MAX) return -1;
  for (size_t i = 0; i < slots.size(); ++i) {
    int expected = 0;
    if (!slots[i].state.compare_exchange_strong(expected, 1)) continue;
    std::memcpy(slots[i].path, temp_path.c_str(), temp_path.size() + 1);
    slots[i].state.store(2);
    return static_cast<int>(i);
  }
  return -1;
}

void ForgetTemporaryFile(int slot) {
  if (slot >= 0) slots[static_cast<size_t>(slot)].state.store(0);
}

void RemoveTemporaryFilesNow() {
  for (Slot& slot : slots) {
    if (slot.state.load() == 2) ::unlink(slot.path);
  }
}

void RemoveTemporaryFilesAndDie(int signal) {
  RemoveTemporaryFilesNow();
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  sigaction(signal, &action, nullptr);
  // The signal is blocked while its handler runs: it is delivered, with its
  // default action, as soon as the handler returns.
  ::raise(signal);
}

void RemoveTemporaryFilesOnSignals(std::initializer_list<int> signals) {
  for (int signal : signals) {
    struct sigaction action {};
    action.sa_handler = &RemoveTemporaryFilesAndDie;
    sigemptyset(&action.sa_mask);
    sigaction(signal, &action, nullptr);
  }
}

void RemoveStaleTemporaryFiles(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string prefix = absl::StrCat(target.filename().string(), ".tmp-");
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const char* digits = name.data() + prefix.size();
    const char* digits_end = name.data() + name.size();
    pid_t pid = 0;
    auto [end_of_number, error] = std::from_chars(digits, digits_end, pid);
    if (error != std::errc() || end_of_number != digits_end || pid <= 0 || pid == ::getpid()) continue;
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to judge (EPERM)
    std::error_code ignored;
    fs::remove(it->path(), ignored);
  }
}

}  // namespace tally
