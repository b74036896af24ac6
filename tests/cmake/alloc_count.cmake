# SPDX-License-Identifier: GPL-3.0-or-later
# bf_test_count_allocs(TARGET): the test counts every malloc/calloc/realloc
# call of the library's objects and its own (tests/lib/alloc_count.h):
# the wrappers are linked in, the calls wrapped, BF_TEST_WRAP_MALLOC defined.
function(bf_test_count_allocs target)
  target_sources(${target} PRIVATE ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/../lib/alloc_count.c)
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/../lib)
  target_compile_definitions(${target} PRIVATE BF_TEST_WRAP_MALLOC)
  target_link_options(${target} PRIVATE -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc)
endfunction()
