// Compiles with io/'s include root: io may include base.
#include "base/fd.h"
#include "io/line_cutter.h"
