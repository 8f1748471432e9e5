// Scripted conversations for the services flows (issue 3). Placeholder.
#include "tests/dialogs/conversation.h"
