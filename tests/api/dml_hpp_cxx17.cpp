// dml.hpp is C++17: this file is compiled with -std=c++17 into the wrapper's
// test, so a newer construct in the header fails the build.
#include "api/dml.hpp"

#if __cplusplus != 201703L
#error "compile this file as C++17"
#endif
