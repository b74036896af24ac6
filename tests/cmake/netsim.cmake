# SPDX-License-Identifier: GPL-3.0-or-later
# bildfunk-netsim: the engine's unit test (test_netsim_impair.c, registered by
# the test_*.c glob) links the engine; the end-to-end test runs the relay on
# loopback between a sending and a receiving socket (netsim_e2e.c).
if(TARGET test_netsim_impair AND TARGET bfimpair)
  target_link_libraries(test_netsim_impair PRIVATE bfimpair)
endif()
if(TARGET bildfunk-netsim)
  add_executable(netsim_e2e ${CMAKE_CURRENT_LIST_DIR}/../netsim_e2e.c)
  target_compile_definitions(netsim_e2e PRIVATE _GNU_SOURCE)
  target_link_libraries(netsim_e2e PRIVATE bf_warnings)
  add_test(NAME netsim_e2e COMMAND netsim_e2e $<TARGET_FILE:bildfunk-netsim>)
  set_tests_properties(netsim_e2e PROPERTIES TIMEOUT 60)
endif()
