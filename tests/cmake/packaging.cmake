# SPDX-License-Identifier: GPL-3.0-or-later
# Packaging tests (issue #8), all under ctest:
#   packaging_wireshark_dissector  bildfunk.lua on a real loopback capture of
#                                  datagrams made by libbftransport (root)
#   packaging_wireshark_stream     bildfunk.lua on a capture of a real
#                                  bildfunk-send -> bildfunk stream (root)
#   packaging_desktop              desktop-file-validate, appstreamcli validate,
#                                  rendered icon sizes, metainfo licence, home
#                                  page and screenshots vs assets/screenshots
#   packaging_screenshots          packaging/screenshots.sh under Xvfb makes the
#                                  committed screenshots again
#   packaging_help_pipeline        help2man + gen-completion.sh + check-help.sh
#                                  on a stand-in program, drift must fail
#   packaging_help_<program>       man page and completion of each program in
#                                  the build agree with its --help
#   packaging_deb                  the .deb's metadata, dependencies and files
#   packaging_spdx                 every source and build file carries its
#                                  SPDX-License-Identifier line
# The scripts exit 77 (skipped) when a tool is missing, or fail under
# BF_REQUIRE_ALL=1 (CI).
# The licence line in every source and build file (scripts/spdx.sh --check),
# so a new file without one fails here and names itself. It reads the source
# tree only, so it is registered before the cross-build cut below (the
# Windows build does not include this file at all: tests/CMakeLists.txt).
add_test(NAME packaging_spdx COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/spdx.sh --check)
set_tests_properties(packaging_spdx PROPERTIES TIMEOUT 60)

# Not in cross builds (the Windows one runs its tests under wine): these test
# the Linux package and run host tools.
if(CMAKE_CROSSCOMPILING)
  return()
endif()
set(bf_pkg_src ${PROJECT_SOURCE_DIR}/packaging)
set(bf_pkg_gen ${PROJECT_BINARY_DIR}/packaging/generated)

if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  add_executable(bf_wire_sample ${bf_pkg_src}/wireshark/wire_sample.c)
  target_compile_definitions(bf_wire_sample PRIVATE _GNU_SOURCE)
  target_link_libraries(bf_wire_sample PRIVATE bftransport bf_warnings)
  add_test(NAME packaging_wireshark_dissector
           COMMAND bash ${bf_pkg_src}/wireshark/test-dissector.sh
                   $<TARGET_FILE:bf_wire_sample> ${bf_pkg_src}/wireshark/bildfunk.lua)
  set_tests_properties(packaging_wireshark_dissector PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)
endif()

add_test(NAME packaging_desktop
         COMMAND bash ${bf_pkg_src}/tests/test-desktop.sh ${PROJECT_SOURCE_DIR}/assets
                 ${bf_pkg_gen}/icons)
add_test(NAME packaging_help_pipeline
         COMMAND bash ${bf_pkg_src}/tests/test-help-pipeline.sh ${bf_pkg_src})
set_tests_properties(packaging_desktop packaging_help_pipeline PROPERTIES
                     SKIP_RETURN_CODE 77 TIMEOUT 60)

# tests/ is configured before packaging/, so the programs are looked up here
# the same way packaging/CMakeLists.txt does.
find_program(BF_HELP2MAN help2man)
set(bf_pkg_programs "")
foreach(t IN ITEMS bildfunk bildfunk-send bildfunk-netsim)
  if(TARGET ${t})
    list(APPEND bf_pkg_programs ${t})
  endif()
endforeach()
# Each page's examples may show the other programs' command lines: their
# options are checked against those programs' --help.
foreach(t IN LISTS bf_pkg_programs)
  if(BF_HELP2MAN)
    set(others "")
    foreach(o IN LISTS bf_pkg_programs)
      if(NOT o STREQUAL t)
        list(APPEND others $<TARGET_FILE:${o}>)
      endif()
    endforeach()
    add_test(NAME packaging_help_${t}
             COMMAND bash ${bf_pkg_src}/check-help.sh $<TARGET_FILE:${t}>
                     ${bf_pkg_gen}/${t}.1 ${bf_pkg_gen}/completions/${t}
                     ${bf_pkg_src}/man/${t}.h2m ${others})
    set_tests_properties(packaging_help_${t} PROPERTIES TIMEOUT 60)
  endif()
endforeach()

if(CMAKE_SYSTEM_NAME STREQUAL "Linux" AND TARGET bildfunk AND TARGET bildfunk-send)
  add_test(NAME packaging_wireshark_stream
           COMMAND bash ${bf_pkg_src}/wireshark/test-stream.sh $<TARGET_FILE:bildfunk-send>
                   $<TARGET_FILE:bildfunk> ${bf_pkg_src}/wireshark/bildfunk.lua)
  set_tests_properties(packaging_wireshark_stream PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)
endif()

# The AppStream screenshots, made again from the real programs under Xvfb.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux" AND TARGET bildfunk AND TARGET bildfunk-send
   AND TARGET bf_shotcheck)
  add_test(NAME packaging_screenshots
           COMMAND bash ${bf_pkg_src}/tests/test-screenshots.sh ${PROJECT_SOURCE_DIR}/assets)
  set_tests_properties(packaging_screenshots PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120
    ENVIRONMENT "BF_CLIENT=$<TARGET_FILE:bildfunk>;BF_SENDER=$<TARGET_FILE:bildfunk-send>;BF_SHOTCHECK=$<TARGET_FILE:bf_shotcheck>")
endif()

if(NOT BF_SANITIZE)
  add_test(NAME packaging_deb
           COMMAND bash ${bf_pkg_src}/tests/test-deb.sh ${PROJECT_BINARY_DIR} ${bf_pkg_programs})
  set_tests_properties(packaging_deb PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()
