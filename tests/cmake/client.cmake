# SPDX-License-Identifier: GPL-3.0-or-later
# The client's tests (issue #5): unit tests of its modules (tests/client/
# test_*.c, cmocka, linked against the same static library as the program),
# two helper programs (a lossy UDP relay and a misbehaving sender), and the
# end-to-end cases in tests/client/e2e.sh that start real processes:
# sender -> client over loopback, with loss, under Xvfb, with bad input.
if(NOT TARGET bfclient)
  return()
endif()
set(bf_client_tests ${CMAKE_CURRENT_LIST_DIR}/../client)

file(GLOB bf_client_unit CONFIGURE_DEPENDS ${bf_client_tests}/test_*.c)
if(NOT BF_SEAL) # no OpenSSL: no control session (ctl_client.c is a stub)
  list(FILTER bf_client_unit EXCLUDE REGEX "/test_ctl_client\\.c$")
endif()
foreach(src IN LISTS bf_client_unit)
  get_filename_component(name ${src} NAME_WE)
  string(REGEX REPLACE "^test_(client_)?" "client_" tname ${name})
  add_executable(${tname} ${src})
  target_compile_definitions(${tname} PRIVATE _GNU_SOURCE)
  target_include_directories(${tname} PRIVATE ${BF_LAVF_INCLUDE_DIRS})
  target_link_libraries(${tname} PRIVATE bfclient bf_testutil bf_warnings)
  add_test(NAME ${tname} COMMAND ${tname})
  set_tests_properties(${tname} PROPERTIES TIMEOUT 120 LABELS client
    ENVIRONMENT "LSAN_OPTIONS=suppressions=${bf_client_tests}/lsan.supp:print_suppressions=0")
endforeach()

add_executable(bf_relay ${bf_client_tests}/bf_relay.c)
target_compile_definitions(bf_relay PRIVATE _GNU_SOURCE)
target_link_libraries(bf_relay PRIVATE bf_warnings)
add_executable(bf_fakesend ${bf_client_tests}/bf_fakesend.c)
target_compile_definitions(bf_fakesend PRIVATE _GNU_SOURCE)
target_link_libraries(bf_fakesend PRIVATE bftransport bf_warnings)

# A stand-in for the sender's control port (the library's sender role).
if(BF_SEAL)
  add_executable(bf_fakectl ${bf_client_tests}/bf_fakectl.c)
  target_compile_definitions(bf_fakectl PRIVATE _GNU_SOURCE)
  target_link_libraries(bf_fakectl PRIVATE bftransport bf_warnings)
endif()

# Display tests: drive the window with Xlib, check screenshots (the test
# pattern's band is read back with the sender's bf_strip).
pkg_check_modules(BF_X11 IMPORTED_TARGET x11)
if(BF_X11_FOUND)
  add_executable(bf_xtool ${bf_client_tests}/bf_xtool.c)
  target_compile_definitions(bf_xtool PRIVATE _GNU_SOURCE)
  target_link_libraries(bf_xtool PRIVATE PkgConfig::BF_X11 bf_warnings)
endif()
if(TARGET bf_strip)
  add_executable(bf_shotcheck ${bf_client_tests}/bf_shotcheck.c)
  target_link_libraries(bf_shotcheck PRIVATE bf_strip bf_warnings)
endif()

# End-to-end cases: one ctest test each, all through e2e.sh.
set(bf_e2e_env
  LSAN_OPTIONS=suppressions=${bf_client_tests}/lsan.supp:print_suppressions=0
  BF_CLIENT=$<TARGET_FILE:bildfunk>
  BF_RELAY=$<TARGET_FILE:bf_relay>
  BF_FAKESEND=$<TARGET_FILE:bf_fakesend>)
set(bf_e2e_cases usage no-sender garbage junk-bitstream decoder-fallback idle-cpu)
if(TARGET bf_fakectl)
  list(APPEND bf_e2e_env BF_FAKECTL=$<TARGET_FILE:bf_fakectl>)
  list(APPEND bf_e2e_cases control-fake list-unpair)
endif()
if(TARGET bildfunk-send)
  list(APPEND bf_e2e_env BF_SENDER=$<TARGET_FILE:bildfunk-send>)
  list(APPEND bf_e2e_cases md5-h264 md5-hevc md5-av1 fec-loss keyframe-recovery intra-refresh-recovery empty-au sender-dies sender-error
       wait-resume garbage-mixed skip-to-live burst-frozen skip-off-slow no-keyframe clock-offset wrong-port host-stage)
  if(TARGET bf_fakectl)
    list(APPEND bf_e2e_cases control-stream)
  endif()
  if(TARGET bf_xtool AND TARGET bf_shotcheck)
    list(APPEND bf_e2e_env BF_XTOOL=$<TARGET_FILE:bf_xtool> BF_SHOTCHECK=$<TARGET_FILE:bf_shotcheck>)
    list(APPEND bf_e2e_cases xvfb-screenshot xvfb-aspect xvfb-error xvfb-fit)
    # start-smooth is about the first second's timing (no skip to live, no
    # keyframe request): under ASan the first present at 1280x720 took
    # 1.3 s on a loaded machine, past the AU queue's 64; the same paths run
    # in the sanitizer suite through xvfb-fit and xvfb-screenshot
    if(NOT BF_SANITIZE)
      list(APPEND bf_e2e_cases start-smooth)
    endif()
    if(TARGET bf_fakectl)
      # xvfb-connect types into the window three times from three starts.
      # Under ASan its keys were lost in 2 of 4 runs: the window it found
      # could be the one SDL destroyed when it made the OpenGL renderer (the
      # window is shown only after that now, ui/display.c); 4 of 4 since.
      list(APPEND bf_e2e_cases xvfb-pair xvfb-pair-refused xvfb-connect)
    endif()
  endif()
endif()
foreach(case IN LISTS bf_e2e_cases)
  add_test(NAME client_e2e_${case} COMMAND bash ${bf_client_tests}/e2e.sh ${case})
  set_tests_properties(client_e2e_${case} PROPERTIES
    ENVIRONMENT "${bf_e2e_env}" TIMEOUT 180 SKIP_RETURN_CODE 77 LABELS "client;e2e"
    RESOURCE_LOCK client_e2e)
endforeach()
