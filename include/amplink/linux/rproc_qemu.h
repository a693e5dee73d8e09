/* The `qemu` remoteproc backend: the remote is Cortex-M firmware
 * running in QEMU (qemu-system-arm), booted and watched by al_rproc like
 * the `process` backend's host executables.
 *
 * Per boot the backend (src/linux/remoteproc/rproc_qemu.c):
 *   1. recreates the machine's RAM backing file /dev/shm/<shm_name>
 *      (exactly the board's RAM size, all zeros: QEMU never clears it) and
 *      maps it: this is the shared region, device address = guest physical
 *      address (mps2-an386: 0x21000000 + file offset), so da != va;
 *   2. starts QEMU held before the first instruction (-S) with that RAM
 *      (memory-backend-file, share=on), `-kernel FIRMWARE` (which loads the
 *      `.resource_table` segment into the shared RAM), UART0 as the console
 *      (the rproc's log fd, else our stdout), UART1 as the doorbell on an
 *      abstract UNIX socket (QEMU listens, the host connects; one byte per
 *      kick each way) and a monitor socket;
 *   3. after the host's VirtIO handshake, start() lets the core run
 *      (monitor `cont`); stop() asks QEMU to quit, kill() SIGKILLs it.
 * QEMU dies with its host (PR_SET_PDEATHSIG) and is watched through a
 * pidfd: its exit is a crash, as is a core that stops answering the
 * heartbeat. Linux-only.
 */
#ifndef AMPLINK_RPROC_QEMU_H
#define AMPLINK_RPROC_QEMU_H

#include <stdint.h>

#include "amplink/linux/rproc.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Options of the qemu backend (struct al_rproc_cfg.backend_cfg; NULL: all
 *  defaults). Strings are copied at each boot and need only live as long as
 *  the al_rproc. */
struct al_rproc_qemu_cfg {
	const char *machine;  /* QEMU machine; NULL: "mps2-an386" (the one supported) */
	const char *qemu;     /* the emulator; NULL: $AMPLINK_QEMU, else qemu-system-arm in PATH */
	const char *shm_name; /* RAM file /dev/shm/<shm_name>; NULL: "amplink-<rproc name>" */
	int pin_cpu;	      /* N > 0: pin QEMU to CPU N-1 (sched_setaffinity); 0: no pinning */
	const char *raw_socket; /* non-NULL: UART2 on this abstract UNIX socket (QEMU listens):
				 * the raw doorbell of benchmark baselines (fw_echo echoes
				 * each byte from its interrupt handler) */
};

/** A board the backend knows: its QEMU machine name, where its shared RAM
 *  sits in the guest's address space and how large it is. */
struct al_rproc_qemu_machine {
	const char *name;
	uint64_t ram_base; /* guest physical address of the backing file's first byte */
	uint64_t ram_size; /* the backing file's size (QEMU requires exactly this) */
	const char *qemu;  /* emulator binary */
};

/** The machine called `name`, or NULL if the backend does not know it.
 *  Any context. */
const struct al_rproc_qemu_machine *al_rproc_qemu_find_machine(const char *name);

/** The backend (`name` "qemu", elf_machine AL_EM_ARM). */
extern const struct al_rproc_backend_ops al_rproc_qemu_backend;

#ifdef __cplusplus
}
#endif
#endif
