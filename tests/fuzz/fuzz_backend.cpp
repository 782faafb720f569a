// fuzz_backend: a libFuzzer target over tlc's backend, on whatever lowering accepts.
//
// Each input is a .tl file. What parses, checks and lowers (for sm_90a and for sm_80,
// each from its own sema, as the frontend target does) goes on, per architecture,
// through LLVM code generation (generateLLVM: LLVM's verifier runs there and a module
// that does not verify is an internal error, so it aborts) and PTX emission
// (emitPTX); then the header writer: generateHeader for sm_90a, and
// generateMultiArchHeader for sm_80 + sm_90a in each of its modes (one header; the
// header + source pair; the multi-architecture header with --nvtx's ranges) and the
// launch metadata writer (generateMeta, both ways). ptxas is skipped (external, and seconds per input): the
// headers embed a fake cubin that holds every byte value, so the byte-array writer's
// escapes are exercised too.
//
// The products are checked cheaply, not compiled (a C compiler per input would cost
// a second): the PTX has its `.target` and an `.entry` per kernel; a header has its
// include guard first and last, balanced (), [] and {} and balanced #if/#endif outside
// comments and literals, no line break inside a literal, no `/*` inside a comment
// (-Wcomment), only printable ASCII, and a `_launch` for every source kernel.
//
// A finding is a crash, a sanitizer report, an internal error (verifier included), a
// failed check (abort), a timeout, or memory past -rss_limit_mb. Codegen's "not yet
// supported" errors are not findings: the input is simply not compiled further.
// Uses the token mutator (token_mutator.h) so that mutants stay mostly well-formed
// and reach the backend. scripts/fuzz.sh runs it.
//
// With TLC_FUZZ_HEADERS=DIR in the environment, each input's headers are also written
// to DIR/<hash of the input>/ (single.h, multi.h, and the pair fuzz.h + fuzz.c), for
// scripts/fuzz_headers.sh to compile: replaying a corpus this way is how its
// headers meet a real C compiler without slowing the fuzzing down.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <streambuf>
#include <string>
#include <vector>

#include "backend/Backend.h"
#include "backend/Header.h"
#include "backend/Meta.h"
#include "frontend/AST.h"
#include "frontend/Parser.h"
#include "ir/IR.h"
#include "lower/Lower.h"
#include "sema/Sema.h"
#include "support/Diagnostics.h"
#include "fuzz_budgets.h"

namespace {

namespace ir = tlc::ir;

class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return c == EOF ? 0 : c; }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

// A failed check: print what and where (libFuzzer saves the input), then abort.
[[noreturn]] void fail(const std::string& what, const std::string& text) {
  std::fprintf(stderr, "fuzz_backend: %s\n---- product (first 4000 bytes) ----\n%.4000s\n", what.c_str(),
               text.c_str());
  std::abort();
}

bool isIdentifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

// The launch metadata (--emit=meta) is JSON: one object, strings closed with only
// escaped quotes, backslashes and control characters inside, {} and [] balanced
// outside strings, and an object per source kernel ("name": "<kernel>").
void checkMeta(const std::string& m, const ir::Module& module) {
  if (m.empty() || m[0] != '{' || m.size() < 3 || m.substr(m.size() - 2) != "}\n") fail("meta: not one object", m);
  std::vector<char> open;
  bool inString = false;
  for (size_t i = 0; i < m.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(m[i]);
    if (inString) {
      if (c < 0x20) fail("meta: a raw control character in a string", m);
      if (c == '\\') {
        if (++i == m.size() || std::string("\"\\nturbf/").find(m[i]) == std::string::npos) fail("meta: a bad escape", m);
      } else if (c == '"') {
        inString = false;
      }
      continue;
    }
    if (c == '"') inString = true;
    else if (c == '{' || c == '[') open.push_back(char(c));
    else if (c == '}' || c == ']') {
      if (open.empty() || open.back() != (c == '}' ? '{' : '[')) fail("meta: unbalanced brackets", m);
      open.pop_back();
    }
  }
  if (inString || !open.empty()) fail("meta: an unclosed string or bracket", m);
  for (const ir::Kernel& k : module.kernels)
    if (m.find("\"name\": \"" + k.sourceName + "\"") == std::string::npos) fail("meta: no entry for kernel " + k.sourceName, m);
}

// The header checks above. `kernels` are the source kernels' names; `kernelPrefix`
// what the options put before each. PairSource files have no include guard.
void checkHeader(const std::string& h, const ir::Module& module, const std::string& kernelPrefix, bool guarded) {
  for (char c : h)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\n') || static_cast<unsigned char>(c) >= 0x7f)
      fail("a byte outside printable ASCII in the header", h);

  // One pass over the text, a tiny C lexer: comments, string and character
  // literals, preprocessor directives at a line's start.
  std::vector<char> open;
  int conditionals = 0;
  bool lineStart = true;
  for (size_t i = 0; i < h.size(); ++i) {
    char c = h[i];
    if (c == '/' && i + 1 < h.size() && h[i + 1] == '*') {
      size_t end = h.find("*/", i + 2);
      if (end == std::string::npos) fail("an unterminated comment", h.substr(i));
      if (h.find("/*", i + 2) < end) fail("'/*' inside a comment (-Wcomment)", h.substr(i, end + 2 - i));
      i = end + 1;
      continue;
    }
    if (c == '/' && i + 1 < h.size() && h[i + 1] == '/') {
      i = h.find('\n', i);
      if (i == std::string::npos) break;
      lineStart = true;
      continue;
    }
    if (c == '"' || c == '\'') {
      size_t j = i + 1;
      for (; j < h.size() && h[j] != c; ++j) {
        if (h[j] == '\n') fail("a line break inside a literal", h.substr(i, j - i));
        if (h[j] == '\\') ++j;
      }
      if (j >= h.size()) fail("an unterminated literal", h.substr(i, 200));
      i = j;
      lineStart = false;
      continue;
    }
    if (c == '\n') {
      lineStart = true;
      continue;
    }
    if (c == ' ') continue;
    if (lineStart && c == '#') {
      size_t end = h.find_first_of(" \n", i);
      std::string directive = h.substr(i + 1, end - i - 1);
      if (directive == "if" || directive == "ifdef" || directive == "ifndef") ++conditionals;
      if (directive == "endif" && --conditionals < 0) fail("#endif without #if", h);
    }
    lineStart = false;
    if (c == '(' || c == '[' || c == '{') open.push_back(c);
    if (c == ')' || c == ']' || c == '}') {
      char want = c == ')' ? '(' : c == ']' ? '[' : '{';
      if (open.empty() || open.back() != want)
        fail(std::string("unbalanced '") + c + "' at byte " + std::to_string(i), h.substr(i > 300 ? i - 300 : 0, 600));
      open.pop_back();
    }
  }
  if (!open.empty()) fail(std::string("unclosed '") + open.back() + "'", h);
  if (conditionals != 0) fail("#if without #endif", h);

  if (guarded) {
    size_t ifndef = h.find("\n#ifndef ");
    if (ifndef == std::string::npos) fail("no include guard", h);
    size_t nameBegin = ifndef + 9;
    std::string guard = h.substr(nameBegin, h.find('\n', nameBegin) - nameBegin);
    if (!isIdentifier(guard) || h.compare(h.find('\n', nameBegin) + 1, 9 + guard.size(), "#define " + guard + "\n") != 0)
      fail("the include guard '" + guard + "' is not #defined right after its #ifndef", h);
    const std::string last = "#endif /* " + guard + " */\n";
    if (h.size() < last.size() || h.compare(h.size() - last.size(), last.size(), last) != 0)
      fail("the header does not end with " + last, h);
  }

  std::set<std::string> sourceKernels;
  for (const ir::Kernel& k : module.kernels) sourceKernels.insert(k.sourceName.empty() ? k.name : k.sourceName);
  for (const std::string& name : sourceKernels)
    if (isIdentifier(name) && h.find(kernelPrefix + name + "_launch(") == std::string::npos)
      fail("no " + kernelPrefix + name + "_launch in the header", h);
}

void checkPTX(const std::string& ptx, const ir::Module& module, const std::string& arch) {
  if (ptx.find("\n.target " + arch) == std::string::npos) fail(".target " + arch + " missing from the PTX", ptx);
  for (const ir::Kernel& k : module.kernels)
    if (ptx.find(".entry " + k.name + "(") == std::string::npos) fail("no .entry " + k.name + " in the PTX", ptx);
}

// Every byte value, then some of the PTX: NULs, quotes, backslashes, '?' (trigraphs)
// and high bytes for the byte-array writer, and a size that varies with the input.
std::vector<uint8_t> fakeCubin(const std::string& ptx) {
  std::vector<uint8_t> bytes = {0x7f, 'E', 'L', 'F'};
  for (int b = 0; b < 256; ++b) bytes.push_back(static_cast<uint8_t>(b));
  bytes.insert(bytes.end(), ptx.begin(), ptx.begin() + std::min<size_t>(ptx.size(), 997));
  return bytes;
}

// TLC_FUZZ_HEADERS: the directory for this input's headers, or "" (the usual case).
std::string dumpDirectory(const uint8_t* data, size_t size) {
  static const char* root = std::getenv("TLC_FUZZ_HEADERS");
  if (!root || !*root) return "";
  uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a
  for (size_t i = 0; i < size; ++i) hash = (hash ^ data[i]) * 0x100000001b3ull;
  char name[17];
  std::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(hash));
  std::string dir = std::string(root) + "/" + name;
  if (std::system(("mkdir -p '" + dir + "'").c_str()) != 0) fail("cannot make " + dir, "");
  return dir;
}

void dump(const std::string& dir, const char* file, const std::string& text) {
  if (dir.empty()) return;
  std::ofstream out(dir + "/" + file, std::ios::binary);
  out << text;
  if (!out) fail("cannot write " + dir + "/" + file, "");
}

struct ArchResult {
  std::unique_ptr<ir::Module> loopIR;
  std::string ptx;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return -1;
  // Diagnostics are dropped, except when replaying a finding with TLC_FUZZ_VERBOSE=1:
  // an internal error's message (the verifier's, say) goes to the same stream.
  static NullBuffer nullBuffer;
  static std::ostream null(&nullBuffer);
  static std::ostream& messages = std::getenv("TLC_FUZZ_VERBOSE") ? std::cerr : null;

  tlc::SourceFile source("fuzz.tl", std::string(reinterpret_cast<const char*>(data), size));
  tlc::DiagnosticEngine diags(messages);
  diags.setFile(&source);
  diags.setErrorLimit(0);

  std::unique_ptr<tlc::ast::File> syntax = tlc::parseFile(source, diags);
  if (!syntax || diags.hasErrors()) return 0;

  // sm_90a at -O3 (the default) and sm_80 at -O0 with -lineinfo: both optimization
  // pipelines and the line table. Each LLVM module (and its context) is freed before
  // the next architecture starts; nothing LLVM holds survives an input.
  struct Arch {
    const char* name;
    int optLevel;
    bool lineInfo;
  };
  const Arch archs[] = {{"sm_90a", 3, false}, {"sm_80", 0, true}};
  std::optional<ArchResult> results[2];
  for (int a = 0; a < 2; ++a) {
    tlc::SemaOptions semaOptions;
    semaOptions.target = *tlc::Target::fromArch(archs[a].name);
    tlc::fuzz::lowerSemaBudgets(semaOptions);
    size_t errorsBefore = diags.errorCount();
    std::unique_ptr<tlc::ir::Module> tileIR = tlc::analyze(*syntax, semaOptions, diags);
    // sm_80's sema refuses all that sm_90a's does and more (no TMA, no clusters), as
    // fuzz_frontend assumes: a second run would only repeat the work (at the budget,
    // seconds under ASan).
    if (!tileIR || diags.errorCount() != errorsBefore) {
      if (a == 0) return 0;
      continue;
    }
    tlc::LowerOptions lowerOptions;
    lowerOptions.target = semaOptions.target;
    std::unique_ptr<tlc::ir::Module> loopIR = tlc::lower(*tileIR, lowerOptions, diags);
    if (!loopIR || diags.errorCount() != errorsBefore) continue;
    for (const tlc::ir::Kernel& kernel : loopIR->kernels) tlc::ir::verifyLoopIR(kernel, diags);
    if (diags.errorCount() != errorsBefore) continue;

    tlc::TargetOptions target;
    target.arch = archs[a].name;
    target.optLevel = archs[a].optLevel;
    target.lineInfo = archs[a].lineInfo;
    target.sourceName = "fuzz.tl";
    std::optional<std::string> ptx;
    {
      std::unique_ptr<tlc::LLVMModule> llvmModule = tlc::generateLLVM(*loopIR, target, diags);
      if (!llvmModule || diags.errorCount() != errorsBefore) continue;  // "not yet supported"
      ptx = tlc::emitPTX(*llvmModule, target, diags);
    }
    if (!ptx || diags.errorCount() != errorsBefore) continue;
    checkPTX(*ptx, *loopIR, archs[a].name);
    results[a] = ArchResult{std::move(loopIR), std::move(*ptx)};
  }
  if (!results[0]) return 0;

  const std::vector<uint8_t> cubin90 = fakeCubin(results[0]->ptx);
  tlc::HeaderOptions options;
  options.prefix = "fuzz";
  options.sourceName = "fuzz.tl";
  options.arch = "sm_90a";
  const std::string dir = dumpDirectory(data, size);
  std::string header = tlc::generateHeader(*results[0]->loopIR, cubin90, options);
  checkHeader(header, *results[0]->loopIR, "", true);
  dump(dir, "single.h", header);
  tlc::MetaOptions metaOptions;
  metaOptions.sourceName = "fuzz.tl";
  metaOptions.cubinFiles = {"fuzz.cubin"};
  checkMeta(tlc::generateMeta({{"sm_90a", results[0]->loopIR.get(), {}}}, metaOptions), *results[0]->loopIR);

  // The pipeline builds a multi-architecture header only when every architecture
  // compiles; tlc --arch=sm_80 --arch=sm_90a lists sm_80 first.
  if (!results[1]) return 0;
  std::vector<tlc::ArchBuild> builds = {{"sm_80", results[1]->loopIR.get(), fakeCubin(results[1]->ptx)},
                                        {"sm_90a", results[0]->loopIR.get(), cubin90}};
  options.kernelPrefix = "fuzz_";
  options.nvtx = true;  // --nvtx: the launchers as NVTX ranges
  header = tlc::generateMultiArchHeader(builds, options);
  checkHeader(header, *results[0]->loopIR, "fuzz_", true);
  dump(dir, "multi.h", header);
  options.nvtx = false;
  metaOptions.cubinFiles = {"fuzz.sm_80.cubin", "fuzz.cubin"};
  checkMeta(tlc::generateMeta(builds, metaOptions), *results[0]->loopIR);
  options.mode = tlc::HeaderOptions::Mode::PairHeader;
  header = tlc::generateMultiArchHeader(builds, options);
  checkHeader(header, *results[0]->loopIR, "fuzz_", true);
  dump(dir, "fuzz.h", header);
  options.mode = tlc::HeaderOptions::Mode::PairSource;
  options.headerInclude = "fuzz.h";
  header = tlc::generateMultiArchHeader(builds, options);
  checkHeader(header, *results[0]->loopIR, "fuzz_", false);
  dump(dir, "fuzz.c", header);
  return 0;
}

#include "token_mutator.h"
