// Regions: the extent rule for the two sides of a copy, as pure functions.
//
// The rule (docs/language.md, "copy"): a head address `A[i, j]` takes the other
// side's extents; then both sides' extents, right-aligned with unit dimensions
// dropped, must be equal. Kept apart from the analyzer so unit tests can pin it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tlc::sema {

// "(4, 8)", "(8,)" (Python's tuple spelling), "()".
std::string extentsText(const std::vector<int64_t>& extents);

// The extents without their unit (1) entries, in order.
std::vector<int64_t> nonUnitExtents(const std::vector<int64_t>& extents);

// True when the two sides of a copy agree: equal after dropping unit dimensions.
bool extentsAgree(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

// The extents a head address of `rank` axes takes from the other side's extents:
// right-aligned and padded with leading 1s. When the other side has more axes, its
// surplus leading axes must be unit; failing that, its unit axes are dropped first
// and the rest right-aligned. nullopt when the non-unit extents need more than
// `rank` axes.
std::optional<std::vector<int64_t>> headExtents(size_t rank, const std::vector<int64_t>& other);

}  // namespace tlc::sema

namespace tlc::sema {

// The region helpers (TileLang's tilelang/language/utils.py), as extent rules.
//
// buffer_load_to_tile_region(A[i, j, k], access, extents): fewer extents than
// indices are padded with leading 1s (`(64, 64)` on a rank-3 head is (1, 64, 64));
// nullopt when there are more extents than indices.
std::optional<std::vector<int64_t>> loadRegionExtents(size_t rank, const std::vector<int64_t>& extents);

// buffer_region_to_tile_region(A[a:b, ...], access, extents): each of the region's
// extents is clamped to the extent given for its axis, counting from the first axis
// (min(region[i], extents[i]) for i < len(extents)); axes past the extents given keep
// the region's. An unknown (symbolic) region extent with a given extent stays unknown
// (nullopt entries), as does a missing one. nullopt when more extents than axes are given.
std::optional<std::vector<std::optional<int64_t>>> clampedRegionExtents(
    const std::vector<std::optional<int64_t>>& region, const std::vector<int64_t>& extents);

}  // namespace tlc::sema
