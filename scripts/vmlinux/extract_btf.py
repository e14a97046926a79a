#!/usr/bin/env python3
"""extract_btf.py IMAGE OUT

Writes the kernel's own BTF (the .BTF section of vmlinux) from a kernel image
file to OUT, for `bpftool btf dump file OUT format c`. IMAGE may be:
  - an x86 bzImage: its compressed payload (located by the boot protocol's
    payload_offset/payload_length) is decompressed first;
  - a gzip-compressed file (e.g. an arm64 Image.gz): decompressed first;
  - anything else (an arm64 raw Image, an uncompressed vmlinux ELF): read as is.
The BTF blob is then found by scanning for its header: magic 0xEB9F
(little-endian), version 1, flags 0, hdr_len 24; type_off/type_len/str_off/
str_len give its size. Used by generate.sh; only the standard library and, for
zstd or lz4 payloads, the zstd or lz4 command are needed.
"""
import struct
import subprocess
import sys
import zlib

BTF_HEADER = struct.pack("<HBBI", 0xEB9F, 1, 0, 24)


def gunzip(data):
    """One gzip member; anything after it (padding) is ignored."""
    return zlib.decompressobj(wbits=31).decompress(data)


def run_decompressor(argv, data):
    result = subprocess.run(argv, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if result.returncode != 0:
        sys.exit(f"extract_btf: {' '.join(argv)} failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def decompress_payload(payload):
    """A bzImage payload. Every format but gzip has the kernel's 4-byte
    little-endian uncompressed size appended (scripts/Makefile.lib size_append);
    it is cut off before decompressing and checked against the result."""
    if payload.startswith(b"\x1f\x8b"):
        return gunzip(payload), "gzip"
    body, size = payload[:-4], struct.unpack("<I", payload[-4:])[0]
    if payload.startswith(b"\x28\xb5\x2f\xfd"):
        out, kind = run_decompressor(["zstd", "-d", "-c", "-q"], body), "zstd"
    elif payload.startswith(b"\xfd7zXZ\x00"):
        import lzma  # not every Python build has it; only this case needs it
        out, kind = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(body), "xz"
    elif payload.startswith(b"\x5d\x00\x00"):
        import lzma
        out, kind = lzma.LZMADecompressor(format=lzma.FORMAT_ALONE).decompress(body), "lzma"
    elif payload.startswith(b"BZh"):
        import bz2
        out, kind = bz2.decompress(body), "bzip2"
    elif payload.startswith(b"\x02\x21\x4c\x18"):
        out, kind = run_decompressor(["lz4", "-d", "-c", "-q"], body), "lz4"
    else:
        sys.exit(f"extract_btf: unknown bzImage payload compression (magic {payload[:6].hex()})")
    if len(out) & 0xFFFFFFFF != size:
        sys.exit(f"extract_btf: {kind} payload gave {len(out)} bytes, the image says {size}")
    return out, kind


def kernel_bytes(data):
    """The decompressed kernel, and how it was obtained."""
    if len(data) > 0x250 and data[0x202:0x206] == b"HdrS":
        version = struct.unpack_from("<H", data, 0x206)[0]
        if version < 0x208:
            sys.exit(f"extract_btf: bzImage boot protocol {version:#x} has no payload_offset")
        setup_sects = data[0x1F1] or 4
        start = (setup_sects + 1) * 512
        offset, length = struct.unpack_from("<II", data, 0x248)
        out, kind = decompress_payload(data[start + offset:start + offset + length])
        return out, f"bzImage, {kind} payload"
    if data.startswith(b"\x1f\x8b"):
        return gunzip(data), "gzip"
    return data, "uncompressed"


def find_btf(data):
    """Every well-formed BTF blob in data, as (offset, size)."""
    found = []
    pos = data.find(BTF_HEADER)
    while pos >= 0:
        if pos + 24 <= len(data):
            type_off, type_len, str_off, str_len = struct.unpack_from("<IIII", data, pos + 8)
            body = pos + 24
            end = body + max(type_off + type_len, str_off + str_len)
            if (type_len > 0 and str_len > 0 and end <= len(data)
                    and type_off + type_len <= str_off  # types, then strings
                    and data[body + str_off] == 0  # the string section starts with ""
                    and data[body + str_off + str_len - 1] == 0):
                found.append((pos, end - pos))
        pos = data.find(BTF_HEADER, pos + 1)
    return found


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: extract_btf.py IMAGE OUT")
    with open(sys.argv[1], "rb") as f:
        kernel, how = kernel_bytes(f.read())
    blobs = find_btf(kernel)
    if not blobs:
        sys.exit(f"extract_btf: no BTF header in {sys.argv[1]} ({how}, {len(kernel)} bytes); "
                 "was the kernel built with CONFIG_DEBUG_INFO_BTF=y?")
    # vmlinux has one .BTF section; should anything else look like a header,
    # the kernel's own BTF is by far the largest.
    offset, size = max(blobs, key=lambda blob: blob[1])
    with open(sys.argv[2], "wb") as f:
        f.write(kernel[offset:offset + size])
    print(f"extract_btf: {sys.argv[1]} ({how}): BTF of {size} bytes at offset {offset:#x}"
          + (f" ({len(blobs)} candidates, took the largest)" if len(blobs) > 1 else ""),
          file=sys.stderr)


if __name__ == "__main__":
    main()
