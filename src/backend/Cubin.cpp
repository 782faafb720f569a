// Cubin: PTX -> cubin with nvJitLink, in-process.
//
// Why nvJitLink and not a `ptxas` subprocess: no process spawning or temporary
// files, no dependence on PATH, and ptxas's diagnostics come back as a log
// string we can put in a diagnostic. It runs the same PTX compiler as ptxas
// (same ELF flags, same code), so the result is what `ptxas -arch=...` gives.
// nvJitLink compiles the PTX inside nvJitLinkAddData: syntax and resource errors
// are reported there (NVJITLINK_ERROR_PTX_COMPILE), not by nvJitLinkComplete.
//
// libnvJitLink is loaded at run time (dlopen), from the CUDA toolkit found then, not
// linked: tlc runs (up to --emit=ptx) on a machine without CUDA, and one binary works
// with the toolkit wherever it is installed. Only its types come from nvJitLink.h.
#define NVJITLINK_NO_INLINE  // no inline wrappers: they would call the library directly
#include <dlfcn.h>
#include <unistd.h>
#include <nvJitLink.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <type_traits>
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

#ifndef TLC_NVJITLINK_SONAME
#define TLC_NVJITLINK_SONAME "libnvJitLink.so.13"
#endif

// The entry points tlc uses, by their unversioned names (exported by every
// libnvJitLink since CUDA 12.0).
struct NvJitLinkApi {
  nvJitLinkResult (*create)(nvJitLinkHandle*, uint32_t, const char**);
  nvJitLinkResult (*destroy)(nvJitLinkHandle*);
  nvJitLinkResult (*addData)(nvJitLinkHandle, nvJitLinkInputType, const void*, size_t, const char*);
  nvJitLinkResult (*complete)(nvJitLinkHandle);
  nvJitLinkResult (*getLinkedCubinSize)(nvJitLinkHandle, size_t*);
  nvJitLinkResult (*getLinkedCubin)(nvJitLinkHandle, void*);
  nvJitLinkResult (*getErrorLogSize)(nvJitLinkHandle, size_t*);
  nvJitLinkResult (*getErrorLog)(nvJitLinkHandle, char*);
  nvJitLinkResult (*getInfoLogSize)(nvJitLinkHandle, size_t*);
  nvJitLinkResult (*getInfoLog)(nvJitLinkHandle, char*);
};

// Where libnvJitLink is looked for, in order: with CUDA_HOME set, that toolkit only
// (a CUDA_HOME without it is a mistake to report, not to paper over with another
// toolkit); else /usr/local/cuda, then the dynamic loader's own search
// (LD_LIBRARY_PATH, the ld.so cache: a distribution's package), named "" here.
std::vector<std::string> nvJitLinkDirectories() {
  const char* cudaHome = std::getenv("CUDA_HOME");
  bool fromCudaHome = cudaHome && *cudaHome;
  std::string root = fromCudaHome ? cudaHome : "/usr/local/cuda";
#if defined(__aarch64__)
  const char* targetLib = "/targets/sbsa-linux/lib";
#else
  const char* targetLib = "/targets/x86_64-linux/lib";
#endif
  std::vector<std::string> dirs = {root + "/lib64", root + "/lib", root + targetLib};
  if (!fromCudaHome) dirs.push_back("");
  return dirs;
}

// Loads libnvJitLink once; null (and `error` set) when it or an entry point is missing.
const NvJitLinkApi* loadNvJitLink(std::string& error) {
  static std::string loadError;
  static const NvJitLinkApi* api = []() -> const NvJitLinkApi* {
    const std::string advice = ": set CUDA_HOME to a CUDA toolkit (12.0 or newer)";
    void* library = nullptr;
    std::string searched, rejected;
    for (const std::string& dir : nvJitLinkDirectories()) {
      for (const char* name : {TLC_NVJITLINK_SONAME, "libnvJitLink.so"}) {
        std::string path = dir.empty() ? name : dir + "/" + name;
        library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (library) break;
        // A file that is there but does not load (another architecture, a broken
        // copy) is worth naming; a missing one is the common case.
        const char* why = dlerror();
        if (!dir.empty() && access(path.c_str(), F_OK) == 0 && rejected.empty() && why) rejected = why;
      }
      if (library) break;
      searched += (searched.empty() ? "" : ", ") + (dir.empty() ? std::string("the loader's path") : dir);
    }
    if (!library) {
      const char* cudaHome = std::getenv("CUDA_HOME");
      loadError = std::string("cannot load libnvJitLink (") +
                  (cudaHome && *cudaHome ? "CUDA_HOME=" + std::string(cudaHome) + "; " : std::string()) +
                  "searched " + searched + (rejected.empty() ? "" : "; " + rejected) + ")" + advice;
      return nullptr;
    }
    static NvJitLinkApi loaded;
    auto bind = [&](auto& slot, const char* name) {
      void* symbol = dlsym(library, name);
      if (!symbol && loadError.empty()) loadError = std::string("cannot load libnvJitLink: it has no ") + name + advice;
      slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(symbol);
    };
    bind(loaded.create, "nvJitLinkCreate");
    bind(loaded.destroy, "nvJitLinkDestroy");
    bind(loaded.addData, "nvJitLinkAddData");
    bind(loaded.complete, "nvJitLinkComplete");
    bind(loaded.getLinkedCubinSize, "nvJitLinkGetLinkedCubinSize");
    bind(loaded.getLinkedCubin, "nvJitLinkGetLinkedCubin");
    bind(loaded.getErrorLogSize, "nvJitLinkGetErrorLogSize");
    bind(loaded.getErrorLog, "nvJitLinkGetErrorLog");
    bind(loaded.getInfoLogSize, "nvJitLinkGetInfoLogSize");
    bind(loaded.getInfoLog, "nvJitLinkGetInfoLog");
    return loadError.empty() ? &loaded : nullptr;
  }();
  error = loadError;
  return api;
}

// Owns one nvJitLink handle; the log getters need it alive.
class JitLinkSession {
 public:
  JitLinkSession(const NvJitLinkApi& api, const std::vector<std::string>& options) : api_(api) {
    std::vector<const char*> argv;
    for (const std::string& option : options) argv.push_back(option.c_str());
    created_ = api_.create(&handle_, (uint32_t)argv.size(), argv.data());
  }
  ~JitLinkSession() {
    if (created_ == NVJITLINK_SUCCESS) api_.destroy(&handle_);
  }
  JitLinkSession(const JitLinkSession&) = delete;
  JitLinkSession& operator=(const JitLinkSession&) = delete;

  nvJitLinkResult created() const { return created_; }
  nvJitLinkHandle handle() const { return handle_; }

  std::string infoLog() const {
    size_t size = 0;
    if (api_.getInfoLogSize(handle_, &size) != NVJITLINK_SUCCESS || size == 0) return {};
    std::string log(size, '\0');
    if (api_.getInfoLog(handle_, log.data()) != NVJITLINK_SUCCESS) return {};
    return log;
  }

  std::string errorLog() const {
    size_t size = 0;
    if (api_.getErrorLogSize(handle_, &size) != NVJITLINK_SUCCESS || size == 0) return {};
    std::string log(size, '\0');
    if (api_.getErrorLog(handle_, log.data()) != NVJITLINK_SUCCESS) return {};
    while (!log.empty() && (log.back() == '\0' || log.back() == '\n')) log.pop_back();
    return log;
  }

 private:
  const NvJitLinkApi& api_;
  nvJitLinkHandle handle_ = nullptr;
  nvJitLinkResult created_ = NVJITLINK_ERROR_INTERNAL;
};

// With -verbose, nvJitLink's info log ends with one summary per entry:
//   info    : Function properties for 'NAME':
//   info    : used 32 registers, used 1 barriers, 0 stack, 1024 bytes smem, ... 0 bytes lmem
// Each becomes a remark (`--remarks`): registers and local memory are what one
// checks first when a kernel is slow. The linker lists the entries of several inputs
// last input first; the remarks follow `entryOrder` (the source order of the
// variants), entries it does not name last, in the log's order.
void reportResourceUsage(const std::string& infoLog, const std::vector<std::string>& entryOrder,
                         DiagnosticEngine& diags) {
  const std::string header = "Function properties for '";
  std::vector<std::pair<std::string, std::string>> usage;  // entry, what it uses
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
      usage.push_back({kernel, line.substr(at + 2)});
      kernel.clear();
    }
  }
  auto rank = [&](const std::string& entry) {
    return size_t(std::find(entryOrder.begin(), entryOrder.end(), entry) - entryOrder.begin());
  };
  std::stable_sort(usage.begin(), usage.end(), [&](const auto& a, const auto& b) { return rank(a.first) < rank(b.first); });
  for (const auto& [entry, what] : usage) diags.remark({}, "kernel '" + entry + "' " + what);
}

}  // namespace

struct CubinAssembler::Impl {
  const NvJitLinkApi* api = nullptr;
  std::unique_ptr<JitLinkSession> session;
  std::string optimize;
  bool failed = false;
};

CubinAssembler::CubinAssembler(TargetOptions target) : target_(std::move(target)) {}
CubinAssembler::~CubinAssembler() = default;

bool CubinAssembler::start(DiagnosticEngine& diags) {
  impl_ = std::make_unique<Impl>();
  // nvJitLink accepts only -O0 and -O3 (-O1/-O2 are "unrecognized option").
  impl_->optimize = target_.optLevel <= 0 ? "-O0" : "-O3";
  std::string loadError;
  impl_->api = loadNvJitLink(loadError);
  if (!impl_->api) {
    diags.fatal(loadError);
    return false;
  }
  std::vector<std::string> linkOptions{"-arch=" + target_.arch, impl_->optimize, "-verbose"};
  // Keeps the PTX's .loc lines as the cubin's line table (what Nsight Compute shows).
  if (target_.lineInfo) linkOptions.push_back("-lineinfo");
  impl_->session = std::make_unique<JitLinkSession>(*impl_->api, linkOptions);
  if (impl_->session->created() != NVJITLINK_SUCCESS) {
    diags.fatal("ptx assembly failed: nvJitLink rejects -arch=" + target_.arch + " " + impl_->optimize + " (" +
                resultName(impl_->session->created()) + ")");
    return false;
  }
  return true;
}

namespace {
void reportLinkFailure(const JitLinkSession& session, const char* step, nvJitLinkResult result,
                       DiagnosticEngine& diags) {
  std::string message = std::string("ptx assembly failed: ") + step + ": " + resultName(result);
  std::string log = session.errorLog();
  if (!log.empty()) message += "\n" + log;
  diags.fatal(std::move(message));
}
}  // namespace

bool CubinAssembler::add(const std::string& ptx, const std::string& name, DiagnosticEngine& diags) {
  if (!impl_ && !start(diags)) impl_->failed = true;
  if (impl_->failed) return false;
  // The PTX is passed with its size; nvJitLink does not need a terminating NUL. It
  // compiles it here, keeping only the object, so the caller may free the text.
  nvJitLinkResult result =
      impl_->api->addData(impl_->session->handle(), NVJITLINK_INPUT_PTX, ptx.data(), ptx.size(), name.c_str());
  if (result != NVJITLINK_SUCCESS) {
    reportLinkFailure(*impl_->session, "compiling PTX", result, diags);
    impl_->failed = true;
    return false;
  }
  return true;
}

std::optional<std::vector<uint8_t>> CubinAssembler::finish(DiagnosticEngine& diags,
                                                          const std::vector<std::string>& entryOrder) {
  TLC_ASSERT(impl_ && !impl_->failed, "CubinAssembler::finish without a successful add");
  const JitLinkSession& session = *impl_->session;
  nvJitLinkResult result = impl_->api->complete(session.handle());
  if (result != NVJITLINK_SUCCESS) {
    reportLinkFailure(session, "linking", result, diags);
    return std::nullopt;
  }
  size_t size = 0;
  result = impl_->api->getLinkedCubinSize(session.handle(), &size);
  if (result != NVJITLINK_SUCCESS) {
    reportLinkFailure(session, "reading the cubin size", result, diags);
    return std::nullopt;
  }
  std::vector<uint8_t> cubin(size);
  result = impl_->api->getLinkedCubin(session.handle(), cubin.data());
  if (result != NVJITLINK_SUCCESS) {
    reportLinkFailure(session, "reading the cubin", result, diags);
    return std::nullopt;
  }
  reportResourceUsage(session.infoLog(), entryOrder, diags);
  impl_.reset();
  return cubin;
}

std::optional<std::vector<uint8_t>> assembleCubin(const std::string& ptx, const TargetOptions& target,
                                                  DiagnosticEngine& diags) {
  CubinAssembler assembler(target);
  if (!assembler.add(ptx, "tlc.ptx", diags)) return std::nullopt;
  return assembler.finish(diags);
}

}  // namespace tlc
