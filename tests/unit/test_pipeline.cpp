// Unit tests for the pipeline driver (tlc/Pipeline.h) and atomic file output
// (support/FileIO.h): stage names, the output plan, exit codes, and that outputs
// are written whole or not at all.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "Pipeline.h"
#include "support/FileIO.h"

using namespace tlc;

namespace {

// A fresh directory under $TMPDIR, removed with everything in it at scope exit.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp ? tmp : "/tmp") + "/tlc-unit-XXXXXX";
    path_ = mkdtemp(pattern.data()) ? pattern : "";
    REQUIRE(!path_.empty());
  }
  ~ScratchDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // The names in the directory, sorted, for "nothing else was left behind" checks.
  std::string listing() const {
    std::vector<std::string> names;
    if (DIR* d = opendir(path_.c_str())) {
      while (dirent* e = readdir(d))
        if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") names.push_back(e->d_name);
      closedir(d);
    }
    std::sort(names.begin(), names.end());
    std::string joined;
    for (const std::string& n : names) joined += n + " ";
    return joined;
  }

 private:
  std::string path_;
};

void writeText(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

// ---------------------------------------------------------------- stages and the plan

TEST_CASE("stage names round-trip and are in pipeline order") {
  std::vector<std::string> names;
  for (Stage s : allStages()) {
    names.push_back(stageName(s));
    CHECK(stageFromName(stageName(s)) == s);
  }
  CHECK(names ==
        std::vector<std::string>{"tokens", "ast", "ir", "loops", "llvm", "ptx", "cubin", "header", "source", "meta", "sass"});
  CHECK_FALSE(stageFromName("IR").has_value());
  CHECK_FALSE(stageFromName("").has_value());
}

TEST_CASE("the metadata goes beside the cubin, or alone stops after lowering") {
  PipelineOptions options;
  options.inputPath = "src/k.tl";
  options.emit = {Stage::Cubin, Stage::Meta};
  options.outputPath = "build/k.cubin";
  std::string error;
  std::optional<OutputPlan> plan = planOutputs(options, error);
  REQUIRE(plan);
  CHECK(plan->metaPath == "build/k.meta.json");
  CHECK(plan->textStages.empty());
  CHECK(plan->last == Stage::Cubin);

  options.emit = {Stage::Meta};
  options.outputPath = "";
  plan = planOutputs(options, error);
  REQUIRE(plan);
  CHECK(plan->metaPath.empty());
  CHECK(plan->textStages == std::vector<Stage>{Stage::Meta});
  CHECK(plan->last == Stage::LoopIR);  // no code generation, no ptxas

  options.emit = {Stage::Meta, Stage::PTX};
  plan = planOutputs(options, error);
  REQUIRE(plan);
  CHECK(plan->textStages == std::vector<Stage>{Stage::PTX, Stage::Meta});
  CHECK(plan->last == Stage::PTX);

  // --emit=sass: a text stage that needs the cubin (assembled, not written).
  options.emit = {Stage::Sass};
  plan = planOutputs(options, error);
  REQUIRE(plan);
  CHECK(plan->textStages == std::vector<Stage>{Stage::Sass});
  CHECK(plan->cubinPath.empty());
  CHECK(plan->last == Stage::Cubin);

  // --nvtx instruments the header: without one it is a usage error.
  options.nvtx = true;
  CHECK_FALSE(planOutputs(options, error));
  CHECK(error.find("--nvtx") != std::string::npos);
}

TEST_CASE("the default build writes the cubin and the header beside it") {
  PipelineOptions options;
  options.inputPath = "src/tile_copy.tl";
  std::string error;
  std::optional<OutputPlan> plan = planOutputs(options, error);
  REQUIRE(plan);
  CHECK(plan->cubinPath == "tile_copy.cubin");  // in the current directory, like nvcc
  CHECK(plan->headerPath == "tile_copy.h");
  CHECK(plan->textStages.empty());
  CHECK(plan->last == Stage::Header);

  options.outputPath = "build/out.cubin";
  plan = planOutputs(options, error);
  REQUIRE(plan);
  CHECK(plan->cubinPath == "build/out.cubin");
  CHECK(plan->headerPath == "build/out.h");

  options.headerPath = "include/k.h";
  plan = planOutputs(options, error);
  REQUIRE(plan);
  CHECK(plan->headerPath == "include/k.h");
}

TEST_CASE("text stages go to -o or stdout, in pipeline order") {
  PipelineOptions options;
  options.inputPath = "k.tl";
  options.emit = {Stage::PTX, Stage::Ast, Stage::PTX};
  std::string error;
  std::optional<OutputPlan> plan = planOutputs(options, error);
  REQUIRE(plan);
  CHECK(plan->textStages == std::vector<Stage>{Stage::Ast, Stage::PTX});
  CHECK(plan->textPath.empty());
  CHECK(plan->cubinPath.empty());
  CHECK(plan->last == Stage::PTX);

  options.emit = {Stage::PTX};
  options.outputPath = "k.ptx";
  plan = planOutputs(options, error);
  REQUIRE(plan);
  CHECK(plan->textPath == "k.ptx");

  // With a cubin, -o names the cubin and the other text goes to stdout.
  options.emit = {Stage::PTX, Stage::Cubin};
  options.outputPath = "k.cubin";
  plan = planOutputs(options, error);
  REQUIRE(plan);
  CHECK(plan->cubinPath == "k.cubin");
  CHECK(plan->textPath.empty());
  CHECK(plan->textStages == std::vector<Stage>{Stage::PTX});

  // The header alone is text: to -o or stdout, unless --header names a file.
  options.emit = {Stage::Header};
  options.outputPath = "";
  plan = planOutputs(options, error);
  REQUIRE(plan);
  CHECK(plan->textStages == std::vector<Stage>{Stage::Header});
  options.headerPath = "k.h";
  plan = planOutputs(options, error);
  REQUIRE(plan);
  CHECK(plan->textStages.empty());
  CHECK(plan->headerPath == "k.h");
}

TEST_CASE("contradictory outputs are usage errors") {
  PipelineOptions options;
  options.inputPath = "k.tl";
  std::string error;

  options.outputPath = "k.tl";
  CHECK_FALSE(planOutputs(options, error));
  CHECK(error.find("overwrite the input") != std::string::npos);

  options.outputPath = "k.h";  // the header would default to the same path
  CHECK_FALSE(planOutputs(options, error));
  CHECK(error.find("two outputs") != std::string::npos);

  options.outputPath = "";
  options.emit = {Stage::Cubin};
  options.headerPath = "k.h";
  CHECK_FALSE(planOutputs(options, error));
  CHECK(error.find("--header") != std::string::npos);
}

TEST_CASE("`-` is stdin as the input and stdout as -o, for text only") {
  PipelineOptions options;
  std::string error;
  options.inputPath = "k.tl";
  options.outputPath = "-";
  options.emit = {Stage::PTX};
  std::optional<OutputPlan> plan = planOutputs(options, error);
  REQUIRE(plan);
  CHECK(plan->textPath.empty());  // stdout, not a file named "-"

  options.emit = {};  // the default cubin + header: binary, so not to stdout
  CHECK_FALSE(planOutputs(options, error));
  CHECK(error.find("-o - writes to stdout, but the default outputs are a cubin") != std::string::npos);
  options.emit = {Stage::Cubin};
  CHECK_FALSE(planOutputs(options, error));
  CHECK(error.find("the cubin is binary") != std::string::npos);

  options.outputPath = "k.cubin";
  options.headerPath = "-";
  options.emit = {};
  CHECK_FALSE(planOutputs(options, error));
  options.headerPath = "";
  options.depfilePath = "-";
  options.depfile = true;
  CHECK_FALSE(planOutputs(options, error));

  // From stdin the outputs have no default name.
  PipelineOptions fromStdin;
  fromStdin.inputPath = "-";
  CHECK_FALSE(planOutputs(fromStdin, error));
  CHECK(error.find("name it with -o") != std::string::npos);
  fromStdin.outputPath = "k.cubin";
  plan = planOutputs(fromStdin, error);
  REQUIRE(plan);
  CHECK(plan->headerPath == "k.h");
  fromStdin.outputPath = "";
  fromStdin.emit = {Stage::PTX};
  plan = planOutputs(fromStdin, error);
  REQUIRE(plan);
  CHECK(plan->textPath.empty());
}

TEST_CASE("a header shares an -o file with no other stage") {
  PipelineOptions options;
  options.inputPath = "k.tl";
  options.outputPath = "k.h";
  options.emit = {Stage::Header, Stage::Tokens};
  std::string error;
  CHECK_FALSE(planOutputs(options, error));
  CHECK(error == "-o 'k.h' would hold the header and tokens in one file: a header is a file of its own (name it "
                 "with --header PATH)");
  options.emit = {Stage::Header};  // alone it is fine
  CHECK(planOutputs(options, error));
  options.emit = {Stage::Header, Stage::Tokens};
  options.outputPath = "";  // to stdout, each under a banner
  CHECK(planOutputs(options, error));
}

TEST_CASE("dependency targets: -MT as given, -MQ and the default quoted for Make") {
  CHECK(quoteForMake("a b#$c") == "a\\ b\\#$$c");
  CHECK(makeDepfile({"$(OUT)", quoteForMake("my k.cubin")}, {"dir/k 1.tl"}, false, "dir/k 1.tl") ==
        "$(OUT) my\\ k.cubin: dir/k\\ 1.tl\n");
  PipelineOptions options;
  options.inputPath = "k.tl";
  options.outputPath = "out dir/k.cubin";
  options.depfile = true;
  options.depfilePath = "k.d";
  std::string error;
  std::optional<OutputPlan> plan = planOutputs(options, error);
  REQUIRE(plan);
  CHECK(plan->depTargets == std::vector<std::string>{"out\\ dir/k.cubin"});
}

TEST_CASE("symbol prefixes and extensions") {
  CHECK(symbolPrefixFor("examples/tile_copy.tl") == "tile_copy");
  CHECK(symbolPrefixFor("my-kernel.v2.tl") == "my_kernel_v2");
  CHECK(symbolPrefixFor("2d.tl") == "tl_2d");
  CHECK(symbolPrefixFor("_x.tl") == "tl__x");
  CHECK(replaceExtension("a/b.cubin", ".h") == "a/b.h");
  CHECK(replaceExtension("a.d/b", ".h") == "a.d/b.h");
  CHECK(replaceExtension("a/.hidden", ".h") == "a/.hidden.h");
  CHECK(replaceExtension("k", ".cubin") == "k.cubin");
}

// ---------------------------------------------------------------- FileIO

TEST_CASE("readFile reports the system's reason") {
  ScratchDir dir;
  std::string error;
  CHECK_FALSE(readFile(dir.file("missing.tl"), error));
  CHECK(error == "No such file or directory");
  writeText(dir.file("a.tl"), "const N = 1;\n");
  std::optional<std::string> text = readFile(dir.file("a.tl"), error);
  REQUIRE(text);
  CHECK(*text == "const N = 1;\n");

  // The limit: exactly maxBytes is read; one more byte, from a file or a stream, is not.
  CHECK(readFile(dir.file("a.tl"), error, 13));
  CHECK_FALSE(readFile(dir.file("a.tl"), error, 12));
  CHECK(error == "larger than the limit of 12 bytes");
  CHECK_FALSE(readFile("/dev/zero", error, size_t(1) << 20));  // a stream without end
  CHECK(error == "larger than the limit of 1 MiB");
}

TEST_CASE("atomic writes replace the whole file and leave nothing else") {
  ScratchDir dir;
  std::string error;
  REQUIRE(writeFileAtomically(dir.file("out.h"), "first", error));
  CHECK(readText(dir.file("out.h")) == "first");
  REQUIRE(writeFileAtomically(dir.file("out.h"), "second", error));
  CHECK(readText(dir.file("out.h")) == "second");
  CHECK(dir.listing() == "out.h ");

  CHECK_FALSE(writeFileAtomically(dir.file("no/such/dir/out.h"), "x", error));
  CHECK(error.find("cannot write") != std::string::npos);
  CHECK(error.find("No such file or directory") != std::string::npos);
}

TEST_CASE("an output name of 255 bytes (NAME_MAX) is written: the temporary name stays short") {
  ScratchDir dir;
  const std::string longName = std::string(249, 'k') + ".cubin";
  REQUIRE(longName.size() == 255);
  std::string error;
  INFO(error);
  REQUIRE(writeFileAtomically(dir.file(longName), "cubin", error));
  CHECK(readText(dir.file(longName)) == "cubin");
  CHECK(dir.listing() == longName + " ");
}

TEST_CASE("an output transaction writes all files or none") {
  ScratchDir dir;
  writeText(dir.file("k.cubin"), "old cubin");
  std::string error;
  {
    OutputTransaction transaction;
    REQUIRE(transaction.stage(dir.file("k.cubin"), "new cubin", error));
    // The second output cannot be written: the first must not replace the old file.
    CHECK_FALSE(transaction.stage(dir.file("missing/k.h"), "header", error));
  }
  CHECK(readText(dir.file("k.cubin")) == "old cubin");
  CHECK(dir.listing() == "k.cubin ");

  OutputTransaction transaction;
  REQUIRE(transaction.stage(dir.file("k.cubin"), "new cubin", error));
  REQUIRE(transaction.stage(dir.file("k.h"), "header", error));
  CHECK(readText(dir.file("k.cubin")) == "old cubin");  // nothing visible before commit
  REQUIRE(transaction.commit(error));
  CHECK(readText(dir.file("k.cubin")) == "new cubin");
  CHECK(readText(dir.file("k.h")) == "header");
  CHECK(dir.listing() == "k.cubin k.h ");
}

TEST_CASE("special files are written in place, links keep pointing where they did") {
  ScratchDir dir;
  CHECK(isSpecialFile("/dev/null"));  // read-only checks of the machine's devices
  CHECK_FALSE(isSpecialFile(dir.file("")));
  CHECK_FALSE(isSpecialFile(dir.file("missing")));
  writeText(dir.file("plain"), "x");
  CHECK_FALSE(isSpecialFile(dir.file("plain")));

  // A link to a file: the file is replaced, the link stays.
  writeText(dir.file("target.cubin"), "old");
  REQUIRE(::symlink("target.cubin", dir.file("link.cubin").c_str()) == 0);
  std::string error;
  REQUIRE(writeFileAtomically(dir.file("link.cubin"), "new", error));
  struct stat info {};
  REQUIRE(::lstat(dir.file("link.cubin").c_str(), &info) == 0);
  CHECK(S_ISLNK(info.st_mode));
  CHECK(readText(dir.file("target.cubin")) == "new");
  CHECK(dir.listing() == "link.cubin plain target.cubin ");
}

// ---------------------------------------------------------------- runPipeline

TEST_CASE("exit codes: missing input is an I/O failure, bad plans are usage errors") {
  ScratchDir dir;
  PipelineOptions options;
  options.inputPath = dir.file("missing.tl");
  std::ostringstream out, err;
  CHECK(runPipeline(options, out, err) == kExitEnvironment);
  CHECK(err.str() == "tlc: error: cannot open '" + options.inputPath + "': No such file or directory\n");

  options.outputPath = options.inputPath;
  err.str("");
  CHECK(runPipeline(options, out, err) == kExitUsage);
}

TEST_CASE("a syntax error stops the run, exit 1, and writes nothing") {
  ScratchDir dir;
  writeText(dir.file("bad.tl"), "kernel k(A: Tensor((M, N), float16) {\n");
  writeText(dir.file("bad.cubin"), "old");
  PipelineOptions options;
  options.inputPath = dir.file("bad.tl");
  options.outputPath = dir.file("bad.cubin");
  std::ostringstream out, err;
  CHECK(runPipeline(options, out, err) == kExitSourceErrors);
  CHECK(err.str().find(options.inputPath + ":1:") != std::string::npos);
  CHECK(readText(dir.file("bad.cubin")) == "old");
  CHECK(dir.listing() == "bad.cubin bad.tl ");
}

TEST_CASE("--emit=tokens stops after the lexer") {
  ScratchDir dir;
  // A syntax error after the tokens does not matter: the parser never runs.
  writeText(dir.file("t.tl"), "const N = 4; kernel (\n");
  PipelineOptions options;
  options.inputPath = dir.file("t.tl");
  options.emit = {Stage::Tokens};
  options.verbose = true;
  std::ostringstream out, err;
  CHECK(runPipeline(options, out, err) == kExitSuccess);
  CHECK(out.str().find("1:1 ") != std::string::npos);
  CHECK(out.str().find("'const'") != std::string::npos);
  CHECK(err.str().find("tlc: tokens") != std::string::npos);
  CHECK(err.str().find("tlc: parse") == std::string::npos);
}

TEST_CASE("the project's example compiles to a cubin and a header") {
  ScratchDir dir;
  PipelineOptions options;
  options.inputPath = TLC_SOURCE_DIR "/examples/tile_copy.tl";
  options.outputPath = dir.file("tile_copy.cubin");
  std::ostringstream out, err;
  int code = runPipeline(options, out, err);
  INFO(err.str());
  REQUIRE(code == kExitSuccess);
  std::string cubin = readText(dir.file("tile_copy.cubin"));
  CHECK(cubin.substr(0, 4) == "\x7f" "ELF");
  CHECK(readText(dir.file("tile_copy.h")).find("tile_copy") != std::string::npos);
  CHECK(err.str().empty());  // silent on success, like cc
  CHECK(out.str().empty());

  // -v says what it wrote, after the phases' times.
  options.verbose = true;
  std::ostringstream verboseOut, verboseErr;
  REQUIRE(runPipeline(options, verboseOut, verboseErr) == kExitSuccess);
  CHECK(verboseErr.str().find("tlc: wrote " + options.outputPath) != std::string::npos);
  CHECK(verboseOut.str().empty());
}
