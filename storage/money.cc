#include "storage/money.h"
