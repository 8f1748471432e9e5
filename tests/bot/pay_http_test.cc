// Payments over HTTP (issue 3). Placeholder.
#include <gtest/gtest.h>
