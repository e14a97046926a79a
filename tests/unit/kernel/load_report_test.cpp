// What libbpf prints when an object fails to load, as libbpf 1.4 prints it,
// turned into the refused program and its reason.
#include "kernel/load_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace earshot::kernel::load_report_test {
namespace {

using ::testing::HasSubstr;

// A verifier refusal: the messages libbpf gave for net.bpf.c's socket
// iterator on a kernel that types sock->sk as untrusted.
const std::vector<std::string> kVerifierRefusal = {
    "libbpf: prog 'earshot_iter_sockets': BPF program load failed: Permission denied\n",
    "libbpf: prog 'earshot_iter_sockets': -- BEGIN PROG LOAD LOG --\n"
    "0: R1=ctx() R10=fp0\n"
    "; struct task_struct *task = ctx->task; @ net.bpf.c:701\n"
    "R1 type=untrusted_ptr_ expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_\n"
    "processed 13 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1\n"
    "-- END PROG LOAD LOG --\n",
    "libbpf: prog 'earshot_iter_sockets': failed to load: -13\n",
    "libbpf: failed to load object 'net_bpf'\n",
    "libbpf: failed to load BPF skeleton 'net_bpf': -13\n",
};

TEST(LoadReport, VerifierRefusalNamesTheProgramAndItsLastLines) {
  auto refusal = find_refused_program(kVerifierRefusal);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->program, "earshot_iter_sockets");
  EXPECT_EQ(refusal->reason,
            "verifier: ; struct task_struct *task = ctx->task; @ net.bpf.c:701 | R1 "
            "type=untrusted_ptr_ expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, "
            "trusted_ptr_");
  EXPECT_THAT(refusal->verifier_log, HasSubstr("processed 13 insns"));
  EXPECT_THAT(refusal->verifier_log, HasSubstr("0: R1=ctx() R10=fp0"));
}

TEST(LoadReport, RefusalWithoutALogKeepsLibbpfsWords) {
  // fentry on a kernel without BTF trampolines: no verifier log at all.
  auto refusal = find_refused_program({
      "libbpf: prog 'earshot_fexit_inet_accept': BPF program load failed: Operation not "
      "permitted",
      "libbpf: prog 'earshot_fexit_inet_accept': failed to load: -1",
      "libbpf: failed to load object 'accept_bpf'",
  });
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->program, "earshot_fexit_inet_accept");
  EXPECT_EQ(refusal->reason, "BPF program load failed: Operation not permitted");
}

TEST(LoadReport, AttachTargetMissingBlamesTheProgram) {
  auto refusal = find_refused_program({
      "libbpf: prog 'earshot_fexit_capture_open': failed to find kernel BTF type ID of "
      "'snd_pcm_capture_open': -3",
      "libbpf: prog 'earshot_fexit_capture_open': failed to prepare load attributes: -3",
      "libbpf: failed to load object 'alsa_bpf'",
  });
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->program, "earshot_fexit_capture_open");
  EXPECT_THAT(refusal->reason, HasSubstr("failed to find kernel BTF type ID"));
}

TEST(LoadReport, ObjectFailureBlamesNoProgram) {
  const std::vector<std::string> warnings = {
      "libbpf: failed to parse target BTF: -22",
      "libbpf: failed to perform CO-RE relocations: -22",
      "libbpf: failed to load object 'net_bpf'",
  };
  EXPECT_FALSE(find_refused_program(warnings));
  EXPECT_EQ(first_failure(warnings), "failed to parse target BTF: -22");
  EXPECT_EQ(first_failure({}), "");
}

TEST(LoadReport, OnlyTheFirstNamedProgramIsBlamed) {
  // libbpf stops at the first program that fails; a later warning about
  // another program (a relocation note) does not move the blame.
  auto refusal = find_refused_program({
      "libbpf: prog 'a': BPF program load failed: Invalid argument",
      "libbpf: prog 'b': failed to load: -22",
  });
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->program, "a");
}

TEST(LoadReport, VerifierTailSkipsStatistics) {
  EXPECT_EQ(verifier_log_tail("a\nb\nc\nprocessed 3 insns\nverification time 12 usec\n\n"),
            "b | c");
  EXPECT_EQ(verifier_log_tail("only\n", 3), "only");
  EXPECT_EQ(verifier_log_tail(""), "");
}

}  // namespace
}  // namespace earshot::kernel::load_report_test
