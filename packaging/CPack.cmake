# The Debian package, made by CPack: `cmake --build BUILD --target package`
# writes BUILD/bildfunk_<version>_<arch>.deb. Its dependencies are computed
# from the installed binaries by dpkg-shlibdeps (CPACK_DEBIAN_PACKAGE_SHLIBDEPS),
# so they follow whatever the programs link (FFmpeg, SDL2, ISA-L, ...), not a
# hand-kept list. Only the install COMPONENT "bildfunk" goes in, so install()
# rules other parts of the tree may add for development never leak into it.
# Included from packaging/CMakeLists.txt.
set(CPACK_PACKAGE_NAME bildfunk)
set(CPACK_PACKAGE_VENDOR "bildfunk developers")
set(CPACK_PACKAGE_CONTACT "bildfunk developers")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
    "bildfunk streams a game's picture from one computer to another with low latency:\n\
the sender (bildfunk-send) encodes it and sends it as UDP datagrams protected by\n\
Reed-Solomon forward error correction; the client (bildfunk) rebuilds lost\n\
packets, decodes with FFmpeg and shows the picture through SDL2.\n\
Includes man pages, bash completion and a Wireshark dissector for the wire format.")
set(CPACK_PACKAGE_INSTALL_DIRECTORY bildfunk)
set(CPACK_GENERATOR DEB)
set(CPACK_SOURCE_GENERATOR "")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_COMPONENTS_ALL bildfunk)
set(CPACK_DEB_COMPONENT_INSTALL OFF)

set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION games)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# What the packaged extras use, not what the binaries link (shlibdeps adds those).
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "tshark | wireshark, bash-completion")
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)

include(CPack)
