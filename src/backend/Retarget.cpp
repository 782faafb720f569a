// Retarget: the route to targets LLVM 19's NVPTX backend cannot write (sm_100a).
//
// Before: PTX that LLVM wrote for the route's base target (`.version 8.5`,
// `.target sm_90`: plain sm_90, without the arch-specific `a` features), whose
// inline assembly may hold instructions of the final target (tile::gather4 /
// scatter4 for sm_100a). After: the same PTX with its `.version` and `.target`
// lines naming the final target; nothing else changes.
//
// Why this is sound (docs/architecture.md, "Targets newer than LLVM 19"): PTX
// written for `.target sm_90` is valid for every later target (the PTX ISA's
// forward compatibility holds for targets without the `a` suffix), and a newer
// `.version` accepts every program an older one does. The only parts LLVM did not
// check against sm_90 are our inline-asm strings: those written for sm_100a are
// checked against the PTX ISA's sm_100a rules by the assembler (ptxas
// with -arch=sm_100a). What must never be carried over is an sm_90a-specific
// instruction (wgmma, setmaxnreg), which LLVM does not emit for plain sm_90 but
// an inline-asm string could: finding one is a compiler bug (an internal error).
#include <cctype>
#include <string_view>

#include "backend/Backend.h"

namespace tlc {

namespace {

// PTX 8.6 is the first ISA that knows `.target sm_100a` and the tile::gather4 /
// tile::scatter4 tensor copies; the lowest version that holds what we emit lets
// the widest range of assemblers take `--emit=ptx` (CUDA 12.8's ptxas reads 8.7).
constexpr PTXRoute kRoutes[] = {
    {"sm_100a", "sm_90", "8.5", "8.6"},
};

// Instructions the PTX ISA offers only on sm_90a among the targets up to sm_90a:
// warpgroup MMA (absent on sm_100a: Blackwell has tcgen05 instead) and register
// reallocation (sm_90a-specific; it is outside the plain-sm_90 baseline the
// forward-compatibility argument rests on, so it is refused too).
constexpr std::string_view kArchSpecificOpcodes[] = {"wgmma.", "setmaxnreg."};

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace((unsigned char)s.front())) s.remove_prefix(1);
  while (!s.empty() && std::isspace((unsigned char)s.back())) s.remove_suffix(1);
  return s;
}

// The first line of `ptx` that starts with `directive` (after blanks), as its
// [begin, end) byte range, or npos when there is none.
std::pair<size_t, size_t> directiveLine(const std::string& ptx, std::string_view directive) {
  size_t lineStart = 0;
  while (lineStart < ptx.size()) {
    size_t lineEnd = ptx.find('\n', lineStart);
    if (lineEnd == std::string::npos) lineEnd = ptx.size();
    std::string_view line = trim(std::string_view(ptx).substr(lineStart, lineEnd - lineStart));
    if (line.substr(0, directive.size()) == directive &&
        (line.size() == directive.size() || std::isspace((unsigned char)line[directive.size()])))
      return {lineStart, lineEnd};
    lineStart = lineEnd + 1;
  }
  return {std::string::npos, std::string::npos};
}

}  // namespace

const PTXRoute* retargetRouteFor(const std::string& arch) {
  for (const PTXRoute& route : kRoutes)
    if (arch == route.arch) return &route;
  return nullptr;
}

std::optional<std::string> findArchSpecificInstruction(const std::string& ptx) {
  // Statements end at `;`; comments run to the end of the line. Each statement's
  // first word (after a `@p` guard and any `label:`) is its opcode.
  size_t at = 0;
  while (at < ptx.size()) {
    size_t end = ptx.find_first_of(";\n", at);
    if (end == std::string::npos) end = ptx.size();
    std::string_view statement = std::string_view(ptx).substr(at, end - at);
    at = end + 1;
    if (size_t comment = statement.find("//"); comment != std::string_view::npos) statement = statement.substr(0, comment);
    statement = trim(statement);
    while (!statement.empty() && (statement.front() == '{' || statement.front() == '}'))
      statement = trim(statement.substr(1));
    if (size_t colon = statement.find(':'); colon != std::string_view::npos) {
      std::string_view label = statement.substr(0, colon);
      bool isLabel = !label.empty();
      for (char c : label) isLabel = isLabel && (std::isalnum((unsigned char)c) || c == '_' || c == '$');
      if (isLabel) statement = trim(statement.substr(colon + 1));
    }
    if (!statement.empty() && statement.front() == '@') {
      size_t space = statement.find_first_of(" \t");
      statement = space == std::string_view::npos ? std::string_view() : trim(statement.substr(space));
    }
    std::string_view opcode = statement.substr(0, statement.find_first_of(" \t"));
    for (std::string_view bad : kArchSpecificOpcodes)
      if (opcode.substr(0, bad.size()) == bad) return std::string(opcode);
  }
  return std::nullopt;
}

std::string retargetPTX(const std::string& ptx, const PTXRoute& route, DiagnosticEngine& diags) {
  if (std::optional<std::string> opcode = findArchSpecificInstruction(ptx))
    diags.internalError({}, "PTX for " + std::string(route.arch) + " (generated as " + route.llvmCPU + ") uses '" + *opcode +
                                "', which is specific to sm_90a and not part of the forward-compatible sm_90 baseline");
  auto [versionBegin, versionEnd] = directiveLine(ptx, ".version");
  auto [targetBegin, targetEnd] = directiveLine(ptx, ".target");
  std::string expectedVersion = ".version " + std::string(route.llvmPTXVersion);
  std::string expectedTarget = ".target " + std::string(route.llvmCPU);
  TLC_ASSERT(versionBegin != std::string::npos && targetBegin != std::string::npos && versionBegin < targetBegin,
             "LLVM's PTX has no .version / .target header");
  TLC_ASSERT(trim(std::string_view(ptx).substr(versionBegin, versionEnd - versionBegin)) == expectedVersion &&
                 trim(std::string_view(ptx).substr(targetBegin, targetEnd - targetBegin)) == expectedTarget,
             "LLVM's PTX header is not '" + expectedVersion + "' / '" + expectedTarget + "'");
  return ptx.substr(0, versionBegin) + ".version " + route.ptxVersion + ptx.substr(versionEnd, targetBegin - versionEnd) +
         ".target " + route.arch + ptx.substr(targetEnd);
}

}  // namespace tlc
