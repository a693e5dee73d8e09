/* Lets RPMsg-Lite code include "rpmsg_queue.h" unchanged. */
#include "amplink/rpmsg_queue.h"
