# SPDX-License-Identifier: GPL-3.0-or-later
# Input tests (issue #13): end-to-end cases in tests/input/input_e2e.sh that
# start the real sender and client on two Xvfb displays (xdotool types and
# clicks into the client's window; bf_xlog logs what reaches the sender's
# display), through bildfunk-netsim for the lossy case, with an SDL virtual
# pad for the gamepad case, and bf_inpeer as the peer that may not inject.
# The unit tests are tests/test_input*.c (the wire and the link),
# tests/sender/test_input_*.c and tests/client/test_photon.c.
# Every case pairs a client over the TLS control session: it needs BF_SEAL.
if(NOT TARGET bildfunk OR NOT TARGET bildfunk-send OR NOT BF_SEAL)
  return()
endif()
set(bf_input_dir ${CMAKE_CURRENT_LIST_DIR}/../input)

pkg_check_modules(BF_INPUT_X11 IMPORTED_TARGET x11)
if(NOT BF_INPUT_X11_FOUND)
  return()
endif()
add_executable(bf_xlog ${bf_input_dir}/bf_xlog.c)
target_compile_definitions(bf_xlog PRIVATE _GNU_SOURCE)
target_link_libraries(bf_xlog PRIVATE PkgConfig::BF_INPUT_X11 bf_warnings)
add_executable(bf_inpeer ${bf_input_dir}/bf_inpeer.c)
target_compile_definitions(bf_inpeer PRIVATE _GNU_SOURCE)
target_link_libraries(bf_inpeer PRIVATE bftransport bf_warnings)

set(bf_input_env
  BF_CLIENT=$<TARGET_FILE:bildfunk>
  BF_SENDER=$<TARGET_FILE:bildfunk-send>
  BF_XLOG=$<TARGET_FILE:bf_xlog>
  BF_INPEER=$<TARGET_FILE:bf_inpeer>
  LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_LIST_DIR}/../client/lsan.supp:print_suppressions=0)
if(TARGET bildfunk-netsim)
  list(APPEND bf_input_env BF_NETSIM=$<TARGET_FILE:bildfunk-netsim>)
endif()
set(bf_input_cases type click relative loss kill gamepad direct reconnect)
foreach(case IN LISTS bf_input_cases)
  add_test(NAME input_e2e_${case} COMMAND bash ${bf_input_dir}/input_e2e.sh ${case})
  set_tests_properties(input_e2e_${case} PROPERTIES
    ENVIRONMENT "${bf_input_env}" TIMEOUT 180 SKIP_RETURN_CODE 77 LABELS "input;e2e"
    RESOURCE_LOCK client_e2e)
endforeach()
