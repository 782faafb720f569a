// Unit tests: the "did you mean" search (support/Spelling.h) and the language's
// vocabulary (frontend/Vocabulary.def), which decides what `T.` may prefix.
#include <doctest/doctest.h>

#include "frontend/Vocabulary.h"
#include "support/Spelling.h"

using namespace tlc;

TEST_CASE("edit distance counts insertions, deletions, substitutions and swaps") {
  CHECK(editDistance("copy", "copy") == 0);
  CHECK(editDistance("cpy", "copy") == 1);
  CHECK(editDistance("copyy", "copy") == 1);
  CHECK(editDistance("cepy", "copy") == 1);
  CHECK(editDistance("cpoy", "copy") == 1);  // a swap of neighbours is one edit
  CHECK(editDistance("", "abc") == 3);
  CHECK(editDistance("alloc_shraed", "alloc_shared") == 1);
}

TEST_CASE("closest spelling: near enough, unique, case-blind") {
  std::vector<std::string> names = {"copy", "fill", "clear", "Parallel", "BN", "BK"};
  CHECK(closestSpelling("cpy", names) == std::optional<std::string>("copy"));
  CHECK(closestSpelling("parallel", names) == std::optional<std::string>("Parallel"));
  CHECK(closestSpelling("Paralel", names) == std::optional<std::string>("Parallel"));
  CHECK(!closestSpelling("gemm", names));        // nothing within a third of its length
  CHECK(!closestSpelling("BM", names));           // BN and BK are equally near: no guess
  CHECK(!closestSpelling("", names));
  CHECK(!closestSpelling("copy", {"copy"}));      // the word itself is no suggestion
  CHECK(closestSpelling("BM", {"BN", "A"}) == std::optional<std::string>("BN"));
}

TEST_CASE("the vocabulary: built-ins, dtypes and math functions, nothing internal") {
  using vocabulary::Kind;
  CHECK(vocabulary::kindOf("copy") == Kind::Statement);
  CHECK(vocabulary::kindOf("alloc_var") == Kind::Named);
  CHECK(vocabulary::kindOf("Parallel") == Kind::Loop);
  CHECK(vocabulary::kindOf("Kernel") == Kind::Launch);
  CHECK(vocabulary::kindOf("Tensor") == Kind::Type);
  CHECK(vocabulary::kindOf("ceildiv") == Kind::Value);
  CHECK(vocabulary::kindOf("float16") == Kind::DType);
  CHECK(vocabulary::kindOf("half") == Kind::DType);  // an alias spelling
  CHECK(vocabulary::kindOf("exp2") == Kind::Math);
  CHECK(!vocabulary::kindOf("threadIdx"));      // an internal builtin
  CHECK(!vocabulary::kindOf("fp4_from_bits"));  // an internal builtin
  CHECK(!vocabulary::kindOf("handle"));         // a ptr's type, never written
  CHECK(!vocabulary::kindOf("gemm"));
  auto loops = vocabulary::namesOf({Kind::Loop});
  CHECK(loops == std::vector<std::string>{"Parallel", "Pipelined", "serial", "Serial", "parallel", "range", "vectorized", "unroll"});
}
