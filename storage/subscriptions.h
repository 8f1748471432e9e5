// Repository functions for the subscriptions of the account (issue 3). Placeholder.
#pragma once

#include "storage/store.h"
