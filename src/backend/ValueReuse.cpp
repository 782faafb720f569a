// ValueReuse: equal LLVM instructions merged while the code generator builds them
// (ValueReuse.h says what is merged and why).
#include "backend/ValueReuse.h"

#include <llvm/ADT/Hashing.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Operator.h>

namespace tlc {

namespace {

bool isFloatingPointCast(unsigned opcode) {
  switch (opcode) {
    case llvm::Instruction::FPTrunc:
    case llvm::Instruction::FPExt:
    case llvm::Instruction::FPToUI:
    case llvm::Instruction::FPToSI:
    case llvm::Instruction::UIToFP:
    case llvm::Instruction::SIToFP:
      return true;
    default:
      return false;
  }
}

bool hasFloatingPointType(const llvm::Value* value) { return value->getType()->isFPOrFPVectorTy(); }

}  // namespace

std::size_t ValueReuse::KeyHash::operator()(const Key& key) const {
  llvm::hash_code hash = llvm::hash_combine(key.opcode, key.predicate, key.type);
  for (const llvm::Value* operand : key.operands) hash = llvm::hash_combine(hash, operand);
  return (std::size_t)hash;
}

bool ValueReuse::dominatesInsertionPoint(const llvm::BasicBlock* block) const {
  if (!builder_) return false;
  const llvm::BasicBlock* at = builder_->GetInsertBlock();
  // Only an insertion at the end of its block follows every instruction made in it.
  if (!at || builder_->GetInsertPoint() != at->end()) return false;
  while (at) {
    if (at == block) return true;
    auto up = dominators_.find(at);
    at = up == dominators_.end() ? nullptr : up->second;
  }
  return false;
}

llvm::Instruction* ValueReuse::find(unsigned opcode, unsigned predicate, llvm::Type* type,
                                    llvm::ArrayRef<llvm::Value*> operands) const {
  Key key{opcode, predicate, type, std::vector<llvm::Value*>(operands.begin(), operands.end())};
  auto found = made_.find(key);
  if (found == made_.end() || !dominatesInsertionPoint(found->second->getParent())) return nullptr;
  return found->second;
}

void ValueReuse::record(llvm::Instruction* instruction) {
  Key key;
  key.opcode = instruction->getOpcode();
  if (auto* binary = llvm::dyn_cast<llvm::BinaryOperator>(instruction)) {
    if (hasFloatingPointType(binary)) return;
    key.type = binary->getType();
  } else if (auto* compare = llvm::dyn_cast<llvm::ICmpInst>(instruction)) {
    key.predicate = compare->getPredicate();
    key.type = compare->getOperand(0)->getType();
  } else if (auto* cast = llvm::dyn_cast<llvm::CastInst>(instruction)) {
    if (isFloatingPointCast(key.opcode)) return;
    key.type = cast->getDestTy();
  } else if (auto* gep = llvm::dyn_cast<llvm::GetElementPtrInst>(instruction)) {
    key.type = gep->getSourceElementType();
  } else if (auto* select = llvm::dyn_cast<llvm::SelectInst>(instruction)) {
    if (hasFloatingPointType(select)) return;
    key.type = select->getType();
  } else {
    return;
  }
  key.operands.assign(instruction->op_begin(), instruction->op_end());
  made_[std::move(key)] = instruction;  // the newest: the one most likely to dominate
}

llvm::Value* ReusingFolder::FoldBinOp(llvm::Instruction::BinaryOps opcode, llvm::Value* lhs,
                                      llvm::Value* rhs) const {
  if (llvm::Value* folded = constants_.FoldBinOp(opcode, lhs, rhs)) return folded;
  if (hasFloatingPointType(lhs)) return nullptr;
  llvm::Instruction* made = reuse_->find(opcode, 0, lhs->getType(), {lhs, rhs});
  // No flags asked for here: an `or disjoint` (poison where bits overlap) will not do.
  return made && !made->hasPoisonGeneratingFlags() ? made : nullptr;
}

llvm::Value* ReusingFolder::FoldExactBinOp(llvm::Instruction::BinaryOps opcode, llvm::Value* lhs,
                                           llvm::Value* rhs, bool isExact) const {
  if (llvm::Value* folded = constants_.FoldExactBinOp(opcode, lhs, rhs, isExact)) return folded;
  llvm::Instruction* made = reuse_->find(opcode, 0, lhs->getType(), {lhs, rhs});
  return made && made->isExact() == isExact ? made : nullptr;
}

llvm::Value* ReusingFolder::FoldNoWrapBinOp(llvm::Instruction::BinaryOps opcode, llvm::Value* lhs,
                                            llvm::Value* rhs, bool hasNUW, bool hasNSW) const {
  if (llvm::Value* folded = constants_.FoldNoWrapBinOp(opcode, lhs, rhs, hasNUW, hasNSW)) return folded;
  llvm::Instruction* made = reuse_->find(opcode, 0, lhs->getType(), {lhs, rhs});
  return made && made->hasNoUnsignedWrap() == hasNUW && made->hasNoSignedWrap() == hasNSW ? made : nullptr;
}

llvm::Value* ReusingFolder::FoldCmp(llvm::CmpInst::Predicate predicate, llvm::Value* lhs, llvm::Value* rhs) const {
  if (llvm::Value* folded = constants_.FoldCmp(predicate, lhs, rhs)) return folded;
  if (!llvm::CmpInst::isIntPredicate(predicate)) return nullptr;
  llvm::Instruction* made = reuse_->find(llvm::Instruction::ICmp, predicate, lhs->getType(), {lhs, rhs});
  return made && !made->hasPoisonGeneratingFlags() ? made : nullptr;
}

llvm::Value* ReusingFolder::FoldGEP(llvm::Type* type, llvm::Value* pointer, llvm::ArrayRef<llvm::Value*> indices,
                                    llvm::GEPNoWrapFlags flags) const {
  if (llvm::Value* folded = constants_.FoldGEP(type, pointer, indices, flags)) return folded;
  std::vector<llvm::Value*> operands{pointer};
  operands.insert(operands.end(), indices.begin(), indices.end());
  llvm::Instruction* made = reuse_->find(llvm::Instruction::GetElementPtr, 0, type, operands);
  return made && llvm::cast<llvm::GEPOperator>(made)->getNoWrapFlags() == flags ? made : nullptr;
}

llvm::Value* ReusingFolder::FoldSelect(llvm::Value* condition, llvm::Value* whenTrue, llvm::Value* whenFalse) const {
  if (llvm::Value* folded = constants_.FoldSelect(condition, whenTrue, whenFalse)) return folded;
  if (hasFloatingPointType(whenTrue)) return nullptr;
  return reuse_->find(llvm::Instruction::Select, 0, whenTrue->getType(), {condition, whenTrue, whenFalse});
}

llvm::Value* ReusingFolder::FoldCast(llvm::Instruction::CastOps opcode, llvm::Value* value, llvm::Type* type) const {
  if (llvm::Value* folded = constants_.FoldCast(opcode, value, type)) return folded;
  if (isFloatingPointCast(opcode)) return nullptr;
  llvm::Instruction* made = reuse_->find(opcode, 0, type, {value});
  // The builder sets `nneg` / `nuw` after asking; an instruction without flags is
  // right whatever it asks for, one with them not always.
  return made && !made->hasPoisonGeneratingFlags() ? made : nullptr;
}

}  // namespace tlc
