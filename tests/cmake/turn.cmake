# SPDX-License-Identifier: GPL-3.0-or-later
# TURN relay (issue #18): the transport's STUN/TURN client against real
# coturn servers that the test starts itself on 127.0.0.1 (free ports,
# temporary configs, no daemon, no CLI); about 2.5 s. Exit 77 (skip) only
# when turnserver (Debian package coturn) is missing; with BF_REQUIRE_ALL=1
# (CI) that is a failure. The STUN/TURN modules need OpenSSL (BF_SEAL).
if(BF_SEAL AND CMAKE_SYSTEM_NAME STREQUAL "Linux")
  add_executable(turn_e2e ${CMAKE_CURRENT_LIST_DIR}/../turn/turn_e2e.c)
  target_compile_definitions(turn_e2e PRIVATE _GNU_SOURCE)
  target_link_libraries(turn_e2e PRIVATE bftransport bf_warnings)
  add_test(NAME turn_e2e COMMAND turn_e2e)
  set_tests_properties(turn_e2e PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 60)
endif()
