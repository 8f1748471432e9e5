#include "storage/subscriptions.h"
