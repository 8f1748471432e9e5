// Repository functions for the money of the account (issue 3). Placeholder.
#pragma once

#include "storage/store.h"
