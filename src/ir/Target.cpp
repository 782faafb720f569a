// Target: the rows of Targets.def as objects.
#include "ir/Target.h"

namespace tlc {

namespace {
struct TargetRow {
  const char* arch;
  int sm;
  bool archSpecific;
  int64_t maxShared;
};
constexpr TargetRow kTargets[] = {
#define TLC_TARGET(Spelling, Sm, ArchSpecific, MaxShared) {Spelling, Sm, ArchSpecific, MaxShared},
#include "ir/Targets.def"
};
struct FeatureRow {
  TargetFeature id;
  int minSm;
  bool needsArchSpecific;
  const char* what;
};
constexpr FeatureRow kFeatures[] = {
#define TLC_FEATURE(Id, MinSm, NeedsArchSpecific, What) {TargetFeature::Id, MinSm, NeedsArchSpecific, What},
#include "ir/Targets.def"
};
const FeatureRow& row(TargetFeature f) { return kFeatures[static_cast<int>(f)]; }
}  // namespace

const char* describe(TargetFeature f) { return row(f).what; }

std::optional<Target> Target::fromArch(const std::string& arch) {
  for (const TargetRow& r : kTargets)
    if (arch == r.arch) {
      Target t;
      t.arch_ = r.arch;
      t.sm_ = r.sm;
      t.archSpecific_ = r.archSpecific;
      t.maxShared_ = r.maxShared;
      return t;
    }
  return std::nullopt;
}

Target Target::hopper() { return *fromArch("sm_90a"); }

const std::vector<std::string>& Target::supportedArchs() {
  static const std::vector<std::string> archs = [] {
    std::vector<std::string> v;
    for (const TargetRow& r : kTargets) v.push_back(r.arch);
    return v;
  }();
  return archs;
}

bool Target::has(TargetFeature f) const {
  const FeatureRow& r = row(f);
  if (r.needsArchSpecific) return archSpecific_ && sm_ == r.minSm;
  return sm_ >= r.minSm;
}

std::string Target::lacks(TargetFeature f) const {
  if (has(f)) return "";
  return arch_ + " has no " + describe(f);
}

}  // namespace tlc
