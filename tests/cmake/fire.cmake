# SPDX-License-Identifier: GPL-3.0-or-later
# "Under fire" tests (issue #7): the real sender and client through
# bildfunk-netsim (random loss with adaptive FEC, a bad mixed network,
# jitter with reordering and duplication) and
# through bf_flood (100 k bad datagrams/s into the client's port), all in
# tests/fire/fire.sh. About 130 s together in a normal build (the control_*
# cases: the same on a paired, sealed control session, netsim put in by the
# client's --data-via).
# tests/fire/soak.sh (10 min, 1080p60) is run by hand, not registered here.
# In the ASan + UBSan build they run short (BF_FIRE_SHORT=1: 300-600
# pictures, a 20 k/s flood) with the same thresholds: there they are a memory
# and UB check of the same paths under impairment; the full-length figures
# (1200 pictures, 100 k/s) come from the normal build.
if(NOT TARGET bildfunk OR NOT TARGET bildfunk-send OR NOT TARGET bildfunk-netsim)
  return()
endif()
set(bf_fire_dir ${CMAKE_CURRENT_LIST_DIR}/../fire)

add_executable(bf_flood ${bf_fire_dir}/bf_flood.c)
target_compile_definitions(bf_flood PRIVATE _GNU_SOURCE)
target_link_libraries(bf_flood PRIVATE bftransport bf_warnings)

set(bf_fire_env
  BF_CLIENT=$<TARGET_FILE:bildfunk>
  BF_SENDER=$<TARGET_FILE:bildfunk-send>
  BF_NETSIM=$<TARGET_FILE:bildfunk-netsim>
  BF_FLOOD=$<TARGET_FILE:bf_flood>
  LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_LIST_DIR}/../client/lsan.supp:print_suppressions=0)
if(BF_SANITIZE)
  list(APPEND bf_fire_env BF_FIRE_SHORT=1)
endif()
set(bf_fire_cases loss1 loss5 loss10 mixed jitter ratelimit flood)
# control_*: the same impairments on a paired, sealed control session (needs
# TLS: BF_SEAL), netsim put in with the client's --data-via
if(BF_SEAL)
  list(APPEND bf_fire_cases control_loss5 control_jitter)
endif()
foreach(case IN LISTS bf_fire_cases)
  add_test(NAME fire_${case} COMMAND bash ${bf_fire_dir}/fire.sh ${case})
  set_tests_properties(fire_${case} PROPERTIES
    ENVIRONMENT "${bf_fire_env}" TIMEOUT 120 SKIP_RETURN_CODE 77 LABELS "fire;e2e"
    RESOURCE_LOCK client_e2e)
endforeach()
# fire_ratelimit (a link 20 % below the stream's rate) runs the sender's
# rate control (sender/ratectl.h); without it the stream froze.
