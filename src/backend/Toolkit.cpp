// Toolkit: finding and running the CUDA toolkit's programs (Toolkit.h).
#include "backend/Toolkit.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "support/FileIO.h"

extern char** environ;

namespace tlc {
namespace {

bool isExecutable(const std::string& path) {
  struct stat st;
  return !path.empty() && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::vector<char*> argumentVector(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  return args;
}

// How a waited-for process ended, in words; "" for exit status 0.
std::string endedHow(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status) == 0 ? "" : "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int signal = WTERMSIG(status);
    const char* name = ::strsignal(signal);
    // SIGKILL from nowhere is most often the kernel's out-of-memory killer.
    return "killed by signal " + std::to_string(signal) + (name ? std::string(" (") + name + ")" : std::string()) +
           (signal == SIGKILL ? "; out of memory?" : "");
  }
  return "ended abnormally";
}

int waitForChild(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

}  // namespace

std::string findTool(const char* tool, const char* overrideVariable, bool strictCudaHome, std::string& looked) {
  if (const char* given = overrideVariable ? std::getenv(overrideVariable) : nullptr; given && *given) {
    looked += std::string(looked.empty() ? "" : ", ") + "$" + overrideVariable + " (" + given + ")";
    return isExecutable(given) ? given : "";
  }
  std::vector<std::string> dirs;
  const char* home = std::getenv("CUDA_HOME");
  const bool fromCudaHome = home && *home;
  if (fromCudaHome) dirs.push_back(std::string(home) + "/bin");
  if (!(fromCudaHome && strictCudaHome)) {
    dirs.push_back("/usr/local/cuda/bin");
    if (const char* path = std::getenv("PATH")) {
      std::stringstream entries(path);
      for (std::string dir; std::getline(entries, dir, ':');)
        if (!dir.empty()) dirs.push_back(dir);
    }
  }
  for (const std::string& dir : dirs)
    if (isExecutable(dir + "/" + tool)) return dir + "/" + tool;
  std::string where = fromCudaHome && strictCudaHome ? "CUDA_HOME=" + std::string(home) + "/bin"
                      : fromCudaHome                 ? "$CUDA_HOME/bin, /usr/local/cuda/bin and the PATH"
                                                     : "/usr/local/cuda/bin and the PATH";
  looked += std::string(looked.empty() ? "" : ", ") + tool + " in " + where;
  return "";
}

std::optional<std::string> runTool(const std::vector<std::string>& argv, std::string& error) {
  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0) {
    error = std::string("cannot make a pipe: ") + std::strerror(errno);
    return std::nullopt;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 2);
  std::vector<char*> args = argumentVector(argv);
  pid_t pid;
  int spawned = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipeFds[1]);
  if (spawned != 0) {
    ::close(pipeFds[0]);
    error = "cannot run " + argv[0] + ": " + std::strerror(spawned);
    return std::nullopt;
  }
  std::string output;
  char buffer[65536];
  for (ssize_t n; (n = ::read(pipeFds[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    output.append(buffer, size_t(n));
  }
  ::close(pipeFds[0]);
  std::string why = endedHow(waitForChild(pid));
  if (!why.empty()) {
    error = argv[0] + " failed (" + why + ")" + (output.empty() ? "" : ":\n" + output);
    return std::nullopt;
  }
  return output;
}

// ---------------------------------------------------------------- files

std::optional<TemporaryDirectory> TemporaryDirectory::create(std::string& error) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/tlc-XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  if (!::mkdtemp(name.data())) {
    error = "cannot make a temporary directory " + pattern + ": " + std::strerror(errno) +
            " (set TMPDIR to a writable directory)";
    return std::nullopt;
  }
  return TemporaryDirectory(name.data());
}

TemporaryDirectory::TemporaryDirectory(TemporaryDirectory&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

TemporaryDirectory::~TemporaryDirectory() {
  if (path_.empty()) return;
  // Only files are made in it (Cubin.cpp, Sass.cpp): no recursion needed.
  if (DIR* dir = ::opendir(path_.c_str())) {
    while (dirent* entry = ::readdir(dir)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") ::unlink(file(name).c_str());
    }
    ::closedir(dir);
  }
  ::rmdir(path_.c_str());
}

// ---------------------------------------------------------------- processes

std::optional<ToolProcess> ToolProcess::start(const std::vector<std::string>& argv, const std::string& logPath,
                                              std::string& error) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args = argumentVector(argv);
  pid_t pid;
  int spawned = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    error = "cannot run " + argv[0] + ": " + std::strerror(spawned);
    return std::nullopt;
  }
  return ToolProcess(pid, logPath);
}

ToolProcess::ToolProcess(ToolProcess&& other) noexcept : pid_(other.pid_), logPath_(std::move(other.logPath_)) {
  other.pid_ = -1;
}

ToolProcess::~ToolProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  waitForChild(pid_);
}

bool ToolProcess::wait(std::string& log, std::string& why) {
  int status = waitForChild(pid_);
  pid_ = -1;
  std::string unread;
  log = readFile(logPath_, unread).value_or("");
  why = status < 0 ? std::string("cannot wait for it: ") + std::strerror(errno) : endedHow(status);
  return why.empty();
}

}  // namespace tlc
