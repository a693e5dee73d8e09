/* Lets OpenAMP code include <openamp/rpmsg_rpc_client_server.h> unchanged. */
#include "amplink/rpmsg_rpc_client_server.h"
