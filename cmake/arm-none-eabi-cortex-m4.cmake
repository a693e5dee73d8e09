# CMake toolchain file: Cortex-M4 firmware with Debian's gcc-arm-none-eabi
# (bare metal, no OS) and newlib-nano. Used by the firmware project in mcu/
# (cmake -S mcu -B build-mcu picks it up by default); the host build never
# sees it.
#
# The flags are exactly those the size figures of `make size` are measured
# with, so that the figures compare with RPMsg-Lite's and OpenAMP's:
#   -mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections,
#   newlib-nano (--specs=nano.specs), --gc-sections, and a linker map next
#   to every image (<image>.map) for the per-component size split.
# Float ABI stays the compiler default (soft): the core has no floating
# point, and it keeps the image independent of the FPU being enabled.

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(AL_CROSS arm-none-eabi-)
set(CMAKE_C_COMPILER ${AL_CROSS}gcc)
set(CMAKE_ASM_COMPILER ${AL_CROSS}gcc)
set(CMAKE_AR ${AL_CROSS}ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${AL_CROSS}ranlib CACHE FILEPATH "")
set(CMAKE_OBJCOPY ${AL_CROSS}objcopy CACHE FILEPATH "")
set(CMAKE_SIZE ${AL_CROSS}size CACHE FILEPATH "")
set(CMAKE_NM ${AL_CROSS}nm CACHE FILEPATH "")

# No OS to run a test program on: let CMake's compiler check build a
# static library instead of linking an executable.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(AL_MCU_FLAGS "-mcpu=cortex-m4 -mthumb")
set(CMAKE_C_FLAGS_INIT "${AL_MCU_FLAGS} -Os -ffunction-sections -fdata-sections")
set(CMAKE_ASM_FLAGS_INIT "${AL_MCU_FLAGS}")
# -Os whatever the build type, so that a Debug or Release tree measures the
# same code (a later -O2/-O3 from the build type would win otherwise).
foreach(cfg DEBUG RELEASE RELWITHDEBINFO MINSIZEREL)
  set(CMAKE_C_FLAGS_${cfg}_INIT "-Os -g")
endforeach()

# Our own startup code and vector table: no crt0 (-nostartfiles). libc is
# only there for memcpy/memset/strncmp; nano.specs picks newlib-nano.
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "${AL_MCU_FLAGS} --specs=nano.specs -nostartfiles -Wl,--gc-sections -Wl,--print-memory-usage")

# Every executable gets a GNU ld map file next to it (<image>.map), which
# scripts/size_report.py reads.
set(CMAKE_C_LINK_EXECUTABLE
    "<CMAKE_C_COMPILER> <FLAGS> <CMAKE_C_LINK_FLAGS> <LINK_FLAGS> <OBJECTS> -o <TARGET> -Wl,-Map=<TARGET>.map <LINK_LIBRARIES>")

# Find headers and libraries of the cross environment only.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
