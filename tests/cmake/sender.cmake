# SPDX-License-Identifier: GPL-3.0-or-later
# Sender tests (issue #4): cmocka unit tests of the sans-I/O modules and the
# encoder, helper programs (a test receiver on the real UDP transport + punch
# + reassembler, a strip checker), and end-to-end cases run by
# tests/sender/e2e.sh against the real bildfunk-send over loopback.
if(NOT TARGET bildfunk-send)
  return()
endif()

set(bf_sender_tests ${CMAKE_SOURCE_DIR}/tests/sender)
# Leaks inside libx265 itself are not ours (ASan builds).
set(bf_sender_test_env "LSAN_OPTIONS=suppressions=${bf_sender_tests}/lsan.supp:print_suppressions=0")

# Unit tests: tests/sender/test_*.c, each a cmocka program.
file(GLOB bf_sender_unit CONFIGURE_DEPENDS ${bf_sender_tests}/test_*.c)
if(NOT BF_SEAL) # no OpenSSL: no control plane, no pin store
  list(FILTER bf_sender_unit EXCLUDE REGEX "/test_(ctl_server|pin_writer)\\.c$")
endif()
foreach(src IN LISTS bf_sender_unit)
  get_filename_component(name ${src} NAME_WE)
  set(name sender_${name})
  add_executable(${name} ${src})
  target_compile_definitions(${name} PRIVATE _GNU_SOURCE)
  target_link_libraries(${name} PRIVATE bfsender_av bf_testutil bf_warnings)
  if(name MATCHES "_input_")
    target_link_libraries(${name} PRIVATE bfsender_input)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300
                       ENVIRONMENT "${bf_sender_test_env}")
endforeach()

add_executable(bf-test-recv ${bf_sender_tests}/bf_test_recv.c)
target_compile_definitions(bf-test-recv PRIVATE _GNU_SOURCE)
target_link_libraries(bf-test-recv PRIVATE bfsender_core bf_warnings)

# A control-mode test client on the library's client role (not the bildfunk
# program), for the control-mode e2e case.
set(bf_sender_e2e_env "${bf_sender_test_env}")
if(BF_SEAL)
  add_executable(bf-ctl-client ${bf_sender_tests}/bf_ctl_client.c)
  target_compile_definitions(bf-ctl-client PRIVATE _GNU_SOURCE)
  target_link_libraries(bf-ctl-client PRIVATE bftransport bf_warnings)
  list(APPEND bf_sender_e2e_env "BF_CTL_CLIENT=$<TARGET_FILE:bf-ctl-client>")
endif()

add_executable(bf-strip-check ${bf_sender_tests}/bf_strip_check.c)
target_link_libraries(bf-strip-check PRIVATE bf_strip bf_warnings)

# End-to-end cases. Each runs the real sender and the test receiver over
# loopback on ports the kernel picks, so they may run in parallel.
set(bf_sender_e2e_cases
  h264 hevc av1 keyframe_h264 keyframe_hevc keyframe_av1 garbage session control
  file_passthrough file_loop file_loop_raw file_reencode file_av1 x11 bad_input)
# Intra refresh (issue #7), and adaptive FEC through bildfunk-netsim (skipped
# when netsim is not built).
list(APPEND bf_sender_e2e_cases intra_refresh fec_auto_loss5 fec_auto_clean)
# Control mode (issue #6): pairing through the sender's stdin, sealed streams,
# replacement, a dead peer, a punch from the wrong IP; a replay after a
# re-target; started in the background of a terminal.
list(APPEND bf_sender_e2e_cases control_stream control_replay control_background)
# Rate control through a slow netsim link: libx264 follows the budget,
# libx265 says once that it cannot (issue #7, defect 2).
list(APPEND bf_sender_e2e_cases rate_h264 rate_hevc)
set(bf_sender_netsim "")
if(TARGET bildfunk-netsim)
  set(bf_sender_netsim $<TARGET_FILE:bildfunk-netsim>)
endif()
foreach(case IN LISTS bf_sender_e2e_cases)
  add_test(NAME sender_e2e_${case}
           COMMAND bash ${bf_sender_tests}/e2e.sh ${case}
                   $<TARGET_FILE:bildfunk-send> $<TARGET_FILE:bf-test-recv>
                   $<TARGET_FILE:bf-strip-check> ${bf_sender_netsim})
  set_tests_properties(sender_e2e_${case} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300
                       ENVIRONMENT "${bf_sender_e2e_env}")
endforeach()
