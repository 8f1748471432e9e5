#include "storage/services.h"
