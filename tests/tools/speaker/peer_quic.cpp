// The peer over QUIC-like datagrams, as QUIC servers do it: the first
// datagram from a new address makes a connection with a UDP socket of its
// own, bound to the same port and connected to the speaker, so the kernel
// hands it that speaker's datagrams from then on. Datagrams the listening
// socket took before that are passed on to it.
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <thread>

#include "../traffic.h"
#include "peer.h"
#include "peer_replies.h"
#include "quic_data_sender.h"
#include "quic_session.h"

namespace earshot::speaker {

namespace {

using std::chrono::milliseconds;

// A connection the speaker left without a close is let go after this.
constexpr auto kIdleTimeout = std::chrono::seconds(60);

// The same address and port (the listening socket is IPv6: IPv4 speakers come mapped).
bool same_address(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != AF_INET6 || b.ss_family != AF_INET6) return false;
  const auto& a6 = reinterpret_cast<const sockaddr_in6&>(a);
  const auto& b6 = reinterpret_cast<const sockaddr_in6&>(b);
  return a6.sin6_port == b6.sin6_port &&
         std::memcmp(&a6.sin6_addr, &b6.sin6_addr, sizeof a6.sin6_addr) == 0;
}

class QuicConnection {
 public:
  QuicConnection(std::uint16_t port, const sockaddr_storage& client, socklen_t length,
                 std::uint32_t connection_id)
      : socket_(traffic::bind_wildcard(SOCK_DGRAM, port, traffic::Family::any)),
        wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
        // The speaker's connection id seeds this end's ack sizes, so they repeat with --seed.
        session_(socket_.get(), connection_id, connection_id ^ 0x9e3779b9u),
        client_(client) {
    if (!wake_) traffic::throw_errno("eventfd");
    if (::connect(socket_.get(), reinterpret_cast<const sockaddr*>(&client), length) != 0)
      traffic::throw_errno("connect");
    thread_ = std::thread([this] { run(); });
  }
  ~QuicConnection() {
    finished_ = true;
    thread_.join();
  }

  // A datagram the listening socket got for this connection.
  void deliver(std::vector<char> datagram) {
    {
      std::lock_guard lock(inbox_lock_);
      inbox_.push_back(std::move(datagram));
    }
    std::uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof one);
  }
  bool finished() const { return finished_; }

 private:
  void run() {
    std::vector<char> buf(65536);
    auto last_heard = Clock::now();
    while (!finished_) {
      pollfd fds[] = {{socket_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
      ::poll(fds, 2, session_.poll_timeout(Clock::now(), 100));
      if (fds[1].revents & POLLIN) {
        std::uint64_t count;
        (void)!::read(wake_.get(), &count, sizeof count);
        std::deque<std::vector<char>> taken;
        {
          std::lock_guard lock(inbox_lock_);
          taken.swap(inbox_);
        }
        for (const auto& datagram : taken) take(datagram, last_heard);
      }
      if (fds[0].revents & POLLIN) {
        sockaddr_storage from{};
        socklen_t length = sizeof from;
        ssize_t n = ::recvfrom(socket_.get(), buf.data(), buf.size(), MSG_DONTWAIT,
                               reinterpret_cast<sockaddr*>(&from), &length);
        // Between its bind() and connect() the socket could take another
        // speaker's datagram; that one is lost, as UDP may lose it anyway.
        if (n > 0 && same_address(from, client_))
          take({buf.data(), static_cast<std::size_t>(n)}, last_heard);
      }
      if (Clock::now() - last_heard > kIdleTimeout) finished_ = true;
    }
    replies_.stop_and_join();
  }

  void take(std::span<const char> datagram, Clock::time_point& last_heard) {
    last_heard = Clock::now();
    auto packet = session_.receive(datagram, last_heard);
    if (!packet) return;
    if (packet->type == kQuicClose) {
      finished_ = true;
      return;
    }
    const char reply_type = packet->type == kDownload         ? kDownloadData
                            : packet->type == kSegmentRequest ? kSegmentData
                            : packet->type == kMusicRequest   ? kMusicData
                                                              : 0;
    if (reply_type == 0) return;  // keep-alives, uploads, media: just acked
    auto request = read_struct<StreamRequest>(packet->body);
    if (!request) return;
    replies_.start([this, r = *request, reply_type](const std::atomic<bool>& stop) {
      QuicDataSender sender(session_, reply_type, r.tag, r.seed);
      auto add = [&](std::size_t n) { sender.add(n); };
      if (reply_type == kMusicData)
        serve_music(r, add, stop);
      else  // a download or a segment: its bytes at its rate
        pace_bytes(add, r.bytes, r.rate, milliseconds(10), stop);
      if (!stop) sender.flush();
    });
  }

  UniqueFd socket_;
  UniqueFd wake_;
  QuicSession session_;
  const sockaddr_storage client_;
  std::mutex inbox_lock_;
  std::deque<std::vector<char>> inbox_;
  ReplyThreads replies_;
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace

int run_quic_peer(std::uint16_t port) {
  UniqueFd sock = traffic::bind_wildcard(SOCK_DGRAM, port, traffic::Family::any);
  traffic::say("ready");
  // By the speaker's address and port, as bytes.
  std::map<std::string, std::unique_ptr<QuicConnection>> connections;
  std::vector<char> buf(65536);
  for (;;) {
    std::erase_if(connections,
                  [](const auto& entry) { return !entry.second || entry.second->finished(); });
    pollfd p{sock.get(), POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    sockaddr_storage from{};
    socklen_t from_length = sizeof from;
    ssize_t n = ::recvfrom(sock.get(), buf.data(), buf.size(), MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&from), &from_length);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      traffic::throw_errno("recvfrom");
    }
    std::vector<char> datagram(buf.data(), buf.data() + n);
    auto packet = decode_quic(datagram);
    if (!packet) continue;
    std::string key(reinterpret_cast<const char*>(&from), from_length);
    auto& connection = connections[key];
    if (!connection || connection->finished()) {
      // A late ack or close opens nothing.
      if (packet->type == kQuicAck || packet->type == kQuicClose) continue;
      connection = std::make_unique<QuicConnection>(port, from, from_length, packet->connection_id);
    }
    connection->deliver(std::move(datagram));
  }
}

}  // namespace earshot::speaker
