# SPDX-License-Identifier: GPL-3.0-or-later
# Transport (socket I/O, loopback pair, punch): extra wiring for the
# test_udp / test_loopback / test_punch programs of the test_*.c glob, and
# the NAT punch test (three network namespaces, root only).

# test_udp and test_channel count the library's allocations on the hot
# paths (alloc_count.cmake).
if(TARGET test_udp AND CMAKE_SYSTEM_NAME STREQUAL "Linux")
  bf_test_count_allocs(test_udp)
endif()
if(TARGET test_channel AND CMAKE_SYSTEM_NAME STREQUAL "Linux")
  bf_test_count_allocs(test_channel)
endif()
if(TARGET test_loopback AND NOT WIN32)
  target_link_libraries(test_loopback PRIVATE Threads::Threads)
endif()

# NAT punch test: client / router (nftables masquerade) / sender namespaces,
# created and deleted by the script; ~15 s; root only (exit 77 = skip).
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  add_executable(nat_peer ${CMAKE_CURRENT_LIST_DIR}/../nat/nat_peer.c)
  target_compile_definitions(nat_peer PRIVATE _GNU_SOURCE)
  target_link_libraries(nat_peer PRIVATE bftransport bf_warnings)
  add_test(NAME nat_punch
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/../nat/nat_punch.sh $<TARGET_FILE:nat_peer>)
  set_tests_properties(nat_punch PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 90)
endif()
