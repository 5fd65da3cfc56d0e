# Finds every third-party package once, and wraps lp_solve (which ships no CMake config)
# in an imported target. Package names are Debian's; see tools/install-deps.sh.

find_package(Qt6 6.4 REQUIRED COMPONENTS Core Gui Widgets PrintSupport Concurrent Svg Test)
# QCustomPlot's link interface names Qt6::PrintSupport, found above. The config named plain
# "QCustomPlot" is the Qt 5 build: never use it.
find_package(QCustomPlotQt6 REQUIRED)
find_package(Torch REQUIRED)
find_package(spdlog REQUIRED)
find_package(ZLIB REQUIRED)
# oneDNN (Debian libdnnl-dev; LibTorch itself runs on its libdnnl2): the quantized layers'
# integer kernels (core/quant/integer_kernels).
find_path(DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp REQUIRED)
find_library(DNNL_LIBRARY NAMES dnnl REQUIRED)
add_library(dnnl::dnnl SHARED IMPORTED)
set_target_properties(dnnl::dnnl PROPERTIES
  IMPORTED_LOCATION "${DNNL_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${DNNL_INCLUDE_DIR}")

find_path(LPSOLVE_INCLUDE_DIR lp_lib.h PATH_SUFFIXES lpsolve REQUIRED)
find_library(LPSOLVE_LIBRARY NAMES lpsolve55_pic liblpsolve55_pic.a REQUIRED)
find_library(COLAMD_LIBRARY NAMES colamd REQUIRED)
add_library(lpsolve::lpsolve STATIC IMPORTED)
set_target_properties(lpsolve::lpsolve PROPERTIES
  IMPORTED_LOCATION "${LPSOLVE_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${LPSOLVE_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES "${COLAMD_LIBRARY};${CMAKE_DL_LIBS}")

# Graphviz's C library (Debian libgraphviz-dev) lays the GUI's graph out with `dot`.
find_package(PkgConfig REQUIRED)
pkg_check_modules(GVC REQUIRED IMPORTED_TARGET libgvc libcgraph)
# The dot layout plugin is linked in and registered by hand, so layouts do not depend on the
# plugin configuration file that libgvc6's install step writes.
find_library(GVPLUGIN_DOT_LAYOUT NAMES gvplugin_dot_layout PATH_SUFFIXES graphviz REQUIRED)
