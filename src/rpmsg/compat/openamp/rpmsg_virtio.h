/* Lets OpenAMP code include <openamp/rpmsg_virtio.h> unchanged. */
#include "amplink/rpmsg_virtio.h"
