// Repository functions for the services of the account (issue 3). Placeholder.
#pragma once

#include "storage/store.h"
