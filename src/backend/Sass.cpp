// Sass: runs cuobjdump (or nvdisasm) on the cubin for `--emit=sass` (Sass.h).
#include "backend/Sass.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

extern char** environ;

namespace tlc {
namespace {

bool isExecutable(const std::string& path) {
  struct stat st;
  return !path.empty() && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// `tool` from $<override>, $CUDA_HOME/bin, /usr/local/cuda/bin or the PATH; "" if
// none. `looked` collects where it looked, for the error.
std::string findTool(const char* tool, const char* override, std::string& looked) {
  if (const char* given = std::getenv(override); given && *given) {
    looked += std::string(looked.empty() ? "" : ", ") + "$" + override + " (" + given + ")";
    return isExecutable(given) ? given : "";
  }
  std::vector<std::string> dirs;
  if (const char* home = std::getenv("CUDA_HOME"); home && *home) dirs.push_back(std::string(home) + "/bin");
  dirs.push_back("/usr/local/cuda/bin");
  if (const char* path = std::getenv("PATH")) {
    std::stringstream entries(path);
    for (std::string dir; std::getline(entries, dir, ':');)
      if (!dir.empty()) dirs.push_back(dir);
  }
  for (const std::string& dir : dirs)
    if (isExecutable(dir + "/" + tool)) return dir + "/" + tool;
  looked += std::string(looked.empty() ? "" : ", ") + tool + " in $CUDA_HOME/bin, /usr/local/cuda/bin and the PATH";
  return "";
}

// Runs argv (no shell), returning its stdout and stderr together, or nullopt with
// `error` set when it cannot start or exits non-zero.
std::optional<std::string> runTool(const std::vector<std::string>& argv, std::string& error) {
  int pipeFds[2];
  if (::pipe(pipeFds) != 0) {
    error = std::string("cannot make a pipe: ") + std::strerror(errno);
    return std::nullopt;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 2);
  posix_spawn_file_actions_addclose(&actions, pipeFds[0]);
  posix_spawn_file_actions_addclose(&actions, pipeFds[1]);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
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
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error = argv[0] + " failed (" +
            (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status)) : std::string("killed")) + ")" +
            (output.empty() ? "" : ":\n" + output);
    return std::nullopt;
  }
  return output;
}

// "Function k:\n REG:18 STACK:0 SHARED:0 LOCAL:0 ..." -> "//   k: REG:18 STACK:0 ..."
std::string resourceSummary(const std::string& resUsage) {
  std::string out = "// Resource usage per entry (cuobjdump -res-usage; STACK/LOCAL > 0 means spills or\n"
                    "// local arrays, SHARED is static shared memory: the launcher adds the dynamic part):\n";
  std::istringstream lines(resUsage);
  std::string function;
  for (std::string line; std::getline(lines, line);) {
    size_t f = line.find("Function ");
    if (f != std::string::npos) {
      function = line.substr(f + 9);
      if (!function.empty() && function.back() == ':') function.pop_back();
      continue;
    }
    size_t reg = line.find("REG:");
    if (reg != std::string::npos && !function.empty()) {
      out += "//   " + function + ": " + line.substr(reg) + "\n";
      function.clear();
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> disassembleCubin(const std::vector<uint8_t>& cubin, std::string& error) {
  std::string looked;
  std::string cuobjdump = findTool("cuobjdump", "TLC_CUOBJDUMP", looked);
  std::string nvdisasm = cuobjdump.empty() ? findTool("nvdisasm", "TLC_NVDISASM", looked) : "";
  if (cuobjdump.empty() && nvdisasm.empty()) {
    error = "--emit=sass needs cuobjdump or nvdisasm from the CUDA toolkit; looked for " + looked +
            " (install the toolkit's cuobjdump, e.g. the cuda-cuobjdump package, or set CUDA_HOME)";
    return std::nullopt;
  }
  // The tools read files: the cubin goes to a temporary file, removed whatever happens.
  const char* tmp = std::getenv("TMPDIR");
  std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/tlc-sass-XXXXXX.cubin";
  std::vector<char> name(path.begin(), path.end());
  name.push_back('\0');
  int fd = ::mkstemps(name.data(), 6);
  if (fd < 0) {
    error = "cannot make a temporary file for the disassembler: " + std::string(std::strerror(errno));
    return std::nullopt;
  }
  path = name.data();
  size_t written = 0;
  while (written < cubin.size()) {
    ssize_t n = ::write(fd, cubin.data() + written, cubin.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += size_t(n);
  }
  ::close(fd);
  std::optional<std::string> listing;
  if (written != cubin.size()) {
    error = "cannot write the cubin to " + path;
  } else if (!cuobjdump.empty()) {
    std::optional<std::string> usage = runTool({cuobjdump, "-res-usage", path}, error);
    std::optional<std::string> sass = usage ? runTool({cuobjdump, "-sass", path}, error) : std::nullopt;
    if (usage && sass) listing = resourceSummary(*usage) + "\n" + *sass;
  } else {
    std::optional<std::string> sass = runTool({nvdisasm, "-c", path}, error);
    if (sass) listing = "// Resource usage: not shown (cuobjdump was not found; nvdisasm lists the code only)\n\n" + *sass;
  }
  ::unlink(path.c_str());
  // The temporary name in the tools' output would make the listing differ from run to run.
  if (listing)
    for (size_t at; (at = listing->find(path)) != std::string::npos;) listing->replace(at, path.size(), "<cubin>");
  return listing;
}

}  // namespace tlc
