#include "files/sigv4.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "core/crypto.hpp"

namespace parley::files::sigv4 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Leading and trailing blanks removed, inner runs of blanks made one space (SigV4's "trimall").
std::string trim_all(std::string_view v) {
  std::string out;
  bool blank = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      blank = !out.empty();
      continue;
    }
    if (blank) out.push_back(' ');
    blank = false;
    out.push_back(c);
  }
  return out;
}

std::string scope(const PresignInput& in, std::string_view date) {
  std::string s(date);
  s.append("/").append(in.region).append("/").append(in.service).append("/aws4_request");
  return s;
}

// Headers as signed: lower-case names, sorted, host first among equals (names are unique here).
std::vector<std::pair<std::string, std::string>> signed_headers(const PresignInput& in) {
  std::vector<std::pair<std::string, std::string>> h;
  h.emplace_back("host", trim_all(in.host));
  for (const auto& [name, value] : in.headers) h.emplace_back(lower(name), trim_all(value));
  std::sort(h.begin(), h.end());
  return h;
}

std::string signed_header_names(const std::vector<std::pair<std::string, std::string>>& h) {
  std::string names;
  for (const auto& [name, value] : h) {
    if (!names.empty()) names.push_back(';');
    names += name;
  }
  return names;
}

// Every query parameter but X-Amz-Signature, encoded and sorted by name then value.
std::string canonical_query(const PresignInput& in, std::string_view date, std::string_view header_names) {
  std::vector<std::pair<std::string, std::string>> q;
  auto add = [&](std::string_view name, std::string_view value) {
    q.emplace_back(uri_encode(name, false), uri_encode(value, false));
  };
  add("X-Amz-Algorithm", kAlgorithm);
  add("X-Amz-Credential", in.access_key + "/" + scope(in, date.substr(0, 8)));
  add("X-Amz-Date", date);
  add("X-Amz-Expires", std::to_string(in.expires.count()));
  add("X-Amz-SignedHeaders", header_names);
  for (const auto& [name, value] : in.query) add(name, value);
  std::sort(q.begin(), q.end());
  std::string out;
  for (const auto& [name, value] : q) {
    if (!out.empty()) out.push_back('&');
    out.append(name).append("=").append(value);
  }
  return out;
}

}  // namespace

std::string uri_encode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string amz_date(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[17];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service) {
  std::string k = crypto::hmac_sha256("AWS4" + std::string(secret), date);
  k = crypto::hmac_sha256(k, region);
  k = crypto::hmac_sha256(k, service);
  return crypto::hmac_sha256(k, "aws4_request");
}

std::string canonical_request(const PresignInput& in) {
  const std::string date = amz_date(in.now);
  const auto headers = signed_headers(in);
  const std::string names = signed_header_names(headers);
  std::string c = in.method + "\n" + (in.path.empty() ? "/" : in.path) + "\n";
  c += canonical_query(in, date, names) + "\n";
  for (const auto& [name, value] : headers) c.append(name).append(":").append(value).append("\n");
  c += "\n" + names + "\nUNSIGNED-PAYLOAD";
  return c;
}

std::string presign_url(const PresignInput& in) {
  const std::string date = amz_date(in.now);
  const std::string day = date.substr(0, 8);
  const std::string to_sign =
      std::string(kAlgorithm) + "\n" + date + "\n" + scope(in, day) + "\n" + crypto::sha256_hex(canonical_request(in));
  const std::string signature =
      crypto::to_hex(crypto::hmac_sha256(signing_key(in.secret_key, day, in.region, in.service), to_sign));
  const std::string query = canonical_query(in, date, signed_header_names(signed_headers(in)));
  return in.scheme + "://" + in.host + (in.path.empty() ? "/" : in.path) + "?" + query +
         "&X-Amz-Signature=" + signature;
}

}  // namespace parley::files::sigv4
