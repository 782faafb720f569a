# tlc_add_kernels: compile .tl files with tlc at build time and use their headers.
#
#   tlc_add_kernels(<target>
#                   SOURCES a.tl [b.tl ...]
#                   [ARCHS sm_90a ...]        # default: sm_90a; several: one cubin each in
#                                             # the header, picked by the device at load time
#                   [OPTIONS -DBM=64 -O3 ...] # passed to tlc for every source
#                   [OUTPUT_DIR dir])         # default: <binary dir>/tlc/<target>
#
# For each source `name.tl` a custom command writes OUTPUT_DIR/name.cubin (and
# name.ARCH.cubin for each ARCHS entry after the first) and OUTPUT_DIR/name.h with a
# dependency file (DEPFILE), so a kernel is rebuilt when its
# .tl file, its options or tlc itself change, and only then. With Ninja, tlc runs
# with --write-if-changed: a header whose bytes stay the same keeps its time stamp,
# and the code that includes it is not recompiled. The target gets OUTPUT_DIR on its
# include path (`#include "name.h"`) and links CUDA::cuda_driver.
# Needs CMake 3.20 (DEPFILE with the Ninja and Makefile generators).
cmake_minimum_required(VERSION 3.20)

function(tlc_add_kernels target)
  cmake_parse_arguments(PARSE_ARGV 1 TLC "" "OUTPUT_DIR" "SOURCES;ARCHS;OPTIONS")
  if(TLC_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "tlc_add_kernels(${target}): unexpected arguments: ${TLC_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "tlc_add_kernels: '${target}' is not a target (call add_executable or add_library first)")
  endif()
  if(NOT TLC_SOURCES)
    message(FATAL_ERROR "tlc_add_kernels(${target}): no SOURCES")
  endif()
  if(NOT TLC_ARCHS)
    set(TLC_ARCHS sm_90a)
  endif()
  list(GET TLC_ARCHS 0 first_arch)
  list(SUBLIST TLC_ARCHS 1 -1 more_archs)
  string(REPLACE ";" "," arch_flag "${TLC_ARCHS}")
  if(NOT TLC_OUTPUT_DIR)
    set(TLC_OUTPUT_DIR "${CMAKE_CURRENT_BINARY_DIR}/tlc/${target}")
  endif()
  get_filename_component(TLC_OUTPUT_DIR "${TLC_OUTPUT_DIR}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  file(MAKE_DIRECTORY "${TLC_OUTPUT_DIR}")

  if(TARGET tlc::tlc)
    get_target_property(tlc_exe tlc::tlc IMPORTED_LOCATION)
  elseif(TLC_EXECUTABLE)
    set(tlc_exe "${TLC_EXECUTABLE}")
  else()
    message(FATAL_ERROR "tlc_add_kernels: no tlc (find_package(tlc) first)")
  endif()

  # --write-if-changed keeps an unchanged header's time stamp, so its includers do not
  # recompile; that needs a generator that re-stats outputs (Ninja). Make would rerun
  # tlc at every build for an output older than its .tl file, so there tlc always writes.
  set(write_if_changed "")
  if(CMAKE_GENERATOR MATCHES "Ninja")
    set(write_if_changed --write-if-changed)
  endif()

  set(headers "")
  foreach(source IN LISTS TLC_SOURCES)
    get_filename_component(source_abs "${source}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    get_filename_component(name "${source_abs}" NAME_WE)
    set(cubin "${TLC_OUTPUT_DIR}/${name}.cubin")
    set(header "${TLC_OUTPUT_DIR}/${name}.h")
    set(depfile "${TLC_OUTPUT_DIR}/${name}.d")
    set(more_cubins "")
    foreach(arch IN LISTS more_archs)
      list(APPEND more_cubins "${TLC_OUTPUT_DIR}/${name}.${arch}.cubin")
    endforeach()
    add_custom_command(
      OUTPUT "${cubin}" "${header}" ${more_cubins}
      COMMAND "${tlc_exe}" "${source_abs}" -o "${cubin}" --header "${header}" --arch=${arch_flag}
              ${TLC_OPTIONS} -MD -MF "${depfile}" -MQ "${cubin}" ${write_if_changed}
      DEPENDS "${source_abs}" "${tlc_exe}"
      DEPFILE "${depfile}"
      COMMENT "tlc ${source}"
      VERBATIM)
    list(APPEND headers "${header}")
  endforeach()

  # The headers as sources: the target's compiles wait for them.
  target_sources(${target} PRIVATE ${headers})
  target_include_directories(${target} PRIVATE "${TLC_OUTPUT_DIR}")
  target_link_libraries(${target} PRIVATE CUDA::cuda_driver)
endfunction()
