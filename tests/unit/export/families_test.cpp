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

// Gateway mode: what each device sent and received per destination, the
// packets no pair took, and bursts by verdict.
Snapshot gateway_snapshot() {
  Snapshot s;
  s.gateway = true;
  model::Counters speaker;
  speaker.packets = 40;
  speaker.bytes = 3000;
  speaker.payload_bytes = 1600;
  speaker.ingress_packets = 800;
  speaker.ingress_payload = 1'040'000;
  s.device_egress[{"kitchen", "video.example"}] = speaker;
  model::Counters sent_only;
  sent_only.packets = 2;
  sent_only.bytes = 120;
  s.device_egress[{"kitchen", "ntp.example"}] = sent_only;
  s.device_ingress_unmatched.ingress_packets = 3;
  s.device_ingress_unmatched.ingress_payload = 180;
  s.device_bursts[{"kitchen", "upload.example", model::Verdict::video_upload, false}] = 1;
  s.device_bursts[{"kitchen", "voice.example", model::Verdict::audio_upload, true}] = 2;
  return s;
}

TEST(Families, GatewayIngressAndBurstVerdicts) {
  std::string t = text(gateway_snapshot());
  EXPECT_NE(t.find("earshot_device_ingress_payload_bytes_total{device=\"kitchen\","
                   "destination=\"video.example\"} 1040000"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("earshot_device_ingress_packets_total{device=\"kitchen\","
                   "destination=\"video.example\"} 800"),
            std::string::npos)
      << t;
  // A pair that received nothing has no ingress series.
  EXPECT_EQ(t.find("earshot_device_ingress_packets_total{device=\"kitchen\","
                   "destination=\"ntp.example\"}"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("earshot_device_egress_bytes_total{device=\"kitchen\","
                   "destination=\"ntp.example\"} 120"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("earshot_device_ingress_unmatched_payload_bytes_total 180"), std::string::npos)
      << t;
  EXPECT_NE(t.find("earshot_device_ingress_unmatched_packets_total 3"), std::string::npos) << t;
  EXPECT_NE(t.find("earshot_device_upload_bursts_total{device=\"kitchen\","
                   "destination=\"upload.example\",verdict=\"video-upload\",allowed=\"false\"} 1"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("earshot_device_upload_bursts_total{device=\"kitchen\","
                   "destination=\"voice.example\",verdict=\"audio-upload\",allowed=\"true\"} 2"),
            std::string::npos)
      << t;
}

TEST(Families, PromtoolFindsNothingToSayInGatewayMode) {
  if (auto reason = test::promtool_unavailable_reason()) GTEST_SKIP() << *reason;
  const auto check = test::promtool_check_metrics(text(gateway_snapshot()));
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_EQ(check.out + check.err, "");
}

}  // namespace
}  // namespace earshot::exporter::families_test
