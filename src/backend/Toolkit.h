// Toolkit: the CUDA toolkit's programs tlc runs (ptxas and nvlink for the cubin,
// cuobjdump or nvdisasm for --emit=sass): where they are, and running them without a
// shell, in a temporary directory of tlc's own that is removed whatever happens.
//
// Why separate processes and not a library in tlc's process: libnvJitLink, the
// toolkit's in-process assembler, took 30 MB of resident memory to load and 50 MB
// of the peak of a one-kernel compile (81-88 MB against 31-34 MB with ptxas run
// beside tlc), and its relocations and initializers cost more CPU time than a
// process start. Processes also let several PTX batches assemble at once.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace tlc {

// Where a program is looked for: with `strictCudaHome` and CUDA_HOME set, only
// $CUDA_HOME/bin (a CUDA_HOME without it is a mistake to report, not to paper over
// with another toolkit); else $CUDA_HOME/bin, /usr/local/cuda/bin, then the PATH.
// With `overrideVariable` set in the environment, that path alone. Returns "" when
// not found, with `looked` saying where it looked (for the error message).
std::string findTool(const char* tool, const char* overrideVariable, bool strictCudaHome, std::string& looked);

// Runs argv (no shell) to completion; its stdout and stderr together, or nullopt
// with `error` set when it cannot start or exits non-zero.
std::optional<std::string> runTool(const std::vector<std::string>& argv, std::string& error);

// A directory under $TMPDIR (else /tmp) named tlc-XXXXXX, removed with every file
// in it when the object goes. Nothing else is kept in it across compiles.
class TemporaryDirectory {
 public:
  static std::optional<TemporaryDirectory> create(std::string& error);
  TemporaryDirectory(TemporaryDirectory&& other) noexcept;
  TemporaryDirectory& operator=(TemporaryDirectory&&) = delete;
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  ~TemporaryDirectory();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  explicit TemporaryDirectory(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// A program started and not yet waited for; its stdout and stderr go to `logPath`
// (stdin is /dev/null). The destructor of one never waited for kills and reaps it,
// so a failed build leaves no process behind.
class ToolProcess {
 public:
  static std::optional<ToolProcess> start(const std::vector<std::string>& argv, const std::string& logPath,
                                          std::string& error);
  ToolProcess(ToolProcess&& other) noexcept;
  ToolProcess& operator=(ToolProcess&&) = delete;
  ToolProcess(const ToolProcess&) = delete;
  ~ToolProcess();
  // Waits for it: true on exit status 0. Otherwise `why` says how it ended ("exit 255",
  // "killed by signal 9 (Killed)"). `log` gets what it printed either way.
  bool wait(std::string& log, std::string& why);

 private:
  ToolProcess(pid_t pid, std::string logPath) : pid_(pid), logPath_(std::move(logPath)) {}
  pid_t pid_ = -1;
  std::string logPath_;
};

}  // namespace tlc
