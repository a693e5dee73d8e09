/* Lets RPMsg-Lite code include "rpmsg_env.h" unchanged (the allocator hooks). */
#include "amplink/rpmsg_env.h"
