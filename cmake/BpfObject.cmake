# bpf_object(NAME SOURCE [DEPENDS files...])
# Compiles bpf/NAME.bpf.c with clang into a CO-RE object, strips its DWARF
# (the skeleton embeds the object; BTF is kept), and generates NAME.skel.h with
# bpftool. Result: an INTERFACE library `NAME_skel` that puts the skeleton on
# the include path.
find_program(BPF_CLANG NAMES clang-19 clang REQUIRED)
find_program(BPF_STRIP NAMES llvm-strip-19 llvm-strip REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)

set(EARSHOT_VMLINUX_BTF "/sys/kernel/btf/vmlinux" CACHE FILEPATH
    "BTF file vmlinux.h is generated from (point at another kernel's BTF to cross-build)")

set(BPF_GENERATED_DIR ${CMAKE_BINARY_DIR}/bpf)
file(MAKE_DIRECTORY ${BPF_GENERATED_DIR})

add_custom_command(
  OUTPUT ${BPF_GENERATED_DIR}/vmlinux.h
  COMMAND ${BPFTOOL} btf dump file ${EARSHOT_VMLINUX_BTF} format c > ${BPF_GENERATED_DIR}/vmlinux.h.tmp
  COMMAND ${CMAKE_COMMAND} -E rename ${BPF_GENERATED_DIR}/vmlinux.h.tmp ${BPF_GENERATED_DIR}/vmlinux.h
  DEPENDS ${EARSHOT_VMLINUX_BTF}
  COMMENT "Generating vmlinux.h from ${EARSHOT_VMLINUX_BTF}"
  VERBATIM)
add_custom_target(vmlinux_h DEPENDS ${BPF_GENERATED_DIR}/vmlinux.h)

function(bpf_object NAME SOURCE)
  cmake_parse_arguments(ARG "" "" "DEPENDS" ${ARGN})
  set(obj ${BPF_GENERATED_DIR}/${NAME}.bpf.o)
  set(skel ${BPF_GENERATED_DIR}/${NAME}.skel.h)
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    set(arch x86)
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
    set(arch arm64)
  else()
    set(arch ${CMAKE_SYSTEM_PROCESSOR})
  endif()
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -target bpf -mcpu=v3 -g -O2 -Wall -Werror -D__TARGET_ARCH_${arch}
            -I${BPF_GENERATED_DIR} -I${CMAKE_CURRENT_SOURCE_DIR}
            -c ${CMAKE_CURRENT_SOURCE_DIR}/${SOURCE} -o ${obj}.full
    COMMAND ${BPF_STRIP} -g ${obj}.full -o ${obj}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${SOURCE} ${BPF_GENERATED_DIR}/vmlinux.h ${ARG_DEPENDS}
    COMMENT "BPF ${SOURCE}"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${NAME}_bpf > ${skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
    DEPENDS ${obj}
    COMMENT "Skeleton ${NAME}.skel.h"
    VERBATIM)
  add_custom_target(${NAME}_skel_gen DEPENDS ${skel})
  add_library(${NAME}_skel INTERFACE)
  add_dependencies(${NAME}_skel ${NAME}_skel_gen)
  target_include_directories(${NAME}_skel SYSTEM INTERFACE ${BPF_GENERATED_DIR})
  target_link_libraries(${NAME}_skel INTERFACE PkgConfig::LIBBPF)
endfunction()
