# SPDX-License-Identifier: GPL-3.0-or-later
# Sealed data plane through the real programs (issue #6): tests/security/
# e2e.sh with a tamper relay / foreign-punch tool (bf_tamper.c), and a forged
# BYE into a clear direct stream (forged-bye). The programs
# are keyed with a shared --seal-key-file secret; the capture case needs
# tshark and root and is skipped (77) without them.
if(NOT BF_SEAL OR NOT TARGET bildfunk-send OR NOT TARGET bildfunk)
  return()
endif()
set(bf_security_tests ${CMAKE_CURRENT_LIST_DIR}/../security)
add_executable(bf_tamper ${bf_security_tests}/bf_tamper.c)
target_compile_definitions(bf_tamper PRIVATE _GNU_SOURCE)
target_link_libraries(bf_tamper PRIVATE bftransport bf_warnings)
set(bf_security_env
  LSAN_OPTIONS=suppressions=${bf_security_tests}/../client/lsan.supp:print_suppressions=0
  BF_SENDER=$<TARGET_FILE:bildfunk-send>
  BF_CLIENT=$<TARGET_FILE:bildfunk>
  BF_TAMPER=$<TARGET_FILE:bf_tamper>)
foreach(case IN ITEMS tamper capture foreign-punch forged-bye forged-jump)
  add_test(NAME security_e2e_${case} COMMAND bash ${bf_security_tests}/e2e.sh ${case})
  set_tests_properties(security_e2e_${case} PROPERTIES
    ENVIRONMENT "${bf_security_env}" TIMEOUT 120 SKIP_RETURN_CODE 77 LABELS "security;e2e"
    RESOURCE_LOCK client_e2e)
endforeach()
# The authenticated control session through both programs (issue #6):
# tests/security/pair.sh, each case with fresh --config-dirs; the test types
# each side's code into the other side's stdin.
foreach(case IN ITEMS pair wrong-code client-wrong-code revoked changed-cert unpaired capture
                      foreign-punch same-ip-punch dead-sender sender-error crlf-pins not-a-file paired-name busy reconnect pair-while-streaming)
  add_test(NAME security_pair_${case} COMMAND bash ${bf_security_tests}/pair.sh ${case})
  set_tests_properties(security_pair_${case} PROPERTIES
    ENVIRONMENT "${bf_security_env}" TIMEOUT 120 SKIP_RETURN_CODE 77 LABELS "security;e2e"
    RESOURCE_LOCK client_e2e)
endforeach()
