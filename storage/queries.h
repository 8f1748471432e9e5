// Repository functions for the queries of the account (issue 3). Placeholder.
#pragma once

#include "storage/store.h"
