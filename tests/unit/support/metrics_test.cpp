#include "metrics.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace earshot::test::metrics_test {
namespace {

TEST(HttpResponseParse, ReadsStatusHeadersAndPlainBody) {
  auto response = parse_http_response(
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.headers.at("content-type"), "text/plain");
  EXPECT_EQ(response.body, "hello");
}

TEST(HttpResponseParse, DecodesChunkedBodies) {
  auto response = parse_http_response(
      "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4\r\nnot \r\na\r\nfound here\r\n0\r\n\r\n");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, "not found here");
}

TEST(HttpResponseParse, RejectsNonHttp) {
  EXPECT_THROW(parse_http_response("SSH-2.0-OpenSSH\r\n\r\n"), Error);
  EXPECT_THROW(parse_http_response("HTTP/1.1 200 OK\r\nno end of headers"), Error);
}

TEST(HttpGet, FailsClearlyWhenNothingListens) {
  // Port 1 on loopback: nothing listens there on this machine.
  try {
    http_get(1, "/metrics", std::chrono::seconds(2));
    ADD_FAILURE() << "connected to 127.0.0.1:1";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("127.0.0.1:1/metrics"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace earshot::test::metrics_test
