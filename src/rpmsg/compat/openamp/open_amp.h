/* Lets OpenAMP code include <openamp/open_amp.h> unchanged: the rpmsg and
 * rpmsg-virtio API (amplink has no remoteproc API of OpenAMP's shape; the
 * remote's resource table is amplink/rsc_table.h). */
#include "amplink/rpmsg.h"
#include "amplink/rpmsg_virtio.h"
