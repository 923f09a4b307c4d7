// Must NOT compile with plan/'s include root: nothing below run/ includes it.
#include "run/run.h"
