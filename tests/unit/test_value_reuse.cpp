// ValueReuse unit tests: the code generator's builder merges an instruction only
// into an equal one (same operation, operands and flags) that dominates the insertion
// point, and never floating-point arithmetic, loads or calls.
#include <doctest/doctest.h>

#include <llvm/IR/Function.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include "backend/ValueReuse.h"

using namespace tlc;

namespace {

struct Fixture {
  llvm::LLVMContext context;
  llvm::Module module{"reuse", context};
  ValueReuse reuse;
  ReusingIRBuilder builder{context, ReusingFolder(&reuse), RecordingInserter(&reuse)};
  llvm::Function* function = nullptr;
  llvm::BasicBlock* entry = nullptr;
  llvm::Value *a = nullptr, *b = nullptr, *x = nullptr, *pointer = nullptr, *narrow = nullptr;

  Fixture() {
    reuse.attach(&builder);
    auto* i32 = builder.getInt32Ty();
    auto* type = llvm::FunctionType::get(
        builder.getVoidTy(), {i32, i32, builder.getFloatTy(), builder.getPtrTy(), builder.getInt8Ty()}, false);
    function = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage, "f", module);
    a = function->getArg(0);
    b = function->getArg(1);
    x = function->getArg(2);
    pointer = function->getArg(3);
    narrow = function->getArg(4);
    entry = llvm::BasicBlock::Create(context, "entry", function);
    builder.SetInsertPoint(entry);
  }
  bool verifies() {
    std::string errors;
    llvm::raw_string_ostream stream(errors);
    const bool broken = llvm::verifyModule(module, &stream);
    INFO(errors);
    return !broken;
  }
};

}  // namespace

TEST_CASE("value reuse: equal integer arithmetic in one block is built once") {
  Fixture f;
  llvm::Value* sum = f.builder.CreateAdd(f.a, f.b);
  CHECK(f.builder.CreateAdd(f.a, f.b) == sum);
  CHECK(f.builder.CreateAdd(f.b, f.a) != sum);  // operands in order: no algebra here
  CHECK(f.builder.CreateSub(f.a, f.b) != sum);
  llvm::Value* compare = f.builder.CreateICmpSLT(f.a, f.b);
  CHECK(f.builder.CreateICmpSLT(f.a, f.b) == compare);
  CHECK(f.builder.CreateICmpULT(f.a, f.b) != compare);
  llvm::Value* wide = f.builder.CreateSExt(f.a, f.builder.getInt64Ty());
  CHECK(f.builder.CreateSExt(f.a, f.builder.getInt64Ty()) == wide);
  CHECK(f.builder.CreateZExt(f.a, f.builder.getInt64Ty()) != wide);
  llvm::Value* element = f.builder.CreateGEP(f.builder.getFloatTy(), f.pointer, {wide});
  CHECK(f.builder.CreateGEP(f.builder.getFloatTy(), f.pointer, {wide}) == element);
  CHECK(f.builder.CreateGEP(f.builder.getHalfTy(), f.pointer, {wide}) != element);
  llvm::Value* chosen = f.builder.CreateSelect(compare, f.a, f.b);
  CHECK(f.builder.CreateSelect(compare, f.a, f.b) == chosen);
  f.builder.CreateRetVoid();
  CHECK(f.verifies());
}

TEST_CASE("value reuse: flags must match the ones asked for") {
  Fixture f;
  llvm::Value* plain = f.builder.CreateMul(f.a, f.b);
  llvm::Value* noWrap = f.builder.CreateNSWMul(f.a, f.b);
  CHECK(noWrap != plain);
  CHECK(f.builder.CreateNSWMul(f.a, f.b) == noWrap);
  // The table keeps the newest instruction of a kind: a plain request now gets a new
  // one (a merge missed, never a wrong one).
  llvm::Value* plainAgain = f.builder.CreateMul(f.a, f.b);
  CHECK(plainAgain != noWrap);
  CHECK(!llvm::cast<llvm::Instruction>(plainAgain)->hasNoSignedWrap());
  llvm::Value* exact = f.builder.CreateAShr(f.a, f.b, "", /*isExact=*/true);
  CHECK(f.builder.CreateAShr(f.a, f.b) != exact);
  // `or disjoint` is poison where the operands share a bit: a plain `or` is not it.
  auto* disjointOr = llvm::BinaryOperator::CreateOr(f.a, f.b);
  llvm::cast<llvm::PossiblyDisjointInst>(disjointOr)->setIsDisjoint(true);
  llvm::Value* disjoint = f.builder.Insert(disjointOr);
  CHECK(f.builder.CreateOr(f.a, f.b) != disjoint);
  // The builder sets `nneg` after asking the folder: a later plain zext must not get it.
  llvm::Value* nonNegative = f.builder.CreateZExt(f.narrow, f.builder.getInt32Ty(), "", /*IsNonNeg=*/true);
  CHECK(f.builder.CreateZExt(f.narrow, f.builder.getInt32Ty()) != nonNegative);
  llvm::Value* inBounds = f.builder.CreateInBoundsGEP(f.builder.getInt8Ty(), f.pointer, {f.a});
  CHECK(f.builder.CreateGEP(f.builder.getInt8Ty(), f.pointer, {f.a}) != inBounds);
  f.builder.CreateRetVoid();
  CHECK(f.verifies());
}

TEST_CASE("value reuse: floating point, loads and calls are built every time") {
  Fixture f;
  llvm::Value* sum = f.builder.CreateFAdd(f.x, f.x);
  CHECK(f.builder.CreateFAdd(f.x, f.x) != sum);
  llvm::Value* less = f.builder.CreateFCmpOLT(f.x, f.x);
  CHECK(f.builder.CreateFCmpOLT(f.x, f.x) != less);
  llvm::Value* converted = f.builder.CreateSIToFP(f.a, f.builder.getFloatTy());
  CHECK(f.builder.CreateSIToFP(f.a, f.builder.getFloatTy()) != converted);
  llvm::Value* chosen = f.builder.CreateSelect(f.builder.CreateICmpSLT(f.a, f.b), f.x, sum);
  CHECK(f.builder.CreateSelect(f.builder.CreateICmpSLT(f.a, f.b), f.x, sum) != chosen);
  llvm::Value* loaded = f.builder.CreateLoad(f.builder.getInt32Ty(), f.pointer);
  CHECK(f.builder.CreateLoad(f.builder.getInt32Ty(), f.pointer) != loaded);
  // Constants still fold.
  CHECK(llvm::isa<llvm::Constant>(f.builder.CreateAdd(f.builder.getInt32(2), f.builder.getInt32(3))));
  f.builder.CreateRetVoid();
  CHECK(f.verifies());
}

TEST_CASE("value reuse: only where the earlier instruction dominates") {
  Fixture f;
  llvm::Value* sum = f.builder.CreateAdd(f.a, f.b);
  llvm::Value* condition = f.builder.CreateICmpSLT(f.a, f.b);
  auto* then = llvm::BasicBlock::Create(f.context, "then", f.function);
  auto* merge = llvm::BasicBlock::Create(f.context, "merge", f.function);
  auto* undescribed = llvm::BasicBlock::Create(f.context, "undescribed", f.function);
  f.reuse.enteredFrom(then, f.entry);
  f.reuse.enteredFrom(merge, f.entry);
  f.builder.CreateCondBr(condition, then, merge);

  f.builder.SetInsertPoint(then);
  CHECK(f.builder.CreateAdd(f.a, f.b) == sum);  // the entry dominates `then`
  llvm::Value* inThen = f.builder.CreateMul(f.a, f.b);
  f.builder.CreateBr(merge);

  f.builder.SetInsertPoint(merge);
  CHECK(f.builder.CreateAdd(f.a, f.b) == sum);
  llvm::Value* inMerge = f.builder.CreateMul(f.a, f.b);
  CHECK(inMerge != inThen);  // `then` does not dominate the join
  f.builder.CreateBr(undescribed);

  f.builder.SetInsertPoint(undescribed);
  CHECK(f.builder.CreateAdd(f.a, f.b) != sum);  // nothing said how it is entered
  f.builder.CreateRetVoid();

  // Inserting before an instruction of the block: what follows that point is not available.
  f.builder.SetInsertPoint(llvm::cast<llvm::Instruction>(sum));
  CHECK(f.builder.CreateAdd(f.a, f.b) != sum);
  CHECK(f.verifies());
}
