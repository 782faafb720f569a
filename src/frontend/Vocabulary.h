// Vocabulary: the built-in names of the language (Vocabulary.def), the dtypes
// (ir/DTypes.def) and the math functions (ir/Builtins.def) as one lookup.
//
// The parser reads it for TileLang's `T.` prefix (`T.copy` is `copy` exactly when
// `copy` is a word here); sema for the kind of a built-in and for "did you mean"
// notes. Header-only tables: the frontend does not link the IR library.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlc::vocabulary {

enum class Kind { Statement, Value, Named, Loop, Type, Launch, Layout, DType, Math };

// The kind of a built-in name; nullopt for any other name.
std::optional<Kind> kindOf(std::string_view name);
// Every built-in name of these kinds, in table order (for "did you mean").
std::vector<std::string> namesOf(std::initializer_list<Kind> kinds);

}  // namespace tlc::vocabulary
