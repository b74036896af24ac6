# SPDX-License-Identifier: GPL-3.0-or-later
# Cross-compiling for 64-bit Windows with Debian's mingw-w64 toolchain
# (gcc-mingw-w64-x86-64). Test programs run under wine (wine64 package):
# CMAKE_CROSSCOMPILING_EMULATOR makes ctest start them through it.
#   cmake -S . -B build-win -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64.cmake
# scripts/test-windows.sh does this with the options the Windows build needs.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(BF_MINGW_TRIPLET x86_64-w64-mingw32 CACHE STRING "mingw-w64 target triplet")
set(CMAKE_C_COMPILER ${BF_MINGW_TRIPLET}-gcc)
set(CMAKE_RC_COMPILER ${BF_MINGW_TRIPLET}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${BF_MINGW_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Self-contained .exe files: no libgcc / winpthread DLLs to find under wine.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc")

# wine64 lives outside PATH on Debian (the `wine` package adds /usr/bin/wine).
find_program(BF_WINE NAMES wine64 wine PATHS /usr/lib/wine NO_CMAKE_FIND_ROOT_PATH)
if(BF_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${BF_WINE})
endif()
