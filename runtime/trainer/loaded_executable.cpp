#include "runtime/trainer/loaded_executable.h"

#include "ir/parser.h"
#include "ir/verifier.h"
#include "runtime/trainer/settings.h"

namespace kiln {

Expected<LoadedExecutable> loadExecutable(const Executable& exe, const std::string& origin) {
  LoadedExecutable out;
  out.settings = exe.configMap();
  if (auto s = checkSettings(out.settings, origin); !s) return s.error();
  auto text = exe.sections.find("module");
  if (text == exe.sections.end()) return makeError(Location{origin, 0, 0}, "damaged executable: no module section");
  auto module = parseModule(text->second, origin + " [module]");
  if (!module) return module.error();
  if (auto diags = verifyModule(*module); !diags.empty()) return diags[0];
  for (const char* fn : {"train_step", "eval_step"})
    if (!module->findFunction(fn)) return makeError(Location{origin, 0, 0}, std::string("damaged executable: no @") + fn);
  out.module = module.take();
  auto tok = Tokenizer::fromSections(exe.sections, origin);
  if (!tok) return tok.error();
  out.tokenizer = tok.take();
  return out;
}

}  // namespace kiln
