// Spelling: edit distance and the "did you mean" choice (see Spelling.h).
#include "support/Spelling.h"

#include <algorithm>
#include <cctype>

namespace tlc {

size_t editDistance(std::string_view a, std::string_view b) {
  // Three rows of the dynamic program: the swap looks two rows back.
  std::vector<size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::optional<std::string> closestSpelling(std::string_view word, const std::vector<std::string>& candidates) {
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = (char)std::tolower((unsigned char)c);
    return out;
  };
  if (word.empty()) return std::nullopt;
  const std::string w = lower(word);
  const size_t limit = std::max<size_t>(1, word.size() / 3);
  std::optional<std::string> best;
  size_t bestDistance = limit + 1;
  bool tie = false;
  for (const std::string& c : candidates) {
    if (c == word) continue;
    // Same letters in another case ("parallel" for "Parallel") are the nearest of all.
    size_t d = lower(c) == w ? 0 : editDistance(w, lower(c));
    if (d > limit) continue;
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
      tie = false;
    } else if (d == bestDistance && c != *best) {
      tie = true;
    }
  }
  if (tie) return std::nullopt;
  return best;
}

}  // namespace tlc
