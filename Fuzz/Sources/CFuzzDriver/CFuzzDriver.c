// Only the header matters: LLVMFuzzerRunDriver comes from libFuzzer, which
// `-sanitize=fuzzer` links. SwiftPM wants a source file in a C target.
#include "CFuzzDriver.h"
