// FileIO: whole-file reads and atomic writes (temp file beside the target + rename).
#include "support/FileIO.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

namespace tlc {

namespace {

std::string systemError() { return std::strerror(errno); }

// Closes a descriptor on every path out of a function.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now so that a failing close (a full disk on NFS) is seen.
  bool close() {
    int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

bool writeAll(int fd, std::string_view data) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    left -= (size_t)n;
  }
  return true;
}

// The most of the output's own name a temporary name repeats: enough to tell whose
// leftover it is, short enough that the temporary name stays within NAME_MAX (255
// bytes on Linux) whatever the output's name (which may itself be 255 bytes long).
constexpr size_t kTempNameKeeps = 64;

// "dir/name" -> "dir/.name.tlc-<pid>-<random>.tmp": same directory, so rename is
// atomic, and a leading dot keeps a leftover (after a crash) out of ordinary listings.
std::string tempPathFor(const std::string& path, std::mt19937_64& random) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.size() > kTempNameKeeps) base.resize(kTempNameKeeps);
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, "%d-%08llx", (int)::getpid(),
                (unsigned long long)(random() & 0xffffffffu));
  return dir + "." + base + ".tlc-" + suffix + ".tmp";
}

// The file a destination path stands for: a symbolic link's target, so that the
// rename replaces the file and the link stays; the path itself otherwise (also when
// the link dangles: there is no file to replace, so the link gives way to the output).
std::string resolveLink(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0 || !S_ISLNK(info.st_mode)) return path;
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (!resolved) return path;
  std::string target = resolved;
  std::free(resolved);
  return target;
}

}  // namespace

bool isSpecialFile(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && !S_ISREG(info.st_mode) && !S_ISDIR(info.st_mode);
}

bool sameFile(const std::string& a, const std::string& b) {
  struct stat first {}, second {};
  return ::stat(a.c_str(), &first) == 0 && ::stat(b.c_str(), &second) == 0 && first.st_dev == second.st_dev &&
         first.st_ino == second.st_ino;
}

namespace {
// Reads `fd` to its end, up to `maxBytes` (see readFile).
std::optional<std::string> readDescriptor(int fd, std::string& error, size_t maxBytes) {
  const std::string tooLarge = "larger than the limit of " + (maxBytes % (1u << 20) == 0
                                                                   ? std::to_string(maxBytes >> 20) + " MiB"
                                                                   : std::to_string(maxBytes) + " bytes");
  std::string text;
  struct stat info {};
  if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode)) {
    if ((uint64_t)info.st_size > maxBytes) {
      error = tooLarge;
      return std::nullopt;
    }
    text.reserve((size_t)info.st_size);
  }
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      error = systemError();  // e.g. "Is a directory"
      return std::nullopt;
    }
    if ((size_t)n > maxBytes - text.size()) {  // a file that grew, or a stream
      error = tooLarge;
      return std::nullopt;
    }
    text.append(buffer, (size_t)n);
  }
  return text;
}
}  // namespace

std::optional<std::string> readFile(const std::string& path, std::string& error, size_t maxBytes) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    error = systemError();
    return std::nullopt;
  }
  return readDescriptor(fd.get(), error, maxBytes);
}

std::optional<std::string> readStandardInput(std::string& error, size_t maxBytes) {
  return readDescriptor(STDIN_FILENO, error, maxBytes);
}

bool fileHoldsExactly(const std::string& path, std::string_view data) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode) || (size_t)info.st_size != data.size())
    return false;
  std::string error;
  std::optional<std::string> existing = readFile(path, error);
  return existing && *existing == data;
}

OutputTransaction::~OutputTransaction() { abort(); }

bool OutputTransaction::stage(const std::string& destination, std::string_view data, std::string& error) {
  if (isSpecialFile(destination)) {
    inPlace_.push_back({destination, std::string(data)});
    return true;
  }
  const std::string path = resolveLink(destination);
  std::random_device seed;
  std::mt19937_64 random(((uint64_t)seed() << 32) ^ seed());
  // O_EXCL makes a name clash (another tlc writing beside us) fail instead of sharing
  // the file; a few fresh names are plenty. Mode 0666 lets the umask decide, as for
  // any ordinary output.
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string tempPath = tempPathFor(path, random);
    FileDescriptor fd(::open(tempPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
    if (fd.get() < 0) {
      if (errno == EEXIST) continue;
      error = "cannot write '" + path + "': " + systemError();
      return false;
    }
    bool ok = writeAll(fd.get(), data);
    std::string reason = ok ? "" : systemError();
    if (!fd.close() && ok) {
      ok = false;
      reason = systemError();
    }
    if (!ok) {
      ::unlink(tempPath.c_str());
      error = "cannot write '" + path + "': " + reason;
      return false;
    }
    staged_.push_back({tempPath, path});
    return true;
  }
  error = "cannot write '" + path + "': could not create a unique temporary file";
  return false;
}

bool OutputTransaction::commit(std::string& error) {
  // Special files first: they cannot be taken back, but a failure here still
  // leaves every regular output as it was.
  for (const InPlace& out : inPlace_) {
    FileDescriptor fd(::open(out.path.c_str(), O_WRONLY | O_CLOEXEC));
    bool ok = fd.get() >= 0 && writeAll(fd.get(), out.data);
    if (ok && !fd.close()) ok = false;
    if (!ok) {
      error = "cannot write '" + out.path + "': " + systemError();
      abort();
      return false;
    }
  }
  inPlace_.clear();
  for (size_t i = 0; i < staged_.size(); ++i) {
    const Staged& s = staged_[i];
    if (::rename(s.tempPath.c_str(), s.finalPath.c_str()) != 0) {
      error = "cannot write '" + s.finalPath + "': " + systemError();
      staged_.erase(staged_.begin(), staged_.begin() + (long)i);  // those are in place
      abort();
      return false;
    }
  }
  staged_.clear();
  return true;
}

void OutputTransaction::abort() {
  for (const Staged& s : staged_) ::unlink(s.tempPath.c_str());
  staged_.clear();
  inPlace_.clear();
}

bool writeFileAtomically(const std::string& path, std::string_view data, std::string& error) {
  OutputTransaction transaction;
  return transaction.stage(path, data, error) && transaction.commit(error);
}

}  // namespace tlc
