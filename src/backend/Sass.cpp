// Sass: runs cuobjdump (or nvdisasm) on the cubin for `--emit=sass` (Sass.h).
#include "backend/Sass.h"

#include <sstream>

#include "backend/Toolkit.h"
#include "support/FileIO.h"

namespace tlc {
namespace {

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
  std::string cuobjdump = findTool("cuobjdump", "TLC_CUOBJDUMP", false, looked);
  std::string nvdisasm = cuobjdump.empty() ? findTool("nvdisasm", "TLC_NVDISASM", false, looked) : "";
  if (cuobjdump.empty() && nvdisasm.empty()) {
    error = "--emit=sass needs cuobjdump or nvdisasm from the CUDA toolkit; looked for " + looked +
            " (install the toolkit's cuobjdump, e.g. the cuda-cuobjdump package, or set CUDA_HOME)";
    return std::nullopt;
  }
  // The tools read files: the cubin goes to a temporary directory, removed whatever happens.
  std::optional<TemporaryDirectory> dir = TemporaryDirectory::create(error);
  if (!dir) return std::nullopt;
  const std::string path = dir->file("kernel.cubin");
  const bool written =
      writeFileAtomically(path, std::string_view(reinterpret_cast<const char*>(cubin.data()), cubin.size()), error);
  std::optional<std::string> listing;
  if (!written) return std::nullopt;  // `error` says why
  if (!cuobjdump.empty()) {
    std::optional<std::string> usage = runTool({cuobjdump, "-res-usage", path}, error);
    std::optional<std::string> sass = usage ? runTool({cuobjdump, "-sass", path}, error) : std::nullopt;
    if (usage && sass) listing = resourceSummary(*usage) + "\n" + *sass;
  } else {
    std::optional<std::string> sass = runTool({nvdisasm, "-c", path}, error);
    if (sass) listing = "// Resource usage: not shown (cuobjdump was not found; nvdisasm lists the code only)\n\n" + *sass;
  }
  // The temporary name in the tools' output would make the listing differ from run to run.
  if (listing)
    for (size_t at; (at = listing->find(path)) != std::string::npos;) listing->replace(at, path.size(), "<cubin>");
  return listing;
}

}  // namespace tlc
