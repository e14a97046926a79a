# bpf_object(NAME SOURCE... [DEPENDS files...])
# Compiles each SOURCE (relative to the calling directory) with clang into a
# CO-RE object and strips its DWARF (the skeleton embeds the object; BTF is
# kept), links them into one object, NAME.bpf.o, with bpftool's static
# linker (a global or map one source defines, the others declare extern),
# and generates NAME.skel.h from it. List a source that defines what others
# declare before them: bpftool's linker (7.5, libbpf 1.5) leaves a variable
# it met as an extern first at offset 0 of its section's BTF, and the
# skeleton then fails to generate. Result: an INTERFACE library
# `NAME_skel` that puts the skeleton on the include path; linking it orders
# the skeleton's generation before the consumer's sources under any generator.
#
# The kernel types come from bpf/vmlinux/<arch>/vmlinux.h, shipped in the
# tree (scripts/vmlinux/generate.sh makes them from Debian's kernel package),
# so the build never reads the build machine's own BTF. CO-RE relocates field
# offsets at load time, on whichever kernel runs the programs.
find_program(BPF_CLANG NAMES clang-19 clang REQUIRED)
find_program(BPF_STRIP NAMES llvm-strip-19 llvm-strip REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)

# Opt-in: vmlinux.h generated from a BTF file of the developer's choice
# (e.g. /sys/kernel/btf/vmlinux) instead of the shipped header.
set(EARSHOT_VMLINUX_BTF "" CACHE FILEPATH
    "Generate vmlinux.h from this BTF file (e.g. /sys/kernel/btf/vmlinux); empty: use the shipped bpf/vmlinux/<arch>/vmlinux.h")
# A build tree configured before the headers were shipped has the old default
# cached; it would keep reading the host's BTF without anyone asking for it.
get_property(_earshot_btf_help CACHE EARSHOT_VMLINUX_BTF PROPERTY HELPSTRING)
if(EARSHOT_VMLINUX_BTF STREQUAL "/sys/kernel/btf/vmlinux" AND _earshot_btf_help MATCHES "^BTF file vmlinux.h is generated from")
  message(STATUS "EARSHOT_VMLINUX_BTF: dropping the old default /sys/kernel/btf/vmlinux; using the shipped vmlinux.h "
                 "(pass -DEARSHOT_VMLINUX_BTF=/sys/kernel/btf/vmlinux to keep generating it from this kernel)")
  set_property(CACHE EARSHOT_VMLINUX_BTF PROPERTY VALUE "")
endif()
set_property(CACHE EARSHOT_VMLINUX_BTF PROPERTY HELPSTRING
             "Generate vmlinux.h from this BTF file (e.g. /sys/kernel/btf/vmlinux); empty: use the shipped bpf/vmlinux/<arch>/vmlinux.h")

# The target architecture, as libbpf's bpf_tracing.h (__TARGET_ARCH_*) and
# bpf/vmlinux/ name it.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(BPF_TARGET_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  set(BPF_TARGET_ARCH arm64)
else()
  set(BPF_TARGET_ARCH ${CMAKE_SYSTEM_PROCESSOR})
endif()

set(BPF_GENERATED_DIR ${CMAKE_BINARY_DIR}/bpf)
file(MAKE_DIRECTORY ${BPF_GENERATED_DIR})

if(EARSHOT_VMLINUX_BTF)
  # Its own directory: nothing else generated lands on the BPF include path.
  set(BPF_VMLINUX_DIR ${BPF_GENERATED_DIR}/vmlinux)
  file(MAKE_DIRECTORY ${BPF_VMLINUX_DIR})
  add_custom_command(
    OUTPUT ${BPF_VMLINUX_DIR}/vmlinux.h
    COMMAND ${BPFTOOL} btf dump file ${EARSHOT_VMLINUX_BTF} format c > ${BPF_VMLINUX_DIR}/vmlinux.h.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${BPF_VMLINUX_DIR}/vmlinux.h.tmp ${BPF_VMLINUX_DIR}/vmlinux.h
    DEPENDS ${EARSHOT_VMLINUX_BTF}
    COMMENT "Generating vmlinux.h from ${EARSHOT_VMLINUX_BTF}"
    VERBATIM)
  add_custom_target(vmlinux_h DEPENDS ${BPF_VMLINUX_DIR}/vmlinux.h)
  # bpf_object() is called from other directories than this one. Under Unix
  # Makefiles a custom command's output is only known to targets of its own
  # directory, so the objects depend on the target (which orders the
  # generation first) as well as on the file (which rebuilds them when it
  # changes). Ninja needs only the file, and takes both.
  set(BPF_VMLINUX_DEPENDS vmlinux_h ${BPF_VMLINUX_DIR}/vmlinux.h)
  message(STATUS "BPF: vmlinux.h generated from ${EARSHOT_VMLINUX_BTF} (EARSHOT_VMLINUX_BTF)")
else()
  set(BPF_VMLINUX_DIR ${PROJECT_SOURCE_DIR}/bpf/vmlinux/${BPF_TARGET_ARCH})
  if(NOT EXISTS ${BPF_VMLINUX_DIR}/vmlinux.h)
    message(FATAL_ERROR "No shipped vmlinux.h for target architecture ${BPF_TARGET_ARCH} "
                        "(CMAKE_SYSTEM_PROCESSOR ${CMAKE_SYSTEM_PROCESSOR}): bpf/vmlinux/ has x86 and arm64. "
                        "Set EARSHOT_VMLINUX_BTF to a BTF file of a kernel of that architecture.")
  endif()
  set(BPF_VMLINUX_DEPENDS ${BPF_VMLINUX_DIR}/vmlinux.h)
  message(STATUS "BPF: shipped bpf/vmlinux/${BPF_TARGET_ARCH}/vmlinux.h")
endif()

function(bpf_object NAME)
  cmake_parse_arguments(ARG "" "" "DEPENDS" ${ARGN})
  set(sources ${ARG_UNPARSED_ARGUMENTS})
  if(NOT sources)
    message(FATAL_ERROR "bpf_object(${NAME}): no sources")
  endif()
  set(obj ${BPF_GENERATED_DIR}/${NAME}.bpf.o)
  set(skel ${BPF_GENERATED_DIR}/${NAME}.skel.h)
  # Each object compiles its sources into a directory of its own: a source
  # linked into several objects is compiled once for each.
  set(parts_dir ${BPF_GENERATED_DIR}/${NAME}.parts)
  file(MAKE_DIRECTORY ${parts_dir})
  # Unquoted below: empty adds no argument.
  set(werror "")
  if(EARSHOT_WERROR)
    set(werror -Werror)
  endif()
  set(parts "")
  foreach(source IN LISTS sources)
    get_filename_component(stem ${source} NAME_WE)
    set(part ${parts_dir}/${stem}.bpf.o)
    add_custom_command(
      OUTPUT ${part}
      COMMAND ${BPF_CLANG} -target bpf -mcpu=v3 -g -O2 -Wall ${werror} -D__TARGET_ARCH_${BPF_TARGET_ARCH}
              -I${BPF_VMLINUX_DIR} -I${CMAKE_CURRENT_SOURCE_DIR}
              -c ${CMAKE_CURRENT_SOURCE_DIR}/${source} -o ${part}.full
      COMMAND ${BPF_STRIP} -g ${part}.full -o ${part}
      DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${source} ${BPF_VMLINUX_DEPENDS} ${ARG_DEPENDS}
      COMMENT "BPF ${source} (${NAME})"
      VERBATIM)
    list(APPEND parts ${part})
  endforeach()
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPFTOOL} gen object ${obj} ${parts}
    DEPENDS ${parts}
    COMMENT "BPF object ${NAME}.bpf.o"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${NAME}_bpf > ${skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
    DEPENDS ${obj}
    COMMENT "Skeleton ${NAME}.skel.h"
    VERBATIM)
  add_custom_target(${NAME}_skel_gen DEPENDS ${skel})
  # A target linking NAME_skel depends on NAME_skel_gen: CMake follows an
  # interface library's dependencies to its consumers, so the skeleton exists
  # before any source that includes it compiles (Ninja and Makefiles alike).
  add_library(${NAME}_skel INTERFACE)
  add_dependencies(${NAME}_skel ${NAME}_skel_gen)
  target_include_directories(${NAME}_skel SYSTEM INTERFACE ${BPF_GENERATED_DIR})
  target_link_libraries(${NAME}_skel INTERFACE PkgConfig::LIBBPF)
endfunction()
