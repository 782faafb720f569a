// token_mutator.h: libFuzzer's custom mutator for .tl inputs, shared by the targets
// that want mutants of the seed programs to stay mostly well-formed (fuzz_frontend_tokens,
// fuzz_backend). Include it in exactly one translation unit of a fuzz target: it
// defines LLVMFuzzerCustomMutator.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t maxSize);

namespace {

// The language's tokens (grammar/Tile.g4) and the builtins sema knows.
const char* const kTokens[] = {
    "const", "macro", "kernel", "with", "as", "for", "in", "if", "else", "and", "or", "not",
    "True", "False", "(", ")", "[", "]", "{", "}", ",", ";", ":", ".", "->", "=", "+=", "-=",
    "*=", "/=", "//=", "%=", "&=", "|=", "^=", "<<=", ">>=", "**", "*", "/", "//", "%", "+",
    "-", "~", "<<", ">>", "&", "^", "|", "<=", ">=", "<", ">", "==", "!=", "\"s\"", "_",
    "Kernel", "Parallel", "Pipelined", "Tensor", "StridedTensor", "Buffer", "SharedBuffer",
    "FragmentBuffer", "LocalBuffer", "Fragment", "alloc_shared", "alloc_fragment",
    "alloc_local", "alloc_barrier", "copy", "fill", "clear", "ceildiv", "min", "max", "abs",
    "exp", "exp2", "log", "log2", "sqrt", "rsqrt", "tanh", "cast", "if_then_else", "range",
    "serial", "threads", "num_stages", "cluster_dims", "coalesced_width", "disable_tma",
    "eviction_policy", "prefer_instruction", "tma", "cp_async", "sync", "evict_first",
    "evict_last", "evict_normal", "sync_threads", "get_thread_binding", "make_tensor",
    "annotate_layout", "shape", "strides", "dtype", "float16", "bfloat16", "float32",
    "float64", "int8", "int16", "int32", "int64", "uint8", "uint32", "float8_e4m3",
    "float8_e5m2", "bool", "bx", "by", "i", "j", "k", "A", "B", "C", "M", "N", "K", "A_s",
};

const char* const kNumbers[] = {"0", "1", "2", "3", "-1", "7", "8", "15", "16", "32", "64",
                                "127", "128", "255", "256", "1024", "4096", "65535", "65536",
                                "2147483647", "2147483648", "4294967295", "4294967296",
                                "9223372036854775807", "9223372036854775808",
                                "99999999999999999999999", "1.5", "0.0", "1e308", "1e309",
                                "(1 << 20)", "(1 << 31)", "(1 << 62)", "(1 << 63)", "(1 << 64)"};

struct Token {
  size_t begin, end;
  bool number;
};

bool isNameChar(uint8_t c) { return std::isalnum(c) || c == '_'; }

// Splits into tokens: names and numbers, runs of whitespace, and one punctuation
// byte (or a two/three-byte operator) at a time. Good enough to mutate with.
std::vector<Token> tokenize(const uint8_t* data, size_t size) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < size) {
    size_t start = i;
    uint8_t c = data[i];
    if (isNameChar(c)) {
      bool number = std::isdigit(c);
      while (i < size && (isNameChar(data[i]) || (number && data[i] == '.'))) ++i;
      tokens.push_back({start, i, number});
    } else if (std::isspace(c)) {
      while (i < size && std::isspace(data[i])) ++i;
      tokens.push_back({start, i, false});
    } else {
      ++i;
      if (i < size && std::strchr("=/*<>-", data[i]) && std::strchr("=/*<>-+!%&|^", c)) ++i;
      if (i < size && data[i] == '=' && i - start == 2) ++i;
      tokens.push_back({start, i, false});
    }
  }
  return tokens;
}

struct Rng {
  uint64_t state;
  uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  size_t below(size_t n) { return n ? next() % n : 0; }
};

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t maxSize,
                                          unsigned int seed) {
  Rng rng{seed * 0x9E3779B97F4A7C15ull + 1};
  std::vector<Token> tokens = tokenize(data, size);
  // One in four: libFuzzer's own byte mutations (with the dictionary).
  if (tokens.empty() || rng.below(4) == 0) return LLVMFuzzerMutate(data, size, maxSize);

  std::string in(reinterpret_cast<const char*>(data), size);
  auto text = [&](const Token& t) { return in.substr(t.begin, t.end - t.begin); };
  std::vector<std::string> out;
  out.reserve(tokens.size() + 4);
  for (const Token& t : tokens) out.push_back(text(t));

  int rounds = 1 + static_cast<int>(rng.below(3));
  for (int r = 0; r < rounds && !out.empty(); ++r) {
    size_t at = rng.below(out.size());
    switch (rng.below(7)) {
      case 0:  // delete a token
        out.erase(out.begin() + at);
        break;
      case 1:  // duplicate a token
        out.insert(out.begin() + at, out[at]);
        break;
      case 2: {  // swap two tokens
        size_t other = rng.below(out.size());
        std::swap(out[at], out[other]);
        break;
      }
      case 3:  // replace by a language token
        out[at] = kTokens[rng.below(sizeof kTokens / sizeof *kTokens)];
        break;
      case 4: {  // replace a number (or any token) by a boundary value
        std::vector<size_t> numbers;
        for (size_t i = 0; i < tokens.size() && i < out.size(); ++i)
          if (tokens[i].number) numbers.push_back(i);
        if (!numbers.empty()) at = numbers[rng.below(numbers.size())];
        out[at] = kNumbers[rng.below(sizeof kNumbers / sizeof *kNumbers)];
        break;
      }
      case 5: {  // copy a run of tokens elsewhere (nesting, repeated statements)
        size_t from = rng.below(out.size());
        size_t len = 1 + rng.below(std::min<size_t>(out.size() - from, 16));
        std::vector<std::string> run(out.begin() + from, out.begin() + from + len);
        out.insert(out.begin() + at, run.begin(), run.end());
        break;
      }
      default:  // insert a language token
        out.insert(out.begin() + at, std::string(" ") + kTokens[rng.below(sizeof kTokens / sizeof *kTokens)] + " ");
        break;
    }
  }
  std::string result;
  for (const std::string& s : out) result += s;
  if (result.size() > maxSize) result.resize(maxSize);
  std::memcpy(data, result.data(), result.size());
  return result.size();
}
