// Vocabulary: one lookup over the language's three tables of names (see Vocabulary.h).
#include "frontend/Vocabulary.h"

namespace tlc::vocabulary {
namespace {

struct Word {
  const char* spelling;
  Kind kind;
};

constexpr Word kWords[] = {
#define TLC_NAME(Spelling, K) {Spelling, Kind::K},
#include "frontend/Vocabulary.def"
#define TLC_DTYPE(Id, Name, Bits, Class, Signed, StorageOnly, CType, TensorMap, Llvm) {Name, Kind::DType},
#include "ir/DTypes.def"
#define TLC_DTYPE_ALIAS(Spelling, Id) {Spelling, Kind::DType},
#include "ir/DTypes.def"
};

// Builtins.def's math functions are the ones whose last column is not Internal.
#define TLC_BUILTIN(Id, Name, Arity, Result, Varies, Math) {Name, #Math},
struct MathRow {
  const char* spelling;
  const char* math;
};
constexpr MathRow kMath[] = {
#include "ir/Builtins.def"
};

}  // namespace

std::optional<Kind> kindOf(std::string_view name) {
  if (name == "handle") return std::nullopt;  // the type of a ptr, never written
  for (const Word& w : kWords)
    if (name == w.spelling) return w.kind;
  for (const MathRow& m : kMath)
    if (name == m.spelling && std::string_view(m.math) != "Internal") return Kind::Math;
  return std::nullopt;
}

std::vector<std::string> namesOf(std::initializer_list<Kind> kinds) {
  std::vector<std::string> out;
  auto wanted = [&](Kind k) {
    for (Kind x : kinds)
      if (x == k) return true;
    return false;
  };
  for (const Word& w : kWords)
    if (wanted(w.kind) && std::string_view(w.spelling) != "handle") out.push_back(w.spelling);
  if (wanted(Kind::Math))
    for (const MathRow& m : kMath)
      if (std::string_view(m.math) != "Internal") out.push_back(m.spelling);
  return out;
}

}  // namespace tlc::vocabulary
