// Meta: the launch metadata sidecar (`--emit=meta`, STEM.meta.json).
//
// Before: each architecture's loop IR (variants, parameters, launch rules; the
// statements may be gone) and the file names of its cubin. After: one JSON document
// that says everything the C launcher header knows about calling the kernels, for
// callers that are not C (the Python package in python/, docs/python.md): each
// kernel's parameters as the source declares them (tensors with their shape and
// stride rules, pointers, scalars), every variant with its entry, block, cluster,
// shared memory, grid rule, assumptions and tensor maps in kernel-parameter order,
// and the launcher's checks. Expressions are JSON trees (docs/python.md, "The meta
// format"). The text is deterministic: the same inputs give the same bytes.
#pragma once

#include <string>
#include <vector>

#include "backend/Header.h"  // ArchBuild

namespace tlc {

struct MetaOptions {
  std::string sourceName;  // the .tl file's name, as in the header
  // Per build (same order as the builds): the cubin's file name, relative to the
  // meta file's folder; "" when the cubin is not written.
  std::vector<std::string> cubinFiles;
};

// The metadata of one build per architecture (the first is the default one). The
// builds' loop IR must be of one source, as for generateMultiArchHeader.
std::string generateMeta(const std::vector<ArchBuild>& builds, const MetaOptions& options);

}  // namespace tlc
