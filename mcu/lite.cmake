# The RPMsg-Lite-style façade (../src/lite) and its minimal images, included
# by CMakeLists.txt when the façade is in the tree.
#   fw_minimal_lite_static   RL_USE_STATIC_API=1, façade built with
#                            AMPLINK_NO_MALLOC=1: no allocator anywhere
#   fw_minimal_lite_dynamic  RL_USE_STATIC_API=0: instance and endpoint
#                            from newlib-nano's malloc
file(GLOB AL_LITE_SOURCES CONFIGURE_DEPENDS ${AL_ROOT}/src/lite/*.c)
if(NOT AL_LITE_SOURCES)
  message(STATUS "src/lite has no sources yet: RPMsg-Lite-style images skipped")
  return()
endif()

# Both on the minimal-profile core (AL_CFG_MIN, see CMakeLists.txt).
foreach(variant static dynamic)
  add_library(amplink_lite_${variant} STATIC ${AL_LITE_SOURCES})
  target_include_directories(amplink_lite_${variant} PRIVATE ${AL_ROOT}/src/lite ${AL_CORE_INTERNAL})
  target_link_libraries(amplink_lite_${variant} PUBLIC amplink_core_min)
endforeach()
target_compile_definitions(amplink_lite_static PUBLIC AMPLINK_NO_MALLOC=1 RL_USE_STATIC_API=1)
target_compile_definitions(amplink_lite_dynamic PUBLIC AMPLINK_NO_MALLOC=0 RL_USE_STATIC_API=0)
# Both with the firmware's constant platform table and resource table
# (RL_PLATFORM_STATIC, rpmsg_lite_config.h), as RPMsg-Lite firmware has them.
foreach(variant static dynamic)
  target_compile_definitions(amplink_lite_${variant} PUBLIC RL_PLATFORM_STATIC=1)
endforeach()

al_firmware(fw_minimal_lite_static SOURCES fw_minimal_lite.c LIBS amplink_lite_static MIN)
al_firmware(fw_minimal_lite_dynamic SOURCES fw_minimal_lite.c LIBS amplink_lite_dynamic MIN)
# malloc needs _sbrk: newlib's nosys stubs provide it over the `end` symbol
# of the linker script.
target_link_options(fw_minimal_lite_dynamic PRIVATE --specs=nosys.specs)

# The echo firmware booted by `amplink rproc start --machine
# mps2-an386` (fw_echo.c). Its own façade build: 64 buffers per direction
# (the host posts as many as the vrings hold) and 64-byte vring alignment,
# the configuration its .resource_table is computed for; no allocator.
# The constant platform table (RL_PLATFORM_STATIC): the firmware's own
# resource table, as the host loaded it, never rewritten (fw_rproc.c).
set(AL_ECHO_LITE_DEFS AMPLINK_NO_MALLOC=1 RL_USE_STATIC_API=1 RL_BUFFER_COUNT=64U
    RL_VRING_ALIGN=64U RL_PLATFORM_STATIC=1)
add_library(amplink_lite_echo STATIC ${AL_LITE_SOURCES})
target_include_directories(amplink_lite_echo PRIVATE ${AL_ROOT}/src/lite ${AL_CORE_INTERNAL})
target_link_libraries(amplink_lite_echo PUBLIC amplink_core)
target_compile_definitions(amplink_lite_echo PUBLIC ${AL_ECHO_LITE_DEFS})
# Remote logging (../src/log) for the images on this façade build (fw_echo
# here, fw_motor in CMakeLists.txt).
add_library(amplink_log_mcu STATIC ${AL_ROOT}/src/log/rpmsg_log.c)
target_link_libraries(amplink_log_mcu PUBLIC amplink_core)
# With the remoteproc glue fw_rproc.c (resource table, the remote init that
# keeps the host's handshake, heartbeat, log service, the no-heap _sbrk).
al_firmware(fw_echo SOURCES fw_echo.c fw_rproc.c LIBS amplink_lite_echo amplink_log_mcu)
