# The Debian package (cpack -G DEB, or `make package`): everything the install() rules put
# under the prefix, with Depends computed from the programs' shared libraries.
# Included last from the top-level CMakeLists so that every install() rule is known.

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ptq-studio)
set(CPACK_PACKAGE_VENDOR "PTQ Studio")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(PTQ_PACKAGE_MAINTAINER "PTQ Studio maintainers <maintainers@ptqstudio.org>"
  CACHE STRING "Maintainer field of the Debian package")
set(CPACK_PACKAGE_CONTACT "${PTQ_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${PTQ_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
  "PTQ Studio quantizes trained TorchScript models to low bit-widths without retraining.
It shows every layer on the model graph with its bit-width and predicted accuracy loss,
re-allocates per-layer bit-widths with an integer program (lp_solve) while a budget slider
moves, runs AdaQuant, BatchNorm tuning, bias tuning and ZeroQ data-free calibration, and
exports AIMET encodings, quantized TorchScript, JSON and CSV for hardware toolchains.
The ptq command line does everything the window does. Three demo models trained on
Fashion-MNIST (ResNet-20, MobileNetV2, a small ViT) are included.")
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # ptq-studio_VERSION_ARCH.deb
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# RelWithDebInfo binaries carry their debug info; the package ships them stripped.
set(CPACK_STRIP_FILES TRUE)

# Depends: dpkg-shlibdeps (dpkg-dev) names the packages of every shared library the programs
# and plugins load (LibTorch, Qt 6, QCustomPlot, spdlog, fmt, Graphviz, COLAMD, zlib, and
# libonnx1 and libprotobuf32 for the ONNX export; lp_solve is linked statically). Added by hand
# what no ELF file names: the Qt platform plugins a window needs, and Fashion-MNIST, the demo
# models' data and the default calibration source.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libopenblas0-pthread: libtorch links libblas.so.3, which is the reference BLAS unless a fast one
# provides the alternative; every Linear layer is a GEMM through it.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "qt6-qpa-plugins, dataset-fashion-mnist, libopenblas0-pthread")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "hicolor-icon-theme")  # the theme index the PNG icons sit in

include(CPack)
