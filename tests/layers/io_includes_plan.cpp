// Must NOT compile with io/'s include root: io knows no plan (a wrong-way arrow).
#include "plan/plan.h"
