# SPDX-License-Identifier: GPL-3.0-or-later
# Sound (issue #14): the end-to-end cases of tests/audio/e2e.sh (sender ->
# client with SDL's disk driver, netsim for loss, a user PulseAudio, an AAC
# file) and their PCM checker.
if(NOT TARGET bildfunk OR NOT TARGET bildfunk-send)
  return()
endif()
set(bf_audio_tests ${CMAKE_CURRENT_LIST_DIR}/../audio)
add_executable(bf_pcmcheck ${bf_audio_tests}/bf_pcmcheck.c)
target_compile_definitions(bf_pcmcheck PRIVATE _GNU_SOURCE)
target_link_libraries(bf_pcmcheck PRIVATE bf_warnings m)
set(bf_audio_env
  BF_CLIENT=$<TARGET_FILE:bildfunk>
  BF_SENDER=$<TARGET_FILE:bildfunk-send>
  BF_PCMCHECK=$<TARGET_FILE:bf_pcmcheck>)
if(TARGET bildfunk-netsim)
  list(APPEND bf_audio_env BF_NETSIM=$<TARGET_FILE:bildfunk-netsim>)
endif()
foreach(case tone tone-loss av-offset av-offset-late drift file-aac pulse)
  add_test(NAME audio_e2e_${case} COMMAND bash ${bf_audio_tests}/e2e.sh ${case})
  set_tests_properties(audio_e2e_${case} PROPERTIES
    ENVIRONMENT "${bf_audio_env}" TIMEOUT 180 SKIP_RETURN_CODE 77 LABELS "audio;e2e"
    RESOURCE_LOCK audio_e2e)
endforeach()
