#pragma once
// Which network addresses Parley's outgoing HTTP (webhooks, link previews) may connect to.
// By default only public unicast addresses: loopback, private, shared (CGNAT), link-local
// (cloud metadata lives there), multicast, documentation, benchmarking and reserved ranges are
// refused, for IPv4 and IPv6, and an IPv6 address that embeds an IPv4 one (IPv4-mapped,
// NAT64, 6to4, IPv4-compatible) is judged by the address it embeds. An operator's allow-list of
// CIDR ranges overrides the refusal (e.g. an internal webhook receiver, or the tests' loopback
// servers). Immutable after construction: safe to share between threads.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

struct sockaddr;

namespace parley::outbound {

/// An IPv4 or IPv6 address. IPv4 addresses use the first 4 bytes.
struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};

  /// Parses "192.0.2.1" or "2001:db8::1" (no brackets, no zone).
  static std::optional<IpAddress> parse(std::string_view text);
  /// From an AF_INET or AF_INET6 socket address; nullopt for any other family.
  static std::optional<IpAddress> from_sockaddr(const sockaddr* addr);
  std::string str() const;
  /// The IPv4 address an IPv6 one embeds (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4
  /// 2002:AABB:CCDD::/48, compatible ::a.b.c.d), or nullopt.
  std::optional<IpAddress> embedded_v4() const;
};

/// An address range, "10.0.0.0/8", "fc00::/7"; a bare address is a range of one.
struct Cidr {
  IpAddress base;
  int prefix = 0;

  static std::optional<Cidr> parse(std::string_view text);
  bool contains(const IpAddress& a) const;
  std::string str() const;
};

class AddressPolicy {
 public:
  /// Only public addresses.
  AddressPolicy() = default;
  /// Public addresses and those in `allowed` ("127.0.0.1/32", "10.1.0.0/16", "::1").
  /// An unparsable entry is an invalid_request error naming it.
  static Result<AddressPolicy> with_allowed(const std::vector<std::string>& allowed);

  /// nullopt when `a` may be connected to; otherwise the name of the range that refuses it
  /// ("loopback", "private", "link-local", ...).
  std::optional<std::string_view> refusal(const IpAddress& a) const;

  const std::vector<Cidr>& allowed() const { return allowed_; }

 private:
  std::vector<Cidr> allowed_;
};

}  // namespace parley::outbound
