// Target: the GPU architecture one compilation is for, and what it has.
//
// Built once from `--arch` (Target::fromArch) and passed explicitly to every phase
// that depends on it: sema (a construct the target lacks is an error at its line),
// every lowering pass (a copy strategy applies only where the target has its
// instructions), the backend (LLVM CPU, PTX version) and the header writer (one set
// of variants and launch rules per architecture). The facts are the rows of
// Targets.def; nothing else in tlc compares arch strings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tlc {

enum class TargetFeature {
#define TLC_FEATURE(Id, MinSm, NeedsArchSpecific, What) Id,
#include "ir/Targets.def"
};

// "TMA (cp.async.bulk.tensor) and ..." for diagnostics and remarks.
const char* describe(TargetFeature f);

class Target {
 public:
  // The target `arch` names ("sm_90a"), or nullopt for an architecture tlc does not
  // compile for (the caller reports it, naming supportedArchs()).
  static std::optional<Target> fromArch(const std::string& arch);
  // The default target, sm_90a.
  static Target hopper();
  // Every spelling --arch accepts, in Targets.def's order.
  static const std::vector<std::string>& supportedArchs();

  const std::string& arch() const { return arch_; }  // "sm_90a"
  int smVersion() const { return sm_; }              // 90
  bool archSpecific() const { return archSpecific_; } // the `a` suffix
  int64_t maxSharedBytesPerBlock() const { return maxShared_; }
  bool has(TargetFeature f) const;
  // "sm_80 has no TMA (cp.async.bulk.tensor) ..." when the target lacks `f`, else "".
  std::string lacks(TargetFeature f) const;

 private:
  std::string arch_;
  int sm_ = 90;
  bool archSpecific_ = true;
  int64_t maxShared_ = 232448;
};

}  // namespace tlc
