# tlc_add_kernels: compile .tl files with tlc at build time and use their headers.
#
#   tlc_add_kernels(<target>
#                   SOURCES a.tl [b.tl ...]
#                   [ARCHS sm_90a ...]        # default: CMAKE_CUDA_ARCHITECTURES (90a -> sm_90a)
#                                             # when set, else sm_90a; several: one cubin each
#                                             # in the header, picked by the device at load time
#                   [OPTIONS -DBM=64 -O3 ...] # passed to tlc for every source; generator
#                                             # expressions work ($<$<CONFIG:Debug>:-O0>)
#                   [EMIT_SOURCE]             # a .h + .c pair: the .c (cubin and definitions)
#                                             # is compiled into <target>
#                   [PUBLIC | PRIVATE]        # scope of the include directory and of
#                                             # CUDA::cuda_driver (default: PRIVATE)
#                   [OUTPUT_DIR dir])         # default: <binary dir>/tlc/<target>
#
# Per source, the source file properties TLC_OPTIONS (more options, after OPTIONS)
# and TLC_PREFIX (tlc --prefix) apply:
#   set_source_files_properties(k.tl PROPERTIES TLC_OPTIONS "-DBM=64" TLC_PREFIX mylib)
#
# For each source `name.tl` a custom command writes OUTPUT_DIR/name.cubin (and
# name.ARCH.cubin for each ARCHS entry after the first), OUTPUT_DIR/name.h (and
# name.c with EMIT_SOURCE) with a dependency file (DEPFILE), so a kernel is rebuilt
# when its .tl file, its options or tlc itself change, and only then. With Ninja, tlc
# runs with --write-if-changed: a header whose bytes stay the same keeps its time
# stamp, and the code that includes it is not recompiled. The target gets OUTPUT_DIR
# on its include path (`#include "name.h"`) and links CUDA::cuda_driver.
#
# Sources of one target that share a name (a/k.tl and b/k.tl) cannot share one
# output file: each of them writes under a folder of its own, its directory relative
# to the current source directory (OUTPUT_DIR/a/k.h: `#include "a/k.h"`), or for a
# source outside that tree `_` and a hash of its directory (OUTPUT_DIR/_1a2b3c4d/k.h).
# A source whose name no other source of the target has stays at OUTPUT_DIR/name.h.
# Needs CMake 3.20 (DEPFILE with the Ninja and Makefile generators).
cmake_minimum_required(VERSION 3.20)

# CMAKE_CUDA_ARCHITECTURES entries (90a, 80-real, 100a-virtual) as tlc's --arch names;
# the special values (all, all-major, native, OFF) name no architecture: empty result.
function(_tlc_archs_from_cuda_architectures out_var)
  set(archs "")
  foreach(entry IN LISTS CMAKE_CUDA_ARCHITECTURES)
    string(REGEX REPLACE "-(real|virtual)$" "" number "${entry}")
    if(number MATCHES "^[0-9]+[af]?$")
      list(APPEND archs "sm_${number}")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES archs)
  set(${out_var} "${archs}" PARENT_SCOPE)
endfunction()

function(tlc_add_kernels target)
  cmake_parse_arguments(PARSE_ARGV 1 TLC "EMIT_SOURCE;PUBLIC;PRIVATE" "OUTPUT_DIR" "SOURCES;ARCHS;OPTIONS")
  if(TLC_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "tlc_add_kernels(${target}): unexpected arguments: ${TLC_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "tlc_add_kernels: '${target}' is not a target (call add_executable or add_library first)")
  endif()
  if(NOT TLC_SOURCES)
    message(FATAL_ERROR "tlc_add_kernels(${target}): no SOURCES")
  endif()
  if(TLC_PUBLIC AND TLC_PRIVATE)
    message(FATAL_ERROR "tlc_add_kernels(${target}): PUBLIC or PRIVATE, not both")
  endif()
  set(scope PRIVATE)
  if(TLC_PUBLIC)
    set(scope PUBLIC)
  endif()
  if(TLC_EMIT_SOURCE)
    # A .c file in a target whose project has not enabled C is not compiled at all
    # (and the link fails later, far from the cause).
    get_property(languages GLOBAL PROPERTY ENABLED_LANGUAGES)
    if(NOT "C" IN_LIST languages)
      message(FATAL_ERROR "tlc_add_kernels(${target}): EMIT_SOURCE makes .c files: enable C "
                          "(project(... LANGUAGES C CXX) or enable_language(C))")
    endif()
  endif()

  if(NOT TLC_ARCHS)
    _tlc_archs_from_cuda_architectures(TLC_ARCHS)
  endif()
  if(NOT TLC_ARCHS)
    set(TLC_ARCHS sm_90a)
  endif()
  list(REMOVE_DUPLICATES TLC_ARCHS)
  # tlc writes the first architecture's cubin at -o and each other one at NAME.ARCH.cubin.
  set(more_archs "${TLC_ARCHS}")
  list(REMOVE_AT more_archs 0)
  string(REPLACE ";" "," arch_flag "${TLC_ARCHS}")

  if(NOT TLC_OUTPUT_DIR)
    set(TLC_OUTPUT_DIR "${CMAKE_CURRENT_BINARY_DIR}/tlc/${target}")
  endif()
  get_filename_component(TLC_OUTPUT_DIR "${TLC_OUTPUT_DIR}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")

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
  set(emit "")
  if(TLC_EMIT_SOURCE)
    set(emit --emit=cubin,header,source)
  endif()

  # Names (file names without the last extension) used by more than one source of
  # this target, in this call or an earlier one with the same OUTPUT_DIR: those
  # sources write under a folder of their own.
  set(sources "")
  foreach(source IN LISTS TLC_SOURCES)
    get_filename_component(source_abs "${source}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND sources "${source_abs}")
  endforeach()
  list(REMOVE_DUPLICATES sources)
  string(SHA1 output_dir_key "${TLC_OUTPUT_DIR}")
  set(names_property "_TLC_NAMES_${output_dir_key}")
  get_property(names TARGET ${target} PROPERTY ${names_property})
  set(shared_names "")
  foreach(source_abs IN LISTS sources)
    get_filename_component(name "${source_abs}" NAME_WLE)
    if(name IN_LIST names)
      list(APPEND shared_names "${name}")
    endif()
    list(APPEND names "${name}")
  endforeach()
  set_property(TARGET ${target} PROPERTY ${names_property} "${names}")

  set(generated "")
  foreach(source_abs IN LISTS sources)
    get_filename_component(name "${source_abs}" NAME_WLE)
    set(dir "${TLC_OUTPUT_DIR}")
    if(name IN_LIST shared_names)
      get_filename_component(source_dir "${source_abs}" DIRECTORY)
      file(RELATIVE_PATH relative_dir "${CMAKE_CURRENT_SOURCE_DIR}" "${source_dir}")
      if(relative_dir MATCHES "^\\.\\./|^\\.\\.$" OR IS_ABSOLUTE "${relative_dir}")
        string(SHA1 dir_hash "${source_dir}")
        string(SUBSTRING "${dir_hash}" 0 8 dir_hash)
        set(relative_dir "_${dir_hash}")
      endif()
      if(relative_dir)
        set(dir "${TLC_OUTPUT_DIR}/${relative_dir}")
      endif()
    endif()
    file(MAKE_DIRECTORY "${dir}")
    set(cubin "${dir}/${name}.cubin")
    set(header "${dir}/${name}.h")
    set(depfile "${dir}/${name}.d")
    set(outputs "${cubin}" "${header}")
    foreach(arch IN LISTS more_archs)
      list(APPEND outputs "${dir}/${name}.${arch}.cubin")
    endforeach()
    if(TLC_EMIT_SOURCE)
      list(APPEND outputs "${dir}/${name}.c")
      list(APPEND generated "${dir}/${name}.c")
    endif()
    list(APPEND generated "${header}")

    set(prefix "")
    get_source_file_property(prefix_name "${source_abs}" TLC_PREFIX)
    if(prefix_name)
      set(prefix "--prefix=${prefix_name}")
    endif()
    get_source_file_property(source_options "${source_abs}" TLC_OPTIONS)
    if(NOT source_options)
      set(source_options "")
    endif()
    file(RELATIVE_PATH shown "${CMAKE_CURRENT_SOURCE_DIR}" "${source_abs}")

    # COMMAND_EXPAND_LISTS: a generator expression in OPTIONS that evaluates to
    # nothing disappears (without it, it is an empty argument: a second input file).
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND "${tlc_exe}" "${source_abs}" -o "${cubin}" --header "${header}" --arch=${arch_flag}
              ${emit} ${prefix} ${TLC_OPTIONS} ${source_options}
              -MD -MF "${depfile}" -MQ "${cubin}" ${write_if_changed}
      DEPENDS "${source_abs}" "${tlc_exe}"
      DEPFILE "${depfile}"
      COMMENT "tlc ${shown}"
      COMMAND_EXPAND_LISTS
      VERBATIM)
  endforeach()

  # The headers (and .c files) as sources: the target's compiles wait for them.
  target_sources(${target} PRIVATE ${generated})
  target_include_directories(${target} ${scope} "${TLC_OUTPUT_DIR}")
  target_link_libraries(${target} ${scope} CUDA::cuda_driver)
endfunction()
