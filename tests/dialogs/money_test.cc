// Scripted conversations for the money flows (issue 3). Placeholder.
#include "tests/dialogs/conversation.h"
