// SkippedPasses.def unit tests: every pass the table names is one that LLVM's default
// pipeline reaches (a misspelt or renamed class would skip nothing, silently), and
// optimizeModule runs none of them, at O1 (a module without loops) and O3 (with one).
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Verifier.h>

#include "backend/LLVMSupport.h"

using namespace tlc;

namespace {

// A kernel `k(ptr addrspace(1) out, i32 n)`: with a loop, `for (i = 0; i < n; ++i)
// out[i] = i`; without, `out[0] = n`.
void buildKernel(llvm::Module& module, bool withLoop) {
  llvm::LLVMContext& context = module.getContext();
  llvm::IRBuilder<> builder(context);
  auto* i32 = builder.getInt32Ty();
  auto* global = builder.getPtrTy(1);
  auto* function = llvm::Function::Create(llvm::FunctionType::get(builder.getVoidTy(), {global, i32}, false),
                                          llvm::GlobalValue::ExternalLinkage, "k", module);
  function->setCallingConv(llvm::CallingConv::PTX_Kernel);
  llvm::Value* out = function->getArg(0);
  llvm::Value* n = function->getArg(1);
  auto* entry = llvm::BasicBlock::Create(context, "entry", function);
  builder.SetInsertPoint(entry);
  if (!withLoop) {
    builder.CreateStore(n, out);
    builder.CreateRetVoid();
    return;
  }
  auto* header = llvm::BasicBlock::Create(context, "header", function);
  auto* body = llvm::BasicBlock::Create(context, "body", function);
  auto* exit = llvm::BasicBlock::Create(context, "exit", function);
  builder.CreateBr(header);
  builder.SetInsertPoint(header);
  llvm::PHINode* i = builder.CreatePHI(i32, 2, "i");
  i->addIncoming(builder.getInt32(0), entry);
  builder.CreateCondBr(builder.CreateICmpSLT(i, n), body, exit);
  builder.SetInsertPoint(body);
  builder.CreateStore(i, builder.CreateGEP(i32, out, {i}));
  i->addIncoming(builder.CreateAdd(i, builder.getInt32(1), "", true, true), body);
  builder.CreateBr(header);
  builder.SetInsertPoint(exit);
  builder.CreateRetVoid();
}

OptimizerTrace optimize(bool withLoop) {
  llvm::LLVMContext context;
  llvm::Module module("skipped", context);
  module.setTargetTriple(kNVPTXTriple);
  buildKernel(module, withLoop);
  REQUIRE_FALSE(llvm::verifyModule(module, &llvm::errs()));
  REQUIRE(hasLoops(module) == withLoop);
  std::ostringstream out;
  DiagnosticEngine diags(out);
  std::unique_ptr<llvm::TargetMachine> machine = createNVPTXTargetMachine(TargetOptions{}, diags);
  REQUIRE(machine);
  module.setDataLayout(machine->createDataLayout());
  OptimizerTrace trace;
  optimizeModule(module, *machine, 3, &trace);
  CHECK_FALSE(llvm::verifyModule(module, &llvm::errs()));
  return trace;
}

}  // namespace

TEST_CASE("skipped passes: each is a pass of the default pipeline, and none runs") {
  const OptimizerTrace loopFree = optimize(false);  // O1
  const OptimizerTrace withLoop = optimize(true);   // O3
  std::set<std::string> considered(loopFree.considered.begin(), loopFree.considered.end());
  considered.insert(withLoop.considered.begin(), withLoop.considered.end());
  std::set<std::string> ran(loopFree.ran.begin(), loopFree.ran.end());
  ran.insert(withLoop.ran.begin(), withLoop.ran.end());
  const std::vector<std::string> skipped = skippedPassNames();
  REQUIRE(skipped.size() >= 20);
  for (const std::string& name : skipped) {
    CAPTURE(name);
    CHECK(considered.count(name) == 1);
    CHECK(ran.count(name) == 0);
  }
  // The pipeline still does its work: the passes that matter ran.
  for (const char* kept : {"InstCombinePass", "SROAPass", "EarlyCSEPass", "SimplifyCFGPass", "IPSCCPPass"}) {
    CAPTURE(kept);
    CHECK(ran.count(kept) == 1);
  }
  CHECK(std::count(withLoop.ran.begin(), withLoop.ran.end(), std::string("LoopUnrollPass")) >= 1);
  CHECK(std::count(withLoop.ran.begin(), withLoop.ran.end(), std::string("GVNPass")) >= 1);
}
