/* Power off a User-Mode Linux guest from its init script: UML has no
 * MAGIC_SYSRQ, and busybox/systemd's poweroff need their init. Runs inside
 * the guest (a host binary: UML runs host executables). */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/reboot.h>
#include <unistd.h>

int main(void)
{
	sync();
	reboot(RB_POWER_OFF);
	perror("poweroff: reboot(RB_POWER_OFF)");
	return 1;
}
