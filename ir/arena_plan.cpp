#include "ir/arena_plan.h"
#include "ir/views.h"

#include <sstream>

namespace kiln {

std::string formatArenaPlans(const Module& m, const ArenaPlans& plans) {
  std::ostringstream os;
  os << "kiln-arena-plan " << kArenaPlanVersion << "\n";
  for (const auto& [name, plan] : plans) {
    const Function* f = m.findFunction(name);
    KILN_ASSERT(f, "arena plan for a function the module lacks: " + name);
    os << "func @" << name << " ops " << f->ops.size() << " arena " << plan.arenaBytes << "\n";
    for (size_t i = 0; i < f->ops.size(); ++i)
      for (size_t r = 0; r < f->ops[i]->results.size(); ++r) {
        const Value* v = f->ops[i]->results[r].get();
        if (auto at = plan.offsets.find(v); at != plan.offsets.end())
          os << "value " << i << "." << r << " offset " << at->second << "\n";
        else if (auto st = plan.inState.find(v); st != plan.inState.end())
          os << "value " << i << "." << r << " state " << st->second << "\n";
      }
    os << "end\n";
  }
  return os.str();
}

Expected<ArenaPlans> parseArenaPlans(const Module& m, const std::string& text, const std::string& where,
                                     int elementBytes) {
  std::istringstream in(text);
  std::string line;
  int lineNo = 0;
  auto error = [&](const std::string& what) { return makeError(Location{where, lineNo, 0}, "arena plan: " + what); };
  ++lineNo;
  if (!std::getline(in, line) || line != "kiln-arena-plan " + std::to_string(kArenaPlanVersion))
    return error("expected the header 'kiln-arena-plan " + std::to_string(kArenaPlanVersion) + "', got '" + line +
                 "' (an executable from another kiln version, or damaged)");
  ArenaPlans plans;
  ArenaPlan* plan = nullptr;
  const Function* f = nullptr;
  while (std::getline(in, line)) {
    ++lineNo;
    std::istringstream ls(line);
    std::string word;
    ls >> word;
    if (word == "func") {
      if (plan) return error("'func' before the previous function's 'end'");
      std::string name, opsWord, arenaWord;
      size_t ops = 0;
      int64_t arena = -1;
      if (!(ls >> name >> opsWord >> ops >> arenaWord >> arena) || name.size() < 2 || name[0] != '@' ||
          opsWord != "ops" || arenaWord != "arena" || arena < 0)
        return error("expected 'func @NAME ops N arena BYTES', got '" + line + "'");
      f = m.findFunction(name.substr(1));
      if (!f) return error("the module has no function " + name);
      if (f->ops.size() != ops)
        return error("function " + name + " has " + std::to_string(f->ops.size()) + " ops, the plan was made for " +
                     std::to_string(ops));
      if (plans.count(f->name)) return error("function " + name + " planned twice");
      plan = &plans[f->name];
      plan->arenaBytes = arena;
    } else if (word == "value") {
      if (!plan) return error("'value' outside a function");
      size_t op = 0, result = 0;
      char dot = 0;
      std::string kind;
      if (!(ls >> op >> dot >> result >> kind) || dot != '.' || (kind != "offset" && kind != "state"))
        return error("expected 'value OP.RESULT offset BYTES' or 'value OP.RESULT state NAME', got '" + line + "'");
      if (op >= f->ops.size() || result >= f->ops[op]->results.size())
        return error("no value " + std::to_string(op) + "." + std::to_string(result) + " in @" + f->name);
      const Value* v = f->ops[op]->results[result].get();
      if (kind == "offset") {
        int64_t offset = -1;
        if (!(ls >> offset) || offset < 0) return error("a value's offset must be a byte count >= 0: '" + line + "'");
        if (offset + storedBytes(v->type, elementBytes) > plan->arenaBytes)
          return error("value " + std::to_string(op) + "." + std::to_string(result) + " of @" + f->name +
                       " ends past the arena (" + std::to_string(plan->arenaBytes) + " bytes)");
        plan->offsets[v] = offset;
      } else {
        std::string state;
        if (!(ls >> state) || !m.findState(state)) return error("no state '" + state + "' for value " + std::to_string(op) + "." + std::to_string(result));
        plan->inState[v] = state;
      }
    } else if (word == "end") {
      if (!plan) return error("'end' outside a function");
      plan = nullptr;
      f = nullptr;
    } else if (!word.empty()) {
      return error("unknown line '" + line + "'");
    }
  }
  if (plan) return error("missing 'end' of @" + f->name + " (truncated)");
  return plans;
}

}  // namespace kiln
