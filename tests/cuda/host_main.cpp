// The cuda target's host-side tests: code generation and NVRTC, which need no GPU.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>


int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  return context.run();
}
