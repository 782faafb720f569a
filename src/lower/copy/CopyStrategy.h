// CopyStrategy: one way of carrying out a tile copy (a TMA load, cp.async, a SIMT
// loop, ...), each in its own file under lower/copy/, in three steps:
//   obstacle  why it cannot carry out this copy here ("" when it can): the copy's
//             shape, the user's options, the target's features. --remarks prints it.
//   plan      what it needs decided before the copy is lowered (a TMA copy's run-time
//             assumptions, a bulk DSMEM copy's runs); a plan that cannot be made is
//             an obstacle too (`why`).
//   lower     the loop-IR statements that carry it out (LowerTileOps calls it).
// ChooseCopyPaths walks copyStrategies() in order and gives each copy to the first
// strategy with no obstacle and a plan; it records that choice on the CopyOp (path,
// plan) and LowerTileOps never revisits it. Adding a strategy: a new file here and
// one line in CopyStrategies.cpp's ordered list.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/IR.h"
#include "ir/Target.h"

namespace tlc {

class CopyLowering;

// What ChooseCopyPaths knows about where a copy stands.
struct CopySite {
  const Target& target;
  const ir::Kernel& kernel;
  bool allowTma = true;    // false for the general kernel variant (no TMA, no assumption it needs)
  bool uniform = true;     // every thread of the block reaches the copy
  bool pipelined = false;  // directly in the body of a Pipelined loop of 2 or more stages
};

class CopyStrategy {
 public:
  virtual ~CopyStrategy() = default;
  // The name recorded in the copy's plan ("TmaLoad").
  virtual const char* name() const = 0;
  // Whether this strategy is one way of carrying out this kind of copy at all (a
  // TMA load for a global -> shared copy); its obstacles are reported only then.
  virtual bool considers(const ir::CopyOp& c) const = 0;
  // What its obstacles are reported as: "<label> not used: <obstacle>" ("TMA").
  virtual const char* label() const { return name(); }
  // Step 1: why it cannot carry out `c` here, or "".
  virtual std::string obstacle(const ir::CopyOp& c, const CopySite& site) const = 0;
  // Step 2: its plan for `c`, or null with `why` set. The default plans nothing.
  virtual std::shared_ptr<const ir::CopyPlan> plan(const ir::CopyOp& c, const CopySite& site, std::string& why) const;
  // The instruction family it uses for `c` (InsertBarriers and PipelineLoops read it).
  virtual ir::CopyPath path(const ir::CopyOp& c, const CopySite& site) const = 0;
  // Step 3: the statements that carry out `c`, as planned.
  virtual ir::StmtRef lower(const ir::CopyOp& c, CopyLowering& lowering) const = 0;
};

// Every strategy, in the order ChooseCopyPaths tries them (CopyStrategies.cpp).
const std::vector<const CopyStrategy*>& copyStrategies();
// The strategy of that name; an internal error when there is none.
const CopyStrategy& copyStrategyNamed(const std::string& name);

}  // namespace tlc
