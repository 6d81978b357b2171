# install.cmake - install rules and the exported package; included from the top CMakeLists.txt.
#
# Installs, under CMAKE_INSTALL_PREFIX (or `cmake --install <build> --prefix DIR`):
#   include/rill.h                         the one public header
#   <libdir>/librill.a, librill.so*        rill_static and rill_shared (both OUTPUT_NAME rill)
#   <libdir>/cmake/rill/                   rillConfig.cmake, rillConfigVersion.cmake and
#                                          rillTargets*.cmake
#   <libdir>/pkgconfig/rill.pc
#
# Consumers write find_package(rill) and link rill::rill (static archive; its interface brings
# liburing, ck and pthreads) or rill::shared; or they use `pkg-config rill` (add --static for the
# archive). Both forms are built against an installed copy by tools/test.sh (tests/consumer/).
#
# Everything installed is relocatable: the CMake files find the prefix relative to themselves, and
# rill.pc derives it from ${pcfiledir}, so a tree moved after `cmake --install` (or installed with
# --prefix at install time, or under DESTDIR) still resolves.
#
# Rejected: hard-coding CMAKE_INSTALL_PREFIX into rill.pc at configure time. `cmake --install
# --prefix` overrides the prefix only at install time, so such a file would point at the wrong tree.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(RILL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/rill)

# Must match pkg_check_modules(URING ...) in CMakeLists.txt; rillConfig.cmake and rill.pc repeat it.
set(RILL_URING_MIN 2.3)

# Exported names: rill::rill is the static archive (as in the build tree's alias), rill::shared
# the shared library.
set_target_properties(rill_static PROPERTIES EXPORT_NAME rill)
set_target_properties(rill_shared PROPERTIES EXPORT_NAME shared)

install(TARGETS rill_static rill_shared
  EXPORT rillTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/rill.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(EXPORT rillTargets NAMESPACE rill:: DESTINATION ${RILL_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/rillConfig.cmake.in
  ${PROJECT_BINARY_DIR}/rillConfig.cmake
  INSTALL_DESTINATION ${RILL_CMAKE_DIR})
# Before 1.0 a minor release may break the API (semver 0.y rules), so 0.1 satisfies only 0.1.z.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/rillConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/rillConfig.cmake ${PROJECT_BINARY_DIR}/rillConfigVersion.cmake
  DESTINATION ${RILL_CMAKE_DIR})

# rill.pc: the prefix is found from the .pc file's own folder, <prefix>/<libdir>/pkgconfig.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(RILL_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(RILL_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(RILL_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH RILL_PC_UP /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
  string(REGEX REPLACE "/$" "" RILL_PC_UP "${RILL_PC_UP}")
  set(RILL_PC_PREFIX "\${pcfiledir}/${RILL_PC_UP}")
  set(RILL_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(RILL_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
set(RILL_PC_LIBS_PRIVATE "-lpthread")
foreach(lib IN LISTS CMAKE_DL_LIBS)
  string(APPEND RILL_PC_LIBS_PRIVATE " -l${lib}")
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/cmake/rill.pc.in ${PROJECT_BINARY_DIR}/rill.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/rill.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
