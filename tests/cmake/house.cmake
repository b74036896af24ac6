# SPDX-License-Identifier: GPL-3.0-or-later
# The house rules (docs/architecture.md): no product file over 800 lines, no
# function over 120, no two product files with the same name.
add_test(NAME house_limits COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/check-house.sh)
set_tests_properties(house_limits PROPERTIES LABELS "house")
