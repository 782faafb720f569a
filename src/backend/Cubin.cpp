// Cubin: PTX -> cubin with nvJitLink, in-process.
//
// Why nvJitLink and not a `ptxas` subprocess: no process spawning or temporary
// files, no dependence on PATH, and ptxas's diagnostics come back as a log
// string we can put in a diagnostic. It runs the same PTX compiler as ptxas
// (same ELF flags, same code), so the result is what `ptxas -arch=...` gives.
// nvJitLink compiles the PTX inside nvJitLinkAddData: syntax and resource errors
// are reported there (NVJITLINK_ERROR_PTX_COMPILE), not by nvJitLinkComplete.
#include <nvJitLink.h>

#include <string>
#include <vector>

#include "backend/Backend.h"

namespace tlc {

namespace {

const char* resultName(nvJitLinkResult result) {
  switch (result) {
    case NVJITLINK_SUCCESS: return "success";
    case NVJITLINK_ERROR_UNRECOGNIZED_OPTION: return "unrecognized option";
    case NVJITLINK_ERROR_MISSING_ARCH: return "missing -arch";
    case NVJITLINK_ERROR_INVALID_INPUT: return "invalid input";
    case NVJITLINK_ERROR_PTX_COMPILE: return "PTX compilation error";
    case NVJITLINK_ERROR_NVVM_COMPILE: return "NVVM compilation error";
    case NVJITLINK_ERROR_INTERNAL: return "internal error";
    case NVJITLINK_ERROR_ARCH_MISMATCH: return "arch mismatch";
    case NVJITLINK_ERROR_UNRECOGNIZED_ARCH: return "unrecognized -arch value";
    case NVJITLINK_ERROR_UNSUPPORTED_ARCH: return "unsupported -arch value";
    default: return "error";
  }
}

// Owns one nvJitLink handle; the log getters need it alive.
class JitLinkSession {
 public:
  explicit JitLinkSession(const std::vector<std::string>& options) {
    std::vector<const char*> argv;
    for (const std::string& option : options) argv.push_back(option.c_str());
    created_ = nvJitLinkCreate(&handle_, (uint32_t)argv.size(), argv.data());
  }
  ~JitLinkSession() {
    if (created_ == NVJITLINK_SUCCESS) nvJitLinkDestroy(&handle_);
  }
  JitLinkSession(const JitLinkSession&) = delete;
  JitLinkSession& operator=(const JitLinkSession&) = delete;

  nvJitLinkResult created() const { return created_; }
  nvJitLinkHandle handle() const { return handle_; }

  std::string infoLog() const {
    size_t size = 0;
    if (nvJitLinkGetInfoLogSize(handle_, &size) != NVJITLINK_SUCCESS || size == 0) return {};
    std::string log(size, '\0');
    if (nvJitLinkGetInfoLog(handle_, log.data()) != NVJITLINK_SUCCESS) return {};
    return log;
  }

  std::string errorLog() const {
    size_t size = 0;
    if (nvJitLinkGetErrorLogSize(handle_, &size) != NVJITLINK_SUCCESS || size == 0) return {};
    std::string log(size, '\0');
    if (nvJitLinkGetErrorLog(handle_, log.data()) != NVJITLINK_SUCCESS) return {};
    while (!log.empty() && (log.back() == '\0' || log.back() == '\n')) log.pop_back();
    return log;
  }

 private:
  nvJitLinkHandle handle_ = nullptr;
  nvJitLinkResult created_ = NVJITLINK_ERROR_INTERNAL;
};

// With -verbose, nvJitLink's info log ends with one summary per entry:
//   info    : Function properties for 'NAME':
//   info    : used 32 registers, used 1 barriers, 0 stack, 1024 bytes smem, ... 0 bytes lmem
// Each becomes a remark (`--remarks`): registers and local memory are what one
// checks first when a kernel is slow.
void reportResourceUsage(const std::string& infoLog, DiagnosticEngine& diags) {
  const std::string header = "Function properties for '";
  std::string kernel;
  size_t lineStart = 0;
  while (lineStart < infoLog.size()) {
    size_t lineEnd = infoLog.find('\n', lineStart);
    if (lineEnd == std::string::npos) lineEnd = infoLog.size();
    std::string line = infoLog.substr(lineStart, lineEnd - lineStart);
    lineStart = lineEnd + 1;
    if (line.rfind("info", 0) != 0) continue;
    size_t at = line.find(header);
    if (at != std::string::npos) {
      size_t end = line.find('\'', at + header.size());
      kernel = end == std::string::npos ? std::string() : line.substr(at + header.size(), end - at - header.size());
      continue;
    }
    at = line.find(": used ");
    if (!kernel.empty() && at != std::string::npos) {
      diags.remark({}, "kernel '" + kernel + "' " + line.substr(at + 2));
      kernel.clear();
    }
  }
}

}  // namespace

std::optional<std::vector<uint8_t>> assembleCubin(const std::string& ptx, const TargetOptions& target,
                                                  DiagnosticEngine& diags) {
  // nvJitLink accepts only -O0 and -O3 (-O1/-O2 are "unrecognized option").
  std::string optimize = target.optLevel <= 0 ? "-O0" : "-O3";
  std::vector<std::string> linkOptions{"-arch=" + target.arch, optimize, "-verbose"};
  // Keeps the PTX's .loc lines as the cubin's line table (what Nsight Compute shows).
  if (target.lineInfo) linkOptions.push_back("-lineinfo");
  JitLinkSession session(linkOptions);
  if (session.created() != NVJITLINK_SUCCESS) {
    diags.fatal("ptx assembly failed: nvJitLink rejects -arch=" + target.arch + " " + optimize + " (" +
                resultName(session.created()) + ")");
    return std::nullopt;
  }
  auto fail = [&](const char* step, nvJitLinkResult result) {
    std::string message = std::string("ptx assembly failed: ") + step + ": " + resultName(result);
    std::string log = session.errorLog();
    if (!log.empty()) message += "\n" + log;
    diags.fatal(std::move(message));
    return std::nullopt;
  };
  // The PTX is passed with its size; nvJitLink does not need a terminating NUL.
  nvJitLinkResult result = nvJitLinkAddData(session.handle(), NVJITLINK_INPUT_PTX, ptx.data(),
                                            ptx.size(), "tlc.ptx");
  if (result != NVJITLINK_SUCCESS) return fail("compiling PTX", result);
  result = nvJitLinkComplete(session.handle());
  if (result != NVJITLINK_SUCCESS) return fail("linking", result);
  size_t size = 0;
  result = nvJitLinkGetLinkedCubinSize(session.handle(), &size);
  if (result != NVJITLINK_SUCCESS) return fail("reading the cubin size", result);
  std::vector<uint8_t> cubin(size);
  result = nvJitLinkGetLinkedCubin(session.handle(), cubin.data());
  if (result != NVJITLINK_SUCCESS) return fail("reading the cubin", result);
  reportResourceUsage(session.infoLog(), diags);
  return cubin;
}

}  // namespace tlc
