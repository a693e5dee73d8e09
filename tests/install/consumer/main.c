/* A tiny program built out of tree against an installed amplink (by
 * tests/install/check_install.sh, through pkg-config and through
 * find_package): proves the headers and the library are usable. */
#include <stdio.h>
#include <string.h>

#include <amplink/error.h>
#include <amplink/linux/posix.h>
#include <amplink/log.h>

int main(void)
{
	static const unsigned char line[16 + 5] = {
	    1,	AL_LOG_WARNING, 0, 0, 1, 0, 0, 0, 0x10, 0x27, 0, 0, 0, 0, 0, 0, 'h', 'e', 'l', 'l',
	    'o'};
	struct al_log_line l;
	char text[32];
	if (al_log_decode(line, sizeof(line), &l, text, sizeof(text)) != 0 || strcmp(text, "hello"))
		return 1;
	printf("amplink consumer ok: %s [%u.%03u] %s; doorbell %s; %s\n",
	       al_log_level_name(l.level), l.ts_ms / 1000u, l.ts_ms % 1000u, text,
	       al_doorbell_name(AL_DB_FUTEX), al_strerror(AL_ENOBUFS));
	return 0;
}
