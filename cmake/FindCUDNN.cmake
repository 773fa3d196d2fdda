# Finds cuDNN 9 and defines the imported target CUDNN::cudnn.
#
# Searched first under CUDNN_ROOT (cache variable, or the environment variable
# of that name), then in the CUDA toolkit. On GPU machines cuDNN often comes
# only inside PyTorch's Python packages, e.g.
#   -DCUDNN_ROOT=.../site-packages/nvidia/cudnn
# whose lib/ holds libcudnn.so.9 with no unversioned libcudnn.so, so the
# versioned name is searched too.
set(CUDNN_ROOT "$ENV{CUDNN_ROOT}" CACHE PATH
    "cuDNN install holding include/cudnn.h and lib/libcudnn.so.9 (empty: the CUDA toolkit's)")

set(_cudnn_hints ${CUDNN_ROOT} ${CUDAToolkit_LIBRARY_ROOT} ${CUDAToolkit_TARGET_DIR})
find_path(CUDNN_INCLUDE_DIR cudnn_version.h
          HINTS ${CUDNN_ROOT} PATH_SUFFIXES include NO_DEFAULT_PATH)
find_path(CUDNN_INCLUDE_DIR cudnn_version.h
          HINTS ${_cudnn_hints} ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES include)
find_library(CUDNN_LIBRARY NAMES cudnn libcudnn.so.9
             HINTS ${CUDNN_ROOT} PATH_SUFFIXES lib lib64 NO_DEFAULT_PATH)
find_library(CUDNN_LIBRARY NAMES cudnn libcudnn.so.9
             HINTS ${_cudnn_hints} ${CUDAToolkit_LIBRARY_DIR} PATH_SUFFIXES lib lib64)

if(CUDNN_INCLUDE_DIR AND EXISTS "${CUDNN_INCLUDE_DIR}/cudnn_version.h")
  file(STRINGS "${CUDNN_INCLUDE_DIR}/cudnn_version.h" _cudnn_defines
       REGEX "^#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) +[0-9]+")
  foreach(_part MAJOR MINOR PATCHLEVEL)
    string(REGEX REPLACE ".*#define CUDNN_${_part} +([0-9]+).*" "\\1" _cudnn_${_part}
                         "${_cudnn_defines}")
  endforeach()
  set(CUDNN_VERSION "${_cudnn_MAJOR}.${_cudnn_MINOR}.${_cudnn_PATCHLEVEL}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CUDNN
  REQUIRED_VARS CUDNN_LIBRARY CUDNN_INCLUDE_DIR
  VERSION_VAR CUDNN_VERSION
  REASON_FAILURE_MESSAGE
    "set CUDNN_ROOT to a cuDNN 9 install (include/cudnn.h, lib/libcudnn.so.9), or configure with -DDML_CUDA=OFF")

if(CUDNN_FOUND AND NOT TARGET CUDNN::cudnn)
  add_library(CUDNN::cudnn UNKNOWN IMPORTED)
  set_target_properties(CUDNN::cudnn PROPERTIES
    IMPORTED_LOCATION "${CUDNN_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CUDNN_INCLUDE_DIR}")
endif()
mark_as_advanced(CUDNN_INCLUDE_DIR CUDNN_LIBRARY)
