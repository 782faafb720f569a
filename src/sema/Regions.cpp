// Regions: the extent rule for the two sides of a copy (see Regions.h).
#include "sema/Regions.h"

#include <algorithm>

namespace tlc::sema {

std::string extentsText(const std::vector<int64_t>& extents) {
  std::string s = "(";
  for (size_t i = 0; i < extents.size(); ++i) s += (i ? ", " : "") + std::to_string(extents[i]);
  return s + (extents.size() == 1 ? ",)" : ")");
}

std::vector<int64_t> nonUnitExtents(const std::vector<int64_t>& extents) {
  std::vector<int64_t> out;
  for (int64_t e : extents)
    if (e != 1) out.push_back(e);
  return out;
}

bool extentsAgree(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  // Right-aligning and dropping unit dimensions leaves the non-unit extents in
  // order on both sides; alignment cannot make unequal lists equal.
  return nonUnitExtents(a) == nonUnitExtents(b);
}

std::optional<std::vector<int64_t>> headExtents(size_t rank, const std::vector<int64_t>& other) {
  std::vector<int64_t> fitted = other;
  if (fitted.size() > rank) {
    bool surplusIsUnit = true;
    for (size_t i = 0; i + rank < fitted.size(); ++i) surplusIsUnit = surplusIsUnit && fitted[i] == 1;
    if (surplusIsUnit) fitted.erase(fitted.begin(), fitted.end() - (std::ptrdiff_t)rank);
    else fitted = nonUnitExtents(fitted);
    if (fitted.size() > rank) return std::nullopt;
  }
  std::vector<int64_t> out(rank - fitted.size(), 1);
  out.insert(out.end(), fitted.begin(), fitted.end());
  return out;
}

}  // namespace tlc::sema

namespace tlc::sema {

std::optional<std::vector<int64_t>> loadRegionExtents(size_t rank, const std::vector<int64_t>& extents) {
  if (extents.size() > rank) return std::nullopt;
  std::vector<int64_t> out(rank - extents.size(), 1);
  out.insert(out.end(), extents.begin(), extents.end());
  return out;
}

std::optional<std::vector<std::optional<int64_t>>> clampedRegionExtents(
    const std::vector<std::optional<int64_t>>& region, const std::vector<int64_t>& extents) {
  if (extents.size() > region.size()) return std::nullopt;
  std::vector<std::optional<int64_t>> out = region;
  // Left-aligned, as TileLang clamps: the i-th extent given bounds the i-th axis.
  for (size_t i = 0; i < extents.size(); ++i)
    if (out[i]) out[i] = std::min(*out[i], extents[i]);
  return out;
}

}  // namespace tlc::sema
