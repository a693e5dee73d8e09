/* Lets RPMsg-Lite code include "rpmsg_lite.h" unchanged. */
#include "amplink/rpmsg_lite.h"
