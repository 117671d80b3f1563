#include "sink/output_target.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace tally {
namespace {

// `path` with every symbolic link of its last component followed, also a link
// that leads nowhere yet (its target is where the output goes). Links of the
// directories above are left to the kernel (and to weakly_canonical).
std::string FollowLinks(std::string path) {
  for (int hops = 0; hops < 40; ++hops) {  // 40: Linux's own limit (ELOOP)
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
    char buffer[PATH_MAX];
    const ssize_t n = ::readlink(path.c_str(), buffer, sizeof buffer);
    if (n <= 0 || static_cast<size_t>(n) >= sizeof buffer) return path;
    const std::string link(buffer, static_cast<size_t>(n));
    path = link.front() == '/' ? link : (std::filesystem::path(path).parent_path() / link).string();
  }
  return path;
}

bool SameInode(const struct stat& st, int fd) {
  struct stat other;
  return ::fstat(fd, &other) == 0 && other.st_dev == st.st_dev && other.st_ino == st.st_ino;
}

}  // namespace

absl::StatusOr<OutputTarget> ResolveOutputTarget(const std::string& path) {
  OutputTarget target;
  if (path == "-") {
    target.stream = true;
    target.standard_fd = STDOUT_FILENO;
    return target;
  }
  if (path.empty()) return absl::InvalidArgumentError("an output path is empty");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    // Standard output under another name (/dev/stdout, /proc/self/fd/1, or
    // the file the shell redirected it to): replacing that file would hide
    // what else goes to standard output, and a pipe cannot be replaced.
    for (int fd : {STDOUT_FILENO, STDERR_FILENO}) {
      if (SameInode(st, fd)) {
        target.stream = true;
        target.standard_fd = fd;
        return target;
      }
    }
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
      target.stream = true;
      return target;
    }
    // Renaming over a directory would fail only at the commit, after other
    // outputs may be in place: refuse it now. The same for what is neither.
    if (S_ISDIR(st.st_mode)) {
      return absl::PermissionDeniedError(absl::StrCat("cannot write ", path, ": it is a directory"));
    }
    if (!S_ISREG(st.st_mode)) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot write ", path, ": not a regular file, a FIFO or a character device"));
    }
    target.exists = true;
    target.device = st.st_dev;
    target.inode = st.st_ino;
  }
  std::error_code ec;
  const std::filesystem::path followed = FollowLinks(path);
  std::filesystem::path absolute = std::filesystem::absolute(followed, ec);
  if (ec) absolute = followed;
  std::filesystem::path canonical = std::filesystem::weakly_canonical(absolute, ec);
  target.file = (ec ? absolute : canonical).lexically_normal().string();
  return target;
}

OutputTarget StandardInputTarget() {
  OutputTarget target;
  struct stat st;
  if (::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
    target.exists = true;
    target.device = st.st_dev;
    target.inode = st.st_ino;
  } else {
    target.stream = true;
  }
  return target;
}

bool SameFile(const OutputTarget& a, const OutputTarget& b) {
  if (a.stream || b.stream) return false;
  if (a.exists && b.exists) return a.device == b.device && a.inode == b.inode;
  return !a.file.empty() && a.file == b.file;
}

}  // namespace tally
