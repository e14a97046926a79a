/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Constants of the packets and sockets the network programs read: vmlinux.h
 * carries the kernel's types but none of its #defines. */
#ifndef EARSHOT_NET_CONSTANTS_BPF_H
#define EARSHOT_NET_CONSTANTS_BPF_H

#define EARSHOT_AF_INET 2
#define EARSHOT_AF_INET6 10
#define EARSHOT_IPPROTO_TCP 6
#define EARSHOT_IPPROTO_UDP 17
#define EARSHOT_IPPROTO_UDPLITE 136
#define EARSHOT_UDP_HEADER_LEN 8 /* UDP's and UDP-Lite's */
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_HLEN 14

#endif /* EARSHOT_NET_CONSTANTS_BPF_H */
