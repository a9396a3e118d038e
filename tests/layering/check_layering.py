#!/usr/bin/env python3
"""The layering of kiln, checked: which top-level folder may include which, which library may link
which, and that a trainer carries no compiler, LLVM or MLIR code.

    check_layering.py SOURCE_DIR [BUILD_DIR]

Bottom to top: ir; eval (what each op computes); compiler and runtime side by side; models;
targets and objectives (each a compile half over the compiler or the models and a run half over
the runtime); frontends; tools. A run half (the sources of kiln_devices and kiln_objective_data)
never includes the compiler, the models or a frontend. With
BUILD_DIR, the built kiln-trainer is checked too (ldd and nm). Prints every violation; exit 1 if any.
"""
import os, re, subprocess, sys

ALLOWED = {  # folder: folders its sources may include (itself included)
    "ir": {"ir"},
    "eval": {"ir", "eval"},
    "compiler": {"ir", "eval", "compiler"},
    "runtime": {"ir", "eval", "runtime"},
    "models": {"ir", "models"},  # graphs only: data facts (special tokens) stay in runtime/data
    "targets": {"ir", "eval", "compiler", "runtime", "targets"},
    "objectives": {"ir", "eval", "compiler", "runtime", "models", "objectives"},
    "frontends": {"ir", "eval", "compiler", "runtime", "models", "targets", "objectives", "frontends"},
    "tools": {"ir", "eval", "compiler", "runtime", "models", "targets", "objectives", "frontends", "tools"},
    "bench": {"bench"},
}
FOLDERS = set(ALLOWED) | {"tests"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/[^"]+"', re.M)
# Code a trainer must not carry: compiler passes and planners, MLIR, LLVM.
FORBIDDEN_SYMBOLS = re.compile(r"\b(mlir::|llvm::|kiln::PassManager|kiln::planMemory|kiln::differentiate|"
                               r"kiln::compileSpec|kiln::registerTarget|kiln::registerObjectives?\(|kiln::emitFusedKernelObject)")


def sources(root, folder):
    for base, _, files in os.walk(os.path.join(root, folder)):
        for f in files:
            if f.endswith((".h", ".cpp", ".def")):
                yield os.path.join(base, f)


def cmake_libraries(root):
    """{library: (folder, [linked kiln libraries], [sources])} from every CMakeLists.txt."""
    libs, links = {}, {}
    for folder in ALLOWED:
        path = os.path.join(root, folder, "CMakeLists.txt")
        if not os.path.exists(path):
            continue
        text = re.sub(r"#[^\n]*", "", open(path).read())
        for m in re.finditer(r"add_(?:library|executable)\(\s*([\w-]+)([^)]*)\)", text):
            libs[m.group(1)] = (folder, [s for s in m.group(2).split() if s.endswith(".cpp")])
        for m in re.finditer(r"target_link_libraries\(\s*([\w-]+)([^)]*)\)", text):
            links.setdefault(m.group(1), []).extend(re.findall(r"\bkiln_\w+", m.group(2)))
    return {name: (folder, links.get(name, []), srcs) for name, (folder, srcs) in libs.items()}


def self_test():
    """The checker fails on a tree with one forbidden include and one forbidden link."""
    import tempfile
    with tempfile.TemporaryDirectory() as root:
        for folder in ("ir", "compiler", "runtime", "tools"):
            os.makedirs(os.path.join(root, folder))
        open(os.path.join(root, "ir", "a.h"), "w").write('#include "compiler/pass.h"\n')
        open(os.path.join(root, "runtime", "CMakeLists.txt"), "w").write("add_library(kiln_trainer t.cpp)\n"
                                                                        "target_link_libraries(kiln_trainer PUBLIC kiln_compiler)\n")
        open(os.path.join(root, "compiler", "CMakeLists.txt"), "w").write("add_library(kiln_compiler c.cpp)\n")
        open(os.path.join(root, "tools", "CMakeLists.txt"), "w").write("add_executable(kiln-trainer m.cpp)\n"
                                                                      "target_link_libraries(kiln-trainer PRIVATE kiln_trainer)\n")
        errors = check(root, None)
    want = ["ir/a.h: includes compiler/", "kiln_trainer links kiln_compiler", "kiln-trainer links kiln_compiler"]
    missing = [w for w in want if not any(w in e for e in errors)]
    print("layering self-test:", "ok" if not missing else f"did not report {missing}")
    return not missing


def main():
    if not self_test():
        return 1
    errors = check(os.path.abspath(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None)
    for e in errors:
        print("layering:", e)
    print(f"layering: {'ok' if not errors else str(len(errors)) + ' violation(s)'}")
    return 1 if errors else 0


def check(root, build):
    errors = []
    for folder, allowed in ALLOWED.items():
        for path in sources(root, folder):
            for used in INCLUDE.findall(open(path, encoding="utf-8").read()):
                if used in FOLDERS and used not in allowed:
                    errors.append(f"{os.path.relpath(path, root)}: includes {used}/ (a {folder}/ file may include "
                                  f"{', '.join(sorted(allowed))})")
    libs = cmake_libraries(root)
    for name, (folder, deps, _) in libs.items():
        for dep in deps:
            if dep in libs and libs[dep][0] not in ALLOWED[folder]:
                errors.append(f"{folder}/CMakeLists.txt: {name} links {dep} ({libs[dep][0]}/), which {folder}/ may not use")
    # A target's run half: the sources of kiln_devices include nothing of the compiler.
    run_half = set()
    for lib, folder in (("kiln_devices", "targets"), ("kiln_objective_data", "objectives")):
        for src in libs.get(lib, ("", [], []))[2]:
            path = os.path.join(root, folder, src)
            run_half |= {path, path[:-4] + ".h"}
    for path in run_half:
        if os.path.exists(path):
            for used in INCLUDE.findall(open(path).read()):
                if used in ("compiler", "frontends", "models"):
                    errors.append(f"{os.path.relpath(path, root)}: a run half includes {used}/")
    # What a trainer links, transitively: no compiler, frontend or MLIR library.
    seen, todo = set(), ["kiln-trainer"]
    while todo:
        lib = todo.pop()
        for dep in libs.get(lib, ("", [], []))[1]:
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    for bad in ("kiln_compiler", "kiln_targets", "kiln_cpu_codegen", "kiln_objectives", "kiln_frontends", "kiln_models"):
        if bad in seen:
            errors.append(f"kiln-trainer links {bad} (through {', '.join(sorted(seen))})")
    if build:
        exe = os.path.join(build, "tools", "kiln-trainer")
        ldd = subprocess.run(["ldd", exe], capture_output=True, text=True).stdout
        for line in ldd.splitlines():
            if re.search(r"libLLVM|libMLIR|libclang", line):
                errors.append(f"kiln-trainer loads {line.strip()}")
        nm = subprocess.run(["nm", "-C", "--defined-only", exe], capture_output=True, text=True).stdout
        bad = sorted({m.group(1) for m in FORBIDDEN_SYMBOLS.finditer(nm)})
        if bad:
            errors.append(f"kiln-trainer defines compiler or MLIR/LLVM code: {', '.join(bad)}")
        if not nm.strip():
            errors.append("nm found no symbols in kiln-trainer (not built?)")
    return errors


if __name__ == "__main__":
    sys.exit(main())
