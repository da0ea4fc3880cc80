#include "outbound/address_policy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace parley::outbound {
namespace {

struct Range {
  const char* cidr;
  const char* name;
};

// IANA's special-purpose registries (RFC 6890 and successors): nothing here is a public host.
constexpr Range kRefusedV4[] = {
    {"0.0.0.0/8", "unspecified"},
    {"10.0.0.0/8", "private"},
    {"100.64.0.0/10", "shared (carrier-grade NAT)"},
    {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link-local"},  // also cloud metadata, 169.254.169.254
    {"172.16.0.0/12", "private"},
    {"192.0.0.0/24", "IETF protocol assignments"},
    {"192.0.2.0/24", "documentation"},
    {"192.88.99.0/24", "6to4 relay anycast"},
    {"192.168.0.0/16", "private"},
    {"198.18.0.0/15", "benchmarking"},
    {"198.51.100.0/24", "documentation"},
    {"203.0.113.0/24", "documentation"},
    {"224.0.0.0/4", "multicast"},
    {"240.0.0.0/4", "reserved"},  // includes the broadcast address
};
// IPv6 ranges that embed an IPv4 address are judged by that address (embedded_v4) first.
constexpr Range kRefusedV6[] = {
    {"::/128", "unspecified"},
    {"::1/128", "loopback"},
    {"::/96", "IPv4-compatible (deprecated)"},
    {"64:ff9b:1::/48", "local-use NAT64"},
    {"100::/64", "discard-only"},
    {"2001::/23", "IETF protocol assignments"},  // Teredo, ORCHID, benchmarking, ...
    {"2001:db8::/32", "documentation"},
    {"3fff::/20", "documentation"},
    {"5f00::/16", "segment routing"},
    {"fc00::/7", "private (unique local)"},
    {"fe80::/10", "link-local"},
    {"fec0::/10", "site-local (deprecated)"},
    {"ff00::/8", "multicast"},
};

struct CompiledRange {
  Cidr cidr;
  std::string_view name;
};

std::vector<CompiledRange> compile(const Range* begin, const Range* end) {
  std::vector<CompiledRange> out;
  for (const Range* r = begin; r != end; ++r) out.push_back({*Cidr::parse(r->cidr), r->name});
  return out;
}

const std::vector<CompiledRange>& refused_v4() {
  static const auto ranges = compile(std::begin(kRefusedV4), std::end(kRefusedV4));
  return ranges;
}
const std::vector<CompiledRange>& refused_v6() {
  static const auto ranges = compile(std::begin(kRefusedV6), std::end(kRefusedV6));
  return ranges;
}

IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  IpAddress ip;
  ip.bytes[0] = a;
  ip.bytes[1] = b;
  ip.bytes[2] = c;
  ip.bytes[3] = d;
  return ip;
}

bool starts_with_bytes(const IpAddress& a, std::initializer_list<std::uint8_t> prefix) {
  std::size_t i = 0;
  for (std::uint8_t b : prefix)
    if (a.bytes[i++] != b) return false;
  return true;
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  std::string s(text);
  IpAddress ip;
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) != 1) return std::nullopt;
    return ip;
  }
  ip.v6 = true;
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) != 1) return std::nullopt;
  return ip;
}

std::optional<IpAddress> IpAddress::from_sockaddr(const sockaddr* addr) {
  if (!addr) return std::nullopt;
  IpAddress ip;
  if (addr->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, addr, sizeof in);
    std::memcpy(ip.bytes.data(), &in.sin_addr, 4);
    return ip;
  }
  if (addr->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, addr, sizeof in6);
    ip.v6 = true;
    std::memcpy(ip.bytes.data(), &in6.sin6_addr, 16);
    return ip;
  }
  return std::nullopt;
}

std::string IpAddress::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<IpAddress> IpAddress::embedded_v4() const {
  if (!v6) return std::nullopt;
  const auto& b = bytes;
  if (starts_with_bytes(*this, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}) ||   // ::ffff:a.b.c.d
      starts_with_bytes(*this, {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}))  // 64:ff9b::a.b.c.d
    return v4(b[12], b[13], b[14], b[15]);
  if (starts_with_bytes(*this, {0x20, 0x02})) return v4(b[2], b[3], b[4], b[5]);  // 6to4
  // ::a.b.c.d, but not :: and ::1, which are their own ranges.
  if (starts_with_bytes(*this, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) && (b[12] | b[13] | b[14]) != 0)
    return v4(b[12], b[13], b[14], b[15]);
  return std::nullopt;
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  auto slash = text.find('/');
  auto ip = IpAddress::parse(text.substr(0, slash));
  if (!ip) return std::nullopt;
  const int max = ip->v6 ? 128 : 32;
  int prefix = max;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || prefix < 0 || prefix > max)
      return std::nullopt;
  }
  return Cidr{*ip, prefix};
}

bool Cidr::contains(const IpAddress& a) const {
  if (a.v6 != base.v6) return false;
  const int full = prefix / 8;
  if (std::memcmp(a.bytes.data(), base.bytes.data(), static_cast<std::size_t>(full)) != 0) return false;
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a.bytes[static_cast<std::size_t>(full)] & mask) == (base.bytes[static_cast<std::size_t>(full)] & mask);
}

std::string Cidr::str() const { return base.str() + "/" + std::to_string(prefix); }

Result<AddressPolicy> AddressPolicy::with_allowed(const std::vector<std::string>& allowed) {
  AddressPolicy p;
  for (const auto& entry : allowed) {
    auto c = Cidr::parse(entry);
    if (!c) return Error{Errc::invalid_request, "not an IP address or CIDR range: '" + entry + "'"};
    p.allowed_.push_back(*c);
  }
  return p;
}

std::optional<std::string_view> AddressPolicy::refusal(const IpAddress& a) const {
  // An embedded IPv4 address is the one the packets reach: judge (and allow) by it.
  const IpAddress subject = a.embedded_v4().value_or(a);
  for (const auto& c : allowed_)
    if (c.contains(subject) || c.contains(a)) return std::nullopt;
  for (const auto& r : subject.v6 ? refused_v6() : refused_v4())
    if (r.cidr.contains(subject)) return r.name;
  return std::nullopt;
}

}  // namespace parley::outbound
