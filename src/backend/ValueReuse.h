// ValueReuse: equal LLVM instructions merged while the code generator builds them.
//
// Lowering writes each statement's indices and guards out in full, and unrolling
// repeats them for every step: a 128 x 128 tile copy reached LLVM as 4,700 lines of
// which EarlyCSE kept a third, and the optimizer's first passes spent their time
// merging them again (docs/performance.md, Compile speed, twenty-second session). The
// builder's folder returns an instruction made earlier instead of a new one when both
// compute the same pure operation on the same operands and the earlier one dominates
// the insertion point.
//
// What is merged: integer and pointer arithmetic (binary operators other than the
// floating-point ones, integer comparisons, casts other than to or from floating
// point, getelementptr, selects of non-floating-point values), each with exactly the
// flags asked for. Floating-point instructions carry fast-math flags the folder does
// not see, and loads, stores and calls are never merged. Dominance comes from the
// code generator, which says where each new block is entered from (enteredFrom); a
// block it has not described ends the search, so a missing entry only merges less.
// Instructions are never deleted while a kernel is built, so the table stays valid.
#pragma once

#include <llvm/IR/ConstantFolder.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/IRBuilderFolder.h>

#include <cstddef>
#include <unordered_map>
#include <vector>

namespace tlc {

class ValueReuse {
 public:
  // `block` is dominated by `dominator` (every path into it passes through it).
  void enteredFrom(llvm::BasicBlock* block, llvm::BasicBlock* dominator) { dominators_[block] = dominator; }
  // The builder whose insertion point decides what is available.
  void attach(const llvm::IRBuilderBase* builder) { builder_ = builder; }

  // An instruction equal to the one described, available at the insertion point,
  // or null. `type` is the result type for casts, the source element type for GEPs.
  llvm::Instruction* find(unsigned opcode, unsigned predicate, llvm::Type* type,
                          llvm::ArrayRef<llvm::Value*> operands) const;
  // Called for every instruction the builder inserts: the mergeable ones are kept.
  void record(llvm::Instruction* instruction);
  // Whether a value made at the end of `block` may be used at the insertion point.
  bool dominatesInsertionPoint(const llvm::BasicBlock* block) const;

 private:
  struct Key {
    unsigned opcode = 0;
    unsigned predicate = 0;
    llvm::Type* type = nullptr;
    std::vector<llvm::Value*> operands;
    bool operator==(const Key& other) const {
      return opcode == other.opcode && predicate == other.predicate && type == other.type &&
             operands == other.operands;
    }
  };
  // Hashes pointers; lookups only, never an order: the output does not depend on it.
  struct KeyHash {
    std::size_t operator()(const Key& key) const;
  };

  const llvm::IRBuilderBase* builder_ = nullptr;
  std::unordered_map<Key, llvm::Instruction*, KeyHash> made_;
  std::unordered_map<const llvm::BasicBlock*, const llvm::BasicBlock*> dominators_;
};

// Constants fold as with LLVM's ConstantFolder; then an equal earlier instruction.
class ReusingFolder final : public llvm::IRBuilderFolder {
 public:
  explicit ReusingFolder(const ValueReuse* reuse) : reuse_(reuse) {}

  llvm::Value* FoldBinOp(llvm::Instruction::BinaryOps opcode, llvm::Value* lhs, llvm::Value* rhs) const override;
  llvm::Value* FoldExactBinOp(llvm::Instruction::BinaryOps opcode, llvm::Value* lhs, llvm::Value* rhs,
                              bool isExact) const override;
  llvm::Value* FoldNoWrapBinOp(llvm::Instruction::BinaryOps opcode, llvm::Value* lhs, llvm::Value* rhs, bool hasNUW,
                               bool hasNSW) const override;
  llvm::Value* FoldBinOpFMF(llvm::Instruction::BinaryOps opcode, llvm::Value* lhs, llvm::Value* rhs,
                            llvm::FastMathFlags fmf) const override {
    return constants_.FoldBinOpFMF(opcode, lhs, rhs, fmf);
  }
  llvm::Value* FoldUnOpFMF(llvm::Instruction::UnaryOps opcode, llvm::Value* value,
                           llvm::FastMathFlags fmf) const override {
    return constants_.FoldUnOpFMF(opcode, value, fmf);
  }
  llvm::Value* FoldCmp(llvm::CmpInst::Predicate predicate, llvm::Value* lhs, llvm::Value* rhs) const override;
  llvm::Value* FoldGEP(llvm::Type* type, llvm::Value* pointer, llvm::ArrayRef<llvm::Value*> indices,
                       llvm::GEPNoWrapFlags flags) const override;
  llvm::Value* FoldSelect(llvm::Value* condition, llvm::Value* whenTrue, llvm::Value* whenFalse) const override;
  llvm::Value* FoldExtractValue(llvm::Value* aggregate, llvm::ArrayRef<unsigned> indices) const override {
    return constants_.FoldExtractValue(aggregate, indices);
  }
  llvm::Value* FoldInsertValue(llvm::Value* aggregate, llvm::Value* value,
                               llvm::ArrayRef<unsigned> indices) const override {
    return constants_.FoldInsertValue(aggregate, value, indices);
  }
  llvm::Value* FoldExtractElement(llvm::Value* vector, llvm::Value* index) const override {
    return constants_.FoldExtractElement(vector, index);
  }
  llvm::Value* FoldInsertElement(llvm::Value* vector, llvm::Value* element, llvm::Value* index) const override {
    return constants_.FoldInsertElement(vector, element, index);
  }
  llvm::Value* FoldShuffleVector(llvm::Value* a, llvm::Value* b, llvm::ArrayRef<int> mask) const override {
    return constants_.FoldShuffleVector(a, b, mask);
  }
  llvm::Value* FoldCast(llvm::Instruction::CastOps opcode, llvm::Value* value, llvm::Type* type) const override;
  llvm::Value* FoldBinaryIntrinsic(llvm::Intrinsic::ID id, llvm::Value* lhs, llvm::Value* rhs, llvm::Type* type,
                                   llvm::Instruction* fmfSource) const override {
    return constants_.FoldBinaryIntrinsic(id, lhs, rhs, type, fmfSource);
  }
  llvm::Value* CreatePointerCast(llvm::Constant* constant, llvm::Type* type) const override {
    return constants_.CreatePointerCast(constant, type);
  }
  llvm::Value* CreatePointerBitCastOrAddrSpaceCast(llvm::Constant* constant, llvm::Type* type) const override {
    return constants_.CreatePointerBitCastOrAddrSpaceCast(constant, type);
  }

 private:
  const ValueReuse* reuse_;
  llvm::ConstantFolder constants_;
};

// Inserts as LLVM's default inserter does, then tells ValueReuse.
class RecordingInserter final : public llvm::IRBuilderDefaultInserter {
 public:
  explicit RecordingInserter(ValueReuse* reuse) : reuse_(reuse) {}
  void InsertHelper(llvm::Instruction* instruction, const llvm::Twine& name,
                    llvm::BasicBlock::iterator at) const override {
    llvm::IRBuilderDefaultInserter::InsertHelper(instruction, name, at);
    reuse_->record(instruction);
  }

 private:
  ValueReuse* reuse_;
};

using ReusingIRBuilder = llvm::IRBuilder<ReusingFolder, RecordingInserter>;

}  // namespace tlc
