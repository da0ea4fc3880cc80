// The outgoing HTTP client and its address policy: every refused range (IPv4, IPv6 and IPv6 that
// embeds IPv4), the operator's allow-list, and real requests to an HTTP server on loopback that
// the test runs: the same URLs refused without the allow-list and answered with it, DNS names
// and redirects into refused ranges, bounds on time, redirects and response size.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "loopback_http_server.hpp"
#include "outbound/address_policy.hpp"
#include "outbound/http_client.hpp"

namespace parley::outbound {
namespace {

std::optional<std::string> refusal_of(const AddressPolicy& p, const char* text) {
  auto ip = IpAddress::parse(text);
  EXPECT_TRUE(ip) << text;
  if (!ip) return "unparsable";
  auto r = p.refusal(*ip);
  return r ? std::optional<std::string>(std::string(*r)) : std::nullopt;
}

TEST(AddressPolicyTest, RefusesEveryRangeThatIsNotAPublicHost) {
  const AddressPolicy p;
  const std::pair<const char*, const char*> refused[] = {
      {"0.0.0.0", "unspecified"},
      {"10.1.2.3", "private"},
      {"100.64.0.1", "shared (carrier-grade NAT)"},
      {"100.100.100.200", "shared (carrier-grade NAT)"},  // a cloud's metadata service
      {"127.0.0.1", "loopback"},
      {"127.255.255.254", "loopback"},
      {"169.254.169.254", "link-local"},  // cloud metadata
      {"172.16.0.1", "private"},
      {"172.31.255.255", "private"},
      {"192.0.0.8", "IETF protocol assignments"},
      {"192.0.2.1", "documentation"},
      {"192.168.1.1", "private"},
      {"198.18.0.1", "benchmarking"},
      {"224.0.0.1", "multicast"},
      {"239.255.255.250", "multicast"},
      {"255.255.255.255", "reserved"},
      {"::", "unspecified"},
      {"::1", "loopback"},
      {"fe80::1", "link-local"},
      {"fc00::1", "private (unique local)"},
      {"fd00:ec2::254", "private (unique local)"},  // a cloud's IPv6 metadata
      {"ff02::1", "multicast"},
      {"2001:db8::1", "documentation"},
      {"2001::1", "IETF protocol assignments"},  // Teredo
      {"fec0::1", "site-local (deprecated)"},
      {"100::1", "discard-only"},
      {"64:ff9b:1::1", "local-use NAT64"},
  };
  for (const auto& [address, range] : refused) {
    EXPECT_EQ(refusal_of(p, address), std::optional<std::string>(range)) << address;
  }
}

TEST(AddressPolicyTest, AllowsPublicAddresses) {
  const AddressPolicy p;
  for (const char* a : {"1.1.1.1", "8.8.8.8", "93.184.216.34", "172.15.255.255", "172.32.0.1", "100.63.255.255",
                        "100.128.0.1", "2606:4700:4700::1111", "2a00:1450:4001::1", "::ffff:8.8.8.8"}) {
    EXPECT_EQ(refusal_of(p, a), std::nullopt) << a;
  }
}

TEST(AddressPolicyTest, AnIpv6AddressThatEmbedsIpv4IsJudgedByTheIpv4Address) {
  const AddressPolicy p;
  EXPECT_EQ(refusal_of(p, "::ffff:127.0.0.1"), "loopback");      // IPv4-mapped
  EXPECT_EQ(refusal_of(p, "::ffff:10.0.0.1"), "private");        // IPv4-mapped
  EXPECT_EQ(refusal_of(p, "::ffff:a9fe:a9fe"), "link-local");    // mapped 169.254.169.254, hex form
  EXPECT_EQ(refusal_of(p, "64:ff9b::a9fe:a9fe"), "link-local");  // NAT64 of 169.254.169.254
  EXPECT_EQ(refusal_of(p, "2002:7f00:1::1"), "loopback");        // 6to4 of 127.0.0.1
  EXPECT_EQ(refusal_of(p, "2002:c0a8:101::1"), "private");       // 6to4 of 192.168.1.1
  EXPECT_EQ(refusal_of(p, "::127.0.0.1"), "loopback");           // IPv4-compatible
  EXPECT_EQ(refusal_of(p, "64:ff9b::808:808"), std::nullopt);    // NAT64 of 8.8.8.8
  EXPECT_EQ(refusal_of(p, "2002:808:808::1"), std::nullopt);     // 6to4 of 8.8.8.8
}

TEST(AddressPolicyTest, TheAllowListOpensOnlyTheRangesItNames) {
  auto p = AddressPolicy::with_allowed({"127.0.0.1/32", "10.20.0.0/16", "fd12::/16"});
  ASSERT_TRUE(p);
  EXPECT_EQ(refusal_of(*p, "127.0.0.1"), std::nullopt);
  EXPECT_EQ(refusal_of(*p, "::ffff:127.0.0.1"), std::nullopt);  // the same host, mapped
  EXPECT_EQ(refusal_of(*p, "127.0.0.2"), "loopback");
  EXPECT_EQ(refusal_of(*p, "::1"), "loopback");
  EXPECT_EQ(refusal_of(*p, "10.20.255.1"), std::nullopt);
  EXPECT_EQ(refusal_of(*p, "10.21.0.1"), "private");
  EXPECT_EQ(refusal_of(*p, "fd12:3::1"), std::nullopt);
  EXPECT_EQ(refusal_of(*p, "fd13::1"), "private (unique local)");
}

TEST(AddressPolicyTest, AnAllowListEntryThatIsNotARangeIsRefused) {
  for (const char* bad : {"", "abc", "10.0.0.0/33", "::1/129", "1.2.3.4/-1", "1.2.3.4/", "1.2.3/8", "10.0.0.0/8x",
                          "[::1]", "localhost"}) {
    auto p = AddressPolicy::with_allowed({bad});
    ASSERT_FALSE(p) << bad;
    EXPECT_EQ(p.error().code, Errc::invalid_request) << bad;
  }
  auto all = AddressPolicy::with_allowed({"0.0.0.0/0"});
  ASSERT_TRUE(all);
  EXPECT_EQ(refusal_of(*all, "127.0.0.1"), std::nullopt);
  EXPECT_EQ(refusal_of(*all, "::1"), "loopback");  // /0 of IPv4 says nothing of IPv6
}

// A real HTTP/1.1 server on 127.0.0.1 (tests/support) that closes the connection after each
// answer but /keep's, with a route per behaviour the client must handle.
class TestServer {
 public:
  std::string url(const std::string& host, const std::string& path) const { return server_.url(host, path); }
  int requests() const { return server_.requests(); }
  int connections() const { return server_.connections(); }
  std::string last_request() {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  test::HttpReply answer(const test::HttpRequestSeen& req) {
    {
      std::lock_guard lock(mu_);
      last_ = req.raw;
    }
    const std::string& target = req.target;
    test::HttpReply r;
    r.headers = "X-Reply: yes\r\n";
    r.body = "hello";
    r.keep_alive = target == "/keep";
    if (target == "/echo") {
      r.body = req.body;
    } else if (target == "/big") {
      r.body.assign(1'000'000, 'a');
    } else if (target == "/slow") {
      std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    } else if (target.starts_with("/redirect?to=") || target == "/loop") {
      r.status = 302;
      r.reason = "Found";
      r.headers += "Location: " + (target == "/loop" ? std::string("/loop") : target.substr(13)) + "\r\n";
      r.body.clear();
    } else if (target == "/fail") {
      r.status = 500;
      r.reason = "Internal Server Error";
      r.body = "boom";
    }
    return r;
  }

  std::mutex mu_;
  std::string last_;  // guarded by mu_
  test::LoopbackHttpServer server_{[this](const test::HttpRequestSeen& req) { return answer(req); }};
};

class HttpClientTest : public ::testing::Test {
 protected:
  static HttpClient allowing_loopback() { return HttpClient(*AddressPolicy::with_allowed({"127.0.0.1/32"})); }
  static Request get(std::string url) {
    Request r;
    r.url = std::move(url);
    r.timeout = std::chrono::milliseconds(3000);
    return r;
  }
  static std::string detail(const Error& e, const std::string& key) {
    for (const auto& [k, v] : e.details)
      if (k == key) return v;
    return {};
  }
  TestServer server_;
};

TEST_F(HttpClientTest, WithoutTheAllowListLoopbackIsRefusedBeforeAnyConnection) {
  const HttpClient client{AddressPolicy{}};
  for (const char* host : {"127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "[::1]", "127.1"}) {
    auto r = client.send(get(server_.url(host, "/ok")));
    ASSERT_FALSE(r) << host;
    EXPECT_EQ(r.error().code, Errc::forbidden) << host << ": " << r.error().message;
    EXPECT_EQ(detail(r.error(), "range"), "loopback") << host;
  }
  EXPECT_EQ(server_.requests(), 0);
}

TEST_F(HttpClientTest, TheSameUrlIsAnsweredWhenTheAllowListNamesTheAddress) {
  auto r = allowing_loopback().send(get(server_.url("127.0.0.1", "/ok")));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->header("x-reply"), "yes");
  EXPECT_EQ(r->remote_ip, "127.0.0.1");
  EXPECT_FALSE(r->truncated);
  EXPECT_EQ(server_.requests(), 1);
  // A name that resolves to the allowed address (and to ::1, which stays refused) gets through.
  auto by_name = allowing_loopback().send(get(server_.url("localhost", "/ok")));
  ASSERT_TRUE(by_name) << by_name.error().message;
  EXPECT_EQ(by_name->remote_ip, "127.0.0.1");
}

TEST_F(HttpClientTest, SendsTheMethodHeadersAndBody) {
  Request r = get(server_.url("127.0.0.1", "/echo"));
  r.method = "POST";
  r.headers = {{"Content-Type", "application/json"}, {"Webhook-Id", "msg_1"}};
  r.body = R"({"type":"message.new"})";
  auto res = allowing_loopback().send(r);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->body, r.body);
  const std::string seen = server_.last_request();
  EXPECT_TRUE(seen.starts_with("POST /echo HTTP/1.1\r\n")) << seen;
  EXPECT_NE(seen.find("Webhook-Id: msg_1\r\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("User-Agent: Parley\r\n"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("Expect:"), std::string::npos) << seen;
}

TEST_F(HttpClientTest, PrivateAndMetadataAddressesAreRefused) {
  const HttpClient client{AddressPolicy{}};
  for (const char* url : {"http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://192.168.0.1:8080/",
                          "http://[fd00:ec2::254]/", "http://[::ffff:169.254.169.254]/", "http://0.0.0.0/",
                          "http://[fe80::1]/", "https://100.100.100.200/"}) {
    auto r = client.send(get(url));
    ASSERT_FALSE(r) << url;
    EXPECT_EQ(r.error().code, Errc::forbidden) << url << ": " << r.error().message;
  }
}

TEST_F(HttpClientTest, OnlyHttpAndHttpsAndWellFormedRequestsAreSent) {
  const HttpClient client = allowing_loopback();
  for (const char* url : {"file:///etc/passwd", "ftp://127.0.0.1/", "gopher://127.0.0.1:70/", "dict://127.0.0.1/",
                          "not a url", "", "//127.0.0.1/ok"}) {
    auto r = client.send(get(url));
    ASSERT_FALSE(r) << url;
    EXPECT_EQ(r.error().code, Errc::invalid_request) << url;
  }
  Request injected = get(server_.url("127.0.0.1", "/ok"));
  injected.headers = {{"X-A", "1\r\nX-Injected: 2"}};
  auto r = client.send(injected);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_request);
  Request bad_method = get(server_.url("127.0.0.1", "/ok"));
  bad_method.method = "CONNECT";
  EXPECT_FALSE(client.send(bad_method));
  EXPECT_EQ(server_.requests(), 0);
}

TEST_F(HttpClientTest, ARedirectIntoARefusedRangeIsRefused) {
  const HttpClient client = allowing_loopback();
  for (const std::string& target :
       {server_.url("127.0.0.2", "/ok"), std::string("http://169.254.169.254/latest/meta-data/"),
        server_.url("[::1]", "/ok"), std::string("http://10.0.0.1/")}) {
    Request r = get(server_.url("127.0.0.1", "/redirect?to=" + target));
    r.max_redirects = 3;
    auto res = client.send(r);
    ASSERT_FALSE(res) << target;
    EXPECT_EQ(res.error().code, Errc::forbidden) << target << ": " << res.error().message;
  }
  Request to_file = get(server_.url("127.0.0.1", "/redirect?to=file:///etc/passwd"));
  to_file.max_redirects = 3;
  auto res = client.send(to_file);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::forbidden);
  EXPECT_EQ(detail(res.error(), "reason"), "redirect_scheme");
}

TEST_F(HttpClientTest, RedirectsAreFollowedOnlyWithinTheLimit) {
  const HttpClient client = allowing_loopback();
  Request r = get(server_.url("127.0.0.1", "/redirect?to=" + server_.url("127.0.0.1", "/ok")));
  auto not_followed = client.send(r);
  ASSERT_TRUE(not_followed) << not_followed.error().message;
  EXPECT_EQ(not_followed->status, 302);
  EXPECT_EQ(not_followed->header("location"), server_.url("127.0.0.1", "/ok"));

  r.max_redirects = 2;
  auto followed = client.send(r);
  ASSERT_TRUE(followed) << followed.error().message;
  EXPECT_EQ(followed->status, 200);
  EXPECT_EQ(followed->body, "hello");
  EXPECT_EQ(followed->redirects, 1);
  EXPECT_EQ(followed->final_url, server_.url("127.0.0.1", "/ok"));

  Request loop = get(server_.url("127.0.0.1", "/loop"));
  loop.max_redirects = 3;
  auto looped = client.send(loop);
  ASSERT_FALSE(looped);
  EXPECT_EQ(looped.error().code, Errc::unavailable);
  EXPECT_EQ(detail(looped.error(), "reason"), "too_many_redirects");
}

TEST_F(HttpClientTest, AnErrorStatusIsAnAnswerNotAFailure) {
  auto r = allowing_loopback().send(get(server_.url("127.0.0.1", "/fail")));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, "boom");
}

TEST_F(HttpClientTest, TheResponseBodyIsReadOnlyUpToTheLimit) {
  Request r = get(server_.url("127.0.0.1", "/big"));
  r.max_response_bytes = 1000;
  auto res = allowing_loopback().send(r);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body.size(), 1000u);
  EXPECT_TRUE(res->truncated);
}

TEST_F(HttpClientTest, ASlowServerTimesOut) {
  Request r = get(server_.url("127.0.0.1", "/slow"));
  r.timeout = std::chrono::milliseconds(300);
  auto res = allowing_loopback().send(r);  // the server answers after 1.2 s
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::unavailable);
  EXPECT_EQ(detail(res.error(), "reason"), "timeout");
}

TEST_F(HttpClientTest, AConnectionIsReusedOnlyByTheClientThatOpenedIt) {
  const HttpClient open = allowing_loopback();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(open.send(get(server_.url("127.0.0.1", "/keep"))));
  EXPECT_EQ(server_.connections(), 1);  // kept alive and reused
  // The open connection is to an address a stricter client refuses: it must not be reused there.
  const HttpClient strict{AddressPolicy{}};
  auto r = strict.send(get(server_.url("127.0.0.1", "/keep")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::forbidden);
  EXPECT_EQ(server_.requests(), 3);
}

TEST_F(HttpClientTest, AClosedPortIsUnavailableNotRefused) {
  auto policy = AddressPolicy::with_allowed({"127.0.0.0/8"});
  const HttpClient client(*policy);
  auto r = client.send(get(server_.url("127.0.0.2", "/ok")));  // the server listens on 127.0.0.1 only
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::unavailable) << r.error().message;
}

}  // namespace
}  // namespace parley::outbound
