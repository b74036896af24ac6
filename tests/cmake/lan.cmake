# SPDX-License-Identifier: GPL-3.0-or-later
# The LAN half of issue #18 (discovery through Avahi, Wake-on-LAN) through
# both programs in two network namespaces with their own dbus-daemon and
# avahi-daemon: tests/lan/lan.sh (root; 77 = skip, a failure in CI).
if(NOT BF_SEAL OR NOT BF_AVAHI OR NOT TARGET bildfunk-send OR NOT TARGET bildfunk)
  return()
endif()
add_test(NAME lan_e2e COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/../lan/lan.sh lan)
set_tests_properties(lan_e2e PROPERTIES
  ENVIRONMENT "BF_SENDER=$<TARGET_FILE:bildfunk-send>;BF_CLIENT=$<TARGET_FILE:bildfunk>;BF_XTOOL=$<TARGET_FILE:bf_xtool>;LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_LIST_DIR}/../client/lsan.supp:print_suppressions=0"
  TIMEOUT 120 SKIP_RETURN_CODE 77 LABELS "lan;e2e" RESOURCE_LOCK client_e2e)
