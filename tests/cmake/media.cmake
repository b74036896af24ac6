# SPDX-License-Identifier: GPL-3.0-or-later
# The media library's tests (tests/media/test_<module>.c, cmocka): codec names
# and detection, the bitstream helpers, the glyph table. No FFmpeg, no SDL:
# they run in every build that has the test suite.
if(NOT TARGET bfmedia)
  return()
endif()
file(GLOB bf_media_unit CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/../media/test_*.c)
foreach(src IN LISTS bf_media_unit)
  get_filename_component(name ${src} NAME_WE)
  string(REPLACE "test_" "media_" tname ${name})
  add_executable(${tname} ${src})
  target_compile_definitions(${tname} PRIVATE _GNU_SOURCE)
  target_link_libraries(${tname} PRIVATE bfmedia bf_testutil bf_warnings)
  add_test(NAME ${tname} COMMAND ${tname})
  set_tests_properties(${tname} PROPERTIES TIMEOUT 60 LABELS media)
endforeach()
