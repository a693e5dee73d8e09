/* Lets OpenAMP code include <openamp/rpmsg.h> unchanged. */
#include "amplink/rpmsg.h"
