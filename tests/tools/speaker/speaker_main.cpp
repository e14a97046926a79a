// earshot-speaker: a smart speaker's network life, for the episode and
// detection tests.
//
//   earshot-speaker peer PORT --proto tcp|udp|quic
//     The cloud end (peer.h): takes the speaker's messages and answers its
//     requests: a download (the asked bytes paced over the asked time), a
//     video segment (a burst), a music stream (chunks). Binds the wildcard
//     of both families.
//   earshot-speaker listen --peer ADDR --port PORT --proto tcp|udp|quic ...
//     The speaker (listen.h): optionally reads a capture node the whole time
//     (as a wake-word engine does), keeps one connection (TCP) or connected
//     socket (UDP, QUIC) to the peer, sends a keep-alive every
//     --keepalive-ms, and runs its actions (AT:SECONDS:BYTES_PER_SECOND,
//     seconds from "opened") on it:
//       --upload          steady, in slices of at most 1200 bytes
//       --bursty-upload   the same average unevenly, as a sync of files or
//                         logs: chunks of random size (1-64 kB, log-uniform,
//                         scaled to the rate) at random gaps (0.1-1.8 s)
//       --download        a small request; the peer sends, paced
//       --voice           variable-bit-rate speech with pauses
//                         (voice_schedule.h), a frame every --frame-ms
//       --video-upload    a camera's frames (video_schedule.h)
//       --segments        a video player fetching segments in bursts
//       --music           a music stream's steady chunks
//     Random choices come from --seed, mixed with each action's kind and
//     index (action_random.h).
//   earshot-speaker scrape --url http://HOST:PORT/PATH --every-ms MS --seconds S
//     A Prometheus scraping (scrape.h).
//
// TCP and UDP carry frames (wire.h): a type byte, a 4-byte big-endian
// length, a body; voice and video over UDP are RTP. QUIC is QUIC-like
// datagrams (quic_packet.h), every one but an ACK acknowledged.
// Output: "ready", "opened" (capturing from here), a line an action when it
// ends: "upload begin_ms=A end_ms=B bytes=N" (times from "opened"; bytes of
// payload; also for --bursty-upload), "download begin_ms=A end_ms=B",
// "voice begin_ms=A end_ms=B bytes=N", "video-upload begin_ms=A end_ms=B
// bytes=N", "segments begin_ms=A end_ms=B received=N requests=K", "music
// begin_ms=A end_ms=B received=N", then "closed read_bytes=R sent_bytes=S"
// (S: bodies and media payload, not framing or acks).
#include <CLI/CLI.hpp>
#include <iostream>

#include "common/error.h"
#include "listen.h"
#include "peer.h"
#include "scrape.h"

using namespace earshot;
using namespace earshot::speaker;

int main(int argc, char** argv) {
  CLI::App app{"earshot-speaker: a speaker's uploads, downloads, media and keep-alives"};
  app.require_subcommand(1);
  const auto protocols = CLI::IsMember({"tcp", "udp", "quic"});
  std::uint16_t peer_port = 0;
  std::string peer_proto = "tcp";
  auto* peer = app.add_subcommand("peer", "the cloud end");
  peer->add_option("PORT", peer_port)->required();
  peer->add_option("--proto", peer_proto)->check(protocols);

  ListenOptions listen;
  std::string proto = "tcp";
  traffic::Common common;
  auto* speaker = app.add_subcommand("listen", "the speaker");
  speaker->add_option("--peer", listen.peer)->required();
  speaker->add_option("--port", listen.port)->required();
  speaker->add_option("--proto", proto)->check(protocols);
  speaker->add_option("--device", listen.device, "capture node read the whole time");
  speaker->add_option("--seconds", listen.seconds)->capture_default_str();
  speaker->add_option("--read", listen.read_rate, "bytes a second read")->capture_default_str();
  speaker->add_option("--keepalive-ms", listen.keepalive_ms, "0: none")->capture_default_str();
  speaker->add_option("--keepalive-size", listen.keepalive_size, "bytes on the wire")
      ->capture_default_str();
  speaker->add_option("--upload", listen.uploads, "AT:SECONDS:BYTES_PER_SECOND");
  speaker->add_option("--bursty-upload", listen.bursty_uploads,
                      "AT:SECONDS:BYTES_PER_SECOND on average, unevenly");
  speaker->add_option("--download", listen.downloads, "AT:SECONDS:BYTES_PER_SECOND");
  speaker->add_option("--voice", listen.voices,
                      "AT:SECONDS:BYTES_PER_SECOND of speech, pauses counted");
  speaker->add_option("--frame-ms", listen.frame_ms, "of --voice")
      ->check(CLI::IsMember({20, 40, 60}))
      ->capture_default_str();
  speaker->add_option("--segments", listen.segments,
                      "AT:SECONDS:BYTES_PER_SECOND of video segments fetched");
  speaker->add_option("--music", listen.music, "AT:SECONDS:BYTES_PER_SECOND of a music stream");
  speaker->add_option("--video-upload", listen.video_uploads,
                      "AT:SECONDS:BYTES_PER_SECOND of camera frames");
  speaker->add_option("--seed", listen.seed, "of every random choice")->capture_default_str();
  speaker->add_option("--wait-file", common.wait_file);

  ScrapeOptions scrape;
  traffic::Common scrape_common;
  auto* scraper = app.add_subcommand("scrape", "GETs a URL as Prometheus does");
  scraper->add_option("--url", scrape.url, "http://HOST:PORT/PATH")->required();
  scraper->add_option("--every-ms", scrape.every_ms)->capture_default_str();
  scraper->add_option("--seconds", scrape.seconds)->capture_default_str();
  scraper->add_option("--wait-file", scrape_common.wait_file);
  CLI11_PARSE(app, argc, argv);
  try {
    if (*peer) {
      switch (parse_proto(peer_proto)) {
        case Proto::tcp:
          return run_tcp_peer(peer_port);
        case Proto::udp:
          return run_udp_peer(peer_port);
        case Proto::quic:
          return run_quic_peer(peer_port);
      }
    }
    if (*scraper) return run_scrape(scrape, scrape_common);
    listen.proto = parse_proto(proto);
    return run_listen(listen, common);
  } catch (const Error& error) {
    std::cerr << "earshot-speaker: " << error.what() << std::endl;
    return 1;
  }
}
