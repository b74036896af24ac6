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
  # the channel's relayed path counts allocations (alloc_count.cmake)
  bf_test_count_allocs(turn_e2e)
  add_test(NAME turn_e2e COMMAND turn_e2e)
  set_tests_properties(turn_e2e PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 60)
endif()

# The relayed data path with the real programs (issue #18): client and sender
# each behind an nftables home router in network namespaces, coturn between
# them (tests/nat/relay_nat.sh): direct with the data port forwarded, direct
# with only the control port forwarded (two-sided punch, protocol.md 7.1),
# through the relay behind a random-port NAT (bit-exact), the "data path did
# not open" advice without a relay (naming the sender's missing or failed
# relay: RelayFailed), both sides with a relay, --reconnect through either
# side's relay, and wrong TURN credentials. About 70 s;
# needs root (exit 77 = skip otherwise; BF_REQUIRE_ALL=1 makes it a failure).
if(BF_SEAL AND CMAKE_SYSTEM_NAME STREQUAL "Linux" AND TARGET bildfunk AND TARGET bildfunk-send)
  add_test(NAME relay_nat COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/../nat/relay_nat.sh)
  set_tests_properties(relay_nat PROPERTIES
    ENVIRONMENT "BF_CLIENT=$<TARGET_FILE:bildfunk>;BF_SENDER=$<TARGET_FILE:bildfunk-send>"
    SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS "e2e" RESOURCE_LOCK client_e2e)
endif()
