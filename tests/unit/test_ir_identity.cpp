// Unit tests for IR identity (CreationId, ById) and the StmtVisitor base.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "ir/IR.h"
#include "ir/Rewrite.h"
#include "ir/StmtVisitor.h"

using namespace tlc;
using namespace tlc::ir;

TEST_CASE("variables and buffers order by creation, not by address") {
  std::vector<VarRef> vars;
  for (int i = 0; i < 64; ++i) vars.push_back(makeVar("v" + std::to_string(i), DType::Int32));
  // Inserted in reverse; iteration follows creation.
  std::map<const VarNode*, int, ById> byId;
  for (int i = 63; i >= 0; --i) byId[vars[i].get()] = i;
  int expected = 0;
  for (const auto& [v, i] : byId) CHECK(i == expected++);

  auto a = std::make_shared<Buffer>();
  auto b = std::make_shared<Buffer>();
  CHECK(ById{}(a, b));
  CHECK_FALSE(ById{}(b, a));
  CHECK(a->id.serial != b->id.serial);
}

TEST_CASE("a copied buffer is a new node that sorts right after its original") {
  auto a = std::make_shared<Buffer>();
  auto b = std::make_shared<Buffer>();
  auto copyOfA = std::make_shared<Buffer>(*a);
  auto copyOfCopy = std::make_shared<Buffer>(*copyOfA);
  CHECK(copyOfA->id.serial != a->id.serial);
  CHECK(copyOfA->id.order == a->id.order);
  std::set<const Buffer*, ById> all{b.get(), copyOfCopy.get(), copyOfA.get(), a.get()};
  std::vector<const Buffer*> order(all.begin(), all.end());
  CHECK(order == std::vector<const Buffer*>{a.get(), copyOfA.get(), copyOfCopy.get(), b.get()});
  // Assigning fields keeps the target's identity.
  uint64_t serialBefore = b->id.serial, orderBefore = b->id.order;
  *b = *a;
  CHECK(b->id.serial == serialBefore);
  CHECK(b->id.order == orderBefore);
}

TEST_CASE("ById puts null first, so a null key is an ordinary miss") {
  VarRef v = makeVar("x", DType::Int32);
  VarMap m{{v.get(), intImm(1)}};
  CHECK(m.count(nullptr) == 0);
  m[nullptr] = nullptr;
  CHECK(m.begin()->first == nullptr);
  m.erase(nullptr);
  CHECK(m.size() == 1);
}

namespace {
// Counts statements by kind and records the Let variables in visiting order.
class Recorder : public StmtVisitor {
 public:
  std::vector<std::string> lets;
  int stores = 0;
  bool intoParallel = true;

 protected:
  void visitLet(LetStmt& l) override { lets.push_back(l.var->name); }
  void visitStore(StoreStmt&) override { ++stores; }
  void visitParallel(ParallelOp& p) override {
    if (intoParallel) StmtVisitor::visitParallel(p);
  }
};
}  // namespace

TEST_CASE("StmtVisitor descends into Seq, For, If and Parallel, in order") {
  SourceRange r;
  auto let = [&](const std::string& n) { return std::make_shared<LetStmt>(r, makeVar(n, DType::Int32), intImm(0)); };
  auto buf = std::make_shared<Buffer>();
  auto store = std::make_shared<StoreStmt>(r, buf, std::vector<ExprRef>{intImm(0)}, intImm(1));
  auto par = std::make_shared<ParallelOp>(r, std::vector<VarRef>{makeVar("i", DType::Int32)}, std::vector<int64_t>{4},
                                          std::make_shared<SeqStmt>(r, std::vector<StmtRef>{let("p"), store}));
  auto loop = std::make_shared<ForStmt>(r, makeVar("k", DType::Int32), intImm(0), intImm(4), ForKind::Serial, let("f"));
  auto branch = std::make_shared<IfStmt>(r, makeVar("c", DType::Bool), let("t"), let("e"));
  StmtRef body = std::make_shared<SeqStmt>(r, std::vector<StmtRef>{let("a"), loop, branch, par, nullptr});

  Recorder all;
  all.visit(body);
  CHECK(all.lets == std::vector<std::string>{"a", "f", "t", "e", "p"});
  CHECK(all.stores == 1);

  Recorder outside;
  outside.intoParallel = false;
  outside.visit(body);
  CHECK(outside.lets == std::vector<std::string>{"a", "f", "t", "e"});
  CHECK(outside.stores == 0);
}
