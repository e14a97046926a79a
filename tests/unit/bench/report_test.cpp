#include "report.h"

#include <gtest/gtest.h>

#include <sstream>

#include "common/error.h"

namespace earshot::bench::report_test {
namespace {

Measurements parse(const std::string& text) {
  std::istringstream in(text);
  return parse_measurements(in);
}

const Row& row(const std::vector<Row>& rows, const std::string& label) {
  for (const auto& r : rows)
    if (r.label == label) return r;
  throw std::runtime_error("no row " + label);
}

TEST(BenchReport, ReadsNotesAndMeasurements) {
  auto m = parse("# started 06:00\n\nmonitored 1 udp_pps 100\nmonitored 1 udp_pps 200\n");
  EXPECT_EQ(m.notes, std::vector<std::string>{"started 06:00"});
  EXPECT_EQ(m.kinds.at("monitored").at(1).at("udp_pps"), (std::vector<double>{100, 200}));
}

TEST(BenchReport, MalformedLinesNameTheirNumber) {
  for (const char* text : {"# ok\nmonitored 1 udp_pps\n", "# ok\nmonitored one udp_pps 1\n",
                           "# ok\nmonitored 1 udp_pps 1x\n", "# ok\nmonitored 1 udp_pps 1 2\n"}) {
    try {
      parse(text);
      FAIL() << "no error for " << text;
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find("line 2"), std::string::npos) << error.what();
    }
  }
}

TEST(BenchReport, RoundMeansThenNeighbourRatiosAgainstTheTarget) {
  // Two UDP samples a round are averaged: monitored 95 and 97, unmonitored 100.
  auto rows = report_rows(
      parse("monitored 1 udp_pps 94\nmonitored 1 udp_pps 96\nunmonitored 1 udp_pps 100\n"
            "monitored 2 udp_pps 97\nunmonitored 2 udp_pps 100\n"));
  const Row& udp = row(rows, "UDP 64 B packets/s, monitored/not");
  ASSERT_TRUE(udp.summary);
  EXPECT_EQ(udp.summary->n, 3u);  // 95/100, 97/100 and 97/100
  EXPECT_DOUBLE_EQ(udp.summary->median, 0.97);
  EXPECT_DOUBLE_EQ(udp.summary->min, 0.95);
  EXPECT_EQ(verdict(udp), "yes");
  EXPECT_EQ(row(rows, "  UDP packets/s, monitored").summary->median, 96);
  EXPECT_EQ(verdict(row(rows, "TCP throughput, monitored/not")), "no data");
  EXPECT_EQ(verdict(row(rows, "  UDP packets/s, monitored")), "-");
}

TEST(BenchReport, PairedAOverCAndGetppidMedian) {
  auto rows = report_rows(
      parse("monitored 1 udp_a_pps 98\nmonitored 1 udp_c_pps 100\n"
            "monitored 1 udp_a_pps 90\nmonitored 1 udp_c_pps 100\n"
            "monitored 1 udp_a_pps 99\nmonitored 1 udp_c_pps 100\n"
            "unmonitored 1 udp_a_pps 100\nunmonitored 1 udp_c_pps 100\n"
            "monitored 1 getppid_ns 200\nmonitored 1 getppid_ns 900\nmonitored 1 getppid_ns 210\n"
            "unmonitored 1 getppid_ns 200\n"));
  EXPECT_DOUBLE_EQ(row(rows, "  A/C UDP rate ratio, monitored").summary->median, 0.98);
  EXPECT_DOUBLE_EQ(row(rows, "UDP 64 B A/C, monitored/not (paired)").summary->median, 0.98);
  EXPECT_DOUBLE_EQ(row(rows, "getppid() ns, monitored/not").summary->median, 1.05);
}

TEST(BenchReport, BpfSamplesAboveTheFloorAndEachProgram) {
  auto rows = report_rows(
      parse("bpf 1 floor_ns 70\nbpf 1 ns_earshot_nf_local_out4 80\nbpf 1 ns_earshot_sockops 120\n"
            "bpf 2 floor_ns 68\nbpf 2 ns_earshot_nf_local_out4 101\n"));
  const Row& nf = row(rows, "netfilter program, ns/packet");
  EXPECT_EQ(nf.summary->median, 90.5);
  EXPECT_EQ(verdict(nf), "yes");
  const Row& above = row(rows, "  netfilter above that floor, ns");
  EXPECT_EQ(above.summary->min, 10);
  EXPECT_EQ(above.summary->max, 33);
  EXPECT_EQ(row(rows, "  earshot_sockops, ns/run").summary->n, 1u);
}

TEST(BenchReport, TablesShowTargetsAndVerdicts) {
  auto m = parse(
      "# kernel 6.18\nlatency 1 open_ms 0.4\nlatency 1 open_ms 150\n"
      "latency 1 open_ms 160\n");
  auto rows = report_rows(m);
  std::ostringstream text, markdown;
  print_table(text, m, rows);
  print_markdown(markdown, rows);
  EXPECT_EQ(text.str().rfind("kernel 6.18\nfigure", 0), 0u) << text.str();
  EXPECT_NE(text.str().find("capture open -> JSON event, ms                  150.000        0.400"
                            "      160.000    3  <= 100         no\n"),
            std::string::npos)
      << text.str();
  EXPECT_NE(markdown.str().find("| capture open -> JSON event, ms | 150.000 | 0.400–160.000 | <= "
                                "100 | **no** |"),
            std::string::npos)
      << markdown.str();
}

}  // namespace
}  // namespace earshot::bench::report_test
