# SPDX-License-Identifier: GPL-3.0-or-later
# The Debian package, made by CPack: `cmake --build BUILD --target package`
# writes BUILD/bildfunk_<version>_<arch>.deb. Its dependencies are computed
# from the installed binaries by dpkg-shlibdeps (CPACK_DEBIAN_PACKAGE_SHLIBDEPS),
# so they follow whatever the programs link (FFmpeg, SDL2, ISA-L, ...), not a
# hand-kept list. Only the install COMPONENT "bildfunk" goes in, so install()
# rules other parts of the tree may add for development never leak into it.
# Included from packaging/CMakeLists.txt.
set(CPACK_PACKAGE_NAME bildfunk)
# The project has no public home or mail address yet: the contact is a
# placeholder in the reserved .invalid domain (RFC 2606: it can never reach
# anybody else). Replace it here and in debian/changelog and debian/copyright
# when the project is published.
set(BF_PACKAGE_MAINTAINER "bildfunk developers <bildfunk@bildfunk.invalid>")
set(CPACK_PACKAGE_VENDOR "bildfunk developers")
set(CPACK_PACKAGE_CONTACT "${BF_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${BF_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
# Lines of at most 80 characters (lintian: extended-description-line-too-long);
# an empty line becomes the " ." paragraph break.
set(CPACK_PACKAGE_DESCRIPTION
    "bildfunk streams the picture of a game or a desktop from one computer to\n\
another with low latency. The sender, bildfunk-send, encodes it with FFmpeg\n\
and sends it as UDP datagrams protected by Reed-Solomon forward error\n\
correction; the client, bildfunk, rebuilds lost packets, decodes the video\n\
and shows it through SDL2, with an overlay that tells where each millisecond\n\
of latency goes. A client is paired with a sender once; the session is\n\
encrypted (TLS 1.3 control connection, AES-GCM video).\n\
\n\
Also included: bildfunk-netsim, a UDP relay that impairs a network path\n\
reproducibly (loss, jitter, reordering, rate limits), man pages, bash\n\
completion and a Wireshark dissector for the wire format.")
set(CPACK_PACKAGE_INSTALL_DIRECTORY bildfunk)
set(CPACK_GENERATOR DEB)
set(CPACK_SOURCE_GENERATOR "")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_COMPONENTS_ALL bildfunk)
set(CPACK_DEB_COMPONENT_INSTALL OFF)

set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# "video", not "games": Debian's games section is for games themselves
# (lintian: package-section-games-but-contains-no-game); this streams video.
set(CPACK_DEBIAN_PACKAGE_SECTION video)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# What the packaged extras use, not what the binaries link (shlibdeps adds those).
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "tshark | wireshark, bash-completion")
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)

include(CPack)
