// Spelling: the "did you mean" search, for names a program misspells.
//
// closestSpelling(word, candidates) is the candidate nearest to `word` in edit
// distance (insertions, deletions, substitutions and swaps of two neighbours; a
// change of case costs nothing more than the letter it changes), when it is near
// enough to be a typo: at most a third of the word's length (at least 1), and
// nearer than every other candidate (a tie suggests nothing rather than guess).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlc {

// The optimal-string-alignment distance (Damerau-Levenshtein without repeated edits of
// one substring).
size_t editDistance(std::string_view a, std::string_view b);

std::optional<std::string> closestSpelling(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace tlc
