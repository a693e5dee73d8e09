# Install rules: `cmake --install` puts the headers, the library
# (libamplink.a, and libamplink.so unless AMPLINK_INSTALL_SHARED is OFF), the
# `amplink` tool, its man page, a pkg-config file (amplink.pc) and a CMake
# package (find_package(amplink): targets amplink::amplink and
# amplink::amplink_static) in place. Included from the root CMakeLists.txt
# after every layer is defined.
#
# The installed library is one archive of the host-side layers (portable
# core, POSIX port, host services, the vhost-user device, remote logging),
# rebuilt here from the layers' own sources so that the shared copy is
# position-independent.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
find_package(Threads REQUIRED)

option(AMPLINK_INSTALL_SHARED "Build and install libamplink.so next to libamplink.a" ON)

set(_al_srcs)
set(_al_incs)
foreach(t amplink_common amplink_virtio amplink_rpmsg amplink_remoteproc amplink_proto amplink_posix amplink_log
    amplink_vhost_user amplink_host)
  if(NOT TARGET ${t})
    continue()
  endif()
  get_target_property(_s ${t} SOURCES)
  get_target_property(_d ${t} SOURCE_DIR)
  foreach(f ${_s})
    if(IS_ABSOLUTE ${f})
      list(APPEND _al_srcs ${f})
    else()
      list(APPEND _al_srcs ${_d}/${f})
    endif()
  endforeach()
  get_target_property(_i ${t} INCLUDE_DIRECTORIES)
  if(_i)
    list(APPEND _al_incs ${_i})
  endif()
endforeach()
list(REMOVE_DUPLICATES _al_incs)
list(REMOVE_ITEM _al_incs ${PROJECT_SOURCE_DIR}/include)

set(_al_libs amplink_lib_static)
add_library(amplink_lib_static STATIC ${_al_srcs})
if(AMPLINK_INSTALL_SHARED)
  add_library(amplink_lib_shared SHARED ${_al_srcs})
  set_target_properties(amplink_lib_shared PROPERTIES VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR} EXPORT_NAME amplink)
  list(APPEND _al_libs amplink_lib_shared)
endif()
foreach(t ${_al_libs})
  set_target_properties(${t} PROPERTIES OUTPUT_NAME amplink POSITION_INDEPENDENT_CODE ON)
  target_include_directories(${t} PRIVATE ${_al_incs} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(${t} PUBLIC Threads::Threads)
endforeach()
set_target_properties(amplink_lib_static PROPERTIES EXPORT_NAME amplink_static)

install(TARGETS ${_al_libs} EXPORT amplinkTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# telemetry.h belongs to the optional SQLite store, not to libamplink
install(DIRECTORY include/amplink DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h" PATTERN "telemetry.h" EXCLUDE)
if(TARGET amplink)
  install(TARGETS amplink RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  if(TARGET amplink-dash)
    install(TARGETS amplink-dash RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
  if(TARGET amplink-bridge) # `amplink bridge mqtt` runs it (docs/bridge.md)
    install(TARGETS amplink-bridge RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endif()
install(FILES docs/man/amplink.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
# systemd units for rproc, log, bridge and dash (docs/gateway.md)
include(cmake/amplink-systemd.cmake)

install(EXPORT amplinkTargets NAMESPACE amplink:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/amplink)
configure_package_config_file(cmake/amplinkConfig.cmake.in
  ${PROJECT_BINARY_DIR}/amplinkConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/amplink)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/amplinkConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/amplinkConfig.cmake ${PROJECT_BINARY_DIR}/amplinkConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/amplink)
file(RELATIVE_PATH AL_PC_UP /x/${CMAKE_INSTALL_LIBDIR}/pkgconfig /x)
configure_file(cmake/amplink.pc.in ${PROJECT_BINARY_DIR}/amplink.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/amplink.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# `make docs` / `cmake --build . --target docs`: API reference from the
# headers, if Doxygen is there (the root Makefile's `docs` installs it).
find_package(Doxygen QUIET)
if(DOXYGEN_FOUND)
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E env AMPLINK_SRC=${PROJECT_SOURCE_DIR}
      AMPLINK_DOCS_OUT=${PROJECT_BINARY_DIR}/docs AMPLINK_VERSION=${PROJECT_VERSION}
      ${DOXYGEN_EXECUTABLE} ${PROJECT_SOURCE_DIR}/docs/Doxyfile
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "API reference: ${PROJECT_BINARY_DIR}/docs/html/index.html")
endif()
