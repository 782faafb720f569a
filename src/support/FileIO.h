// FileIO: reading source files and writing outputs whole or not at all.
//
// Every output goes to a temporary file in the destination's own directory and is
// renamed over the destination only when every output of the run is complete, so
// a failed or interrupted compile never leaves a truncated file behind and never
// clobbers the previous good output. Two kinds of destination are not replaced:
// a device, pipe or socket (`-o /dev/null`, a FIFO a build tool reads) is written
// in place, since renaming over it would put a regular file where the device node
// was; and a symbolic link keeps pointing where it did, the file it names being
// the one replaced. Errors come back as text (`strerror`-style); nothing here
// prints or throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlc {

// Reads the whole file at `path`, up to `maxBytes`. On failure returns nullopt and
// sets `error` to the system's reason, e.g. "No such file or directory", or to
// "larger than the limit of N MiB" for a file (or a stream such as /dev/zero) that goes on
// past the limit: what is read is bounded whatever the path names.
std::optional<std::string> readFile(const std::string& path, std::string& error,
                                    size_t maxBytes = SIZE_MAX);

// Reads standard input to its end, up to `maxBytes`, as readFile does a file (`tlc -`).
std::optional<std::string> readStandardInput(std::string& error, size_t maxBytes = SIZE_MAX);

// True when `path` is a regular file whose contents are exactly `data` (for
// --write-if-changed); false when it differs, is missing or cannot be read.
bool fileHoldsExactly(const std::string& path, std::string_view data);

// True when `path` names an existing device, pipe or socket: outputs to it are
// written in place, and the default outputs derived from its name are not made.
bool isSpecialFile(const std::string& path);

// True when both paths exist and name the same file (links and other spellings
// followed).
bool sameFile(const std::string& a, const std::string& b);

// Writes `data` to `path` atomically (temp file in the same directory, then rename).
// Returns false and sets `error` ("cannot write 'x': reason") on failure, leaving any
// existing file at `path` untouched.
bool writeFileAtomically(const std::string& path, std::string_view data, std::string& error);

// A set of outputs committed together: `stage` writes each one to a temp file beside
// its destination; `commit` renames them all into place; anything not committed is
// removed by `abort` or the destructor. Renames within one directory are atomic, so
// each file is either the old one or the complete new one. Outputs to special files
// are held until `commit`, which writes them before any rename: if one fails (a
// full /dev/full), no regular file is replaced.
class OutputTransaction {
 public:
  OutputTransaction() = default;
  OutputTransaction(const OutputTransaction&) = delete;
  OutputTransaction& operator=(const OutputTransaction&) = delete;
  ~OutputTransaction();

  bool stage(const std::string& path, std::string_view data, std::string& error);
  bool commit(std::string& error);
  void abort();

 private:
  struct Staged {
    std::string tempPath;
    std::string finalPath;
  };
  struct InPlace {
    std::string path;
    std::string data;
  };
  std::vector<Staged> staged_;
  std::vector<InPlace> inPlace_;
};

}  // namespace tlc
