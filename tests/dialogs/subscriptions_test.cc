// Scripted conversations for the subscriptions flows (issue 3). Placeholder.
#include "tests/dialogs/conversation.h"
