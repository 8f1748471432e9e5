// Scripted conversations for the queries flows (issue 3). Placeholder.
#include "tests/dialogs/conversation.h"
