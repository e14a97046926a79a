#include "export/families.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "promtool.h"

namespace earshot::exporter::families_test {
namespace {

Snapshot sample_snapshot() {
  Snapshot s;
  s.version = "0.1.0";
  s.kernel = "6.18.0";
  s.devices_watched = 2;
  model::Counters c;
  c.bytes = 1234;
  c.payload_bytes = 1000;
  c.packets = 5;
  c.window_bytes[static_cast<int>(Window::self)] = 200;
  s.egress[{"assistant", "voice.service", "api.example"}] = c;
  s.unattributed.bytes = 60;
  s.captures[{"arecord", "", "alsa:null"}] = {1, 0};
  s.captures[{"doorbell", "", "video0", DeviceKind::camera}] = {1, 1};
  s.capture_time.push_back({"doorbell", "", "video0", 2.5, 75, DeviceKind::camera});
  s.hooks = {{"netfilter_ipv4", true, ""}, {"fentry_snd_pcm", false, "EPERM"}};
  s.events_lost = {{"ringbuf_full", 0}};
  s.programs = {{"earshot_nf_local_out", 2'000'000'000, 1000}};
  return s;
}

std::string text(const Snapshot& s) {
  return prometheus::TextSerializer().Serialize(to_families(s));
}

TEST(Families, ContractNamesAndLabelsAreThere) {
  std::string t = text(sample_snapshot());
  EXPECT_NE(t.find("earshot_egress_bytes_total{process=\"assistant\",unit=\"voice.service\","
                   "destination=\"api.example\"} 1234"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("earshot_egress_payload_bytes_total{process=\"assistant\","
                   "unit=\"voice.service\",destination=\"api.example\"} 1000"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("# TYPE earshot_egress_payload_bytes_total counter"), std::string::npos);
  EXPECT_NE(t.find("earshot_egress_packets_total{process=\"assistant\""), std::string::npos);
  EXPECT_NE(
      t.find("earshot_egress_capture_bytes_total{process=\"assistant\",unit=\"voice.service\","
             "destination=\"api.example\",window=\"self\"} 200"),
      std::string::npos);
  // Windows with nothing in them are not series.
  EXPECT_EQ(t.find("window=\"other\""), std::string::npos);
  EXPECT_NE(t.find("earshot_unattributed_egress_bytes_total 60"), std::string::npos);
  EXPECT_NE(t.find("earshot_capture_opens_total{process=\"arecord\",unit=\"\",device=\"alsa:null\","
                   "kind=\"microphone\"} 1"),
            std::string::npos);
  EXPECT_NE(t.find("earshot_capture_active{process=\"arecord\",unit=\"\",device=\"alsa:null\","
                   "kind=\"microphone\"} 0"),
            std::string::npos);
  EXPECT_NE(t.find("earshot_capture_active{process=\"doorbell\",unit=\"\",device=\"video0\","
                   "kind=\"camera\"} 1"),
            std::string::npos);
  EXPECT_NE(t.find("earshot_capture_frames_total{process=\"doorbell\",unit=\"\",device=\"video0\","
                   "kind=\"camera\"} 75"),
            std::string::npos);
  EXPECT_NE(t.find("earshot_hook_attached{hook=\"fentry_snd_pcm\"} 0"), std::string::npos);
  EXPECT_NE(t.find("earshot_capture_devices_watched 2"), std::string::npos);
  EXPECT_NE(t.find("earshot_bpf_run_seconds_total{program=\"earshot_nf_local_out\"} 2"),
            std::string::npos);
  EXPECT_NE(t.find("earshot_build_info{version=\"0.1.0\",kernel=\"6.18.0\"} 1"), std::string::npos);
}

TEST(Families, HostileNamesAreEscaped) {
  Snapshot s;
  s.captures[{"a\"b\\c\nd", "", "dev"}] = {1, 1};
  std::string t = text(s);
  EXPECT_NE(t.find("process=\"a\\\"b\\\\c\\nd\""), std::string::npos) << t;
}

TEST(Families, PromtoolFindsNothingToSay) {
  if (auto reason = test::promtool_unavailable_reason()) GTEST_SKIP() << *reason;
  const auto check = test::promtool_check_metrics(text(sample_snapshot()));
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_EQ(check.out + check.err, "");
}

}  // namespace
}  // namespace earshot::exporter::families_test
