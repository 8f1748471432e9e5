#include "storage/queries.h"
