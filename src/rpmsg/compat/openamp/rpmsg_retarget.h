/* Lets OpenAMP code include <openamp/rpmsg_retarget.h> unchanged. */
#include "amplink/rpmsg_retarget.h"
