# systemd units for the long-running commands (packaging/systemd/,
# docs/gateway.md): configured with the install's bin and sysconf
# directories and installed where systemd looks for them. With the prefix
# /usr that is the pkg-config systemdsystemunitdir (Debian:
# /lib/systemd/system); otherwise PREFIX/lib/systemd/system, so that a
# /usr/local or DESTDIR install never writes outside its prefix.
# AMPLINK_SYSTEMD_UNITDIR overrides; OFF installs no units. Included from
# amplink-install.cmake.
set(AMPLINK_SYSTEMD_UNITS amplink-rproc@.service amplink-rproc-sysfs@.service
  amplink-log@.service amplink-bridge.service amplink-dash.service)

if(NOT DEFINED AMPLINK_SYSTEMD_UNITDIR)
  set(_al_unitdir ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    find_package(PkgConfig QUIET)
    if(PKG_CONFIG_FOUND)
      pkg_get_variable(_al_pc_unitdir systemd systemdsystemunitdir)
      if(_al_pc_unitdir)
        set(_al_unitdir ${_al_pc_unitdir})
      endif()
    endif()
  endif()
  set(AMPLINK_SYSTEMD_UNITDIR ${_al_unitdir} CACHE STRING
    "where to install the systemd units (OFF: not at all)")
endif()

# the values the units name
set(AMPLINK_BINDIR ${CMAKE_INSTALL_FULL_BINDIR})
set(AMPLINK_CONFDIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/amplink)
set(_al_units_out ${PROJECT_BINARY_DIR}/systemd)
set(AMPLINK_SYSTEMD_UNIT_FILES "")
foreach(u ${AMPLINK_SYSTEMD_UNITS})
  configure_file(${PROJECT_SOURCE_DIR}/packaging/systemd/${u}.in ${_al_units_out}/${u} @ONLY)
  list(APPEND AMPLINK_SYSTEMD_UNIT_FILES ${_al_units_out}/${u})
endforeach()
file(GLOB _al_unit_examples ${PROJECT_SOURCE_DIR}/packaging/systemd/examples/*.conf)
foreach(f ${_al_unit_examples})
  get_filename_component(n ${f} NAME)
  configure_file(${f} ${_al_units_out}/examples/${n} @ONLY)
endforeach()

if(AMPLINK_SYSTEMD_UNITDIR)
  install(FILES ${AMPLINK_SYSTEMD_UNIT_FILES} DESTINATION ${AMPLINK_SYSTEMD_UNITDIR})
  # examples, not /etc itself: an install never overwrites a configuration
  install(DIRECTORY ${_al_units_out}/examples/
    DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/amplink/examples/systemd)
endif()
