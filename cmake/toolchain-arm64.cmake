# Cross-building earshot for arm64 (aarch64) on an x86-64 Debian 12 machine:
# Debian's cross toolchain (g++-aarch64-linux-gnu) and Debian's arm64
# libraries, unpacked into a sysroot by scripts/cross/arm64-root.sh (which
# scripts/setup.sh runs). The BPF objects are compiled by the host's clang
# for the arm64 target (BpfObject.cmake: -D__TARGET_ARCH_arm64 and
# bpf/vmlinux/arm64/vmlinux.h, chosen from CMAKE_SYSTEM_PROCESSOR).
#
#   cmake --preset arm64 && cmake --build --preset arm64
#
# EARSHOT_ARM64_SYSROOT (CMake or environment variable) overrides the
# sysroot, by default ${EARSHOT_DEPS_DIR:-/var/cache/earshot}/arm64-root.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

if(NOT EARSHOT_ARM64_SYSROOT)
  if(DEFINED ENV{EARSHOT_ARM64_SYSROOT})
    set(EARSHOT_ARM64_SYSROOT $ENV{EARSHOT_ARM64_SYSROOT})
  elseif(DEFINED ENV{EARSHOT_DEPS_DIR})
    set(EARSHOT_ARM64_SYSROOT $ENV{EARSHOT_DEPS_DIR}/arm64-root)
  else()
    set(EARSHOT_ARM64_SYSROOT /var/cache/earshot/arm64-root)
  endif()
endif()
if(NOT EXISTS ${EARSHOT_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig/libbpf.pc)
  message(FATAL_ERROR "No arm64 sysroot at ${EARSHOT_ARM64_SYSROOT} (no libbpf.pc): "
                      "run scripts/setup.sh (or scripts/cross/arm64-root.sh) as root")
endif()
# try_compile projects run this file again: pass the choice on.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES EARSHOT_ARM64_SYSROOT)

set(CMAKE_SYSROOT ${EARSHOT_ARM64_SYSROOT})
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Every header from the sysroot. Debian's cross compiler searches its own
# cross packages' headers (/usr/aarch64-linux-gnu/include: bookworm's 6.1
# kernel uapi, which has no BPF_PROG_TYPE_NETFILTER) before the sysroot's;
# -nostdinc drops those, and the list below is the compiler's usual order
# with the sysroot in their place: libstdc++, the compiler's own headers,
# then glibc and the kernel uapi (6.12, as on the build machine).
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
                OUTPUT_VARIABLE _earshot_gcc_include OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE _earshot_gcc_status)
if(NOT _earshot_gcc_status EQUAL 0 OR NOT IS_DIRECTORY "${_earshot_gcc_include}")
  message(FATAL_ERROR "${CMAKE_C_COMPILER} not found or has no include directory "
                      "(install g++-aarch64-linux-gnu: scripts/setup.sh)")
endif()
set(_earshot_c_includes
    "-isystem ${_earshot_gcc_include} -isystem ${EARSHOT_ARM64_SYSROOT}/usr/include/aarch64-linux-gnu -isystem ${EARSHOT_ARM64_SYSROOT}/usr/include")
file(GLOB _earshot_cxx_dirs LIST_DIRECTORIES true ${EARSHOT_ARM64_SYSROOT}/usr/include/c++/*)
list(GET _earshot_cxx_dirs 0 _earshot_cxx_dir)
get_filename_component(_earshot_cxx_version ${_earshot_cxx_dir} NAME)
set(_earshot_cxx_includes
    "-isystem ${_earshot_cxx_dir} -isystem ${EARSHOT_ARM64_SYSROOT}/usr/include/aarch64-linux-gnu/c++/${_earshot_cxx_version} -isystem ${_earshot_cxx_dir}/backward")
set(CMAKE_C_FLAGS_INIT "-nostdinc ${_earshot_c_includes}")
set(CMAKE_CXX_FLAGS_INIT "-nostdinc ${_earshot_cxx_includes} ${_earshot_c_includes}")

# Libraries, headers and package files only from the sysroot; programs
# (bpftool, clang) from the build machine.
set(CMAKE_FIND_ROOT_PATH ${EARSHOT_ARM64_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config reads the sysroot's .pc files and prefixes their paths with it.
set(ENV{PKG_CONFIG_DIR} "")
set(ENV{PKG_CONFIG_LIBDIR}
    "${EARSHOT_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${EARSHOT_ARM64_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} ${EARSHOT_ARM64_SYSROOT})
# The sysroot's shared libraries find their own dependencies there.
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "-Wl,-rpath-link,${EARSHOT_ARM64_SYSROOT}/lib/aarch64-linux-gnu -Wl,-rpath-link,${EARSHOT_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu")
set(CMAKE_SHARED_LINKER_FLAGS_INIT ${CMAKE_EXE_LINKER_FLAGS_INIT})
