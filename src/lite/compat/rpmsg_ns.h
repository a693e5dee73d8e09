/* Lets RPMsg-Lite code include "rpmsg_ns.h" unchanged. */
#include "amplink/rpmsg_ns.h"
