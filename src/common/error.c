/* Names for amplink's error codes. */
#include "amplink/error.h"

const char *al_strerror(int err)
{
	switch (err) {
	case AL_OK: return "success";
	case AL_ENOMEM: return "not enough memory (pool or storage too small)";
	case AL_ENOBUFS: return "no free message buffer";
	case AL_EINVAL: return "invalid argument";
	case AL_ESTATE: return "wrong state (link not up or endpoint not bound)";
	case AL_EMSGSIZE: return "message larger than a buffer";
	case AL_EINIT: return "bad link layout or configuration";
	case AL_EADDR: return "address taken, reserved or out of range";
	case AL_EPERM: return "operation not permitted";
	case AL_EOPNOTSUPP: return "operation not supported";
	case AL_ETIMEDOUT: return "timed out";
	case AL_EBROKEN: return "link broken: the peer corrupted shared memory";
	case AL_EAGAIN: return "try again";
	case AL_ENOLINK: return "link down: the peer is gone";
	case AL_EPROTO: return "protocol error: malformed or out-of-sequence data";
	default: return "unknown error";
	}
}
