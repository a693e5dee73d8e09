/* amplink error codes: one negative-code convention for the whole library.
 *
 * The values are those of OpenAMP's RPMSG_ERR_* family so that code written
 * against OpenAMP compares return values unchanged; amplink adds a few codes
 * after them for conditions OpenAMP folds together (timeouts, a broken link).
 * -2001..-2009 are OpenAMP's values one for one (RPMSG_ERR_NO_MEM ..
 * RPMSG_EOPNOTSUPP); amplink's own start at -2010.
 */
#ifndef AMPLINK_ERROR_H
#define AMPLINK_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#define AL_OK	      0
#define AL_ERR_BASE   (-2000)
#define AL_ENOMEM     (AL_ERR_BASE - 1)	 /* storage too small or pool exhausted */
#define AL_ENOBUFS    (AL_ERR_BASE - 2)	 /* no free message buffer (after the timeout) */
#define AL_EINVAL     (AL_ERR_BASE - 3)	 /* bad argument */
#define AL_ESTATE     (AL_ERR_BASE - 4)	 /* wrong state: link not up, endpoint not bound */
#define AL_EMSGSIZE   (AL_ERR_BASE - 5)	 /* payload larger than a buffer */
#define AL_EINIT      (AL_ERR_BASE - 6)	 /* initialisation failed (bad layout or config) */
#define AL_EADDR      (AL_ERR_BASE - 7)	 /* address taken, reserved or unknown */
#define AL_EPERM      (AL_ERR_BASE - 8)	 /* operation not allowed for this role / buffer */
#define AL_EOPNOTSUPP (AL_ERR_BASE - 9)	 /* not supported (OpenAMP's RPMSG_EOPNOTSUPP) */
#define AL_EBROKEN    (AL_ERR_BASE - 10) /* the peer corrupted shared memory; link is dead */
#define AL_EAGAIN     (AL_ERR_BASE - 11) /* nothing to do now, try again later */
#define AL_ENOLINK    (AL_ERR_BASE - 12) /* the peer is gone (crashed, reset, disconnected) */
#define AL_EPROTO     (AL_ERR_BASE - 13) /* malformed or out-of-sequence data (lost fragment) */
#define AL_ETIMEDOUT  (AL_ERR_BASE - 14) /* a wait ran out (link-up, read) */

/** Turn an amplink error code into a short English sentence.
 *  Any context; never returns NULL (unknown codes give "unknown error"). */
const char *al_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
